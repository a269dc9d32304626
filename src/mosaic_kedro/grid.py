"""The experiment grid: one declaration (``grid:`` in the parameters), many conditions.

Each condition is trained and attacked in its own Kedro namespace, named
``<kind>_<value>_s<seed>``: ``exact_n01_s1`` (nu = 1 exact copies),
``fuzzy_clm_topk10_r16_s1`` (1 original + ``num_copies`` copies with R = 16 tokens
replaced by the causal replacer's top-10 candidates), ... Pipelines that run per
condition build their namespaces from :func:`conditions`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import Field

from mosaic_kedro.params import StrictParams, parse_params


class FuzzyFamily(StrictParams):
    """One family of fuzzy conditions: a strategy and the R values it is run at."""

    strategy: str
    top_k: int | None = Field(10, ge=1)
    replaced_tokens: list[int] = Field(min_length=1)
    num_copies: int = Field(9, ge=1)

    def kind(self) -> str:
        """The condition kind, e.g. ``fuzzy_clm_topk10`` or ``fuzzy_random``."""
        suffix = f"_topk{self.top_k}" if self.strategy in ("mlm", "clm") and self.top_k else ""
        return f"fuzzy_{self.strategy}{suffix}"


class GridParams(StrictParams):
    """``grid:``: seeds, exact copy counts, fuzzy families."""

    seeds: list[int] = Field(min_length=1)
    exact: list[int] = Field(min_length=2)
    fuzzy: list[FuzzyFamily] = Field(default_factory=list)


@dataclass(frozen=True)
class Condition:
    """One cell of the grid for one seed."""

    name: str
    kind: str
    value: int | float | str
    seed: int
    num_copies: int
    perturbation: dict[str, Any] = field(default_factory=dict)

    @property
    def is_exact(self) -> bool:
        """Whether this condition injects exact copies only."""
        return self.kind == "exact"


def parse_grid(grid: Any) -> GridParams:
    """Validate the ``grid`` block (raises ``ParameterError`` naming the key)."""
    return parse_params(GridParams, grid, "grid")


def conditions(grid: Any) -> list[Condition]:
    """Every condition of the grid, for every seed, in a stable order."""
    g = parse_grid(grid)
    out = []
    for seed in g.seeds:
        for nu in g.exact:
            out.append(Condition(f"exact_n{nu:02d}_s{seed}", "exact", nu, seed, nu))
        for family in g.fuzzy:
            for r in family.replaced_tokens:
                out.append(Condition(
                    f"{family.kind()}_r{r:02d}_s{seed}", family.kind(), r, seed,
                    family.num_copies,
                    {**family.model_dump(exclude={"replaced_tokens"}), "replaced_tokens": r},
                ))
    names = [c.name for c in out]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"grid declares the same condition twice: {duplicates}")
    return out
