"""Tests of mosaic_kedro.rho (SPEC §6): smoothing, inversion, errors, parity, bootstrap."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from mosaic_kedro.rho import (
    AUC_TABLE_COLUMNS,
    RhoError,
    aggregate_rho,
    auc_members_positive,
    bootstrap_rho,
    invert_curve,
    normalize_published,
    rho_for_curve,
    rho_from_nu,
    rho_per_seed,
    rho_table,
    smooth_curve,
)

PUBLISHED = (
    Path(__file__).resolve().parents[1] / "data" / "01_raw" / "published_aucs.csv"
)
NEO = "EleutherAI/gpt-neo-1.3B"


@pytest.fixture(scope="module")
def published() -> pd.DataFrame:
    return normalize_published(pd.read_csv(PUBLISHED))


def _table(rows: list[tuple]) -> pd.DataFrame:
    """AUC table from (kind, value, seed, auc, num_copies) rows of one model and score."""
    frame = pd.DataFrame(rows, columns=["kind", "value", "seed", "auc", "num_copies"])
    return frame.assign(
        model="m",
        score="loss",
        condition=lambda d: d["kind"] + "_" + d["value"].astype(str),
    )


def _exact_rows(aucs, seed=1):
    return [("exact", nu, seed, a, nu) for nu, a in enumerate(aucs, start=1)]


# ----------------------------------------------------------------------- smoothing


def test_smoothing_keeps_endpoints_and_averages_interior():
    y = [0.5, 0.6, 0.9, 0.7]
    s = smooth_curve(y)
    assert s[0] == 0.5 and s[-1] == 0.7
    assert s[1] == pytest.approx((0.5 + 0.6 + 0.9) / 3)
    assert s[2] == pytest.approx((0.6 + 0.9 + 0.7) / 3)
    assert list(smooth_curve(y, enabled=False)) == y
    assert list(smooth_curve([0.5, 0.6])) == [0.5, 0.6]


# ----------------------------------------------------------------------- inversion


def test_interior_interpolation():
    inv = invert_curve([1, 2, 3], [0.5, 0.6, 0.8], 0.7)
    assert inv.region == "interior"
    assert inv.nu_eq == pytest.approx(2.5)


def test_below_first_point_is_clamped_to_one():
    inv = invert_curve([1, 2, 3], [0.6, 0.7, 0.8], 0.55)
    assert inv == inv.__class__(1.0, "below")
    # a grid that starts above 1: the linear extrapolation of the first segment shows
    # (phi = 0.6 at nu=3, slope 0.1 per copy: x = 0.45 -> nu = 3 - 1.5 = 1.5) ...
    assert invert_curve([3, 4, 5], [0.6, 0.7, 0.8], 0.45).nu_eq == pytest.approx(1.5)
    # ... and is clamped at 1 further down (x = 0.3 -> nu = 0 -> 1)
    assert invert_curve([3, 4, 5], [0.6, 0.7, 0.8], 0.3).nu_eq == 1.0


def test_above_last_point_uses_mean_slope_of_last_three_segments():
    # slopes of the last 3 segments: 0.1, 0.05, 0.03 -> mean 0.06; first segment ignored
    phis = [0.50, 0.70, 0.80, 0.85, 0.88]
    inv = invert_curve([1, 2, 3, 4, 5], phis, 0.94)
    assert inv.region == "above"
    assert inv.nu_eq == pytest.approx(5 + 0.06 / 0.06)
    # N < 4: mean of all segments (0.2 and 0.1 -> 0.15)
    assert invert_curve([1, 2, 3], [0.5, 0.7, 0.8], 0.95).nu_eq == pytest.approx(
        3 + 0.15 / 0.15
    )


def test_flat_segments_never_divide_by_zero():
    # x on a flat interior segment: its left end, the first nu reaching x
    assert invert_curve([1, 2, 3, 4], [0.5, 0.7, 0.7, 0.9], 0.7).nu_eq == 2.0
    # flat first segment and x below: no information, nu_eq = 1
    assert invert_curve([1, 2, 3], [0.6, 0.6, 0.8], 0.5) == invert_curve(
        [1, 2], [0.6, 0.5], 0.55
    )
    assert invert_curve([1, 2, 3], [0.6, 0.6, 0.8], 0.5).nu_eq == 1.0
    # flat tail and x above: no finite number of exact copies, nu_eq = +inf
    inv = invert_curve([1, 2, 3, 4, 5], [0.5, 0.9, 0.9, 0.9, 0.9], 0.95)
    assert inv.region == "above" and math.isinf(inv.nu_eq)
    assert math.isinf(rho_from_nu(inv.nu_eq, 9))
    # entirely flat curve at x
    assert invert_curve([1, 2, 3], [0.7, 0.7, 0.7], 0.7).nu_eq == 1.0


def test_non_monotone_curve_takes_first_bracketing_segment():
    # the curve goes 0.5 -> 0.8 -> 0.7 -> 0.9; x = 0.75 is crossed three times
    # (nu = 1 + 0.25/0.3, 2.5 and 3.25); the first one scanning from nu = 1 is chosen
    inv = invert_curve([1, 2, 3, 4], [0.5, 0.8, 0.7, 0.9], 0.75)
    assert inv.region == "interior"
    assert inv.nu_eq == pytest.approx(1 + 0.25 / 0.3)
    # decreasing segment holding x: interpolation still works
    assert invert_curve([1, 2, 3], [0.5, 0.9, 0.6], 0.6).nu_eq == pytest.approx(1.25)


def test_rho_rescales_by_k_from_the_data():
    # nu_eq = 2.5 -> rho = 1.5 / K
    assert rho_for_curve(
        [1, 2, 3], [0.5, 0.6, 0.8], 0.7, 3, smooth=False
    ) == pytest.approx(0.5)
    assert rho_for_curve(
        [1, 2, 3], [0.5, 0.6, 0.8], 0.7, 9, smooth=False
    ) == pytest.approx(1.5 / 9)


def test_k_and_n_come_from_the_table_not_constants():
    # N = 4 exact points, K = 4 copies: nu_eq 3 -> rho = 2 / 4
    rows = _exact_rows([0.5, 0.6, 0.7, 0.8]) + [("fuzzy_random", 10, 1, 0.7, 4)]
    out = rho_per_seed(_table(rows), smooth=False)
    assert out.loc[0, "n_exact"] == 4
    assert out.loc[0, "num_copies"] == 4
    assert out.loc[0, "rho"] == pytest.approx(0.5)


# ----------------------------------------------------------------------- errors


def test_error_exact_curve_with_one_point():
    rows = _exact_rows([0.6]) + [("fuzzy_random", 1, 1, 0.7, 9)]
    with pytest.raises(RhoError, match="1 point"):
        rho_per_seed(_table(rows))
    with pytest.raises(RhoError, match="at least 2"):
        invert_curve([1], [0.6], 0.6)
    assert issubclass(RhoError, ValueError)


def test_error_fuzzy_condition_without_exact_curve_for_its_seed():
    rows = _exact_rows([0.5, 0.6, 0.7], seed=1) + [("fuzzy_random", 5, 2, 0.6, 9)]
    with pytest.raises(RhoError, match=r"no exact curve for its seed .*seed=2"):
        rho_per_seed(_table(rows))


def test_error_nan_in_auc_table():
    rows = _exact_rows([0.5, float("nan"), 0.7]) + [("fuzzy_random", 5, 1, 0.6, 9)]
    with pytest.raises(RhoError, match=r"NaN in column\(s\) \['auc'\]"):
        rho_per_seed(_table(rows))
    with pytest.raises(RhoError, match="NaN"):
        invert_curve([1, 2], [0.5, 0.6], float("nan"))


def test_error_duplicated_rows_missing_columns_bad_grid_bad_k():
    rows = _exact_rows([0.5, 0.6, 0.7]) + [
        ("exact", 2, 1, 0.61, 2),
        ("fuzzy_random", 5, 1, 0.6, 9),
    ]
    with pytest.raises(RhoError, match="duplicated"):
        rho_per_seed(_table(rows))
    with pytest.raises(RhoError, match="lacks columns"):
        rho_per_seed(_table(_exact_rows([0.5, 0.6])).drop(columns="num_copies"))
    with pytest.raises(RhoError, match="strictly increasing"):
        invert_curve([1, 1, 2], [0.5, 0.6, 0.7], 0.6)
    with pytest.raises(RhoError, match="positive"):
        rho_from_nu(2.0, 0)


def test_error_published_table_with_nan_or_missing_columns():
    raw = pd.read_csv(PUBLISHED).head(20)
    with pytest.raises(RhoError, match="lacks columns"):
        normalize_published(raw.drop(columns="variable"))
    raw.loc[3, "auc"] = np.nan
    with pytest.raises(RhoError, match="NaN"):
        normalize_published(raw)


# ----------------------------------------------------------------------- aggregation


def test_aggregate_mean_std_and_n_seeds():
    per_seed = pd.DataFrame(
        {
            "model": "m",
            "score": "loss",
            "kind": "fuzzy_random",
            "value": 5,
            "seed": [1, 2, 3],
            "auc": [0.6, 0.7, 0.8],
            "nu_eq": [2.0, 3.0, 4.0],
            "rho": [0.1, 0.2, 0.3],
        }
    )
    out = aggregate_rho(per_seed)
    assert out.loc[0, "rho_mean"] == pytest.approx(0.2)
    # population std by default (the paper's +-): sqrt(0.02 / 3)
    assert out.loc[0, "rho_std"] == pytest.approx(math.sqrt(0.02 / 3))
    assert aggregate_rho(per_seed, ddof=1).loc[0, "rho_std"] == pytest.approx(0.1)
    assert out.loc[0, "n_seeds"] == 3
    assert aggregate_rho(per_seed.head(1)).loc[0, "rho_std"] == 0.0
    assert math.isnan(aggregate_rho(per_seed.head(1), ddof=1).loc[0, "rho_std"])


# ----------------------------------------------------------------------- published parity


def test_normalize_published_layout(published):
    assert list(published.columns) == AUC_TABLE_COLUMNS
    assert len(published) == 1800
    assert set(published["kind"]) == {"exact", "fuzzy_mlm_topk10"}
    fuzzy = published[published["kind"] == "fuzzy_mlm_topk10"]
    exact = published[published["kind"] == "exact"]
    assert (fuzzy["num_copies"] == 9).all()
    assert (exact["num_copies"] == exact["value"]).all()
    assert published[["ci_low", "ci_high", "tpr_at_1", "tpr_at_10"]].isna().all().all()
    assert "exact_n03_s1" in set(published["condition"])
    assert "fuzzy_mlm_topk10_r10_s1" in set(published["condition"])
    assert set(published["score"]) == {"loss", "ratio", "lowercase", "minkprob", "zlib"}


def test_hand_checked_value_gpt_neo_ratio_seed1(published):
    """Checked by hand from the CSV rows of GPT-Neo-1.3B, ratio score, seed 1.

    Exact AUCs nu = 1..10: 0.5846 0.6822 0.7473 0.8084 0.8454 0.9088 0.9039 0.9248
    0.9444 0.9466. Smoothed: s1 = 0.5846, s2 = (0.5846 + 0.6822 + 0.7473) / 3 =
    0.671367, s5 = (0.8084 + 0.8454 + 0.9088) / 3 = 0.854200,
    s6 = (0.8454 + 0.9088 + 0.9039) / 3 = 0.886033, s7 = (0.9088 + 0.9039 + 0.9248) / 3
    = 0.912500.

    R = 75: fuzzy AUC 0.6362 lies in [s1, s2]: nu = 1 + (0.6362 - 0.5846) /
    (0.671367 - 0.5846) = 1 + 0.0516 / 0.086767 = 1.59470; rho = 0.59470 / 9 = 0.066078.

    R = 10: fuzzy AUC 0.9032 lies in [s6, s7]: nu = 6 + (0.9032 - 0.886033) /
    (0.9125 - 0.886033) = 6 + 0.017167 / 0.026467 = 6.64862; rho = 5.64862 / 9 = 0.62762.
    """
    per_seed = rho_per_seed(published)
    sel = per_seed[
        (per_seed["model"] == NEO)
        & (per_seed["score"] == "ratio")
        & (per_seed["seed"] == 1)
    ]
    by_r = sel.set_index("value")
    assert by_r.loc[75, "rho"] == pytest.approx(0.066078, abs=2e-6)
    assert by_r.loc[10, "rho"] == pytest.approx(0.62762, abs=2e-5)
    assert by_r.loc[10, "region"] == "interior"


def test_parity_with_the_paper_gpt_neo_ratio(published):
    """SPEC §6: about 0.90, 0.78, 0.65 at R = 1, 5, 10 and near 0.08 at R = 75."""
    table = rho_table(published)
    neo = table[(table["model"] == NEO) & (table["score"] == "ratio")].set_index(
        "value"
    )
    assert list(neo.index) == [1, 5, 10, 15, 20, 25, 50, 75]
    assert (neo["n_seeds"] == 5).all()
    assert neo.loc[1, "rho_mean"] == pytest.approx(0.90, abs=0.005)
    assert neo.loc[5, "rho_mean"] == pytest.approx(0.78, abs=0.005)
    assert neo.loc[10, "rho_mean"] == pytest.approx(0.65, abs=0.005)
    assert neo.loc[75, "rho_mean"] == pytest.approx(0.08, abs=0.005)
    # rho decreases with the number of replaced tokens
    assert neo["rho_mean"].is_monotonic_decreasing
    # every model, score and R has five seeds and a finite rho
    assert len(table) == 4 * 5 * 8
    assert np.isfinite(table["rho_mean"]).all()


def test_smoothing_switch_changes_the_published_answer(published):
    on = rho_table(published, smooth=True)["rho_mean"].to_numpy()
    off = rho_table(published, smooth=False)["rho_mean"].to_numpy()
    assert not np.allclose(on, off)


# ----------------------------------------------------------------------- bootstrap


def test_vectorized_auc_equals_sklearn():
    rng = np.random.default_rng(1)
    m = np.round(rng.normal(0, 1, 37), 1)  # rounding makes ties
    n = np.round(rng.normal(0.5, 1, 41), 1)
    y = np.r_[np.ones(m.size), np.zeros(n.size)]
    expected = roc_auc_score(y, -np.r_[m, n])
    assert float(auc_members_positive(m, n)) == pytest.approx(expected, abs=1e-12)
    batch = auc_members_positive(np.stack([m, m[::-1]]), np.stack([n, n]))
    assert batch.shape == (2,) and np.allclose(batch, expected)


def _synthetic_scores(
    n_canaries: int, seeds=(1, 2), random_state: int = 0
) -> pd.DataFrame:
    """Per-canary scores where nu exact copies shift member scores down by 0.35 * nu and
    a fuzzy copy is worth 0.5 exact copies (1 + 9 * 0.5 = 5.5 copies' worth)."""
    rng = np.random.default_rng(random_state)
    rows = []
    conditions = [("exact", nu, 0.35 * nu) for nu in range(1, 11)] + [
        ("fuzzy_random", 10, 0.35 * 5.5)
    ]
    for seed in seeds:
        for kind, value, shift in conditions:
            for i in range(n_canaries):
                rows.append(
                    (
                        kind,
                        value,
                        seed,
                        f"m{i}",
                        "member",
                        "loss",
                        rng.normal(-shift, 1.0),
                    )
                )
                rows.append(
                    (
                        kind,
                        value,
                        seed,
                        f"n{i}",
                        "non_member",
                        "loss",
                        rng.normal(0.0, 1.0),
                    )
                )
    return pd.DataFrame(
        rows,
        columns=["kind", "value", "seed", "canary_id", "set", "score", "value_score"],
    )


def test_bootstrap_interval_contains_point_and_narrows_with_more_canaries():
    small = bootstrap_rho(_synthetic_scores(50), 9, n_boot=300, random_state=3)
    large = bootstrap_rho(_synthetic_scores(400), 9, n_boot=300, random_state=3)
    for out in (small, large):
        assert len(out) == 1
        row = out.iloc[0]
        assert row["rho_ci_low"] <= row["rho_point"] <= row["rho_ci_high"]
        assert row["n_seeds"] == 2 and row["n_boot"] == 300
    width_small = small.loc[0, "rho_ci_high"] - small.loc[0, "rho_ci_low"]
    width_large = large.loc[0, "rho_ci_high"] - large.loc[0, "rho_ci_low"]
    assert width_large < 0.6 * width_small
    # with many canaries the truth (0.5) is inside the interval
    assert large.loc[0, "rho_ci_low"] < 0.5 < large.loc[0, "rho_ci_high"]


def test_bootstrap_point_matches_rho_from_the_auc_table():
    scores = _synthetic_scores(60, seeds=(1,))
    rows = []
    for (kind, value), g in scores.groupby(["kind", "value"]):
        m = g.loc[g["set"] == "member", "value_score"].to_numpy()
        n = g.loc[g["set"] == "non_member", "value_score"].to_numpy()
        auc = roc_auc_score(np.r_[np.ones(m.size), np.zeros(n.size)], -np.r_[m, n])
        rows.append((kind, value, 1, auc, value if kind == "exact" else 9))
    expected = rho_per_seed(_table(rows)).loc[0, "rho"]
    out = bootstrap_rho(scores, {"fuzzy_random": 9}, n_boot=50)
    assert out.loc[0, "rho_point"] == pytest.approx(expected)


def test_bootstrap_errors():
    scores = _synthetic_scores(10, seeds=(1,))
    with pytest.raises(RhoError, match="no num_copies"):
        bootstrap_rho(scores, {"other": 9}, n_boot=5)
    with pytest.raises(RhoError, match="no exact curve"):
        bootstrap_rho(scores[scores["kind"] != "exact"], 9, n_boot=5)
    with pytest.raises(RhoError, match="NaN"):
        bootstrap_rho(scores.assign(value_score=np.nan), 9, n_boot=5)
    one_point = scores[(scores["kind"] != "exact") | (scores["value"] == 1)]
    with pytest.raises(RhoError, match="at least 2"):
        bootstrap_rho(one_point, 9, n_boot=5)


# ----------------------------------------------------------------------- paired bootstrap

from mosaic_kedro.rho import (  # noqa: E402
    canary_groups,
    invert_curves,
    smooth_curves,
    weighted_auc_members_positive,
)

NUS = np.arange(1, 11)
EFFECT = 0.25  # member score shift per exact copy
FUZZY_NU = {"fuzzy_a": 3.0, "fuzzy_b": 5.5, "fuzzy_c": 8.0}  # true nu_eq of each fuzzy


def _world_conditions():
    return [("exact", int(nu), EFFECT * nu, int(nu)) for nu in NUS] + [
        (kind, 1, EFFECT * nu, 9) for kind, nu in FUZZY_NU.items()
    ]


def _world_arrays(rng, draws, n, pooled=False, sd_d=1.0, sd_e=0.25):
    """(draws, C, n) member and non-member scores: latent difficulty shared across
    conditions (members: difficulty - effect + noise; non-members: difficulty + noise).
    Pooled: each condition has its own members, non-members are shared."""
    conds = _world_conditions()
    c = len(conds)
    eff = np.array([e for _, _, e, _ in conds])[None, :, None]
    dm = rng.normal(0, sd_d, (draws, c if pooled else 1, n))
    dn = rng.normal(0, sd_d, (draws, 1, n))
    m = dm - eff + rng.normal(0, sd_e, (draws, c, n))
    nn = dn + rng.normal(0, sd_e, (draws, c, n))
    return m, nn


def _true_rho(m, nn):
    """rho of every fuzzy condition for each draw, (draws, n_fuzzy)."""
    aucs = auc_members_positive(m, nn)  # (draws, C)
    curves = smooth_curves(aucs[:, : NUS.size])
    return np.stack(
        [(invert_curves(NUS, curves, aucs[:, NUS.size + j]) - 1) / 9
         for j in range(len(FUZZY_NU))], axis=1)


def _world_frame(m, nn, pooled=False):
    conds = _world_conditions()
    frames = []
    n = m.shape[-1]
    for d in range(m.shape[0]):
        for ci, (kind, value, _, k) in enumerate(conds):
            mids = [f"c{ci}_m{i:03d}" if pooled else f"m{i:03d}" for i in range(n)]
            frames.append(pd.DataFrame({
                "model": f"world{d}", "condition": f"{kind}_{value}", "kind": kind,
                "value": value, "seed": 1, "num_copies": k,
                "canary_id": mids + [f"n{i:03d}" for i in range(n)],
                "set": ["member"] * n + ["non_member"] * n, "score": "loss",
                "value_score": np.r_[m[d, ci], nn[d, ci]], "family": "x"}))
    return pd.concat(frames, ignore_index=True)


def _widths(out):
    w = (out["rho_ci_high"] - out["rho_ci_low"]).to_numpy()
    return out.assign(w=w).groupby("kind")["w"].mean().reindex(list(FUZZY_NU)).to_numpy()


@pytest.mark.parametrize("pooled", [False, True])
def test_paired_interval_matches_the_true_spread(pooled):
    rng = np.random.default_rng(7)
    truth = _true_rho(*_world_arrays(rng, 600, 100, pooled))
    true_w = np.quantile(truth, 0.975, axis=0) - np.quantile(truth, 0.025, axis=0)
    frame = _world_frame(*_world_arrays(rng, 10, 100, pooled), pooled=pooled)
    paired = _widths(bootstrap_rho(frame, n_boot=400, random_state=1))
    unpaired = _widths(bootstrap_rho(frame, n_boot=400, random_state=1, paired=False))
    ratio = paired / true_w
    assert np.all((ratio > 0.8) & (ratio < 1.2)), (paired, true_w, unpaired)
    if not pooled:  # shared canaries: the unpaired scheme is far too wide
        assert np.all(unpaired > 1.5 * true_w), (unpaired, true_w)


def test_groups_shared_and_pooled():
    rng = np.random.default_rng(0)
    shared = canary_groups(_world_frame(*_world_arrays(rng, 1, 20)))
    assert shared.groupby("set")["group"].nunique().to_dict() == {
        "member": 1, "non_member": 1}
    pooled = canary_groups(_world_frame(*_world_arrays(rng, 1, 20, True), pooled=True))
    n_cond = len(_world_conditions())
    assert pooled.groupby("set")["group"].nunique().to_dict() == {
        "member": n_cond, "non_member": 1}


def test_paired_errors_on_partial_overlap_and_duplicates():
    rng = np.random.default_rng(0)
    frame = _world_frame(*_world_arrays(rng, 1, 20))
    drop = frame.index[(frame["kind"] == "fuzzy_a") & (frame["canary_id"] == "m003")]
    with pytest.raises(RhoError, match=r"lacks 1 id\(s\) \['m003'\]"):
        bootstrap_rho(frame.drop(index=drop), n_boot=5)
    dup = pd.concat([frame, frame.iloc[:1]])
    with pytest.raises(RhoError, match="more than once"):
        bootstrap_rho(dup, n_boot=5)
    with pytest.raises(RhoError, match="no K"):
        bootstrap_rho(frame.drop(columns="num_copies"), n_boot=5)


def test_weighted_auc_and_batch_inversion_match_the_scalar_versions():
    rng = np.random.default_rng(3)
    m = np.round(rng.normal(0, 1, 30), 1)
    n = np.round(rng.normal(0.4, 1, 25), 1)
    im = rng.integers(0, 30, (50, 30))
    inn = rng.integers(0, 25, (50, 25))
    wm = np.stack([np.bincount(r, minlength=30) for r in im])
    wn = np.stack([np.bincount(r, minlength=25) for r in inn])
    assert np.allclose(weighted_auc_members_positive(m, n, wm, wn),
                       auc_members_positive(m[im], n[inn]), atol=1e-12)
    phis = np.round(rng.uniform(0.4, 1.0, (400, 5)), 1)  # flat, non-monotone curves
    x = np.round(rng.uniform(0.3, 1.05, 400), 1)
    nus = np.arange(1, 6)
    expected = [invert_curve(nus, p, xi).nu_eq for p, xi in zip(phis, x)]
    assert np.allclose(invert_curves(nus, phis, x), expected, equal_nan=False)


def _seeded_world(rng, draws, n, seeds, sd_u=0.5, sd_e=0.25):
    """(draws, S, C, n) scores for ``seeds`` seeds that score the SAME canaries (the
    paper's way): a canary's difficulty d and its per-condition susceptibility u are
    properties of the canary, shared by every seed; only e (training noise) is drawn
    per seed."""
    conds = _world_conditions()
    c = len(conds)
    eff = np.array([e for _, _, e, _ in conds])[None, None, :, None]
    d = rng.normal(0, 1.0, (draws, 1, 1, n))
    u = rng.normal(0, sd_u, (draws, 1, c, n))
    m = d - eff + u + rng.normal(0, sd_e, (draws, seeds, c, n))
    nn = rng.normal(0, 1.0, (draws, 1, 1, n)) + rng.normal(0, sd_e, (draws, seeds, c, n))
    return m, nn


def _seeded_frame(m, nn, d, shared_ids=True):
    frames = []
    for s in range(m.shape[1]):
        f = _world_frame(m[d : d + 1, s], nn[d : d + 1, s]).assign(seed=s + 1)
        if not shared_ids:  # the same canaries, labelled as if each seed had its own
            f["canary_id"] = f"s{s}_" + f["canary_id"]
        frames.append(f.assign(model=f"world{d}"))
    return pd.concat(frames, ignore_index=True)


def test_seeds_sharing_canaries_share_the_resample():
    """With one canary set for every seed, rho's mean over seeds keeps the canaries'
    own noise (it does not average out over seeds): the interval must match the
    spread of that mean over fresh canary draws, which only a draw shared by the
    seeds gets right (labelling the same canaries per seed makes it too narrow)."""
    rng = np.random.default_rng(11)
    seeds = 3
    m, nn = _seeded_world(rng, 400, 60, seeds)
    per_seed = np.stack([_true_rho(m[:, s], nn[:, s]) for s in range(seeds)])
    truth = per_seed.mean(axis=0)
    true_w = np.quantile(truth, 0.975, axis=0) - np.quantile(truth, 0.025, axis=0)
    m, nn = _seeded_world(rng, 8, 60, seeds)
    shared = pd.concat([_seeded_frame(m, nn, d) for d in range(8)])
    relabelled = pd.concat([_seeded_frame(m, nn, d, shared_ids=False) for d in range(8)])
    ratio = _widths(bootstrap_rho(shared, n_boot=300, random_state=2)) / true_w
    naive = _widths(bootstrap_rho(relabelled, n_boot=300, random_state=2)) / true_w
    assert np.all((ratio > 0.8) & (ratio < 1.2)), (ratio, naive)
    assert np.all(naive < 0.8), naive
