"""Nodes of the ``mia`` pipeline (SPEC §5).

Higher score = more likely a non-member; AUCs take members as the positive class
(see :mod:`mosaic_kedro.mia_scores`).
"""

from __future__ import annotations

import logging
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field

from mosaic_kedro import extraction_metrics, mia_scores
from mosaic_kedro.grid import META_COLUMNS, condition_metadata, group_members
from mosaic_kedro.models import (
    LoadedModel,
    ModelSpec,
    greedy_continuations,
    load_causal_lm,
)
from mosaic_kedro.params import StrictParams, parse_params
from mosaic_kedro.provenance import RUN_COLUMNS, UNRECORDED, stamp
from mosaic_kedro.rho import AUC_TABLE_COLUMNS

logger = logging.getLogger(__name__)

_META = [c for c in META_COLUMNS if c != "num_copies"]
SCORE_COLUMNS = ["model", "condition", "kind", "value", "seed", "num_copies", *_META,
                 "canary_id", "set", "score", "value_score", *RUN_COLUMNS]
ROC_COLUMNS = ["model", "condition", "kind", "value", "seed", "score", "fpr", "tpr"]
#: The AUC table: rho's columns, then the condition's metadata (grid.META_COLUMNS).
AUC_COLUMNS = [*AUC_TABLE_COLUMNS, *_META, *RUN_COLUMNS]
REFERENCE_COLUMNS = ["canary_id", "reference_ppl", "reference_tokens"]


class BootstrapParams(StrictParams):
    """Bootstrap interval of each AUC."""

    n_resamples: int = Field(1000, ge=10)
    confidence: float = Field(0.95, gt=0, lt=1)
    random_state: int = 0


class ExtractionParams(StrictParams):
    """The extraction experiment (SPEC §6): prompt with the first ``prompt_fraction``
    of each member canary, greedy-decode the rest (the paper: 50 of 100 tokens)."""

    enabled: bool = True
    prompt_fraction: float = Field(0.5, gt=0, lt=1)
    batch_size: int = Field(32, ge=1)


class MiaParams(StrictParams):
    """``mia:``: reference model, scoring and metrics settings."""

    reference: Literal["generator", "base"] | ModelSpec = "generator"
    batch_size: int = Field(64, ge=1)
    prepend_bos: bool = False
    min_k_tokens: int = Field(20, ge=1)
    min_k_fraction: float = Field(0.2, gt=0, le=1)
    bootstrap: BootstrapParams = BootstrapParams()
    extraction: ExtractionParams = ExtractionParams()
    model_label: str | None = None


def validate_params(params: dict[str, Any], target: dict[str, Any] | None) -> dict[str, Any]:
    """Check the ``mia`` block before any model loads. Inputs: ``params:mia`` and
    ``params:preparation.target`` (for the model label). Returns the block normalized,
    with ``model`` (the AUC table's label)."""
    return config_with_label(params, target)


def config_with_label(params: dict[str, Any], target: dict[str, Any] | None) -> dict[str, Any]:
    """The validated ``mia`` block with ``model``, the AUC table's label for the target."""
    p = parse_params(MiaParams, params, "mia")
    label = p.model_label or (target or {}).get("name_or_path")
    return {**p.model_dump(), "model": label}


def model_label(config: dict[str, Any], target_model: LoadedModel) -> str:
    """The AUC table's model column: ``mia.model_label``, else the target's hub name or
    path, else (the project's own tiny target) ``tiny-<model_type>``, e.g.
    ``tiny-gpt_neo`` whatever ``preparation.tiny_target.family`` says."""
    return config["model"] or f"tiny-{target_model.model.config.model_type}"


def _settings(config: dict[str, Any]) -> mia_scores.ScoreSettings:
    return mia_scores.ScoreSettings(config["min_k_tokens"], config["min_k_fraction"])


def score_reference(
    canaries: pd.DataFrame, reference_model: LoadedModel, config: dict[str, Any]
) -> pd.DataFrame:
    """Reference perplexity of every canary's text, in the reference's own tokenizer:
    one pass for all conditions (output ``reference_scores``: canary_id,
    reference_ppl, reference_tokens)."""
    canaries = canaries.drop_duplicates("canary_id")  # seeds that share canaries
    texts = list(canaries["text"])
    ids = mia_scores.encode_texts(reference_model.tokenizer, texts, config["prepend_bos"])
    ppl = mia_scores.reference_perplexities(reference_model, texts,
                                            batch_size=config["batch_size"],
                                            prepend_bos=config["prepend_bos"])
    logger.info("reference %s: scored %d canaries", reference_model.spec.name_or_path, len(texts))
    return pd.DataFrame({"canary_id": canaries["canary_id"].to_numpy(), "reference_ppl": ppl,
                         "reference_tokens": [len(i) for i in ids]})


def score_reference_by_name(canaries: pd.DataFrame, config: dict[str, Any]) -> pd.DataFrame:
    """:func:`score_reference` with a reference named in ``mia.reference`` (a ModelSpec)."""
    spec = ModelSpec.model_validate(config["reference"])
    return score_reference(canaries, load_causal_lm(spec), config)


def score_condition(
    target_model: LoadedModel,
    canaries: pd.DataFrame,
    reference_scores: pd.DataFrame,
    params: dict[str, Any],
    target: dict[str, Any] | None,
    run_info: dict[str, Any] | None = None,
    *,
    condition: dict[str, Any],
) -> pd.DataFrame:
    """Every score of the condition's original canaries (the members it injected and the
    non-members of its seed) under the model it was trained into; one target pass for the tokens, one for the
    lower-cased text. Inputs: the model, canaries, ``reference_scores``, ``params:mia``
    and ``params:preparation.target`` (read directly, so ``--namespaces=<condition>``
    runs alone), ``run_info`` (the run's identity, stamped on every row). Output:
    ``mia_scores`` rows (one per canary and score)."""
    config = config_with_label(params, target)
    non_members = canaries[(canaries["seed"] == condition["seed"])
                           & (canaries["set"] == mia_scores.NON_MEMBER)]
    if non_members.empty:
        raise ValueError(f"{condition['name']}: no non-member canaries for seed "
                         f"{condition['seed']}; rerun `kedro run --pipelines=canaries`")
    rows = pd.concat([group_members(canaries, condition), non_members], ignore_index=True)
    ref = reference_scores.set_index("canary_id")["reference_ppl"]
    missing = sorted(set(rows["canary_id"]) - set(ref.index))
    if missing:
        raise ValueError(f"reference_scores lacks canaries {missing[:5]}...; rerun mia")
    texts = list(rows["text"])
    passed = mia_scores.target_pass(target_model, list(rows["tokens"]), texts,
                                    batch_size=config["batch_size"],
                                    prepend_bos=config["prepend_bos"])
    wide = mia_scores.score_table(passed, texts, _settings(config),
                                  reference_ppl=ref.loc[rows["canary_id"]].to_numpy())
    wide = pd.concat([rows[["canary_id", "set"]], wide], axis=1)
    long = wide.melt(id_vars=["canary_id", "set"], var_name="score", value_name="value_score")
    long = long.assign(model=model_label(config, target_model), condition=condition["name"],
                       kind=condition["kind"], value=condition["value"],
                       seed=condition["seed"], **condition_metadata(condition))
    return stamp(long, run_info)[SCORE_COLUMNS]


EXTRACTION_COLUMNS = ["model", "condition", "kind", "value", "seed", "num_copies", *_META,
                      "canary_id", "prompt_tokens", "generated_text", "reference_text",
                      "bleu", "token_edit_similarity", "exact_match", *RUN_COLUMNS]


def extract_condition(
    target_model: LoadedModel,
    canaries: pd.DataFrame,
    params: dict[str, Any],
    target: dict[str, Any] | None,
    run_info: dict[str, Any] | None = None,
    *,
    condition: dict[str, Any],
) -> pd.DataFrame:
    """The extraction experiment for one condition: prompt the trained model with the
    first ``mia.extraction.prompt_fraction`` of each member canary the condition
    injected, greedy-decode as many tokens as the rest, and score the continuation against
    the true suffix (sacrebleu sentence BLEU, token edit similarity, exact match).
    Inputs: the model, the canaries, ``params:mia``, ``params:preparation.target``.
    Output: ``<condition>.extraction`` (one row per member canary; empty when
    ``mia.extraction.enabled`` is false)."""
    config = config_with_label(params, target)
    x = ExtractionParams.model_validate(config["extraction"])
    if not x.enabled:
        return pd.DataFrame(columns=EXTRACTION_COLUMNS)
    rows = group_members(canaries, condition).sort_values("canary_id")
    tokens = [list(map(int, t)) for t in rows["tokens"]]
    cut = [max(1, min(len(t) - 1, round(len(t) * x.prompt_fraction))) for t in tokens]
    prompts = [mia_scores.with_bos(t[:c], target_model.tokenizer, config["prepend_bos"])
               for t, c in zip(tokens, cut, strict=True)]
    suffixes = [t[c:] for t, c in zip(tokens, cut, strict=True)]
    generated = greedy_continuations(target_model, prompts,
                                     max_new_tokens=max(len(s) for s in suffixes),
                                     batch_size=x.batch_size)
    decode = target_model.tokenizer.decode
    generated = [g[: len(s)] for g, s in zip(generated, suffixes, strict=True)]
    table = extraction_metrics.extraction_scores(pd.DataFrame({
        "canary_id": rows["canary_id"].to_numpy(), "prompt_tokens": cut,
        "generated_ids": generated, "reference_ids": suffixes,
        "generated_text": [decode(g) for g in generated],
        "reference_text": [decode(s) for s in suffixes]}))
    logger.info("%s: extraction BLEU %.2f, token edit similarity %.3f (%d canaries)",
                condition["name"], table["bleu"].mean(),
                table["token_edit_similarity"].mean(), len(table))
    table = table.assign(model=model_label(config, target_model), condition=condition["name"],
                         kind=condition["kind"], value=condition["value"],
                         seed=condition["seed"], **condition_metadata(condition))
    return stamp(table, run_info)[EXTRACTION_COLUMNS]


def gather_extraction(*frames: pd.DataFrame) -> pd.DataFrame:
    """Every condition's extraction rows in one table (``extraction_scores``)."""
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame(columns=EXTRACTION_COLUMNS)
    return pd.concat(frames, ignore_index=True)[EXTRACTION_COLUMNS]


def gather_scores(*frames: pd.DataFrame) -> pd.DataFrame:
    """Every condition's per-canary scores in one table (``mia_scores``)."""
    return pd.concat(frames, ignore_index=True)[SCORE_COLUMNS]


def evaluate(mia_scores_table: pd.DataFrame, config: dict[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """AUC (members positive), bootstrap CI, TPR at 1 % / 10 % FPR per condition and
    score (``auc_table``), and the ROC curves (``roc_curves``)."""
    b = config["bootstrap"]
    fewest = int((mia_scores_table["set"] != mia_scores.MEMBER).groupby(
        [mia_scores_table["condition"], mia_scores_table["score"]]).sum().min())
    for fpr in (0.01, 0.10):
        if fewest * fpr < 1:
            logger.warning("TPR at %g%% FPR is not meaningful with %d non-members (needs "
                           ">= %d); reported anyway", 100 * fpr, fewest, round(1 / fpr))
    keys = ["model", "condition", "score"]
    table, curves = [], []
    for key, group in mia_scores_table.groupby(keys, sort=False):
        first = group.iloc[0]
        meta = {**{c: first[c] for c in ["kind", "value", "seed", "num_copies", *_META]},
                **{c: first.get(c, UNRECORDED) for c in RUN_COLUMNS},
                **dict(zip(keys, key))}
        is_member = (group["set"] == mia_scores.MEMBER).to_numpy()
        values = group["value_score"].to_numpy(np.float64)
        if not np.isfinite(values).all():
            raise ValueError(f"non-finite {meta['score']} scores in {meta['condition']}")
        table.append({**meta, **mia_scores.evaluate_scores(
            values, is_member, n_resamples=b["n_resamples"], confidence=b["confidence"],
            random_state=b["random_state"], warn=False)})
        roc = mia_scores.roc_points(values, is_member)
        curves.append(roc[["fpr", "tpr"]].assign(**{k: meta[k] for k in ROC_COLUMNS[:6]}))
    auc_table = pd.DataFrame(table)[AUC_COLUMNS]
    return auc_table, pd.concat(curves, ignore_index=True)[ROC_COLUMNS]
