"""Nodes of the ``canaries`` pipeline (SPEC §1)."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
from pydantic import Field

from mosaic_kedro.canary_sampling import sample_set
from mosaic_kedro.grid import conditions
from mosaic_kedro.models import LoadedModel, context_length
from mosaic_kedro.params import StrictParams, parse_params

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


def validate_params(params: dict[str, Any], grid: dict[str, Any]) -> dict[str, Any]:
    """Check the ``canaries`` block and the grid before any model loads.

    Returns the block normalized, with the grid's ``seeds`` and ``n_groups`` (member
    groups per seed: 1 in the isolated design, one per condition in the pooled one).
    """
    config = parse_params(CanariesParams, params, "canaries").model_dump()
    conds = conditions(grid)  # validates the grid (ParameterError naming the key)
    seeds = list(dict.fromkeys(c.seed for c in conds))
    return {**config, "seeds": seeds, "n_groups": conds[0].n_groups}


def _groups(seed: int, num_members: int, group_size: int) -> np.ndarray:
    """Member i's group: a permutation seeded by the run's seed, cut into groups of
    ``group_size``, so a canary set shared by seeds meets other conditions per seed."""
    if num_members == group_size:
        return np.zeros(num_members, dtype=int)
    order = np.random.default_rng([seed, 0x6A09]).permutation(num_members)
    groups = np.empty(num_members, dtype=int)
    groups[order] = np.arange(num_members) // group_size
    return groups


def _rows(seed: int, members: Any, non_members: Any, prefix: str, group_size: int) -> list[tuple]:
    rows = []
    groups = _groups(seed, len(members.tokens), group_size)
    for kind, sampled in (("member", members), ("non_member", non_members)):
        for i, (tokens, text) in enumerate(zip(sampled.tokens, sampled.texts, strict=True)):
            group = int(groups[i]) if kind == "member" else -1
            rows.append((f"{prefix}{kind}_{i:04d}", kind, seed, i, group, tokens, text,
                         len(tokens)))
    return rows


def sample_canaries(
    generator: LoadedModel, base_model: LoadedModel, params: dict[str, Any]
) -> pd.DataFrame:
    """Members and non-members for every seed, in the target tokenizer.

    Returns a table ``canary_id, set, seed, index, group, tokens, text, length`` where
    ``set`` is ``member`` or ``non_member`` and each set is checked against the other
    (Jaccard). ``num_canaries`` members per group (``n_groups`` groups: one per
    condition in the pooled design; ``group`` is -1 for non-members) and
    ``num_canaries`` non-members per seed. With ``per_seed: false`` the one sampled set appears once per seed
    under the same ids (``member_0000``); with ``per_seed: true`` ids carry the seed
    (``s1_member_0000``).
    """
    seeds, n_groups = params["seeds"], int(params.get("n_groups", 1))
    p = CanariesParams.model_validate(
        {k: v for k, v in params.items() if k not in ("seeds", "n_groups")})
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
                             num=p.num_canaries * n_groups, seed=member_seed, label=f"{label}members",
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
            rows += _rows(seed, *sets, prefix=f"s{seed}_", group_size=p.num_canaries)
    else:
        sets = draw(p.member_seed, p.non_member_seed, "")
        for seed in seeds:
            rows += _rows(seed, *sets, prefix="", group_size=p.num_canaries)
    return pd.DataFrame(
        rows, columns=["canary_id", "set", "seed", "index", "group", "tokens", "text",
                       "length"]
    )
