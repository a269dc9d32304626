"""Tests of mosaic_kedro.plotting: figures from small tables, placeholders, embedding."""

from __future__ import annotations

import base64

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from mosaic_kedro import plotting


def _auc_table(with_ci: bool) -> pd.DataFrame:
    rows = []
    for model in ("org/a", "org/b"):
        for seed in (1, 2):
            for score in ("loss", "ratio"):
                for nu in (1, 2, 3):
                    rows.append(
                        (model, "exact", nu, seed, score, 0.5 + 0.1 * nu + 0.01 * seed)
                    )
                for r in (1, 10):
                    rows.append(
                        (model, "fuzzy_clm_topk10", r, seed, score, 0.7 - 0.01 * r)
                    )
    table = pd.DataFrame(
        rows, columns=["model", "kind", "value", "seed", "score", "auc"]
    )
    table["family"] = np.where(table["kind"] == "exact", "exact", "fuzzy")
    table["ci_low"] = table["auc"] - 0.05 if with_ci else np.nan
    table["ci_high"] = table["auc"] + 0.05 if with_ci else np.nan
    return table


@pytest.mark.parametrize("with_ci", [True, False])
def test_auc_vs_nu_one_panel_per_model_one_line_per_score(with_ci):
    fig = plotting.auc_vs_nu(_auc_table(with_ci))
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 2
    assert len(visible[0].lines) == 2
    assert len(visible[0].collections) == 2  # a band per score
    band = "bootstrap CI" if with_ci else "mean +/- std over seeds"
    assert band in visible[0].get_title()


def test_auc_vs_r_panels_per_model_and_kind():
    fig = plotting.auc_vs_r(_auc_table(False))
    assert len([ax for ax in fig.axes if ax.get_visible()]) == 2
    assert plotting.auc_vs_r(_auc_table(False).query("kind == 'exact'")).axes[0].texts


def test_rho_vs_r_has_error_bars_seed_dots_and_ci_band():
    per_seed = pd.DataFrame(
        {
            "model": "org/a",
            "score": "ratio",
            "kind": "fuzzy_clm_topk10",
            "value": [1, 1, 10, 10],
            "seed": [1, 2, 1, 2],
            "rho": [0.9, 0.8, 0.5, 0.6],
        }
    )
    table = pd.DataFrame(
        {
            "model": "org/a",
            "score": "ratio",
            "kind": "fuzzy_clm_topk10",
            "family": "fuzzy",
            "value": [1, 10],
            "rho_mean": [0.85, 0.55],
            "rho_std": [0.07, 0.07],
            "n_seeds": 2,
            "rho_ci_low": [0.7, 0.4],
            "rho_ci_high": [1.0, 0.7],
        }
    )
    ax = plotting.rho_vs_r(per_seed, table, "ratio").axes[0]
    assert len(ax.containers) == 1  # one errorbar series (one model, one kind)
    offsets = [c.get_offsets() for c in ax.collections if len(c.get_offsets()) == 4]
    assert offsets, "the four per-seed dots are drawn"
    assert plotting.rho_vs_r(per_seed, table, "loss").axes[0].texts  # placeholder


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


def test_training_curves_two_panels():
    metrics = pd.DataFrame(
        {
            "condition": ["a"] * 3 + ["b"] * 3,
            "step": [0, 50, 100] * 2,
            "auc_loss": [0.5, 0.6, 0.7, 0.5, 0.55, 0.6],
            "ppl_members": [40, 30, 20, 40, 35, 30],
            "ppl_non_members": [40, 38, 36, 40, 39, 38],
        }
    )
    fig = plotting.training_curves(metrics)
    assert len(fig.axes) == 2
    assert len(fig.axes[0].lines) == 2 and len(fig.axes[1].lines) == 4


def test_figure_to_data_uri_is_a_png():
    uri = plotting.figure_to_data_uri(plotting.placeholder_figure("t", "m"))
    assert uri.startswith("data:image/png;base64,")
    assert base64.b64decode(uri.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    assert isinstance(plotting.placeholder_figure("t", "m"), Figure)
