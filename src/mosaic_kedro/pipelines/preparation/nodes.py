"""Nodes of the ``preparation`` pipeline."""

from __future__ import annotations

import logging
import tempfile
from typing import Any

import pandas as pd

from mosaic_kedro import books as books_lib
from mosaic_kedro import lm_training, tiny_models
from mosaic_kedro.datasets import ModelReference
from mosaic_kedro.models import (
    LoadedModel,
    ModelSpec,
    check_available,
    load_embedded_smollm2,
)
from mosaic_kedro.params import parse_params
from mosaic_kedro.pipelines.preparation.params import PreparationParams, TinyMlmSpec

logger = logging.getLogger(__name__)


def validate_params(params: dict[str, Any]) -> dict[str, Any]:
    """Check the ``preparation`` block and that every model it names can be loaded
    here, before anything loads or is written; return the block normalized.

    Every writing node of the pipeline depends on the output, so an offline run
    missing a hub model fails here and leaves ``data/`` as it was.
    """
    p = parse_params(PreparationParams, params, "preparation")
    for spec in model_specs(p):
        check_available(spec)
    return p.model_dump()


def model_specs(p: PreparationParams) -> list[ModelSpec]:
    """The models the pipeline will load: generator, a named target and masked LM."""
    named = [p.generator, p.target, p.mlm_model]
    return [spec for spec in named if isinstance(spec, ModelSpec)]


def load_books(params: dict[str, Any]) -> pd.DataFrame:
    """Load the book table (``book_id, title, source, text``) from the configured source."""
    books = PreparationParams.model_validate(params).books
    table = books_lib.load_books(books.source, books.path, books.min_chars)
    logger.info("loaded %d books (%d characters) from %s", len(table),
                table["text"].str.len().sum(), books.source)
    return table


def split_books(books: pd.DataFrame, params: dict[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split into host documents (receive canaries) and held-out books (base model)."""
    p = PreparationParams.model_validate(params)
    hosts, heldout = books_lib.split_hosts_and_heldout(
        books,
        heldout_fraction=p.books.heldout_fraction,
        host_chars=p.books.host_chars,
        num_hosts=p.books.num_hosts,
        seed=p.seed,
    )
    logger.info("%d host documents, %d held-out books", len(hosts), len(heldout))
    return hosts, heldout


def prepare_generator(params: dict[str, Any]) -> LoadedModel | ModelReference:
    """The generator: the embedded SmolLM2 de-quantized once, or a checked hub name."""
    spec = PreparationParams.model_validate(params).generator
    if spec.is_embedded:
        return load_embedded_smollm2()
    check_available(spec)
    return ModelReference(spec)


def prepare_base_model(heldout: pd.DataFrame, params: dict[str, Any]) -> LoadedModel | ModelReference:
    """The base target: a named model used as is, or the tiny GPT-2 pretrained here.

    The tiny target gets a byte-level BPE tokenizer trained on the held-out books and
    one pass of pretraining over at most ``pretrain.max_tokens`` of them.
    """
    p = PreparationParams.model_validate(params)
    if p.target is not None:
        check_available(p.target)
        return ModelReference(p.target)
    tiny = p.tiny_target
    tokenizer = tiny_models.train_causal_tokenizer(list(heldout["text"]), tiny.vocab_size,
                                                   tiny.family)
    model = tiny_models.tiny_causal_lm(
        tokenizer, tiny.family, n_layer=tiny.n_layer, n_embd=tiny.n_embd,
        n_head=tiny.n_head, n_positions=tiny.n_positions, seed=p.seed,
    )
    token_lists, total = [], 0
    for tokens in lm_training.encode_books(tokenizer, list(heldout["text"])):
        token_lists.append(tokens[: tiny.pretrain.max_tokens - total])
        total += len(token_lists[-1])
        if total >= tiny.pretrain.max_tokens:
            break
    chunks = lm_training.chunk_books(token_lists, tiny.pretrain.block_size, p.seed)
    logger.info("pretraining a %.1f M-parameter %s on %d tokens (%d chunks)",
                model.num_parameters() / 1e6, tiny.family, total, len(chunks))
    with tempfile.TemporaryDirectory(prefix="mosaic-pretrain-") as out:
        lm_training.train_causal_lm(
            model, tokenizer, chunks, output_dir=out,
            learning_rate=tiny.pretrain.learning_rate,
            batch_size=tiny.pretrain.batch_size, seed=p.seed, resume=False,
        )
    name = "tiny-gpt2" if tiny.family == "gpt2" else f"tiny-{tiny.family}"
    return LoadedModel(model, tokenizer, ModelSpec(name_or_path=name))


def prepare_mlm_model(heldout: pd.DataFrame, params: dict[str, Any]) -> LoadedModel | ModelReference:
    """The masked LM of the ``mlm`` / ``mlm_random`` strategies (``preparation.mlm_model``):
    a named model checked offline and referenced (the paper: roberta-base), or a
    random-weight RoBERTa with a BPE trained on the held-out books (``tiny``)."""
    spec = PreparationParams.model_validate(params).mlm_model
    if not isinstance(spec, TinyMlmSpec):
        check_available(spec)
        return ModelReference(spec)
    tiny = spec.tiny
    tokenizer = tiny_models.train_mlm_tokenizer(list(heldout["text"]), tiny.vocab_size)
    model = tiny_models.tiny_roberta(tokenizer, n_layer=tiny.n_layer, n_embd=tiny.n_embd,
                                     n_head=tiny.n_head, n_positions=tiny.n_positions,
                                     seed=PreparationParams.model_validate(params).seed)
    return LoadedModel(model, tokenizer, ModelSpec(name_or_path="tiny-roberta"))
