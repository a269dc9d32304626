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

import matplotlib
import matplotlib.ticker
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
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
            "95 % bootstrap CI",
        )
    std = group.groupby("value")["auc"].std()
    if std.notna().any():
        return mean - std.fillna(0), mean + std.fillna(0), "mean +/- std over seeds"
    return mean, mean, "no band (one seed, no CI)"


def _scores_headline_first(table: pd.DataFrame, headline: str) -> list[str]:
    scores = sorted(table["score"].astype(str).unique())
    return ([headline] if headline in scores else []) + [s for s in scores if s != headline]


def _headline_layout(sub, n_small: int) -> tuple[Axes, list[Axes]]:
    """One large axis (the headline score) and ``n_small`` small ones beside it, two
    per column."""
    if n_small == 0:
        return sub.add_subplot(), []
    cols = int(np.ceil(n_small / 2))
    gs = sub.add_gridspec(2, 2 + cols)
    big = sub.add_subplot(gs[:, :2])
    small = [sub.add_subplot(gs[i % 2, 2 + i // 2]) for i in range(n_small)]
    return big, small


def _per_model_subfigures(models: list[str], n_small: int, height: float = 5.0):
    width = 7.5 + 2.6 * int(np.ceil(n_small / 2))
    fig = Figure(figsize=(width, height * len(models)), layout="constrained")
    subs = fig.subfigures(len(models), 1, squeeze=False).ravel()
    return fig, list(subs)


def _exact_curve(ax: Axes, exact: pd.DataFrame, small: bool) -> str:
    """Mean exact AUC over seeds vs nu with its band; returns what the band is."""
    mean = exact.groupby("value")["auc"].mean()
    low, high, band = _band(exact)
    ax.plot(mean.index, mean.values, marker="o", color="black", lw=1.2 if small else 2,
            ms=3 if small else 6, label="exact copies (mean over seeds)", zorder=3)
    ax.fill_between(mean.index, low.values, high.values, color="gray", alpha=0.25,
                    label=f"band: {band}")
    return band


def _fuzzy_overlay(ax: Axes, fuzzy: pd.DataFrame, small: bool) -> None:
    """Each token-replacement condition at its mean AUC: an open marker where its
    copies are (1 original + K copies) and a filled one at the exact-copy count with
    the same AUC (nu_eq), joined by a dotted line: the inversion behind rho."""
    cmap = matplotlib.colormaps["viridis"]
    kinds = sorted(fuzzy["kind"].unique())
    for k_i, kind in enumerate(kinds):
        rows = fuzzy[fuzzy["kind"] == kind].sort_values("value")
        marker = "osD^v"[k_i % 5]
        n = len(rows)
        for i, row in enumerate(rows.itertuples(index=False)):
            color = cmap(0.85 * i / max(n - 1, 1))
            copies = 1 + float(row.num_copies)
            label = None if small else (
                f"{kind} R={row.value:g}" if len(kinds) > 1 else f"fuzzy R={row.value:g}")
            ax.plot([copies, row.nu_eq_mean], [row.auc_mean] * 2, ":", color=color, lw=1)
            ax.plot(copies, row.auc_mean, marker, mfc="none", color=color,
                    ms=4 if small else 8)
            ax.plot(row.nu_eq_mean, row.auc_mean, marker, color=color, ms=4 if small else 8,
                    label=label, zorder=4)


def _fuzzy_points(rho_table: pd.DataFrame | None, auc_table: pd.DataFrame, model: str,
                  score: str) -> pd.DataFrame:
    """The token-replacement rows of the rho table for one model and score, with K."""
    if rho_table is None or rho_table.empty:
        return pd.DataFrame()
    sel = _fuzzy(rho_table[(rho_table["model"] == model) & (rho_table["score"] == score)])
    if sel.empty or "nu_eq_mean" not in sel or "auc_mean" not in sel:
        return pd.DataFrame()
    k = auc_table.drop_duplicates(["kind", "value"])[["kind", "value", "num_copies"]]
    sel = sel.drop(columns=["num_copies"], errors="ignore").merge(
        k.astype({"value": sel["value"].dtype}), on=["kind", "value"], how="left")
    return sel[np.isfinite(sel["nu_eq_mean"].astype(float))]


def auc_vs_nu(auc_table: pd.DataFrame, rho_table: pd.DataFrame | None = None,
              headline: str = "ratio") -> Figure:
    """AUC vs nu (exact copies), per model: the headline score large, every other
    score in a small panel; the token-replacement conditions on the same axes (open
    marker: their 1 + K copies; filled: the exact-copy count nu_eq with their AUC).
    Legends sit below the axes, off the data."""
    exact = auc_table[auc_table["kind"] == EXACT_KIND]
    if exact.empty:
        return placeholder_figure("AUC vs nu", "no exact conditions in the AUC table")
    models = sorted(exact["model"].unique())
    scores = _scores_headline_first(exact, headline)
    fig, subs = _per_model_subfigures(models, len(scores) - 1)
    for sub, model in zip(subs, models):
        big, small = _headline_layout(sub, len(scores) - 1)
        for ax, score in zip([big, *small], scores):
            is_small = ax is not big
            sel = exact[(exact["model"] == model) & (exact["score"] == score)]
            band = _exact_curve(ax, sel, is_small)
            _fuzzy_overlay(ax, _fuzzy_points(rho_table, auc_table, model, score), is_small)
            ax.grid(alpha=0.3)
            if is_small:
                ax.set_title(score, fontsize=9)
                ax.tick_params(labelsize=7)
            else:
                ax.set(title=f"{score} score (headline)", xlabel="nu (exact copies)",
                       ylabel="MIA AUC (members positive)")
        handles, labels = big.get_legend_handles_labels()
        handles.append(Line2D([], [], ls="none", marker="o", mfc="none", color="gray"))
        labels.append("open: where the 1 + K fuzzy copies are")
        sub.legend(handles, labels, loc="outside lower center", ncols=min(4, len(labels)),
                   fontsize=8)
        sub.suptitle(f"{_short(model)}: AUC vs exact copies nu (band: {band})")
    return fig


def auc_vs_r(auc_table: pd.DataFrame, headline: str = "ratio") -> Figure:
    """AUC vs R (replaced tokens) for the token-replacement conditions (family
    ``fuzzy``), per model: the headline score large (one line per kind, with its
    band, and the exact nu = 1 and largest-nu AUCs as reference lines), every other
    score small. Legends below the axes."""
    fuzzy = _fuzzy(auc_table)
    if fuzzy.empty:
        return placeholder_figure("AUC vs R", "no fuzzy conditions in the AUC table")
    models = sorted(fuzzy["model"].unique())
    scores = _scores_headline_first(fuzzy, headline)
    fig, subs = _per_model_subfigures(models, len(scores) - 1)
    exact = auc_table[auc_table["kind"] == EXACT_KIND]
    for sub, model in zip(subs, models):
        big, small = _headline_layout(sub, len(scores) - 1)
        for ax, score in zip([big, *small], scores):
            is_small = ax is not big
            sel = fuzzy[(fuzzy["model"] == model) & (fuzzy["score"] == score)]
            band = ""
            for i, (kind, group) in enumerate(sel.groupby("kind", sort=True)):
                mean = group.groupby("value")["auc"].mean()
                low, high, band = _band(group)
                ax.plot(mean.index, mean.values, marker="o", color=f"C{i}", label=kind,
                        ms=3 if is_small else 6)
                ax.fill_between(mean.index, low.values, high.values, color=f"C{i}",
                                alpha=0.2)
            ref = exact[(exact["model"] == model) & (exact["score"] == score)]
            nu_mean = ref.groupby("value")["auc"].mean()
            if len(nu_mean):
                for nu, style in ((nu_mean.index.min(), ":"), (nu_mean.index.max(), "--")):
                    ax.axhline(nu_mean[nu], color="gray", ls=style, lw=1,
                               label=f"exact nu = {nu:g}")
            ax.grid(alpha=0.3)
            if is_small:
                ax.set_title(score, fontsize=9)
                ax.tick_params(labelsize=7)
            else:
                ax.set(title=f"{score} score (headline; band: {band})",
                       xlabel="R (replaced tokens per copy)", ylabel="MIA AUC")
        handles, labels = big.get_legend_handles_labels()
        sub.legend(handles, labels, loc="outside lower center", ncols=min(4, len(labels)),
                   fontsize=8)
        sub.suptitle(f"{_short(model)}: AUC vs R (1 original + K fuzzy copies)")
    return fig


def rho_vs_r(rho_per_seed: pd.DataFrame, rho_table: pd.DataFrame, score: str) -> Figure:
    """Figure 1 of the paper: rho vs R (family ``fuzzy``, one score), per model and
    kind: every seed as a dot, the mean over seeds as a line, the paired bootstrap
    interval as error bars (the seed std where the table has no interval), and a
    labelled rho = 1 line (a fuzzy copy worth an exact copy). Legend to the right."""
    table = _fuzzy(rho_table[rho_table["score"] == score])
    if table.empty:
        return placeholder_figure(
            f"rho vs R ({score})", f"no fuzzy rho for score {score!r}"
        )
    seeds = rho_per_seed[rho_per_seed["score"] == score]
    fig = Figure(figsize=(9, 5), layout="constrained")
    ax = fig.add_subplot()
    series = list(table.groupby(["model", "kind"], sort=True))
    several_models = table["model"].nunique() > 1
    span = float(table["value"].max() - table["value"].min()) or 1.0
    bars = "paired bootstrap interval"
    for i, ((model, kind), unsorted) in enumerate(series):
        group = unsorted.sort_values("value")
        color = f"C{i}"
        label = f"{_short(model)} · {kind}" if several_models else str(kind)
        has_ci = group[["rho_ci_low", "rho_ci_high"]].notna().all().all() if {
            "rho_ci_low", "rho_ci_high"} <= set(group.columns) else False
        if has_ci:
            yerr = np.vstack([group["rho_mean"] - group["rho_ci_low"],
                              group["rho_ci_high"] - group["rho_mean"]]).clip(min=0)
        else:
            yerr, bars = group["rho_std"].fillna(0).to_numpy(), "std over seeds"
        ax.errorbar(group["value"], group["rho_mean"], yerr=yerr, marker="o", capsize=4,
                    color=color, lw=2, label=f"{label}: mean over seeds")
        pts = seeds[(seeds["model"] == model) & (seeds["kind"] == kind)]
        # seeds to the right of their mean, side by side, so none hides behind it
        rank = pts.groupby("value")["seed"].rank(method="first").to_numpy(float)
        offset = (0.02 + 0.008 * (rank - 1) + 0.004 * i) * span
        ax.scatter(pts["value"] + offset, pts["rho"], s=22, facecolors="none",
                   edgecolors=color, linewidths=1.2, label=f"{label}: one seed")
    ax.axhline(1.0, color="gray", linestyle="--", linewidth=1)
    ax.annotate("rho = 1: a fuzzy copy is worth an exact copy", (1.0, 1.0),
                xycoords=("axes fraction", "data"), xytext=(-4, 4),
                textcoords="offset points", ha="right", va="bottom", fontsize=8,
                color="dimgray")
    ax.axhline(0.0, color="gray", linewidth=0.6)
    finite = seeds["rho"][np.isfinite(seeds["rho"])] if len(seeds) else pd.Series([0.0])
    ax.set_ylim(min(-0.05, float(finite.min()) - 0.05 if len(finite) else 0.0),
                max(1.15, float(finite.max()) + 0.1 if len(finite) else 1.15))
    ax.set(
        title=f"rho vs R ({score} score; bars: {bars})",
        xlabel="R (replaced tokens per canary)",
        ylabel="rho (exact-copy worth of one fuzzy copy)",
    )
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left",
              bbox_to_anchor=(1.01, 1.0), fontsize=8)
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
    fig = Figure(figsize=(9, 5), layout="constrained")
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
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
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
    ax.legend(loc="lower right", fontsize=8)
    return fig


def _ppl_columns(metrics: pd.DataFrame) -> tuple[str, str, str]:
    """The member / non-member perplexity columns to draw and their statistic: the
    median over canaries (``ppl_members_median``...) when the metrics have it, else
    the mean (older metrics)."""
    if {"ppl_members_median", "ppl_non_members_median"} <= set(metrics.columns):
        return "ppl_members_median", "ppl_non_members_median", "median"
    return "ppl_members", "ppl_non_members", "mean (this run's metrics have no median)"


def training_curves(training_metrics: pd.DataFrame,
                    families: dict[str, str] | None = None) -> Figure:
    """Training-time loss-attack AUC and member / non-member perplexity (median over
    canaries where the metrics have it) vs step, one line per training run coloured
    by its condition's family (``families``: condition -> family, from the AUC
    table's columns; runs it does not name, e.g. a pooled seed's, are "pooled"),
    with the AUC at step 0 (the attack before any injected text was learnt) marked.
    The legend (one entry per family) sits to the right, off the data."""
    if training_metrics is None or len(training_metrics) == 0:
        return placeholder_figure("training curves", "no training metrics for this run")
    members, non_members, stat = _ppl_columns(training_metrics)
    families = families or {}
    fig = Figure(figsize=(13, 4.8), layout="constrained")
    ax_auc, ax_ppl = fig.subplots(1, 2)
    runs = training_metrics.groupby("condition", sort=True)
    names = sorted({families.get(str(c), "pooled") for c, _ in runs})
    colors = {name: f"C{i % 10}" for i, name in enumerate(names)}
    for condition, unsorted in runs:
        group = unsorted.sort_values("step")
        family = families.get(str(condition), "pooled")
        color, width = colors[family], 1.0 if runs.ngroups > 12 else 1.6
        ax_auc.plot(group["step"], group["auc_loss"], color=color, lw=width, alpha=0.8)
        ax_ppl.plot(group["step"], group[members], color=color, lw=width, alpha=0.8)
        ax_ppl.plot(group["step"], group[non_members], color=color, lw=width, alpha=0.8,
                    linestyle="--")
    start = training_metrics[training_metrics["step"] == training_metrics["step"].min()]
    base = float(start["auc_loss"].mean())
    ax_auc.axhline(base, color="black", linestyle=":", linewidth=1)
    ax_auc.annotate(f"step {start['step'].min():g}: AUC {base:.3f} (before injection)",
                    (1.0, base), xycoords=("axes fraction", "data"), xytext=(-4, -12),
                    textcoords="offset points", ha="right", fontsize=8)
    ax_auc.axhline(0.5, color="gray", linewidth=0.6)
    ax_auc.set(title="loss-attack AUC during training", xlabel="step",
               ylabel="AUC (members positive)")
    ax_ppl.set(title=f"perplexity, {stat.split(' ')[0]} over canaries", xlabel="step",
               ylabel="perplexity (log)", yscale="log")
    ax_ppl.yaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
    ax_ppl.yaxis.set_minor_formatter(matplotlib.ticker.ScalarFormatter())
    for ax in (ax_auc, ax_ppl):
        ax.grid(alpha=0.3, which="both")
    handles = [Line2D([], [], color=colors[n], label=n) for n in names]
    handles += [Line2D([], [], color="gray", label="members"),
                Line2D([], [], color="gray", ls="--", label="non-members")]
    ax_ppl.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8,
                  title=f"{runs.ngroups} runs", title_fontsize=8)
    if not stat.startswith("median"):
        fig.suptitle("perplexity: the mean over canaries (these metrics have no median)",
                     fontsize=9)
    return fig


def extraction(extraction_table: pd.DataFrame) -> Figure:
    """The extraction experiment: mean BLEU and token edit similarity of the greedy
    continuation vs nu (exact) and vs R (token replacement), one line per model and
    kind, error bars = std over seeds. Reads the reporting ``extraction_table``."""
    if extraction_table is None or len(extraction_table) == 0:
        return placeholder_figure("extraction", "no extraction results for this run")
    fig = Figure(figsize=(13, 7.5), layout="constrained")
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
    labelled = {}
    for ax in axes.ravel():
        for handle, label in zip(*ax.get_legend_handles_labels()):
            labelled.setdefault(label, handle)
    if labelled:
        fig.legend(list(labelled.values()), list(labelled), loc="outside right upper",
                   fontsize=8)
    fig.suptitle("Extraction: greedy continuation of each member canary's first half "
                 "(mean over canaries; bars: std over seeds)")
    return fig


# ------------------------------------------------------------------ SlimPajama (SPEC §7)


def _near_dup_stats(table: pd.DataFrame, measure: str) -> pd.DataFrame:
    """Mean and standard error over targets of the extrapolated copy counts, per
    bucket and x, for one measure of the ``slimpajama_near_duplicates`` table."""
    t = table[table["measure"] == measure]
    out = t.groupby(["bucket", "x"])["n_extrapolated"].agg(["mean", "std", "count"])
    out = out.reset_index()
    out["se"] = out["std"].fillna(0) / np.sqrt(out["count"].clip(lower=1))
    return out


def _count_axis(ax: Axes, stats: list[pd.DataFrame]) -> float:
    """A y axis for copy counts that spans the data, never squashed towards zero:
    log from half the smallest positive mean when every mean is positive, else
    symlog (linear below 1) from 0. Returns the lower limit bands are clipped at."""
    means = pd.concat([s["mean"] for s in stats]) if stats else pd.Series(dtype=float)
    if means.empty:
        return 0.0
    if (means > 0).all():
        bottom = float(means.min()) / 2
        ax.set_yscale("log")
        ax.set_ylim(bottom=bottom)
        return bottom
    ax.set_yscale("symlog", linthresh=1.0)
    ax.set_ylim(bottom=0.0)
    return 0.0


def _near_dup_figure(table: pd.DataFrame, measures: tuple[str, ...], xlabel: str,
                     title: str) -> Figure:
    if table is None or len(table) == 0:
        return placeholder_figure(title, "no SlimPajama near-duplicate table for this run")
    fig = Figure(figsize=(8, 4.5), layout="constrained")
    ax = fig.add_subplot()
    stats = [_near_dup_stats(table, m) for m in measures]
    bottom = _count_axis(ax, stats)
    ax.set_autoscaley_on(True)
    for measure, stat in zip(measures, stats):
        for i, (bucket, s) in enumerate(stat.groupby("bucket")):
            dashed = measure == "hamming"
            ax.plot(s["x"], s["mean"], linestyle="--" if dashed else "-", color=f"C{i}",
                    label=f"{measure}, {bucket:g} exact copies" if len(measures) > 1
                    else f"targets with {bucket:g} exact copies")
            ax.fill_between(s["x"], (s["mean"] - s["se"]).clip(lower=bottom),
                            s["mean"] + s["se"], color=f"C{i}", alpha=0.15)
    ax.set_ylim(bottom=bottom)  # after the data, so the top follows them
    ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    ax.set(xlabel=xlabel, ylabel="copies per target (extrapolated to the corpus)",
           title=title)
    ax.grid(alpha=0.3, which="both")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    return fig


def near_duplicates_vs_distance(near_duplicates: pd.DataFrame) -> Figure:
    """Cumulative near-duplicates within Levenshtein distance d per target, per
    exact-count bucket (mean +/- SE over targets)."""
    return _near_dup_figure(near_duplicates, ("levenshtein",), "edit distance d (tokens)",
                            "Near-duplicates within distance d (mean +/- SE over targets)")


def levenshtein_vs_hamming(near_duplicates: pd.DataFrame) -> Figure:
    """The same counts by Levenshtein (solid) and Hamming (dashed) distance."""
    return _near_dup_figure(near_duplicates, ("levenshtein", "hamming"),
                            "distance d (tokens)", "Levenshtein (solid) vs Hamming (dashed)")


def dedup_survivors(near_duplicates: pd.DataFrame) -> Figure:
    """Near-duplicates (within the scan's distance) that share no n-token run with
    their target, i.e. survive exact-substring deduplication at n, vs n."""
    return _near_dup_figure(near_duplicates, ("dedup_survivors",),
                            "exact-dedup substring length n (tokens)",
                            "Near-duplicates surviving exact dedup at n")
