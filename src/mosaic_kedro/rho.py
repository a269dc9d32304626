"""rho, the exact-duplicate equivalent of a fuzzy duplicate (SPEC §6).

A pure library (numpy, pandas, scikit-learn): it imports nothing from Kedro or from
``mosaic_kedro.pipelines``.

The method, per (model, score, seed):

1. The exact curve is phi_nu, the MIA AUC when each member canary is seen nu times
   (nu = 1..N; N is the number of exact points found in the data, never assumed).
   It is smoothed with a 3-point moving average whose endpoints are kept
   (:func:`smooth_curve`; switchable).
2. The curve is inverted at x = the AUC of a fuzzy condition (:func:`invert_curve`):

   * ``x < phi_1`` ("below"): nu_eq = max(1, linear extrapolation of the first
     segment). A first segment that is flat or decreasing carries no information
     below phi_1, so nu_eq = 1 there.
   * ``x > phi_N`` ("above"): linear extrapolation from (nu_N, phi_N) with the mean
     slope of the last 3 segments (all segments when N < 4). When that mean slope is
     not positive, no number of exact copies reaches x on the extrapolated curve:
     nu_eq = +inf (and rho = +inf), never a division by zero.
   * otherwise ("interior"): piecewise-linear interpolation on the *first* segment,
     scanning from nu = 1 upwards, whose closed AUC range holds x. This is the
     documented answer when the smoothed curve is not monotone at x: the smallest
     number of exact copies at which the curve reaches x. Since phi_1 <= x <= phi_N
     such a segment always exists. A flat segment (phi_i == phi_i+1 == x) answers
     its left end nu_i: again the first nu at which the curve reaches x.

   The "below" test is made first, then "above", then "interior"; for a monotone
   curve the three cases are disjoint and this is exactly SPEC §6.
3. rho = (nu_eq - 1) / K, with K the number of fuzzy copies of the condition (the
   ``num_copies`` column of the AUC table, never a hard-coded 9).
4. rho is averaged over seeds: mean, standard deviation and the number of seeds.
   The standard deviation is the population one (ddof=0) by default, as the paper's
   +- values are.

A bootstrap interval (:func:`bootstrap_rho`) is *paired*: one canary set serves
every condition of a seed, so each replicate resamples canary ids once per group of
conditions that share them (members and non-members separately) and reuses that
resample in every condition of the group; it recomputes every AUC and inverts
again. Resampling each condition independently would add noise the experiment does
not have (exact curve and fuzzy AUC would move independently). The grouping also
serves a pooled design (each condition its own members, non-members shared).

Errors are :class:`RhoError` (a ``ValueError``) with a message that names the model,
score, seed or condition concerned: an exact curve with fewer than 2 points, a fuzzy
condition whose exact curve is missing for its seed, NaN in an AUC table, duplicated
rows, a non-increasing nu grid, a non-positive K.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import rankdata

EXACT_KIND = "exact"

#: Columns of the project's AUC table (dataset ``auc_table``).
AUC_TABLE_COLUMNS = [
    "model",
    "condition",
    "kind",
    "value",
    "seed",
    "score",
    "auc",
    "ci_low",
    "ci_high",
    "tpr_at_1",
    "tpr_at_10",
    "n_members",
    "n_non_members",
    "num_copies",
]

#: Columns of the published per-seed AUCs (data/01_raw/published_aucs.csv).
PUBLISHED_COLUMNS = [
    "model",
    "learning_rate",
    "seed",
    "condition",
    "variable",
    "value",
    "score",
    "auc",
]

#: Canaries per set behind every published AUC (shared/data/README.md).
PUBLISHED_CANARIES_PER_SET = 100
#: Fuzzy copies per member canary in the paper (1 original + 9 copies).
PUBLISHED_NUM_COPIES = 9

# The columns of bootstrap_rho's table.
BOOTSTRAP_COLUMNS = ["model", "score", "kind", "value", "rho_point", "rho_ci_low",
                     "rho_ci_high", "n_seeds", "n_boot"]
_REQUIRED_FOR_RHO = ["model", "kind", "value", "seed", "score", "auc", "num_copies"]
_KEYS = ["model", "score", "kind", "value", "seed"]


class RhoError(ValueError):
    """An input that rho cannot be computed from; the message says which and why."""


@dataclass(frozen=True)
class Inversion:
    """The result of inverting an exact curve at one AUC.

    ``nu_eq`` is the equivalent number of exact copies; ``region`` is ``"below"``,
    ``"interior"`` or ``"above"`` (which rule of SPEC §6 step 2 applied).
    """

    nu_eq: float
    region: str


# --------------------------------------------------------------------------- curves


def smooth_curve(
    values: Sequence[float] | np.ndarray, enabled: bool = True
) -> np.ndarray:
    """3-point moving average with the endpoints kept.

    ``s[0] = y[0]``, ``s[-1] = y[-1]`` and ``s[i] = (y[i-1] + y[i] + y[i+1]) / 3``
    elsewhere. A curve of 1 or 2 points is returned unchanged, as is any curve when
    ``enabled`` is false. Returns a new float array.
    """
    y = np.asarray(values, dtype=float).copy()
    if not enabled or y.size < 3:
        return y
    out = y.copy()
    out[1:-1] = (y[:-2] + y[1:-1] + y[2:]) / 3.0
    return out


def _check_curve(nus: np.ndarray, phis: np.ndarray, where: str) -> None:
    if nus.ndim != 1 or phis.ndim != 1 or nus.size != phis.size:
        raise RhoError(f"{where}: nu and AUC arrays must be 1-D and of equal length")
    if nus.size < 2:
        raise RhoError(
            f"{where}: the exact curve has {nus.size} point(s); inverting it needs at "
            "least 2 (nu = 1 and nu = 2 at the least)"
        )
    if np.isnan(nus).any() or np.isnan(phis).any():
        raise RhoError(f"{where}: the exact curve contains NaN")
    if np.any(np.diff(nus) <= 0):
        raise RhoError(
            f"{where}: the exact curve's nu values must be strictly increasing, got {nus.tolist()}"
        )


def invert_curve(
    nus: Sequence[float] | np.ndarray,
    phis: Sequence[float] | np.ndarray,
    x: float,
    *,
    where: str = "exact curve",
) -> Inversion:
    """Invert an (already smoothed) exact curve at AUC ``x``; see the module docstring.

    Args:
        nus: the exact copy counts, strictly increasing (usually 1..N).
        phis: the AUC at each nu, same length, at least 2 points.
        x: the fuzzy AUC to invert at.
        where: a label for error messages.

    Returns:
        :class:`Inversion` with ``nu_eq`` (>= 1, possibly +inf) and the rule used.
    """
    nus = np.asarray(nus, dtype=float)
    phis = np.asarray(phis, dtype=float)
    _check_curve(nus, phis, where)
    if x is None or np.isnan(x):
        raise RhoError(f"{where}: the AUC to invert at is NaN")

    if x < phis[0]:
        slope = (phis[1] - phis[0]) / (nus[1] - nus[0])
        if slope <= 0:
            return Inversion(1.0, "below")
        return Inversion(max(1.0, nus[0] + (x - phis[0]) / slope), "below")

    if x > phis[-1]:
        n_seg = min(3, nus.size - 1)
        slopes = np.diff(phis)[-n_seg:] / np.diff(nus)[-n_seg:]
        slope = float(slopes.mean())
        if slope <= 0:
            return Inversion(float("inf"), "above")
        return Inversion(float(nus[-1] + (x - phis[-1]) / slope), "above")

    for i in range(nus.size - 1):
        lo, hi = phis[i], phis[i + 1]
        if min(lo, hi) <= x <= max(lo, hi):
            if hi == lo:
                return Inversion(float(nus[i]), "interior")
            t = (x - lo) / (hi - lo)
            return Inversion(float(nus[i] + t * (nus[i + 1] - nus[i])), "interior")
    # Unreachable: phi_1 <= x <= phi_N guarantees a bracketing segment.
    raise RhoError(f"{where}: no segment holds AUC {x}")  # pragma: no cover


def rho_from_nu(nu_eq: float, num_copies: float) -> float:
    """rho = (nu_eq - 1) / K, K = the number of fuzzy copies (> 0)."""
    if not num_copies > 0:
        raise RhoError(f"num_copies (K) must be positive, got {num_copies}")
    return (nu_eq - 1.0) / float(num_copies)


def rho_for_curve(
    nus: Sequence[float] | np.ndarray,
    exact_aucs: Sequence[float] | np.ndarray,
    fuzzy_auc: float,
    num_copies: float,
    *,
    smooth: bool = True,
    where: str = "exact curve",
) -> float:
    """rho of one fuzzy AUC against one raw exact curve: smooth, invert, rescale."""
    phis = smooth_curve(exact_aucs, enabled=smooth)
    return rho_from_nu(
        invert_curve(nus, phis, fuzzy_auc, where=where).nu_eq, num_copies
    )


# --------------------------------------------------------------------------- tables


def normalize_published(published: pd.DataFrame) -> pd.DataFrame:
    """Map the published AUCs to the project's AUC table layout.

    Input columns: ``model, learning_rate, seed, condition, variable, value, score,
    auc`` (the paper's released per-seed AUCs). Output: :data:`AUC_TABLE_COLUMNS`,
    with the published ``condition`` as ``kind`` (``exact`` or ``fuzzy_mlm_topk10``),
    a namespace-like ``condition`` (``exact_n03_s1``, ``fuzzy_mlm_topk10_r10_s1``),
    NaN for the CI and TPR columns (not released), 100 members and non-members,
    ``num_copies`` 9 for fuzzy rows and nu for exact rows. Score names are kept
    (``minkprob`` stays ``minkprob``). ``learning_rate`` is dropped after checking
    it is one value per model.
    """
    missing = sorted(set(PUBLISHED_COLUMNS) - set(published.columns))
    if missing:
        raise RhoError(f"published AUC table lacks columns {missing}")
    lrs = published.groupby("model")["learning_rate"].nunique()
    if (lrs > 1).any():
        raise RhoError(
            f"published AUC table has several learning rates for {lrs[lrs > 1].index.tolist()}"
        )
    if published[["seed", "value", "auc"]].isna().any().any():
        raise RhoError("published AUC table contains NaN in seed, value or auc")
    kind = published["condition"].astype(str)
    value = published["value"].astype(int)
    seed = published["seed"].astype(int)
    is_exact = kind == EXACT_KIND
    condition = np.where(
        is_exact,
        "exact_n" + value.map("{:02d}".format) + "_s" + seed.astype(str),
        kind + "_r" + value.map("{:02d}".format) + "_s" + seed.astype(str),
    )
    out = pd.DataFrame(
        {
            "model": published["model"].astype(str),
            "condition": condition,
            "kind": kind,
            "value": value,
            "seed": seed,
            "score": published["score"].astype(str),
            "auc": published["auc"].astype(float),
            "ci_low": np.nan,
            "ci_high": np.nan,
            "tpr_at_1": np.nan,
            "tpr_at_10": np.nan,
            "n_members": PUBLISHED_CANARIES_PER_SET,
            "n_non_members": PUBLISHED_CANARIES_PER_SET,
            "num_copies": np.where(is_exact, value, PUBLISHED_NUM_COPIES),
        }
    )
    return out[AUC_TABLE_COLUMNS].reset_index(drop=True)


def _validate_auc_table(auc_table: pd.DataFrame) -> None:
    missing = sorted(set(_REQUIRED_FOR_RHO) - set(auc_table.columns))
    if missing:
        raise RhoError(
            f"AUC table lacks columns {missing}; it needs {_REQUIRED_FOR_RHO}"
        )
    nan_cols = [c for c in _REQUIRED_FOR_RHO if auc_table[c].isna().any()]
    if nan_cols:
        bad = auc_table[auc_table[nan_cols].isna().any(axis=1)]
        first = bad.iloc[0]
        raise RhoError(
            f"AUC table has NaN in column(s) {nan_cols} in {len(bad)} row(s), first: "
            f"model={first['model']!r} score={first['score']!r} kind={first['kind']!r} "
            f"value={first['value']!r} seed={first['seed']!r}"
        )
    dup = auc_table.duplicated(_KEYS, keep=False)
    if dup.any():
        first = auc_table[dup].iloc[0]
        raise RhoError(
            f"AUC table has {int(dup.sum())} duplicated rows for the same "
            f"(model, score, kind, value, seed), first: {tuple(first[_KEYS])}"
        )


def rho_per_seed(auc_table: pd.DataFrame, *, smooth: bool = True) -> pd.DataFrame:
    """rho of every fuzzy row of an AUC table against its own seed's exact curve.

    Args:
        auc_table: the project's AUC table (at least ``model, kind, value, seed,
            score, auc, num_copies``); rows of kind ``exact`` form the exact curves
            (``value`` = nu), every other kind is a fuzzy condition with
            K = ``num_copies``.
        smooth: apply the 3-point moving average to each exact curve.

    Returns:
        One row per fuzzy (model, score, kind, value, seed): those keys plus
        ``auc``, ``num_copies``, ``n_exact`` (N), ``nu_eq``, ``rho`` and ``region``.
    """
    _validate_auc_table(auc_table)
    exact = auc_table[auc_table["kind"] == EXACT_KIND]
    fuzzy = auc_table[auc_table["kind"] != EXACT_KIND]
    curves = {
        key: grp.sort_values("value")
        for key, grp in exact.groupby(["model", "score", "seed"])
    }
    rows = []
    for row in fuzzy.itertuples(index=False):
        key = (row.model, row.score, row.seed)
        where = f"model={row.model!r} score={row.score!r} seed={row.seed!r}"
        if key not in curves:
            raise RhoError(
                f"fuzzy condition kind={row.kind!r} value={row.value!r} has no exact curve "
                f"for its seed ({where}); run the exact conditions for that seed"
            )
        curve = curves[key]
        nus = curve["value"].to_numpy(float)
        phis = smooth_curve(curve["auc"].to_numpy(float), enabled=smooth)
        inv = invert_curve(nus, phis, float(row.auc), where=where)
        rows.append(
            {
                "model": row.model,
                "score": row.score,
                "kind": row.kind,
                "value": row.value,
                "seed": row.seed,
                "auc": float(row.auc),
                "num_copies": row.num_copies,
                "n_exact": int(nus.size),
                "nu_eq": inv.nu_eq,
                "rho": rho_from_nu(inv.nu_eq, row.num_copies),
                "region": inv.region,
            }
        )
    columns = [*_KEYS, "auc", "num_copies", "n_exact", "nu_eq", "rho", "region"]
    out = pd.DataFrame(rows, columns=columns)
    return out.sort_values(_KEYS).reset_index(drop=True)


def aggregate_rho(per_seed: pd.DataFrame, *, ddof: int = 0) -> pd.DataFrame:
    """Mean and standard deviation of rho over seeds.

    One row per (model, score, kind, value) with ``rho_mean``, ``rho_std``,
    ``n_seeds``, ``auc_mean`` and ``nu_eq_mean``. ``rho_std`` is the *population*
    standard deviation by default (``ddof=0``: divide by the number of seeds), the
    paper's +- convention; ``ddof=1`` gives the sample standard deviation (NaN for a
    single seed). A seed
    whose rho is +inf (flat exact tail) makes the mean +inf: it is not dropped.
    """
    keys = ["model", "score", "kind", "value"]
    if per_seed.empty:
        return pd.DataFrame(
            columns=[*keys, "rho_mean", "rho_std", "n_seeds", "auc_mean", "nu_eq_mean"]
        )
    grouped = per_seed.groupby(keys, sort=True)
    out = grouped.agg(
        rho_mean=("rho", "mean"),
        rho_std=(
            "rho",
            lambda s: (
                float(np.std(s.to_numpy(float), ddof=ddof)) if len(s) > ddof else np.nan
            ),
        ),
        n_seeds=("seed", "nunique"),
        auc_mean=("auc", "mean"),
        nu_eq_mean=("nu_eq", "mean"),
    )
    return out.reset_index()


def rho_table(
    auc_table: pd.DataFrame, *, smooth: bool = True, ddof: int = 0
) -> pd.DataFrame:
    """The rho table: :func:`rho_per_seed` then :func:`aggregate_rho`."""
    return aggregate_rho(rho_per_seed(auc_table, smooth=smooth), ddof=ddof)


# --------------------------------------------------------------------------- bootstrap


def auc_members_positive(
    member_scores: np.ndarray, non_member_scores: np.ndarray
) -> np.ndarray:
    """ROC AUC with members as the positive class, for scores where *higher means
    non-member* (SPEC §5), vectorized over leading axes.

    Shapes ``(..., n_m)`` and ``(..., n_n)``; returns shape ``(...)``. It equals
    ``sklearn.metrics.roc_auc_score(y, -scores)`` with y = 1 for members (ties count
    one half: the Mann-Whitney statistic with average ranks), which the tests check;
    it exists because the bootstrap needs thousands of AUCs per condition.
    """
    m = np.asarray(member_scores, dtype=float)
    n = np.asarray(non_member_scores, dtype=float)
    n_m, n_n = m.shape[-1], n.shape[-1]
    if n_m == 0 or n_n == 0:
        raise RhoError("an AUC needs at least one member and one non-member score")
    both = np.concatenate([-m, -n], axis=-1)
    ranks = rankdata(both, axis=-1)
    rank_sum = ranks[..., :n_m].sum(axis=-1)
    return (rank_sum - n_m * (n_m + 1) / 2.0) / (n_m * n_n)


def weighted_auc_members_positive(
    member_scores: np.ndarray,
    non_member_scores: np.ndarray,
    member_weights: np.ndarray,
    non_member_weights: np.ndarray,
) -> np.ndarray:
    """:func:`auc_members_positive` of many resamples given as multiplicities.

    A bootstrap resample of a set of canaries is the original set with integer
    weights (how many times each canary was drawn). With ``member_weights`` of shape
    ``(B, n_m)`` and ``non_member_weights`` ``(B, n_n)`` (each row summing to n_m and
    n_n), returns the ``B`` AUCs, ties counting one half, exactly as if the resampled
    scores had been ranked. Cost ``O(B (n_m + n_n))`` after one sort: the scores are
    sorted once and only the weights change between replicates.
    """
    m = np.asarray(member_scores, dtype=float)
    n = np.asarray(non_member_scores, dtype=float)
    wm = np.asarray(member_weights, dtype=float)
    wn = np.asarray(non_member_weights, dtype=float)
    n_m, n_n = m.size, n.size
    if n_m == 0 or n_n == 0:
        raise RhoError("an AUC needs at least one member and one non-member score")
    order = np.argsort(n, kind="stable")
    sorted_n = n[order]
    # tail[:, k] = total weight of the non-members at sorted positions >= k
    tail = np.zeros((wn.shape[0], n_n + 1))
    tail[:, :n_n] = np.cumsum(wn[:, order[::-1]], axis=1)[:, ::-1]
    above = tail[:, np.searchsorted(sorted_n, m, side="right")]  # weight with score > m_i
    at_or_above = tail[:, np.searchsorted(sorted_n, m, side="left")]  # score >= m_i
    # a member is ranked above (lower score than) a non-member: 1; a tie: 1/2
    return np.einsum("bi,bi->b", wm, above + at_or_above) / (2.0 * n_m * n_n)


def smooth_curves(values: np.ndarray, enabled: bool = True) -> np.ndarray:
    """:func:`smooth_curve` along the last axis of an array of curves."""
    y = np.asarray(values, dtype=float).copy()
    if not enabled or y.shape[-1] < 3:
        return y
    out = y.copy()
    out[..., 1:-1] = (y[..., :-2] + y[..., 1:-1] + y[..., 2:]) / 3.0
    return out


def invert_curves(nus: np.ndarray, phis: np.ndarray, x: np.ndarray) -> np.ndarray:
    """:func:`invert_curve` vectorized over curves: the same rules, the same answers.

    Args:
        nus: ``(N,)`` strictly increasing copy counts shared by every curve.
        phis: ``(B, N)`` (already smoothed) exact curves.
        x: ``(B,)`` the AUC to invert each curve at.

    Returns:
        ``(B,)`` nu_eq (>= 1, possibly +inf).
    """
    nus = np.asarray(nus, dtype=float)
    phis = np.atleast_2d(np.asarray(phis, dtype=float))
    x = np.asarray(x, dtype=float).reshape(-1)
    _check_curve(nus, phis[0], "exact curves")
    out = np.full(x.shape, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        below = x < phis[:, 0]
        first_slope = (phis[:, 1] - phis[:, 0]) / (nus[1] - nus[0])
        extrap = np.maximum(1.0, nus[0] + (x - phis[:, 0]) / first_slope)
        out[below] = np.where(first_slope[below] <= 0, 1.0, extrap[below])

        above = ~below & (x > phis[:, -1])
        n_seg = min(3, nus.size - 1)
        last_slope = (np.diff(phis, axis=1)[:, -n_seg:] / np.diff(nus)[-n_seg:]).mean(
            axis=1
        )
        extrap = nus[-1] + (x - phis[:, -1]) / last_slope
        out[above] = np.where(last_slope[above] <= 0, np.inf, extrap[above])

        inside = ~below & ~above
        if inside.any():
            p, xi = phis[inside], x[inside, None]
            lo, hi = p[:, :-1], p[:, 1:]
            holds = (np.minimum(lo, hi) <= xi) & (xi <= np.maximum(lo, hi))
            seg = np.argmax(holds, axis=1)  # the first segment, from nu = 1 upwards
            rows = np.arange(seg.size)
            lo_s, hi_s = lo[rows, seg], hi[rows, seg]
            t = (xi[:, 0] - lo_s) / (hi_s - lo_s)
            step = nus[seg + 1] - nus[seg]
            out[inside] = np.where(hi_s == lo_s, nus[seg], nus[seg] + t * step)
    return out


_SCORE_NEED = ["kind", "value", "seed", "canary_id", "set", "score", "value_score"]
_SETS = ("member", "non_member")
_GROUP_COLUMNS = ["model", "score", "seed", "set", "group", "kind", "value", "n_canaries"]


@dataclass
class _Condition:
    kind: str
    value: object
    ids: np.ndarray  # sorted canary ids of one set
    scores: np.ndarray  # value_score aligned with ids


def _validate_scores(scores: pd.DataFrame) -> pd.DataFrame:
    missing = sorted(set(_SCORE_NEED) - set(scores.columns))
    if missing:
        raise RhoError(
            f"per-canary score table lacks columns {missing}; it needs {_SCORE_NEED} "
            "(and optionally model, num_copies)"
        )
    if scores[_SCORE_NEED].isna().any().any():
        bad = [c for c in _SCORE_NEED if scores[c].isna().any()]
        raise RhoError(f"per-canary score table contains NaN in column(s) {bad}")
    unknown = sorted(set(scores["set"].astype(str)) - set(_SETS))
    if unknown:
        raise RhoError(
            f"per-canary score table has set labels {unknown}; expected {list(_SETS)}"
        )
    data = scores if "model" in scores.columns else scores.assign(model="")
    if "condition" in data.columns:
        n_cond = data.groupby(["model", "score", "seed", "kind", "value"])[
            "condition"
        ].nunique()
        if (n_cond > 1).any():
            key = n_cond[n_cond > 1].index[0]
            raise RhoError(
                f"several conditions share (model, score, seed, kind, value) = {key}; "
                "rho's bootstrap identifies a condition by its kind and value"
            )
    return data


def _conditions(seed_frame: pd.DataFrame, where: str) -> dict[str, list[_Condition]]:
    """Per set, every condition's canary ids (sorted) and aligned scores."""
    out: dict[str, list[_Condition]] = {s: [] for s in _SETS}
    for (kind, value, set_name), g in seed_frame.groupby(
        ["kind", "value", "set"], sort=True
    ):
        ids = g["canary_id"].astype(str).to_numpy()
        order = np.argsort(ids, kind="stable")
        ids = ids[order]
        dup = ids[1:][ids[1:] == ids[:-1]]
        if dup.size:
            raise RhoError(
                f"{where} kind={kind!r} value={value!r} set={set_name}: canary id(s) "
                f"{sorted(set(dup.tolist()))[:5]} appear more than once"
            )
        out[set_name].append(
            _Condition(kind, value, ids, g["value_score"].to_numpy(float)[order])
        )
    return out


def _group(conds: list[_Condition], paired: bool, where: str) -> list[list[int]]:
    """Partition conditions (indices into ``conds``) into resampling groups.

    Paired: conditions with the same canary ids form one group; conditions whose ids
    overlap without being equal are an error (a condition lacks canaries its group
    has). Unpaired: every condition is its own group.
    """
    if not paired:
        return [[i] for i in range(len(conds))]
    groups: list[list[int]] = []
    owner: dict[str, int] = {}
    for i, c in enumerate(conds):
        hit = {owner[cid] for cid in c.ids if cid in owner}
        if not hit:
            groups.append([i])
            owner.update(dict.fromkeys(c.ids, len(groups) - 1))
            continue
        g = min(hit)
        ref = conds[groups[g][0]]
        if len(hit) == 1 and np.array_equal(ref.ids, c.ids):
            groups[g].append(i)
            continue
        lacks = sorted(set(ref.ids) - set(c.ids))
        extra = sorted(set(c.ids) - set(ref.ids))
        raise RhoError(
            f"{where}: condition kind={c.kind!r} value={c.value!r} shares canaries with "
            f"kind={ref.kind!r} value={ref.value!r} but not all of them: it lacks "
            f"{len(lacks)} id(s) {lacks[:5]} and has {len(extra)} other(s) {extra[:5]}; "
            "conditions must share all their canaries of a set or none"
        )
    return groups


def canary_groups(scores: pd.DataFrame, *, paired: bool = True) -> pd.DataFrame:
    """The resampling groups :func:`bootstrap_rho` uses, for inspection.

    One row per (model, score, seed, set, kind, value) with ``group`` (numbered
    from 0 within model, score, seed and set) and ``n_canaries``. With one canary set
    shared by every condition of a seed there is one member group and one non-member
    group per seed; in a pooled design (disjoint members per condition, shared
    non-members) one member group per condition and one non-member group.
    """
    data = _validate_scores(scores)
    rows = []
    for (model, score, seed), frame in data.groupby(["model", "score", "seed"], sort=True):
        where = f"model={model!r} score={score!r} seed={seed!r}"
        for set_name, conds in _conditions(frame, where).items():
            for g, members in enumerate(_group(conds, paired, f"{where} set={set_name}")):
                rows += [
                    (model, score, seed, set_name, g, conds[i].kind, conds[i].value,
                     conds[i].ids.size)
                    for i in members
                ]
    return pd.DataFrame(rows, columns=_GROUP_COLUMNS)


def _resample_weights(
    groups: list[list[int]], conds: list[_Condition], n_boot: int, rng,
    drawn: dict[tuple, np.ndarray] | None = None, set_name: str = "",
) -> list[np.ndarray]:
    """Per condition, the (n_boot, n) multiplicities of its canaries: one draw of
    canary ids per group and replicate, shared by every condition of the group.

    ``drawn`` (paired only; None: every group draws afresh) carries draws across
    seeds: a group whose (set, canary ids) was drawn for an earlier seed reuses that
    draw, so seeds that score the same canaries (``canaries.per_seed: false``) see
    the same resample."""
    weights: list[np.ndarray] = [np.empty(0)] * len(conds)
    for members in groups:
        ids = conds[members[0]].ids
        key = (set_name, tuple(ids.tolist()))
        w = None if drawn is None else drawn.get(key)
        if w is None:
            n = ids.size
            idx = rng.integers(0, n, size=(n_boot, n))
            flat = (idx + n * np.arange(n_boot)[:, None]).ravel()
            w = np.bincount(flat, minlength=n_boot * n).reshape(n_boot, n).astype(float)
            if drawn is not None:
                drawn[key] = w
        for i in members:
            weights[i] = w
    return weights


def _k_table(data: pd.DataFrame, num_copies) -> dict[tuple, float] | None:
    if "num_copies" not in data.columns:
        return None
    fuzzy = data[data["kind"] != EXACT_KIND]
    keys = ["model", "score", "seed", "kind", "value"]
    if fuzzy["num_copies"].isna().any():
        raise RhoError("per-canary score table has NaN num_copies in fuzzy rows")
    k = fuzzy.groupby(keys)["num_copies"].agg(["min", "max"])
    bad = k[k["min"] != k["max"]]
    if len(bad):
        raise RhoError(
            f"num_copies varies within condition {bad.index[0]}: "
            f"{bad.iloc[0]['min']} vs {bad.iloc[0]['max']}"
        )
    return {key: float(v) for key, v in k["min"].items()}


def bootstrap_rho(
    scores: pd.DataFrame,
    num_copies: int | Mapping[str, int] | None = None,
    *,
    n_boot: int = 1000,
    alpha: float = 0.05,
    smooth: bool = True,
    random_state: int = 0,
    paired: bool = True,
) -> pd.DataFrame:
    """Paired percentile bootstrap interval for rho from per-canary scores.

    Args:
        scores: per-canary MIA scores (the ``mia_scores`` dataset): columns ``kind,
            value, seed, canary_id, set (member / non_member), score, value_score``,
            optionally ``model`` and ``num_copies``; other columns are ignored. Higher
            ``value_score`` = more likely a non-member; AUCs are computed with members
            as the positive class. Within one condition (model, score, seed, kind,
            value) and set, a canary id appears once.
        num_copies: K, one int for every fuzzy kind or a mapping kind -> K. Used only
            when the table has no ``num_copies`` column; the column (per condition)
            wins when present.
        n_boot: bootstrap replicates.
        alpha: 1 - confidence level (0.05 -> a 95 % interval).
        smooth: smooth each resampled exact curve.
        random_state: seed of the resampling.
        paired: resample per group of canaries (below). ``False`` resamples every
            condition independently: the old, unpaired scheme, kept only to compare
            with (it ignores that conditions share canaries and is far too wide).

    Pairing. Within one (model, score, seed) the conditions are grouped, per set, by
    their canary ids: conditions with the same member ids form one member group,
    conditions with the same non-member ids one non-member group. Each replicate
    draws canary ids with replacement once per group and uses that draw in every
    condition of the group, so scores are aligned by ``canary_id`` across
    conditions. When one canary set serves every condition of a seed (the default
    design) that is one draw of members and one of non-members per replicate; in a
    pooled design (each condition its own members, non-members shared) each
    condition's members are drawn on their own and the non-members once. Conditions
    whose ids overlap without being equal are an error. Seeds that score the same
    canaries (the paper's way, ``canaries.per_seed: false``) reuse one draw per
    replicate across seeds, since their rho values share the canaries' sampling
    noise; seeds with their own canaries are resampled independently.

    Each replicate recomputes every AUC (exact curve and fuzzy conditions), smooths,
    inverts, and averages rho over seeds. The interval is the alpha/2 and
    1 - alpha/2 quantiles of that mean: it reflects canary sampling noise, not
    seed-to-seed spread (``rho_std`` reports that).

    Returns:
        One row per (model, score, kind, value): ``rho_point`` (rho from the full
        samples, mean over seeds), ``rho_ci_low``, ``rho_ci_high``, ``n_seeds``,
        ``n_boot`` (:data:`BOOTSTRAP_COLUMNS`; no ``model`` column when the input has
        none).
    """
    if not 0 < alpha < 1:
        raise RhoError(f"alpha must be in (0, 1), got {alpha}")
    if n_boot < 1:
        raise RhoError(f"n_boot must be >= 1, got {n_boot}")
    data = _validate_scores(scores)
    k_table = _k_table(data, num_copies)
    if k_table is None and num_copies is None:
        raise RhoError(
            "no K: the per-canary score table has no num_copies column and no "
            "num_copies argument was given"
        )
    rng = np.random.default_rng(random_state)
    rows = []
    for (model, score_name), frame in data.groupby(["model", "score"], sort=True):
        point: dict[tuple, list[float]] = {}
        boots: dict[tuple, list[np.ndarray]] = {}
        drawn: dict[tuple, np.ndarray] = {}
        for seed, seed_frame in frame.groupby("seed", sort=True):
            where = f"model={model!r} score={score_name!r} seed={seed!r}"

            def k_of(kind, value, _key=(model, score_name, seed)):
                if k_table is not None:
                    return k_table[(*_key, kind, value)]
                return _k_for(kind, num_copies)

            for key, (p, b) in _bootstrap_seed(
                seed_frame, where, k_of, n_boot, smooth, paired, rng,
                drawn if paired else None,
            ).items():
                point.setdefault(key, []).append(p)
                boots.setdefault(key, []).append(b)
        for (kind, value), per_seed in sorted(point.items()):
            mean_b = np.mean(np.stack(boots[(kind, value)]), axis=0)
            # inverted_cdf: no interpolation, so +inf replicates (flat exact tail)
            # give +inf bounds rather than inf - inf = NaN
            lo, hi = np.quantile(
                mean_b, [alpha / 2.0, 1.0 - alpha / 2.0], method="inverted_cdf"
            )
            rows.append(
                {
                    "model": model,
                    "score": score_name,
                    "kind": kind,
                    "value": value,
                    "rho_point": float(np.mean(per_seed)),
                    "rho_ci_low": float(lo),
                    "rho_ci_high": float(hi),
                    "n_seeds": len(per_seed),
                    "n_boot": n_boot,
                }
            )
    out = pd.DataFrame(rows, columns=BOOTSTRAP_COLUMNS)
    if "model" not in scores.columns:
        out = out.drop(columns="model")
    return out


def _k_for(kind: str, num_copies: int | Mapping[str, int]) -> float:
    if isinstance(num_copies, Mapping):
        if kind not in num_copies:
            raise RhoError(f"no num_copies (K) given for fuzzy kind {kind!r}")
        return float(num_copies[kind])
    return float(num_copies)


def _bootstrap_seed(
    seed_frame, where, k_of, n_boot, smooth, paired, rng, drawn=None
) -> dict[tuple, tuple[float, np.ndarray]]:
    """(kind, value) -> (rho from the full samples, rho of each replicate), one seed."""
    by_set = _conditions(seed_frame, where)
    keys = {s: {(c.kind, c.value): i for i, c in enumerate(by_set[s])} for s in _SETS}
    conditions = sorted(set(keys["member"]) | set(keys["non_member"]))
    for kind, value in conditions:
        n_m = keys["member"].get((kind, value))
        n_n = keys["non_member"].get((kind, value))
        if n_m is None or n_n is None:
            raise RhoError(
                f"{where} kind={kind!r} value={value!r}: needs member and non_member "
                f"scores, got {'some' if n_m is not None else 0} and "
                f"{'some' if n_n is not None else 0}"
            )
    fuzzy = [c for c in conditions if c[0] != EXACT_KIND]
    if not fuzzy:
        return {}
    exact = sorted((c for c in conditions if c[0] == EXACT_KIND), key=lambda c: c[1])
    if not exact:
        raise RhoError(f"fuzzy conditions have no exact curve for their seed ({where})")
    nus = np.array([float(c[1]) for c in exact])
    if nus.size < 2:
        raise RhoError(
            f"{where}: the exact curve has {nus.size} point(s); inverting it needs at least 2"
        )
    weights = {
        s: _resample_weights(
            _group(by_set[s], paired, f"{where} set={s}"), by_set[s], n_boot, rng,
            drawn, s,
        )
        for s in _SETS
    }

    def aucs(cond) -> tuple[float, np.ndarray]:
        i, j = keys["member"][cond], keys["non_member"][cond]
        m, n = by_set["member"][i].scores, by_set["non_member"][j].scores
        full = float(auc_members_positive(m, n))
        boot = weighted_auc_members_positive(
            m, n, weights["member"][i], weights["non_member"][j]
        )
        return full, boot

    exact_aucs = [aucs(c) for c in exact]
    full_curve = smooth_curve([a for a, _ in exact_aucs], enabled=smooth)
    boot_curves = smooth_curves(np.stack([b for _, b in exact_aucs], axis=1), smooth)
    out = {}
    for kind, value in fuzzy:
        k = k_of(kind, value)
        x, xb = aucs((kind, value))
        nu = invert_curve(nus, full_curve, x, where=where).nu_eq
        out[(kind, value)] = (
            rho_from_nu(nu, k),
            (invert_curves(nus, boot_curves, xb) - 1.0) / k,
        )
    return out
