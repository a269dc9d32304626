"""Nodes of the ``training`` pipeline (SPEC §4)."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import Field

from mosaic_kedro import lm_training
from mosaic_kedro.models import LoadedModel, ModelSpec
from mosaic_kedro.params import StrictParams, parse_params
from mosaic_kedro.provenance import RUN_COLUMNS, stamp
from mosaic_kedro.training_callback import METRIC_COLUMNS, make_leakage_callback

#: the metrics history as saved: the callback's columns and the run's identity
TRAINING_COLUMNS = [*METRIC_COLUMNS, *RUN_COLUMNS]

logger = logging.getLogger(__name__)


class TrainingParams(StrictParams):
    """``training:``: continued pretraining of every condition's target model."""

    block_size: int = Field(256, ge=8)
    batch_size: int = Field(16, ge=1)
    learning_rate: float = Field(5e-4, gt=0)
    weight_decay: float = Field(0.01, ge=0)
    num_epochs: float = Field(1.0, gt=0)
    eval_steps: int = Field(5, ge=0)
    eval_batch_size: int = Field(64, ge=1)
    logging_steps: int = Field(10, ge=1)
    save_steps: int = Field(20, ge=0)
    checkpoint_root: str = "data/06_models"
    device: str = "auto"
    report_to: list[str] = Field(default_factory=list)
    prepend_bos: bool = False


def validate_params(params: dict[str, Any]) -> dict[str, Any]:
    """Check the ``training`` block before any model loads; returns it normalized."""
    return parse_params(TrainingParams, params, "training").model_dump()


def _fingerprint(config: dict[str, Any], chunks: np.ndarray) -> str:
    """Hash of the settings and the exact chunk stream: checkpoints resume only a run
    with the same settings and data."""
    digest = hashlib.sha1(json.dumps(
        {k: v for k, v in config.items() if k not in ("report_to", "checkpoint_root")},
        sort_keys=True, default=str).encode())
    for chunk in chunks:
        digest.update(np.ascontiguousarray(chunk).tobytes())
    return digest.hexdigest()[:12]


def _canary_tokens(canaries: pd.DataFrame, seed: int) -> tuple[list[list[int]], list[list[int]]]:
    rows = canaries[canaries["seed"] == seed].sort_values("canary_id")
    if rows.empty:
        raise ValueError(f"no canaries for seed {seed}; run the canaries pipeline for grid.seeds")
    pick = lambda name: [list(map(int, t)) for t in rows.loc[rows["set"] == name, "tokens"]]  # noqa: E731
    return pick("member"), pick("non_member")


def train_target_model(
    base_model: LoadedModel,
    injected_corpus: pd.DataFrame,
    canaries: pd.DataFrame,
    params: dict[str, Any],
    run_info: dict[str, Any] | None = None,
    *,
    unit: str,
    seed: int,
) -> tuple[LoadedModel, pd.DataFrame]:
    """Continue pretraining ``base_model`` on one training unit's injected corpus (a
    condition's in the isolated design, a seed's in the pooled one).

    Inputs: the base target, ``injected_corpus`` (``book_id, text``), the canaries (for
    the leakage callback), ``params:training`` (read directly, so
    ``--namespaces=<unit>`` runs alone) and ``run_info`` (the run's identity, stamped
    on the history). Outputs: the trained model with its tokenizer,
    and the metrics history (``condition`` = the unit, ``step, auc_loss, ppl_members,
    ppl_non_members`` and their ``_median``; every member of the seed counts). Chunks
    are shuffled with ``seed``; checkpoints go to
    ``<checkpoint_root>/<unit>/checkpoints/<fingerprint>``.
    """
    p = parse_params(TrainingParams, params, "training")
    config = p.model_dump()
    name, seed = unit, int(seed)
    tokenizer = base_model.tokenizer
    model = base_model.model  # a fresh load per node: the catalog's copy is not shared
    tokens = lm_training.encode_books(tokenizer, list(injected_corpus["text"]))
    chunks = lm_training.chunk_books(tokens, p.block_size, seed)
    if len(chunks) == 0:
        raise ValueError(f"{name}: the injected corpus gives no chunk of {p.block_size} tokens")
    members, non_members = _canary_tokens(canaries, seed)
    callback = make_leakage_callback(name, tokenizer, members, non_members,
                                     eval_steps=p.eval_steps, batch_size=p.eval_batch_size,
                                     prepend_bos=p.prepend_bos)
    out_dir = Path(p.checkpoint_root) / name / "checkpoints" / _fingerprint(config, chunks)
    n_tokens = int(sum(len(c) for c in chunks))
    logger.info("%s: training on %d tokens (%d chunks of <= %d), checkpoints in %s",
                name, n_tokens, len(chunks), p.block_size, out_dir)
    start = time.perf_counter()
    lm_training.train_causal_lm(
        model, tokenizer, chunks, output_dir=out_dir, learning_rate=p.learning_rate,
        batch_size=p.batch_size, seed=seed, num_epochs=p.num_epochs,
        weight_decay=p.weight_decay, logging_steps=p.logging_steps, save_steps=p.save_steps,
        device=p.device, report_to=p.report_to, callbacks=[callback],
    )
    elapsed = time.perf_counter() - start
    logger.info("%s: trained in %.1f s (%.0f tokens/s)", name, elapsed, n_tokens / elapsed)
    spec = ModelSpec(name_or_path=f"{base_model.spec.name_or_path}+{name}")
    return LoadedModel(model, tokenizer, spec), stamp(callback.table(), run_info)


def gather_training_metrics(*histories: pd.DataFrame) -> pd.DataFrame:
    """Every condition's metrics history in one table (``training_metrics``)."""
    frames = [h for h in histories if h is not None and len(h)]
    if not frames:
        return pd.DataFrame(columns=TRAINING_COLUMNS)
    # reindex: metrics written before the median columns existed keep NaN there
    return pd.concat(frames, ignore_index=True).reindex(columns=TRAINING_COLUMNS)
