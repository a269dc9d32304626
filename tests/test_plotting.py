"""Tests of mosaic_kedro.plotting: figures from tables of real grids (the reporting
tests' tables.py), placeholders, embedding."""

from __future__ import annotations

import base64
import importlib.util
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from mosaic_kedro import plotting
from mosaic_kedro.grid import conditions
from mosaic_kedro.pipelines.reporting import nodes


def _tables():
    """tests/pipelines/reporting/tables.py: tables built from real grids."""
    name = "reporting_test_tables"
    if name not in sys.modules:
        path = Path(__file__).parent / "pipelines" / "reporting" / "tables.py"
        spec = importlib.util.spec_from_file_location(name, path)
        sys.modules[name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules[name])
    return sys.modules[name]


T = _tables()


@pytest.fixture(scope="module")
def reporting_tables() -> dict[str, pd.DataFrame]:
    """AUC table, per-seed rho and rho table of the real test grid, two models."""
    scores = T.scores(n=40)
    one = T.auc_table(scores)
    auc = pd.concat([one, one.assign(model="org/b", auc=one["auc"] * 0.98)], ignore_index=True)
    per_seed = nodes.compute_rho_per_seed(auc, T.PARAMS)
    boot = nodes.compute_rho_bootstrap(
        pd.concat([scores.assign(model=T.MODEL), scores.assign(model="org/b")]), auc,
        {**T.PARAMS, "bootstrap": {"n_boot": 20}})
    rho = nodes.build_rho_table(per_seed, boot, auc, T.PARAMS)
    return {"auc": auc, "per_seed": per_seed, "rho": rho}


def _outside(legend, ax) -> bool:
    """Whether a legend's box lies outside an axes' data area."""
    canvas = FigureCanvasAgg(ax.get_figure(root=True))
    canvas.draw()
    renderer = canvas.get_renderer()
    box = legend.get_window_extent(renderer)
    area = ax.get_window_extent(renderer)
    return not box.overlaps(area)


@pytest.mark.parametrize("with_ci", [True, False])
def test_auc_vs_nu_headline_large_others_small_fuzzy_on_the_axes(reporting_tables, with_ci):
    auc = reporting_tables["auc"]
    if not with_ci:
        auc = auc.assign(ci_low=np.nan, ci_high=np.nan)
    fig = plotting.auc_vs_nu(auc, reporting_tables["rho"], "ratio")
    assert len(fig.subfigs) == 2  # one per model
    big, small = fig.subfigs[0].axes
    assert big.get_title() == "ratio score (headline)" and small.get_title() == "loss"
    assert big.get_position().width > 1.5 * small.get_position().width
    band = "95 % bootstrap CI" if with_ci else "mean +/- std over seeds"
    assert band in fig.subfigs[0].get_suptitle()
    # each fuzzy condition: a filled marker at (nu_eq, AUC) on the exact curve's axes
    rho = reporting_tables["rho"]
    fuzzy = rho[(rho["model"] == T.MODEL) & (rho["score"] == "ratio") & (rho["family"] == "fuzzy")]
    filled = {ln.get_label(): ln for ln in big.lines if ln.get_label().startswith("fuzzy R=")}
    assert len(filled) == len(fuzzy) == 3
    for row in fuzzy.itertuples():
        (x,), (y,) = filled[f"fuzzy R={row.value:g}"].get_data()
        assert (x, y) == pytest.approx((row.nu_eq_mean, row.auc_mean))
    (legend,) = fig.subfigs[0].legends
    assert _outside(legend, big) and _outside(legend, small)


def test_auc_vs_r_headline_large_with_exact_references(reporting_tables):
    fig = plotting.auc_vs_r(reporting_tables["auc"], "ratio")
    big, small = fig.subfigs[0].axes
    assert big.get_title().startswith("ratio score (headline")
    labels = [ln.get_label() for ln in big.lines]
    assert labels == ["fuzzy_clm_topk10", "exact nu = 1", "exact nu = 5"]
    exact = plotting.auc_vs_r(reporting_tables["auc"].query("kind == 'exact'"))
    assert exact.axes[0].texts  # placeholder


def test_rho_vs_r_seed_dots_interval_and_labelled_rho_one(reporting_tables):
    rho, per_seed = reporting_tables["rho"], reporting_tables["per_seed"]
    fig = plotting.rho_vs_r(per_seed, rho, "ratio")
    ax = fig.axes[0]
    assert len(ax.containers) == 2  # one errorbar series per model (one kind)
    dots = [c.get_offsets() for c in ax.collections if len(c.get_offsets()) == 6]
    assert len(dots) == 2, "3 R x 2 seeds dots per model"
    # the bars are the paired bootstrap interval
    sel = rho[(rho["model"] == T.MODEL) & (rho["score"] == "ratio") & (rho["family"] == "fuzzy")]
    bars = ax.containers[0].lines[2][0].get_segments()
    lows = sorted(seg[0][1] for seg in bars)
    assert lows == pytest.approx(sorted(sel["rho_ci_low"]))
    assert "paired bootstrap interval" in ax.get_title()
    assert any(t.get_text().startswith("rho = 1") for t in ax.texts)
    assert any(ln.get_ydata()[0] == 1.0 and ln.get_linestyle() == "--" for ln in ax.lines)
    assert _outside(ax.get_legend(), ax)
    no_ci = plotting.rho_vs_r(per_seed, rho.assign(rho_ci_low=np.nan), "ratio")
    assert "std over seeds" in no_ci.axes[0].get_title()
    assert plotting.rho_vs_r(per_seed, rho, "zlib").axes[0].texts  # placeholder


def test_rho_vs_levenshtein_joins_on_kind_and_value():
    table = pd.DataFrame(
        {
            "model": "m",
            "score": "loss",
            "kind": ["fuzzy_random", "fuzzy_random", "shuffle_n10_tau0.3"],
            "value": [1, 5, 0],
            "rho_mean": [0.9, 0.5, 0.4],
            "rho_std": [0.1, 0.1, np.nan],
        }
    )
    summary = pd.DataFrame(
        {
            "kind": ["fuzzy_random"] * 4 + ["shuffle_n10_tau0.3"],
            "value": [1, 1, 5, 5, 0],
            "seed": [1, 2, 1, 2, 1],
            "mean_levenshtein": [1.0, 1.2, 5.0, 5.4, 30.0],
        }
    )
    ax = plotting.rho_vs_levenshtein(table, summary, "loss").axes[0]
    assert len(ax.containers) == 2
    xs = sorted(ax.containers[0].lines[0].get_xdata())
    assert xs == pytest.approx([1.1, 5.2])  # averaged over seeds
    assert plotting.rho_vs_levenshtein(table, summary.iloc[:0], "loss").axes[0].texts


def test_roc_curves_log_axes_and_placeholders():
    rng = np.random.default_rng(0)
    n = 50
    scores = pd.DataFrame(
        {
            "condition": "c1",
            "set": ["member"] * n + ["non_member"] * n,
            "score": "loss",
            "value_score": np.r_[rng.normal(-1, 1, n), rng.normal(0, 1, n)],
        }
    )
    ax = plotting.roc_curves(scores, "c1").axes[0]
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert ax.get_xlim()[0] == pytest.approx(1 / n)
    assert len(ax.lines) == 2  # the score and the chance line
    assert plotting.roc_curves(scores, "other").axes[0].texts
    assert plotting.roc_curves(scores.iloc[:0], "c1").axes[0].texts


@pytest.mark.parametrize("median", [True, False])
def test_training_curves_median_perplexity_by_family(median):
    metrics = T.training_metrics(median=median)
    names = [c.name for c in conditions(T.GRID)]
    families = {c.name: c.family for c in conditions(T.GRID)}
    fig = plotting.training_curves(metrics, families)
    ax_auc, ax_ppl = fig.axes
    assert len(ax_auc.lines) == len(names) + 2  # runs, the step-0 line, 0.5
    assert len(ax_ppl.lines) == 2 * len(names)
    expected = metrics["ppl_members_median" if median else "ppl_members"]
    drawn = np.concatenate([ln.get_ydata() for ln in ax_ppl.lines[::2]])
    assert sorted(drawn) == pytest.approx(sorted(expected))
    assert ax_ppl.get_title() == ("perplexity, median over canaries" if median
                                  else "perplexity, mean over canaries")
    assert (not fig.get_suptitle()) == median  # the mean is said to be the mean
    assert any("step 0: AUC 0.573" in t.get_text() for t in ax_auc.texts)
    legend = ax_ppl.get_legend()
    assert [t.get_text() for t in legend.get_texts()][:4] == ["exact", "fuzzy", "insertion",
                                                             "shuffle"]
    assert _outside(legend, ax_ppl)


@pytest.mark.parametrize("name", ["near_duplicates_vs_distance", "levenshtein_vs_hamming",
                                  "dedup_survivors"])
def test_slimpajama_axes_start_at_the_data(name):
    """No log axis squashed towards 1e-9: log from half the smallest positive count,
    or symlog from 0 when some counts are 0 (the dedup survivors at small n)."""
    table = T.near_duplicates()
    ax = getattr(plotting, name)(table).axes[0]
    bottom, top = ax.get_ylim()
    drawn = np.concatenate([ln.get_ydata() for ln in ax.lines])
    assert top >= drawn.max()
    if name == "dedup_survivors":
        assert ax.get_yscale() == "symlog" and bottom == 0.0
    else:
        assert ax.get_yscale() == "log"
        assert bottom == pytest.approx(drawn[drawn > 0].min() / 2)
    assert getattr(plotting, name)(table.iloc[:0]).axes[0].texts  # placeholder


def test_figure_to_data_uri_is_a_png():
    uri = plotting.figure_to_data_uri(plotting.placeholder_figure("t", "m"))
    assert uri.startswith("data:image/png;base64,")
    assert base64.b64decode(uri.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    assert isinstance(plotting.placeholder_figure("t", "m"), Figure)
