"""Nodes of the ``perturbation`` pipeline (SPEC §2).

Per condition (bound with ``functools.partial``): ``make_*_copies`` turn the member
canaries the condition injects (:func:`mosaic_kedro.grid.group_members`) into a copies
table. Shared by conditions: candidate sets (``compute_*_candidates``, one per
strategy, top-k and seed, keyed by canary id) and the summary.
"""

from __future__ import annotations

import logging
import zlib
from typing import Any

import numpy as np
import pandas as pd

from mosaic_kedro import perturbations as P
from mosaic_kedro.grid import (
    META_COLUMNS,
    condition_metadata,
    conditions,
    group_members,
)
from mosaic_kedro.models import LoadedModel, load_causal_lm
from mosaic_kedro.params import ParameterError, parse_params
from mosaic_kedro.pipelines.perturbation.params import PerturbationParams

logger = logging.getLogger(__name__)

# levenshtein: token edit distance of the edited token list to the canary;
# seen_tokens / seen_levenshtein: the copy's text re-encoded, what the model saw;
# tau: achieved Kendall-tau distance (shuffle copies, else NaN)
COPY_COLUMNS = ["canary_id", "copy_index", "tokens", "text", "replaced_positions",
                "levenshtein", "length", "seen_tokens", "seen_levenshtein", "tau"]


def validate_params(params: dict[str, Any], grid: dict[str, Any], length: int,
                    preparation: dict[str, Any]) -> dict[str, Any]:
    """Check ``perturbation`` against the grid and the canary length before any model loads.

    Errors name the key: R larger than the canary length, an override of an unknown
    condition, a Kendall-tau target no block permutation reaches, an ``mlm`` /
    ``mlm_random`` strategy without ``preparation.mlm_model``.
    """
    p = parse_params(PerturbationParams, params, "perturbation")
    conds = conditions(grid)
    masked = sorted({c.perturbation.get("strategy") for c in conds} & {"mlm", "mlm_random"})
    if masked and not (preparation or {}).get("mlm_model"):
        raise ParameterError(
            f"grid uses the strategies {masked}, which need a masked LM: set "
            "preparation.mlm_model (the paper: {name_or_path: roberta-base}; offline: "
            "{tiny: {}} builds a random-weight RoBERTa) and run `kedro run "
            "--pipelines=preparation`")
    names = {c.name for c in conds}
    unknown = sorted(set(p.overrides) - names)
    if unknown:
        raise ParameterError(f"perturbation.overrides names unknown conditions {unknown}")
    for c in conds:
        s = p.settings_for(c.name, c.perturbation)
        if s.get("replaced_tokens", 0) > length:
            raise ParameterError(
                f"grid: {c.name} replaces R = {s['replaced_tokens']} tokens but canaries "
                f"are {length} tokens long (canaries.length); lower replaced_tokens")
        if s.get("strategy") == "shuffle":
            try:
                P.check_tau_reachable(length, s["ngram"], s["tau"],
                                      s.get("tau_width", p.shuffle.width))
            except P.PerturbationError as exc:
                raise ParameterError(f"grid.shuffle: {c.name}: {exc}") from None
    return p.model_dump()


def _members_of_groups(canaries: pd.DataFrame, seed: int, groups: list[int]) -> pd.DataFrame:
    members = canaries[(canaries["set"] == "member") & (canaries["seed"] == seed)
                       & canaries["group"].isin(groups)]
    if members.empty:
        raise ValueError(f"no member canaries for seed {seed}, groups {groups}; rerun "
                         "`kedro run --pipelines=canaries` for this grid")
    return members.sort_values("index").reset_index(drop=True)


def _rng(condition: dict[str, Any]) -> np.random.Generator:
    return np.random.default_rng([int(condition["seed"]), zlib.crc32(condition["name"].encode())])


def _table(members: pd.DataFrame, copies: list[list[P.PerturbedCopy]], tokenizer: Any) -> pd.DataFrame:
    rows = []
    for cid, original, per in zip(members["canary_id"], members["tokens"], copies,
                                  strict=True):
        for j, c in enumerate(per):
            seen, seen_distance = P.seen_distance(tokenizer, list(original), c.tokens)
            rows.append((cid, j, c.tokens, tokenizer.decode(c.tokens), c.replaced_positions,
                         c.levenshtein, len(c.tokens), seen, seen_distance,
                         np.nan if c.tau is None else float(c.tau)))
    return pd.DataFrame(rows, columns=COPY_COLUMNS)


def compute_clm_candidates(
    canaries: pd.DataFrame, generator: LoadedModel, base_model: LoadedModel,
    config: dict[str, Any], *, seed: int, top_k: int, groups: list[int],
) -> dict[str, P.Candidates]:
    """Top-k generator candidates for every position of every member canary of ``seed``
    in ``groups`` (those of the conditions sharing this set), by canary id."""
    members = _members_of_groups(canaries, seed, groups)
    cands = P.clm_candidates(generator.model, generator.tokenizer, base_model.tokenizer,
                             list(members["tokens"].map(list)), top_k=top_k,
                             batch_size=config["batch_size"])
    return dict(zip(members["canary_id"], cands, strict=True))


def compute_mlm_candidates(
    canaries: pd.DataFrame, base_model: LoadedModel, mlm_model: LoadedModel,
    config: dict[str, Any], *, seed: int, top_k: int, groups: list[int],
) -> dict[str, P.Candidates]:
    """Top-k masked-LM candidates for every position of every member canary of ``seed``
    in ``groups``, by canary id (``mlm_model``, prepared from ``preparation.mlm_model``;
    the paper: roberta-base)."""
    p = PerturbationParams.model_validate(config)
    mlm = mlm_model
    members = _members_of_groups(canaries, seed, groups)
    cands = P.mlm_candidates(mlm.model, mlm.tokenizer, base_model.tokenizer,
                             list(members["tokens"].map(list)), top_k=top_k,
                             batch_size=p.batch_size * 4)
    return dict(zip(members["canary_id"], cands, strict=True))


def make_candidate_copies(
    canaries: pd.DataFrame, candidates: dict[str, P.Candidates], base_model: LoadedModel,
    params: dict[str, Any], *, condition: dict[str, Any],
) -> pd.DataFrame:
    """``mlm`` / ``clm`` copies: R positions replaced by precomputed candidates."""
    p = parse_params(PerturbationParams, params, "perturbation")
    s = p.settings_for(condition["name"], condition["perturbation"])
    members, rng = group_members(canaries, condition), _rng(condition)
    if not isinstance(candidates, dict) or not set(members["canary_id"]) <= set(candidates):
        raise ValueError(f"{condition['name']}: the candidate set does not cover this "
                         "condition's canaries (computed for other canaries or by an older "
                         "version); rerun `kedro run --pipelines=perturbation`")
    copies = [
        P.replacement_copies(list(tokens), replaced_tokens=s["replaced_tokens"],
                             num_copies=s["num_copies"], rng=rng, candidates=cands,
                             replace_same_indices=s["replace_same_indices"],
                             uniform_spread=s["uniform_spread"])
        for tokens, cands in zip(members["tokens"], members["canary_id"].map(candidates),
                                 strict=True)
    ]
    return _table(members, copies, base_model.tokenizer)


def make_sampled_copies(
    canaries: pd.DataFrame, base_model: LoadedModel, params: dict[str, Any],
    mlm_model: LoadedModel | None = None, *, condition: dict[str, Any],
) -> pd.DataFrame:
    """``random``, ``mlm_random`` (vocabulary of ``mlm_model``), ``insertion``,
    ``scrambled`` and ``shuffle`` copies."""
    p = parse_params(PerturbationParams, params, "perturbation")
    s = p.settings_for(condition["name"], condition["perturbation"])
    members, rng, tok = group_members(canaries, condition), _rng(condition), base_model.tokenizer
    strategy = s["strategy"]
    if strategy in ("random", "mlm_random"):
        source = None
        if strategy == "mlm_random":
            if mlm_model is None:
                raise ParameterError(f"{condition['name']}: mlm_random needs mlm_model")
            source = mlm_model.tokenizer
        sampler = P.VocabSampler(tok, source)

        def make(tokens: list[int]) -> list[P.PerturbedCopy]:
            return P.replacement_copies(
                tokens, replaced_tokens=s["replaced_tokens"], num_copies=s["num_copies"],
                rng=rng, sampler=sampler, replace_same_indices=s["replace_same_indices"],
                uniform_spread=s["uniform_spread"])
    elif strategy == "insertion":
        special = set(tok.all_special_ids)
        vocab = [i for i in range(len(tok)) if i not in special]

        def make(tokens: list[int]) -> list[P.PerturbedCopy]:
            return P.insertion_copies(tokens, ngram=s["ngram"], inserted=s["inserted"],
                                      num_copies=s["num_copies"], vocab_ids=vocab, rng=rng)
    elif strategy == "scrambled":
        def make(tokens: list[int]) -> list[P.PerturbedCopy]:
            return P.scrambled_pieces(tokens, ngram=s["ngram"], num_copies=s["num_copies"])
    elif strategy == "shuffle":
        def make(tokens: list[int]) -> list[P.PerturbedCopy]:
            return P.shuffle_copies(
                tokens, ngram=s["ngram"], tau=s["tau"], num_copies=s["num_copies"], rng=rng,
                width=s.get("tau_width", p.shuffle.width),
                max_steps=p.shuffle.max_search_steps).copies
    else:
        raise ParameterError(f"perturbation: unknown strategy {strategy!r} for {condition['name']}")
    copies = [make(list(tokens)) for tokens in members["tokens"]]
    return _table(members, copies, tok)


def make_paraphrase_copies(
    canaries: pd.DataFrame, base_model: LoadedModel, generator: LoadedModel,
    params: dict[str, Any], *, condition: dict[str, Any],
) -> pd.DataFrame:
    """Paraphrases by ``perturbation.paraphrase_model`` (null: the generator)."""
    p = parse_params(PerturbationParams, params, "perturbation")
    s = p.settings_for(condition["name"], condition["perturbation"])
    lm = load_causal_lm(p.paraphrase_model) if p.paraphrase_model else generator
    members = group_members(canaries, condition)
    g = p.paraphrase
    copies = []
    for i, tokens, text in zip(members["index"], members["tokens"], members["text"],
                               strict=True):
        texts = P.paraphrase_texts(
            lm.model, lm.tokenizer, text, num_copies=s["num_copies"],
            max_new_tokens=g.max_new_tokens, temperature=g.temperature, top_p=g.top_p,
            min_chars=g.min_chars, max_attempts=g.max_attempts,
            seed=int(condition["seed"]) * 100_003 + int(i))
        copies.append(P.paraphrase_copies(texts, list(tokens), base_model.tokenizer))
    return _table(members, copies, base_model.tokenizer)


SUMMARY_COLUMNS = ["condition", "kind", "value", "seed", *META_COLUMNS, "mean_levenshtein",
                   "mean_seen_levenshtein", "mean_length", "mean_tau", "copies_per_canary"]


def summarize(*tables: pd.DataFrame, conditions_meta: list[dict[str, Any]]) -> pd.DataFrame:
    """One row per perturbed condition (``perturbation_summary``): its metadata
    (grid.META_COLUMNS), the mean token Levenshtein distance of the edited tokens
    (``mean_levenshtein``) and of what the model saw, the copy's decoded text
    re-encoded (``mean_seen_levenshtein``), the mean copy length, the mean achieved
    Kendall-tau distance (shuffle) and the number of pieces per canary."""
    rows = []
    for cond, table in zip(conditions_meta, tables, strict=True):
        seen = table["seen_levenshtein"] if "seen_levenshtein" in table else table["levenshtein"]
        tau = table["tau"].astype(float).mean() if "tau" in table else np.nan
        rows.append({
            "condition": cond["name"], "kind": cond["kind"], "value": cond["value"],
            "seed": cond["seed"], **condition_metadata(cond),
            "mean_levenshtein": float(table["levenshtein"].mean()),
            "mean_seen_levenshtein": float(seen.mean()),
            "mean_length": float(table["length"].mean()), "mean_tau": tau,
            "copies_per_canary": int(table.groupby("canary_id").size().max()),
        })
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
