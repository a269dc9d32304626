"""Nodes of the ``canaries`` pipeline (SPEC §1)."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd
from pydantic import Field

from mosaic_kedro.canary_sampling import sample_set
from mosaic_kedro.models import LoadedModel, context_length
from mosaic_kedro.params import ParameterError, StrictParams, parse_params

logger = logging.getLogger(__name__)

NON_MEMBER_SEED_OFFSET = 1000  # non-members of seed s are drawn with seed s + 1000


class CanariesParams(StrictParams):
    """``canaries:``: how many, how long, how they are sampled and filtered."""

    num_canaries: int = Field(100, ge=1)
    length: int = Field(100, ge=2)
    temperature: float = Field(1.0, gt=0)
    jaccard_threshold: float = Field(0.2, gt=0, le=1)
    batch_size: int = Field(32, ge=1)
    margin_tokens: int = Field(24, ge=0)
    max_attempts: int = Field(1000, ge=1)


def validate_params(params: dict[str, Any], seeds: list[int]) -> dict[str, Any]:
    """Check the ``canaries`` block and the grid's seeds before any model loads.

    Returns the block normalized, with ``seeds`` (from ``grid.seeds``) added.
    """
    config = parse_params(CanariesParams, params, "canaries").model_dump()
    if not seeds or not all(isinstance(s, int) and not isinstance(s, bool) for s in seeds):
        raise ParameterError(f"grid.seeds = {seeds!r}: must be a non-empty list of integers")
    return {**config, "seeds": list(seeds)}


def sample_canaries(
    generator: LoadedModel, base_model: LoadedModel, params: dict[str, Any]
) -> pd.DataFrame:
    """Members and non-members for every seed, in the target tokenizer.

    Returns a table ``canary_id, set, seed, index, tokens, text, length`` where
    ``set`` is ``member`` or ``non_member``; members of seed ``s`` are sampled with
    seed ``s``, non-members with ``s + 1000``, and each set is checked against the
    other (Jaccard).
    """
    seeds = params["seeds"]
    p = CanariesParams.model_validate({k: v for k, v in params.items() if k != "seeds"})
    limit = context_length(base_model.model)
    if limit is not None and p.length > limit:
        raise ValueError(
            f"canaries.length = {p.length} exceeds the target model's context of "
            f"{limit} tokens; lower canaries.length"
        )
    common = dict(
        length=p.length, temperature=p.temperature, batch_size=p.batch_size,
        margin=p.margin_tokens, max_attempts=p.max_attempts,
        jaccard_threshold=p.jaccard_threshold,
    )
    rows = []
    for seed in seeds:
        members = sample_set(generator.model, generator.tokenizer, base_model.tokenizer,
                             num=p.num_canaries, seed=seed, label=f"seed {seed} members",
                             **common)
        non_members = sample_set(
            generator.model, generator.tokenizer, base_model.tokenizer,
            num=p.num_canaries, seed=seed + NON_MEMBER_SEED_OFFSET,
            avoid=[set(t) for t in members.tokens], label=f"seed {seed} non-members",
            **common,
        )
        for kind, sampled in (("member", members), ("non_member", non_members)):
            for i, (tokens, text) in enumerate(zip(sampled.tokens, sampled.texts, strict=True)):
                rows.append((f"s{seed}_{kind}_{i:04d}", kind, seed, i, tokens, text, len(tokens)))
    return pd.DataFrame(
        rows, columns=["canary_id", "set", "seed", "index", "tokens", "text", "length"]
    )
