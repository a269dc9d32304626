"""Nodes of the ``perturbation`` pipeline (SPEC §2).

Per condition (bound with ``functools.partial``): ``make_*_copies`` turn the member
canaries of the condition's seed into a copies table. Shared by conditions: candidate
sets (``compute_*_candidates``, one per strategy, top-k and seed) and the summary.
"""

from __future__ import annotations

import logging
import zlib
from typing import Any

import numpy as np
import pandas as pd

from mosaic_kedro import perturbations as P
from mosaic_kedro.grid import conditions
from mosaic_kedro.models import (
    LoadedModel,
    load_causal_lm,
    load_masked_lm,
    load_tokenizer,
)
from mosaic_kedro.params import ParameterError, parse_params
from mosaic_kedro.pipelines.perturbation.params import PerturbationParams

logger = logging.getLogger(__name__)

COPY_COLUMNS = ["canary_id", "copy_index", "tokens", "text", "replaced_positions",
                "levenshtein", "length"]


def validate_params(params: dict[str, Any], grid: dict[str, Any], length: int) -> dict[str, Any]:
    """Check ``perturbation`` against the grid and the canary length before any model loads.

    Errors name the key: R larger than the canary length, an override of an unknown
    condition, a Kendall-tau target no block permutation reaches.
    """
    p = parse_params(PerturbationParams, params, "perturbation")
    conds = conditions(grid)
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
            tol = s.get("tau_tolerance", p.shuffle.tolerance)
            taus = P.reachable_taus(length, s["ngram"])
            if not any(abs(t - s["tau"]) <= tol for t in taus):
                raise ParameterError(
                    f"grid.shuffle: {c.name}: tau = {s['tau']} is not reachable with blocks "
                    f"of {s['ngram']} tokens in canaries of {length} (tolerance {tol})")
    return p.model_dump()


def _members(canaries: pd.DataFrame, seed: int) -> pd.DataFrame:
    members = canaries[(canaries["set"] == "member") & (canaries["seed"] == seed)]
    if members.empty:
        raise ValueError(f"no member canaries for seed {seed}; run the canaries pipeline")
    return members.sort_values("index").reset_index(drop=True)


def _rng(condition: dict[str, Any]) -> np.random.Generator:
    return np.random.default_rng([int(condition["seed"]), zlib.crc32(condition["name"].encode())])


def _table(members: pd.DataFrame, copies: list[list[P.PerturbedCopy]], tokenizer: Any) -> pd.DataFrame:
    rows = [
        (cid, j, c.tokens, tokenizer.decode(c.tokens), c.replaced_positions, c.levenshtein,
         len(c.tokens))
        for cid, per in zip(members["canary_id"], copies, strict=True)
        for j, c in enumerate(per)
    ]
    return pd.DataFrame(rows, columns=COPY_COLUMNS)


def compute_clm_candidates(
    canaries: pd.DataFrame, generator: LoadedModel, base_model: LoadedModel,
    config: dict[str, Any], *, seed: int, top_k: int,
) -> list[P.Candidates]:
    """Top-k generator candidates for every position of every member canary of ``seed``."""
    members = _members(canaries, seed)
    return P.clm_candidates(generator.model, generator.tokenizer, base_model.tokenizer,
                            list(members["tokens"].map(list)), top_k=top_k,
                            batch_size=config["batch_size"])


def compute_mlm_candidates(
    canaries: pd.DataFrame, base_model: LoadedModel, config: dict[str, Any], *,
    seed: int, top_k: int,
) -> list[P.Candidates]:
    """Top-k masked-LM candidates (``perturbation.mlm_model``, the paper: roberta-base)."""
    p = PerturbationParams.model_validate(config)
    mlm = load_masked_lm(p.mlm_model)
    members = _members(canaries, seed)
    return P.mlm_candidates(mlm.model, mlm.tokenizer, base_model.tokenizer,
                            list(members["tokens"].map(list)), top_k=top_k,
                            batch_size=p.batch_size * 4)


def make_candidate_copies(
    canaries: pd.DataFrame, candidates: list[P.Candidates], base_model: LoadedModel,
    params: dict[str, Any], *, condition: dict[str, Any],
) -> pd.DataFrame:
    """``mlm`` / ``clm`` copies: R positions replaced by precomputed candidates."""
    p = parse_params(PerturbationParams, params, "perturbation")
    s = p.settings_for(condition["name"], condition["perturbation"])
    members, rng = _members(canaries, condition["seed"]), _rng(condition)
    copies = [
        P.replacement_copies(list(tokens), replaced_tokens=s["replaced_tokens"],
                             num_copies=s["num_copies"], rng=rng, candidates=cands,
                             replace_same_indices=s["replace_same_indices"],
                             uniform_spread=s["uniform_spread"])
        for tokens, cands in zip(members["tokens"], candidates, strict=True)
    ]
    return _table(members, copies, base_model.tokenizer)


def make_sampled_copies(
    canaries: pd.DataFrame, base_model: LoadedModel, params: dict[str, Any], *,
    condition: dict[str, Any],
) -> pd.DataFrame:
    """``random``, ``mlm_random``, ``insertion``, ``scrambled`` and ``shuffle`` copies."""
    p = parse_params(PerturbationParams, params, "perturbation")
    s = p.settings_for(condition["name"], condition["perturbation"])
    members, rng, tok = _members(canaries, condition["seed"]), _rng(condition), base_model.tokenizer
    strategy = s["strategy"]
    if strategy in ("random", "mlm_random"):
        source = None
        if strategy == "mlm_random":
            source = load_tokenizer(p.mlm_model)
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
                tolerance=s.get("tau_tolerance", p.shuffle.tolerance),
                max_steps=p.shuffle.max_search_steps)
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
    members = _members(canaries, condition["seed"])
    g = p.paraphrase
    copies = []
    for i, (tokens, text) in enumerate(zip(members["tokens"], members["text"], strict=True)):
        texts = P.paraphrase_texts(
            lm.model, lm.tokenizer, text, num_copies=s["num_copies"],
            max_new_tokens=g.max_new_tokens, temperature=g.temperature, top_p=g.top_p,
            min_chars=g.min_chars, max_attempts=g.max_attempts,
            seed=int(condition["seed"]) * 100_003 + i)
        copies.append(P.paraphrase_copies(texts, list(tokens), base_model.tokenizer))
    return _table(members, copies, base_model.tokenizer)


def summarize(*tables: pd.DataFrame, conditions_meta: list[dict[str, Any]]) -> pd.DataFrame:
    """One row per perturbed condition: kind, value, seed, mean_levenshtein, num_copies."""
    rows = [
        (m["kind"], m["value"], m["seed"], float(t["levenshtein"].mean()),
         int(t.groupby("canary_id").size().max()), m["name"])
        for m, t in zip(conditions_meta, tables, strict=True)
    ]
    return pd.DataFrame(rows, columns=["kind", "value", "seed", "mean_levenshtein",
                                       "num_copies", "condition"])
