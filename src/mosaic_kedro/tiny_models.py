"""Tiny random-weight models of the paper's architecture families (SPEC §4).

Quality is irrelevant: these exercise the code paths of GPT-Neo, Llama, Phi and Gemma
targets and of a RoBERTa masked LM on a CPU, offline. Each is built from a config
(``from_config``-style, random weights, dropout off) with a byte-level BPE tokenizer
trained on the given texts.

Tokenizers follow the real ones where it matters here: ``gpt2`` keeps
:func:`mosaic_kedro.lm_training.train_bpe_tokenizer` (BOS = EOS = PAD); every other
causal family has BOS / EOS but **no pad token** (``gpt_neo`` / ``phi``: one
``<|endoftext|>``; ``llama`` / ``gemma``: ``<s>`` and ``</s>``). The masked LM's
tokenizer has ``<s> <pad> </s> <unk> <mask>`` (ids 0-4, RoBERTa's order).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import torch

from mosaic_kedro import lm_training

Family = Literal["gpt2", "gpt_neo", "llama", "phi", "gemma"]
FAMILIES: tuple[str, ...] = ("gpt2", "gpt_neo", "llama", "phi", "gemma")
MLM_SPECIALS = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")


def _byte_level_core(texts: Sequence[str], vocab_size: int, specials: Sequence[str]) -> Any:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    core = Tokenizer(models.BPE())
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=list(specials),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False,
    )
    core.train_from_iterator(list(texts), trainer=trainer)
    return core


def train_causal_tokenizer(texts: Sequence[str], vocab_size: int, family: Family) -> Any:
    """A byte-level BPE for ``family``: gpt2 as today, the others without a pad token."""
    from transformers import PreTrainedTokenizerFast

    if family == "gpt2":
        return lm_training.train_bpe_tokenizer(texts, vocab_size)
    if family not in FAMILIES:
        raise ValueError(f"unknown family {family!r}; one of {FAMILIES}")
    bos, eos = ("<s>", "</s>") if family in ("llama", "gemma") else (lm_training.SPECIAL_TOKEN,) * 2
    specials = list(dict.fromkeys([bos, eos]))
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=_byte_level_core(texts, vocab_size, specials),
        bos_token=bos, eos_token=eos, unk_token=eos, clean_up_tokenization_spaces=False,
    )
    assert tokenizer.pad_token_id is None
    return tokenizer


def _gpt_neo_attention(n_layer: int) -> list:
    """GPT-Neo's alternating global / local attention, for any layer count."""
    types: list = [[["global", "local"], n_layer // 2]] if n_layer >= 2 else []
    if n_layer % 2:
        types.append([["global"], 1])
    return types


def tiny_causal_config(
    tokenizer: Any, family: Family, *, n_layer: int, n_embd: int, n_head: int, n_positions: int
) -> Any:
    """The transformers config of a tiny ``family`` model (dropout off, no pad id for pad-less)."""
    from transformers import GemmaConfig, GPTNeoConfig, LlamaConfig, PhiConfig

    ids = {"vocab_size": len(tokenizer), "bos_token_id": tokenizer.bos_token_id,
           "eos_token_id": tokenizer.eos_token_id, "pad_token_id": tokenizer.pad_token_id}
    head_dim = n_embd // n_head
    if family == "gpt_neo":
        return GPTNeoConfig(
            hidden_size=n_embd, num_layers=n_layer, num_heads=n_head,
            attention_types=_gpt_neo_attention(n_layer), window_size=min(256, n_positions),
            max_position_embeddings=n_positions, intermediate_size=4 * n_embd,
            embed_dropout=0.0, attention_dropout=0.0, resid_dropout=0.0, **ids,
        )
    common = {"hidden_size": n_embd, "num_hidden_layers": n_layer, "num_attention_heads": n_head,
              "num_key_value_heads": n_head, "intermediate_size": 4 * n_embd,
              "max_position_embeddings": n_positions, "attention_dropout": 0.0, **ids}
    if family == "llama":
        return LlamaConfig(head_dim=head_dim, tie_word_embeddings=False, **common)
    if family == "phi":  # partial rotary (factor 0.5 as Phi-2): head_dim // 2 rotated dims
        return PhiConfig(resid_pdrop=0.0, embd_pdrop=0.0, tie_word_embeddings=False,
                         rope_parameters={"rope_type": "default", "rope_theta": 10000.0,
                                          "partial_rotary_factor": 0.5}, **common)
    if family == "gemma":  # head_dim is explicit (default 256); embeddings tied
        return GemmaConfig(head_dim=head_dim, tie_word_embeddings=True, **common)
    raise ValueError(f"unknown family {family!r}; one of {FAMILIES}")


def check_shape(family: str, n_embd: int, n_head: int) -> None:
    """Raise ``ValueError`` when heads do not divide ``n_embd`` or rotary dims are odd."""
    if n_embd % n_head:
        raise ValueError(f"n_embd ({n_embd}) must be a multiple of n_head ({n_head})")
    head_dim = n_embd // n_head
    need = 4 if family == "phi" else 2 if family in ("llama", "gemma") else 1
    if head_dim % need:
        raise ValueError(f"{family}: head dim n_embd / n_head = {head_dim} must be a "
                         f"multiple of {need} (rotary embeddings)")


def tiny_causal_lm(
    tokenizer: Any, family: Family, *, n_layer: int, n_embd: int, n_head: int,
    n_positions: int, seed: int,
) -> Any:
    """A freshly initialized causal LM of ``family`` (gpt2: :func:`lm_training.tiny_gpt2`)."""
    from transformers import AutoModelForCausalLM

    if family == "gpt2":
        return lm_training.tiny_gpt2(tokenizer, n_layer=n_layer, n_embd=n_embd, n_head=n_head,
                                     n_positions=n_positions, seed=seed)
    check_shape(family, n_embd, n_head)
    config = tiny_causal_config(tokenizer, family, n_layer=n_layer, n_embd=n_embd,
                                n_head=n_head, n_positions=n_positions)
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.generation_config.pad_token_id = None
    return model


def train_mlm_tokenizer(texts: Sequence[str], vocab_size: int) -> Any:
    """A RoBERTa-style byte-level BPE: ``<s> <pad> </s> <unk> <mask>``, ``<s> x </s>`` framing."""
    from tokenizers import processors
    from transformers import PreTrainedTokenizerFast

    core = _byte_level_core(texts, vocab_size, MLM_SPECIALS)
    core.post_processor = processors.RobertaProcessing(
        ("</s>", core.token_to_id("</s>")), ("<s>", core.token_to_id("<s>")),
        add_prefix_space=False,
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=core, bos_token="<s>", eos_token="</s>", sep_token="</s>",
        cls_token="<s>", pad_token="<pad>", unk_token="<unk>", mask_token="<mask>",
        clean_up_tokenization_spaces=False,
    )


def tiny_roberta(
    tokenizer: Any, *, n_layer: int, n_embd: int, n_head: int, n_positions: int, seed: int
) -> Any:
    """A freshly initialized RoBERTa masked LM (``n_positions`` usable positions)."""
    from transformers import RobertaConfig, RobertaForMaskedLM

    check_shape("roberta", n_embd, n_head)
    config = RobertaConfig(
        vocab_size=len(tokenizer), hidden_size=n_embd, num_hidden_layers=n_layer,
        num_attention_heads=n_head, intermediate_size=4 * n_embd,
        max_position_embeddings=n_positions + 2, type_vocab_size=1,
        hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(seed)
    return RobertaForMaskedLM(config).eval()
