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
4. rho is averaged over seeds: mean, standard deviation (ddof=1 by default) and the
   number of seeds.

A bootstrap interval (:func:`bootstrap_rho`) resamples member and non-member
canaries of every condition, recomputes every AUC, and inverts again.

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


def aggregate_rho(per_seed: pd.DataFrame, *, ddof: int = 1) -> pd.DataFrame:
    """Mean and standard deviation of rho over seeds.

    One row per (model, score, kind, value) with ``rho_mean``, ``rho_std`` (NaN for
    a single seed when ddof=1), ``n_seeds``, ``auc_mean`` and ``nu_eq_mean``. A seed
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
    auc_table: pd.DataFrame, *, smooth: bool = True, ddof: int = 1
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


def _bootstrap_aucs(
    members: np.ndarray, non_members: np.ndarray, n_boot: int, rng: np.random.Generator
) -> np.ndarray:
    im = rng.integers(0, members.size, size=(n_boot, members.size))
    inn = rng.integers(0, non_members.size, size=(n_boot, non_members.size))
    return auc_members_positive(members[im], non_members[inn])


def bootstrap_rho(
    scores: pd.DataFrame,
    num_copies: int | Mapping[str, int],
    *,
    n_boot: int = 1000,
    alpha: float = 0.05,
    smooth: bool = True,
    random_state: int = 0,
) -> pd.DataFrame:
    """Percentile bootstrap interval for rho from per-canary scores.

    Args:
        scores: per-canary MIA scores, columns ``kind, value, seed, canary_id, set
            (member / non_member), score, value_score`` and optionally ``model``
            (the ``mia_scores`` dataset). Higher ``value_score`` = more likely a
            non-member; AUCs are computed with members as the positive class.
        num_copies: K, one int for every fuzzy kind or a mapping kind -> K.
        n_boot: bootstrap replicates.
        alpha: 1 - confidence level (0.05 -> a 95 % interval).
        smooth: smooth each resampled exact curve.
        random_state: seed of the resampling.

    Each replicate resamples, independently per condition and seed, the member and
    the non-member canaries with replacement, recomputes every AUC (exact curve and
    fuzzy conditions), inverts, and averages rho over seeds. The interval is the
    alpha/2 and 1 - alpha/2 quantiles of that mean: it reflects canary sampling
    noise, not seed-to-seed spread (``rho_std`` reports that).

    Returns:
        One row per (model, score, kind, value): ``rho_point`` (rho from the full
        samples, mean over seeds), ``rho_ci_low``, ``rho_ci_high``, ``n_seeds``,
        ``n_boot``.
    """
    need = ["kind", "value", "seed", "set", "score", "value_score"]
    missing = sorted(set(need) - set(scores.columns))
    if missing:
        raise RhoError(f"per-canary score table lacks columns {missing}")
    if scores[need].isna().any().any():
        raise RhoError("per-canary score table contains NaN")
    if not 0 < alpha < 1:
        raise RhoError(f"alpha must be in (0, 1), got {alpha}")
    if n_boot < 1:
        raise RhoError(f"n_boot must be >= 1, got {n_boot}")
    data = scores if "model" in scores.columns else scores.assign(model="")
    rng = np.random.default_rng(random_state)
    rows = []
    for (model, score_name), frame in data.groupby(["model", "score"], sort=True):
        rows.extend(
            _bootstrap_one(
                frame, model, score_name, num_copies, n_boot, alpha, smooth, rng
            )
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


def _split_sets(frame: pd.DataFrame, where: str) -> tuple[np.ndarray, np.ndarray]:
    members = frame.loc[frame["set"] == "member", "value_score"].to_numpy(float)
    non_members = frame.loc[frame["set"] == "non_member", "value_score"].to_numpy(float)
    if members.size == 0 or non_members.size == 0:
        raise RhoError(
            f"{where}: needs member and non_member scores, got {members.size} and {non_members.size}"
        )
    return members, non_members


def _bootstrap_one(
    frame, model, score_name, num_copies, n_boot, alpha, smooth, rng
) -> list[dict]:
    point: dict[tuple, list[float]] = {}
    boots: dict[tuple, list[np.ndarray]] = {}
    for seed, seed_frame in frame.groupby("seed", sort=True):
        where = f"model={model!r} score={score_name!r} seed={seed!r}"
        exact = seed_frame[seed_frame["kind"] == EXACT_KIND]
        fuzzy = seed_frame[seed_frame["kind"] != EXACT_KIND]
        if fuzzy.empty:
            continue
        if exact.empty:
            raise RhoError(
                f"fuzzy conditions have no exact curve for their seed ({where})"
            )
        nus = np.sort(exact["value"].unique()).astype(float)
        if nus.size < 2:
            raise RhoError(
                f"{where}: the exact curve has {nus.size} point(s); inverting it needs at least 2"
            )
        full, boot = [], []
        for nu in nus:
            m, n = _split_sets(exact[exact["value"] == nu], f"{where} exact nu={nu:g}")
            full.append(float(auc_members_positive(m, n)))
            boot.append(_bootstrap_aucs(m, n, n_boot, rng))
        full_curve = smooth_curve(full, enabled=smooth)
        boot_curves = np.stack(
            [smooth_curve(b, enabled=smooth) for b in np.stack(boot, axis=1)]
        )
        for (kind, value), cond in fuzzy.groupby(["kind", "value"], sort=True):
            k = _k_for(kind, num_copies)
            m, n = _split_sets(cond, f"{where} kind={kind!r} value={value!r}")
            x = float(auc_members_positive(m, n))
            xb = _bootstrap_aucs(m, n, n_boot, rng)
            point.setdefault((kind, value), []).append(
                rho_from_nu(invert_curve(nus, full_curve, x, where=where).nu_eq, k)
            )
            rb = np.array(
                [
                    rho_from_nu(invert_curve(nus, c, xi, where=where).nu_eq, k)
                    for c, xi in zip(boot_curves, xb)
                ]
            )
            boots.setdefault((kind, value), []).append(rb)
    rows = []
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
    return rows
