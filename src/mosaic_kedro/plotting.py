"""Figures of the reporting pipeline, as matplotlib ``Figure`` objects.

A pure library (numpy, pandas, matplotlib, scikit-learn): every function takes tables
and returns a new :class:`matplotlib.figure.Figure` built without pyplot (no global
state, nothing to close, works headless). Kedro saves them through
``matplotlib.MatplotlibDataset``; :func:`figure_to_data_uri` embeds one in a report.

Table layouts are those of ``mosaic_kedro.rho`` (AUC table, per-seed rho, rho table)
and of the ``mia`` / ``training`` / ``perturbation`` pipelines (``mia_scores``,
``training_metrics``, ``perturbation_summary``).
"""

from __future__ import annotations

import base64
import io

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from sklearn.metrics import roc_curve

EXACT_KIND = "exact"


def _fuzzy(table: pd.DataFrame) -> pd.DataFrame:
    """The token-replacement conditions of a table, by its ``family`` column."""
    return table[table["family"] == "fuzzy"]


def _grid(
    n_panels: int, width: float = 5.0, height: float = 3.8
) -> tuple[Figure, list]:
    cols = min(n_panels, 4)
    rows = int(np.ceil(n_panels / cols))
    fig = Figure(figsize=(width * cols, height * rows), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).ravel().tolist()
    for ax in axes[n_panels:]:
        ax.set_visible(False)
    return fig, axes[:n_panels]


def placeholder_figure(title: str, message: str) -> Figure:
    """A small figure that says why a plot has no data (e.g. published AUCs only)."""
    fig = Figure(figsize=(6, 2.5), layout="constrained")
    ax = fig.add_subplot()
    ax.axis("off")
    ax.set_title(title)
    ax.text(
        0.5, 0.5, message, ha="center", va="center", wrap=True, transform=ax.transAxes
    )
    return fig


def figure_to_data_uri(fig: Figure, dpi: int = 90) -> str:
    """PNG of ``fig`` as a ``data:image/png;base64,...`` URI for a self-contained report."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _short(model: str) -> str:
    return model.rsplit("/", 1)[-1]


def _band(group: pd.DataFrame) -> tuple[pd.Series, pd.Series, str]:
    """Band around the mean AUC: the mean bootstrap CI when the table has one, else
    the seed spread (mean +/- std), else nothing (one seed, no CI)."""
    mean = group.groupby("value")["auc"].mean()
    has_ci = {"ci_low", "ci_high"} <= set(group.columns) and group[
        ["ci_low", "ci_high"]
    ].notna().all().all()
    if has_ci:
        return (
            group.groupby("value")["ci_low"].mean(),
            group.groupby("value")["ci_high"].mean(),
            "bootstrap CI",
        )
    std = group.groupby("value")["auc"].std()
    if std.notna().any():
        return mean - std.fillna(0), mean + std.fillna(0), "mean +/- std over seeds"
    return mean, mean, "no band (one seed, no CI)"


def _score_lines(ax: Axes, frame: pd.DataFrame) -> str:
    """One line per score (mean AUC over seeds vs value) with its band; returns what
    the band shows (see :func:`_band`)."""
    band_label = ""
    for score, group in frame.groupby("score", sort=True):
        mean = group.groupby("value")["auc"].mean()
        low, high, band_label = _band(group)
        (line,) = ax.plot(mean.index, mean.values, marker="o", label=str(score))
        ax.fill_between(mean.index, low.values, high.values, color=line.get_color(), alpha=0.2)
    return band_label


def auc_vs_nu(auc_table: pd.DataFrame) -> Figure:
    """AUC vs nu (exact copies), one panel per model, one line per score, with bands."""
    exact = auc_table[auc_table["kind"] == EXACT_KIND]
    if exact.empty:
        return placeholder_figure("AUC vs nu", "no exact conditions in the AUC table")
    models = sorted(exact["model"].unique())
    fig, axes = _grid(len(models))
    for ax, model in zip(axes, models):
        band_label = _score_lines(ax, exact[exact["model"] == model])
        ax.set(
            title=f"{_short(model)} (band: {band_label})",
            xlabel="nu (exact copies)",
            ylabel="MIA AUC",
        )
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return fig


def auc_vs_r(auc_table: pd.DataFrame) -> Figure:
    """AUC vs R (replaced tokens) for the token-replacement conditions (family
    ``fuzzy``): one panel per (model,
    kind), one line per score, band as in :func:`auc_vs_nu`."""
    fuzzy = _fuzzy(auc_table)
    if fuzzy.empty:
        return placeholder_figure("AUC vs R", "no fuzzy conditions in the AUC table")
    panels = sorted(fuzzy.groupby(["model", "kind"]).groups)
    fig, axes = _grid(len(panels))
    for ax, (model, kind) in zip(axes, panels):
        sel = fuzzy[(fuzzy["model"] == model) & (fuzzy["kind"] == kind)]
        _score_lines(ax, sel)
        ax.set(
            title=f"{_short(model)} · {kind}",
            xlabel="R (replaced tokens)",
            ylabel="MIA AUC",
        )
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return fig


def rho_vs_r(rho_per_seed: pd.DataFrame, rho_table: pd.DataFrame, score: str) -> Figure:
    """Figure 1 of the paper: rho vs R for every model (family ``fuzzy``, one score),
    mean over seeds with +/- std error bars, each seed as a faint dot, and the
    bootstrap interval as a band when the rho table has one."""
    table = _fuzzy(rho_table[rho_table["score"] == score])
    if table.empty:
        return placeholder_figure(
            f"rho vs R ({score})", f"no fuzzy rho for score {score!r}"
        )
    seeds = rho_per_seed[rho_per_seed["score"] == score]
    fig = Figure(figsize=(7, 5), layout="constrained")
    ax = fig.add_subplot()
    several_kinds = table["kind"].nunique() > 1
    for (model, kind), unsorted in table.groupby(["model", "kind"], sort=True):
        group = unsorted.sort_values("value")
        label = f"{_short(model)} · {kind}" if several_kinds else _short(model)
        line = ax.errorbar(
            group["value"],
            group["rho_mean"],
            yerr=group["rho_std"].fillna(0),
            marker="o",
            capsize=3,
            label=label,
        )
        color = line.lines[0].get_color()
        pts = seeds[(seeds["model"] == model) & (seeds["kind"] == kind)]
        ax.scatter(pts["value"], pts["rho"], color=color, alpha=0.3, s=12)
        if {"rho_ci_low", "rho_ci_high"} <= set(group.columns) and group[
            "rho_ci_low"
        ].notna().any():
            ax.fill_between(
                group["value"],
                group["rho_ci_low"],
                group["rho_ci_high"],
                color=color,
                alpha=0.12,
            )
    ax.axhline(1.0, color="gray", linestyle="--", linewidth=1)
    ax.set(
        title=f"rho vs R ({score} score; dots: seeds, bars: std over seeds)",
        xlabel="R (replaced tokens per canary)",
        ylabel="rho (exact-copy equivalent of one fuzzy copy)",
    )
    ax.set_ylim(bottom=min(0.0, float(np.nanmin(seeds["rho"])) if len(seeds) else 0.0))
    ax.grid(alpha=0.3)
    ax.legend()
    return fig


def rho_vs_levenshtein(
    rho_table: pd.DataFrame, perturbation_summary: pd.DataFrame, score: str
) -> Figure:
    """rho vs the mean token Levenshtein distance of what the model saw (each copy's
    decoded text re-encoded, ``mean_seen_levenshtein``; the edit distance
    ``mean_levenshtein`` for older summaries), one series per perturbation kind (and
    model), for one score."""
    if perturbation_summary is None or len(perturbation_summary) == 0:
        return placeholder_figure(
            "rho vs Levenshtein",
            "no perturbation summary (copies' Levenshtein distances) for this run",
        )
    column = ("mean_seen_levenshtein" if "mean_seen_levenshtein" in perturbation_summary
              else "mean_levenshtein")
    lev = (perturbation_summary.groupby(["kind", "value"], as_index=False)[column].mean()
           .rename(columns={column: "mean_levenshtein"}))
    table = rho_table[rho_table["score"] == score].merge(
        lev, on=["kind", "value"], how="inner"
    )
    if table.empty:
        return placeholder_figure(
            "rho vs Levenshtein",
            f"no fuzzy condition has both rho ({score}) and a Levenshtein distance",
        )
    fig = Figure(figsize=(7, 5), layout="constrained")
    ax = fig.add_subplot()
    several_models = table["model"].nunique() > 1
    for (model, kind), unsorted in table.groupby(["model", "kind"], sort=True):
        group = unsorted.sort_values("mean_levenshtein")
        label = f"{_short(model)} · {kind}" if several_models else str(kind)
        ax.errorbar(
            group["mean_levenshtein"],
            group["rho_mean"],
            yerr=group["rho_std"].fillna(0),
            marker="o",
            capsize=3,
            label=label,
        )
    ax.set(
        title=f"rho vs token Levenshtein distance ({score})",
        xlabel="mean token Levenshtein distance of a copy, as re-tokenized, to its original",
        ylabel="rho",
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return fig


def roc_curves(mia_scores: pd.DataFrame, condition: str) -> Figure:
    """ROC curves (members positive; higher score = non-member) of every score for
    one condition, on log-log axes, with the chance diagonal."""
    if mia_scores is None or len(mia_scores) == 0:
        return placeholder_figure("ROC", "no per-canary MIA scores for this run")
    sel = mia_scores[mia_scores["condition"] == condition]
    if sel.empty:
        return placeholder_figure(
            "ROC", f"condition {condition!r} has no per-canary scores"
        )
    fig = Figure(figsize=(6, 5.5), layout="constrained")
    ax = fig.add_subplot()
    n_non = int((sel["set"] == "non_member").sum() / max(sel["score"].nunique(), 1))
    for score, group in sel.groupby("score", sort=True):
        y = (group["set"] == "member").to_numpy(int)
        fpr, tpr, _ = roc_curve(y, -group["value_score"].to_numpy(float))
        keep = fpr > 0
        ax.plot(fpr[keep], tpr[keep], label=str(score))
    floor = 1.0 / max(n_non, 1)
    grid = np.logspace(np.log10(floor), 0, 50)
    ax.plot(grid, grid, color="gray", linestyle="--", linewidth=1, label="chance")
    ax.set(
        xscale="log",
        yscale="log",
        xlim=(floor, 1),
        ylim=(floor, 1.02),
        title=f"ROC · {condition}",
        xlabel="false positive rate",
        ylabel="true positive rate",
    )
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    return fig


def training_curves(training_metrics: pd.DataFrame) -> Figure:
    """Training-time loss-attack AUC and member / non-member perplexity vs step, one
    line per condition."""
    if training_metrics is None or len(training_metrics) == 0:
        return placeholder_figure("training curves", "no training metrics for this run")
    fig = Figure(figsize=(12, 4.5), layout="constrained")
    ax_auc, ax_ppl = fig.subplots(1, 2)
    for condition, unsorted in training_metrics.groupby("condition", sort=True):
        group = unsorted.sort_values("step")
        (line,) = ax_auc.plot(group["step"], group["auc_loss"], label=str(condition))
        color = line.get_color()
        ax_ppl.plot(
            group["step"],
            group["ppl_members"],
            color=color,
            label=f"{condition} members",
        )
        ax_ppl.plot(
            group["step"],
            group["ppl_non_members"],
            color=color,
            linestyle="--",
            label=f"{condition} non-members",
        )
    ax_auc.set(title="loss-attack AUC during training", xlabel="step", ylabel="AUC")
    ax_ppl.set(
        title="perplexity (solid: members, dashed: non-members)",
        xlabel="step",
        ylabel="perplexity",
        yscale="log",
    )
    for ax in (ax_auc, ax_ppl):
        ax.grid(alpha=0.3)
    if training_metrics["condition"].nunique() <= 12:
        ax_auc.legend(fontsize=7)
    return fig


def extraction(extraction_table: pd.DataFrame) -> Figure:
    """The extraction experiment: mean BLEU and token edit similarity of the greedy
    continuation vs nu (exact) and vs R (token replacement), one line per model and
    kind, error bars = std over seeds. Reads the reporting ``extraction_table``."""
    if extraction_table is None or len(extraction_table) == 0:
        return placeholder_figure("extraction", "no extraction results for this run")
    fig = Figure(figsize=(11, 7.5), layout="constrained")
    axes = fig.subplots(2, 2, squeeze=False)
    panels = [("exact", "nu", "nu (exact copies)"), ("fuzzy", "R", "R (replaced tokens)")]
    metrics = [("bleu", "BLEU (sacrebleu, 0-100)"),
               ("token_edit_similarity", "token edit similarity")]
    for col, (family, axis, xlabel) in enumerate(panels):
        sel = extraction_table[extraction_table["family"] == family]
        for row, (metric, ylabel) in enumerate(metrics):
            ax = axes[row][col]
            if sel.empty:
                ax.text(0.5, 0.5, f"no {family} conditions", ha="center", va="center",
                        transform=ax.transAxes)
            for (model, kind), unsorted in sel.groupby(["model", "kind"], sort=True):
                group = unsorted.sort_values(axis)
                ax.errorbar(group[axis], group[f"{metric}_mean"],
                            yerr=group[f"{metric}_std"].fillna(0), marker="o", capsize=3,
                            label=f"{_short(model)} · {kind}")
            ax.set(xlabel=xlabel, ylabel=ylabel)
            ax.grid(alpha=0.3)
            if not sel.empty:
                ax.legend(fontsize=7)
    fig.suptitle("Extraction: greedy continuation of each member canary's first half "
                 "(mean over canaries; bars: std over seeds)")
    return fig
