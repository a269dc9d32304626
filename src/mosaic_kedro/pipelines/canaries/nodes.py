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

NON_MEMBER_SEED_OFFSET = 1000  # per_seed: non-members of seed s are drawn with s + 1000


class CanariesParams(StrictParams):
    """``canaries:``: how many, how long, how they are sampled and filtered.

    ``per_seed: false`` (the paper's scripts, the default): one member set and one
    non-member set, sampled once with ``member_seed`` / ``non_member_seed`` (the
    paper: 42 and 420), scored by every seed; the run's seed then drives placements
    and training only. ``per_seed: true``: every seed samples its own canaries
    (members with seed s, non-members with s + 1000), so the seed spread includes
    canary sampling.
    """

    num_canaries: int = Field(100, ge=1)
    length: int = Field(100, ge=2)
    temperature: float = Field(1.0, gt=0)
    jaccard_threshold: float = Field(0.2, gt=0, le=1)
    batch_size: int = Field(32, ge=1)
    margin_tokens: int = Field(24, ge=0)
    max_attempts: int = Field(1000, ge=1)
    per_seed: bool = False
    member_seed: int = 42
    non_member_seed: int = 420


def validate_params(params: dict[str, Any], seeds: list[int]) -> dict[str, Any]:
    """Check the ``canaries`` block and the grid's seeds before any model loads.

    Returns the block normalized, with ``seeds`` (from ``grid.seeds``) added.
    """
    config = parse_params(CanariesParams, params, "canaries").model_dump()
    if not seeds or not all(isinstance(s, int) and not isinstance(s, bool) for s in seeds):
        raise ParameterError(f"grid.seeds = {seeds!r}: must be a non-empty list of integers")
    return {**config, "seeds": list(seeds)}


def _rows(seed: int, members: Any, non_members: Any, prefix: str) -> list[tuple]:
    rows = []
    for kind, sampled in (("member", members), ("non_member", non_members)):
        for i, (tokens, text) in enumerate(zip(sampled.tokens, sampled.texts, strict=True)):
            rows.append((f"{prefix}{kind}_{i:04d}", kind, seed, i, tokens, text, len(tokens)))
    return rows


def sample_canaries(
    generator: LoadedModel, base_model: LoadedModel, params: dict[str, Any]
) -> pd.DataFrame:
    """Members and non-members for every seed, in the target tokenizer.

    Returns a table ``canary_id, set, seed, index, tokens, text, length`` where
    ``set`` is ``member`` or ``non_member`` and each set is checked against the other
    (Jaccard). With ``per_seed: false`` the one sampled set appears once per seed
    under the same ids (``member_0000``); with ``per_seed: true`` ids carry the seed
    (``s1_member_0000``).
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

    def draw(member_seed: int, non_member_seed: int, label: str):
        members = sample_set(generator.model, generator.tokenizer, base_model.tokenizer,
                             num=p.num_canaries, seed=member_seed, label=f"{label}members",
                             **common)
        non_members = sample_set(
            generator.model, generator.tokenizer, base_model.tokenizer,
            num=p.num_canaries, seed=non_member_seed,
            avoid=[set(t) for t in members.tokens], label=f"{label}non-members", **common)
        return members, non_members

    rows = []
    if p.per_seed:
        for seed in seeds:
            sets = draw(seed, seed + NON_MEMBER_SEED_OFFSET, f"seed {seed} ")
            rows += _rows(seed, *sets, prefix=f"s{seed}_")
    else:
        sets = draw(p.member_seed, p.non_member_seed, "")
        for seed in seeds:
            rows += _rows(seed, *sets, prefix="")
    return pd.DataFrame(
        rows, columns=["canary_id", "set", "seed", "index", "tokens", "text", "length"]
    )
