"""The ``preparation:`` parameter block."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from mosaic_kedro.models import ModelSpec
from mosaic_kedro.params import StrictParams


class BooksParams(StrictParams):
    """Where the books come from and how they are split."""

    source: Literal["packages", "folder", "hf_disk"] = "packages"
    path: str | None = None
    min_chars: int = Field(1000, ge=1)
    heldout_fraction: float = Field(0.5, ge=0.0, lt=1.0)
    host_chars: int = Field(6000, ge=200)
    num_hosts: int = Field(64, ge=1)


class PretrainParams(StrictParams):
    """Pretraining of the embedded tiny target on the held-out books."""

    max_tokens: int = Field(1_000_000, ge=1000)
    block_size: int = Field(256, ge=8)
    batch_size: int = Field(16, ge=1)
    learning_rate: float = Field(1e-3, gt=0)


class TinyTargetParams(StrictParams):
    """The embedded target: its tokenizer and architecture (used when no name is given).

    ``family`` picks the architecture (random weights, then pretrained here): ``gpt2``
    (the default, with a pad token) or a tiny ``gpt_neo``, ``llama``, ``phi``,
    ``gemma``, whose tokenizers, like the real ones, have no pad token.
    """

    family: Literal["gpt2", "gpt_neo", "llama", "phi", "gemma"] = "gpt2"
    vocab_size: int = Field(8192, ge=300)
    n_layer: int = Field(2, ge=1)
    n_embd: int = Field(128, ge=8)
    n_head: int = Field(4, ge=1)
    n_positions: int = Field(512, ge=16)
    pretrain: PretrainParams = PretrainParams()

    @model_validator(mode="after")
    def _heads_divide(self) -> TinyTargetParams:
        if self.n_embd % self.n_head:
            raise ValueError(f"n_embd ({self.n_embd}) must be a multiple of n_head ({self.n_head})")
        return self


class TinyMlmParams(StrictParams):
    """A random-weight RoBERTa masked LM with its own BPE (code paths, not quality)."""

    vocab_size: int = Field(1024, ge=300)
    n_layer: int = Field(1, ge=1)
    n_embd: int = Field(32, ge=8)
    n_head: int = Field(2, ge=1)
    n_positions: int = Field(256, ge=16)


class TinyMlmSpec(StrictParams):
    """``preparation.mlm_model: {tiny: {...}}``."""

    tiny: TinyMlmParams = TinyMlmParams()


class PreparationParams(StrictParams):
    """``preparation:``: books, generator, base target model, seed."""

    seed: int = 0
    books: BooksParams = BooksParams()
    generator: ModelSpec = ModelSpec(name_or_path="embedded:smollm2-135m-instruct")
    target: ModelSpec | None = None
    # the masked LM of the mlm / mlm_random strategies: null (none needed), a model
    # (the paper: {name_or_path: roberta-base}) or {tiny: {...}} (built here)
    mlm_model: ModelSpec | TinyMlmSpec | None = None
    tiny_target: TinyTargetParams = TinyTargetParams()
