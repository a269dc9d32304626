"""The experiment grid: one declaration (``grid:`` in the parameters), many conditions.

Each condition is perturbed, injected, trained and attacked in its own Kedro namespace,
named ``<kind>_<value>_s<seed>``:

- ``exact_n01_s1``: nu = 1 exact copies;
- ``fuzzy_clm_topk10_r16_s1``: 1 original + ``num_copies`` copies with R = 16 tokens
  replaced (strategies ``mlm``, ``clm``, ``mlm_random``, ``random``);
- ``insertion_n05_x10_s1``: X = 10 random tokens between consecutive 5-grams;
- ``scrambled_n05_s1``: ``num_copies`` copies of each 5-gram, each its own piece;
- ``shuffle_n05_t030_s1``: 5-token blocks permuted to Kendall-tau distance 0.30;
- ``paraphrase_c09_s1``: 9 paraphrases by an instruction-tuned LM.

Pipelines that run per condition build their namespaces from :func:`conditions`.

Two designs (``grid.design``). ``isolated`` (the paper's): every condition injects the
seed's member canaries into its own corpus and trains its own model, so a condition is
also its own training unit. ``pooled``: within a seed, condition ``g`` of the seed's
list gets its own disjoint group ``g`` of member canaries; one corpus per seed holds
every group, one model per seed (training unit ``pooled_s<seed>``) is trained, and each
condition is scored on its group against the seed's shared non-members.
:func:`group_members` is the one place that says which canaries a condition injects.

A condition's name and ``kind`` are labels, never parsed: what a condition *is* travels
as data (:data:`META_COLUMNS`: family, strategy, nu, R, top_k, n, x, tau, num_copies),
through the perturbation summary, the per-canary scores, the AUC and rho tables.
``kind`` names one curve of the grid (the conditions that differ only in ``value``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial, update_wrapper
from typing import Annotated, Any, Literal

import pandas as pd
from pydantic import Field, StrictBool, StrictFloat, StrictInt

from mosaic_kedro.params import StrictParams, parse_params

PositiveInt = Annotated[StrictInt, Field(ge=1)]
Tau = Annotated[StrictFloat, Field(gt=0.0, lt=1.0)]


class FuzzyFamily(StrictParams):
    """Token replacement: a strategy and the R values it is run at."""

    strategy: Literal["mlm", "clm", "mlm_random", "random"]
    top_k: PositiveInt | None = 10
    replaced_tokens: list[PositiveInt] = Field(min_length=1)
    num_copies: PositiveInt = 9
    replace_same_indices: StrictBool = False
    uniform_spread: StrictBool = False

    def kind(self) -> str:
        """The condition kind, e.g. ``fuzzy_clm_topk10`` or ``fuzzy_random``."""
        suffix = f"_topk{self.top_k}" if self.strategy in ("mlm", "clm") and self.top_k else ""
        return f"fuzzy_{self.strategy}{suffix}"


class InsertionFamily(StrictParams):
    """X random tokens inserted between consecutive n-grams, for every (n, X)."""

    ngram: list[PositiveInt] = Field(min_length=1)
    inserted: list[PositiveInt] = Field(min_length=1)
    num_copies: PositiveInt = 9


class ScrambledFamily(StrictParams):
    """Control: ``num_copies`` copies of each n-gram, for every n."""

    ngram: list[PositiveInt] = Field(min_length=1)
    num_copies: PositiveInt = 9


class ShuffleFamily(StrictParams):
    """Blocks of n tokens permuted to a Kendall-tau distance tau, for every (n, tau)."""

    ngram: list[PositiveInt] = Field(min_length=1)
    tau: list[Tau] = Field(min_length=1)
    num_copies: PositiveInt = 9


class ParaphraseFamily(StrictParams):
    """``num_copies`` paraphrases by an instruction-tuned LM."""

    num_copies: PositiveInt = 9


class GridParams(StrictParams):
    """``grid:``: the design, seeds, exact copy counts and the perturbation families."""

    design: Literal["isolated", "pooled"] = "isolated"
    seeds: list[StrictInt] = Field(min_length=1)
    exact: list[PositiveInt] = Field(min_length=2)
    fuzzy: list[FuzzyFamily] = Field(default_factory=list)
    insertion: list[InsertionFamily] = Field(default_factory=list)
    scrambled: list[ScrambledFamily] = Field(default_factory=list)
    shuffle: list[ShuffleFamily] = Field(default_factory=list)
    paraphrase: list[ParaphraseFamily] = Field(default_factory=list)


#: The metadata columns every per-condition table carries (NaN / None where a column
#: does not apply): ``family`` (exact, fuzzy, insertion, scrambled, shuffle,
#: paraphrase), ``strategy`` (mlm, clm, mlm_random, random for fuzzy; the family name
#: otherwise; None for exact), ``nu`` (exact copies), ``R`` (replaced tokens),
#: ``top_k``, ``n`` (n-gram / block size), ``x`` (inserted tokens), ``tau`` (target
#: Kendall-tau distance) and ``num_copies`` (K: fuzzy copies, or nu for exact).
META_COLUMNS = ["family", "strategy", "nu", "R", "top_k", "n", "x", "tau", "num_copies"]
_NUMERIC_META = ("nu", "R", "top_k", "n", "x", "tau")


@dataclass(frozen=True)
class Condition:
    """One cell of the grid for one seed.

    ``perturbation`` is what the ``perturbation`` pipeline needs to make the copies
    (``strategy`` plus its settings); it is empty for ``exact``. ``unit`` is the
    namespace of the model it is scored on (its own name in the isolated design,
    ``pooled_s<seed>`` in the pooled one); ``group`` is the member group it injects
    (always 0 in the isolated design) out of ``n_groups`` groups of its seed.
    """

    name: str
    kind: str
    value: int | float | str
    seed: int
    num_copies: int
    perturbation: dict[str, Any] = field(default_factory=dict)
    family: str = "exact"
    meta: dict[str, Any] = field(default_factory=dict)
    unit: str = ""
    group: int = 0
    n_groups: int = 1

    def metadata(self) -> dict[str, Any]:
        """This condition's :data:`META_COLUMNS` as a dict (floats, NaN where absent)."""
        out: dict[str, Any] = {"family": self.family,
                               "strategy": self.perturbation.get("strategy")}
        for key in _NUMERIC_META:
            value = self.meta.get(key)
            out[key] = float("nan") if value is None else float(value)
        out["num_copies"] = int(self.num_copies)
        return out

    @property
    def is_exact(self) -> bool:
        """Whether this condition injects exact copies only."""
        return self.kind == "exact"

    @property
    def candidate_key(self) -> str | None:
        """Name of the candidate set shared by conditions (``clm_topk10_s1``), if any."""
        strategy = self.perturbation.get("strategy")
        if strategy not in ("mlm", "clm"):
            return None
        return f"{strategy}_topk{self.perturbation['top_k']}_s{self.seed}"


def group_members(canaries: pd.DataFrame, condition: dict[str, Any] | Condition) -> pd.DataFrame:
    """The member canaries ``condition`` injects (its seed's, of its group), by index.

    Raises:
        ValueError: when there are none (the canaries pipeline has not run for this
            grid), naming the command to run.
    """
    cond = condition if isinstance(condition, Condition) else Condition(**condition)
    if "group" not in canaries.columns:
        raise ValueError("the canaries table has no 'group' column (written before grid "
                         "designs existed): rerun `kedro run --pipelines=canaries`")
    members = canaries[(canaries["set"] == "member") & (canaries["seed"] == cond.seed)
                       & (canaries["group"] == cond.group)]
    if members.empty:
        raise ValueError(f"{cond.name}: no member canaries of seed {cond.seed}, group "
                         f"{cond.group}; rerun `kedro run --pipelines=canaries` for this grid")
    return members.sort_values("index").reset_index(drop=True)


def condition_metadata(condition: dict[str, Any]) -> dict[str, Any]:
    """:meth:`Condition.metadata` of a condition passed to a node as ``asdict(cond)``."""
    return Condition(**condition).metadata()


def parse_grid(grid: Any) -> GridParams:
    """Validate the ``grid`` block (raises ``ParameterError`` naming the key)."""
    return parse_params(GridParams, grid, "grid")


def _seed_conditions(g: GridParams, seed: int) -> list[Condition]:
    out = [Condition(f"exact_n{nu:02d}_s{seed}", "exact", nu, seed, nu, meta={"nu": nu})
           for nu in g.exact]
    for fam in g.fuzzy:
        settings = fam.model_dump(exclude={"replaced_tokens"})
        if fam.strategy in ("mlm", "clm") and fam.top_k is None:
            settings["top_k"] = 10
        for r in fam.replaced_tokens:
            top_k = settings["top_k"] if fam.strategy in ("mlm", "clm") else None
            out.append(Condition(f"{fam.kind()}_r{r:02d}_s{seed}", fam.kind(), r, seed,
                                 fam.num_copies, {**settings, "replaced_tokens": r},
                                 "fuzzy", {"R": r, "top_k": top_k}))
    for ins in g.insertion:
        for n in ins.ngram:
            for x in ins.inserted:
                out.append(Condition(
                    f"insertion_n{n:02d}_x{x:02d}_s{seed}", f"insertion_n{n:02d}", x, seed,
                    ins.num_copies,
                    {"strategy": "insertion", "ngram": n, "inserted": x,
                     "num_copies": ins.num_copies}, "insertion", {"n": n, "x": x}))
    for scr in g.scrambled:
        for n in scr.ngram:
            out.append(Condition(
                f"scrambled_n{n:02d}_s{seed}", "scrambled", n, seed, scr.num_copies,
                {"strategy": "scrambled", "ngram": n, "num_copies": scr.num_copies},
                "scrambled", {"n": n}))
    for shf in g.shuffle:
        for n in shf.ngram:
            for tau in shf.tau:
                out.append(Condition(
                    f"shuffle_n{n:02d}_t{round(tau * 100):03d}_s{seed}", f"shuffle_n{n:02d}",
                    tau, seed, shf.num_copies,
                    {"strategy": "shuffle", "ngram": n, "tau": tau,
                     "num_copies": shf.num_copies}, "shuffle", {"n": n, "tau": tau}))
    for par in g.paraphrase:
        out.append(Condition(
            f"paraphrase_c{par.num_copies:02d}_s{seed}", "paraphrase", par.num_copies, seed,
            par.num_copies, {"strategy": "paraphrase", "num_copies": par.num_copies},
            "paraphrase"))
    return out


def _with_units(g: GridParams, seed_conditions: list[Condition]) -> list[Condition]:
    if g.design == "isolated":
        return [replace(c, unit=c.name) for c in seed_conditions]
    n = len(seed_conditions)
    return [replace(c, unit=f"pooled_s{c.seed}", group=i, n_groups=n)
            for i, c in enumerate(seed_conditions)]


def conditions(grid: Any) -> list[Condition]:
    """Every condition of the grid, for every seed, in a stable order."""
    g = parse_grid(grid)
    out = [c for seed in g.seeds for c in _with_units(g, _seed_conditions(g, seed))]
    names = [c.name for c in out]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"grid declares the same condition twice: {duplicates}")
    return out


def training_units(grid: Any) -> dict[str, list[Condition]]:
    """Each training unit (one model) and the conditions scored on it, in grid order."""
    units: dict[str, list[Condition]] = {}
    for c in conditions(grid):
        units.setdefault(c.unit, []).append(c)
    return units


_WRAPPED_NAMES = ("__module__", "__name__", "__qualname__", "__doc__")


def bind(func: Callable[..., Any], /, **kwargs: Any) -> Callable[..., Any]:
    """``functools.partial`` that keeps the function's name and docstring.

    How per-condition (or per-part) values reach a node of a namespaced template: Kedro
    logs and kedro-viz show the node function's name, and checks inputs against the
    partial's own signature (hence no ``__wrapped__``; annotations are dropped because
    string hints cannot resolve without the defining module's globals).
    """
    bound = update_wrapper(partial(func, **kwargs), func, assigned=_WRAPPED_NAMES)
    del bound.__wrapped__
    bound.__annotations__ = {}
    return bound
