"""Nodes of the ``reporting`` pipeline: rho (SPEC §6), the paper's figures, a report.

Inputs produced by other pipelines (``auc_table``, ``mia_scores``,
``training_metrics``, ``perturbation_summary``) may be empty: the ``published``
environment binds the last three to empty in-memory datasets, since the paper
released only AUCs. Nodes then return a placeholder figure or an empty table, and the
report says what is missing.
"""

from __future__ import annotations

from importlib import metadata
from typing import Any, Literal

import numpy as np
import pandas as pd
import yaml
from matplotlib.figure import Figure
from pydantic import Field

from mosaic_kedro import plotting
from mosaic_kedro.grid import META_COLUMNS
from mosaic_kedro.params import StrictParams, parse_params
from mosaic_kedro.rho import (
    AUC_TABLE_COLUMNS,
    BOOTSTRAP_COLUMNS,
    EXACT_KIND,
    RhoError,
    aggregate_rho,
    bootstrap_rho,
    normalize_published,
    rho_per_seed,
)

PAPER_MODELS = (
    "EleutherAI/gpt-neo-1.3B",
    "google/gemma-2b",
    "meta-llama/Llama-3.2-1B",
    "microsoft/phi-2",
)
VERSIONED_PACKAGES = (
    "kedro",
    "kedro-datasets",
    "numpy",
    "pandas",
    "scipy",
    "scikit-learn",
    "matplotlib",
    "torch",
    "transformers",
    "sacrebleu",
)


class BootstrapParams(StrictParams):
    """Bootstrap of rho over canaries (needs ``mia_scores``)."""

    enabled: bool = True
    n_boot: int = Field(1000, ge=10, le=100_000)
    alpha: float = Field(0.05, gt=0.0, lt=1.0)
    random_state: int = 0


class ReportingParams(StrictParams):
    """The ``reporting:`` parameter block."""

    input_layout: Literal["project", "published"] = "project"
    headline_score: str = "ratio"
    smooth: bool = True
    std_ddof: int = Field(0, ge=0, le=1)
    bootstrap: BootstrapParams = BootstrapParams()
    roc_condition: str | None = None
    departures: list[str] = []


Figured = tuple[Figure, dict[str, str]]


def _params(raw: Any) -> ReportingParams:
    return parse_params(ReportingParams, raw, "reporting")


def _frame(data: Any) -> pd.DataFrame:
    """An optional input as a DataFrame (empty for ``[]`` or ``None``)."""
    if data is None:
        return pd.DataFrame()
    return data if isinstance(data, pd.DataFrame) else pd.DataFrame(data)


def _figured(fig: Figure, key: str, title: str) -> Figured:
    return fig, {"key": key, "title": title, "uri": plotting.figure_to_data_uri(fig)}


# ------------------------------------------------------------------------- tables


def prepare_auc_table(auc_table: pd.DataFrame, params: dict[str, Any]) -> pd.DataFrame:
    """Validate ``params:reporting`` and bring ``auc_table`` to the project layout.

    Input: the AUC table (project layout, or the paper's published layout when
    ``input_layout: published``). Output: the AUC table in the project layout.
    Fails when the headline score is absent, naming the scores present.
    """
    p = _params(params)
    table = (
        normalize_published(auc_table) if p.input_layout == "published" else auc_table
    )
    missing = sorted(set(AUC_TABLE_COLUMNS) - set(table.columns))
    if missing:
        raise RhoError(
            f"auc_table lacks columns {missing} of the project layout; for the paper's "
            "released AUCs set reporting.input_layout: published (conf/published)"
        )
    scores = sorted(table["score"].astype(str).unique())
    if p.headline_score not in scores:
        raise RhoError(
            f"reporting.headline_score = {p.headline_score!r} is not in the AUC table; "
            f"allowed: {scores}"
        )
    if p.input_layout == "published":
        table = _published_metadata(table)
    lacking = sorted(set(META_COLUMNS) - set(table.columns))
    if lacking:
        raise RhoError(
            f"auc_table lacks the condition metadata columns {lacking}; it was made by "
            "an older version of the mia pipeline: rerun `kedro run --pipelines=mia`"
        )
    extra = [c for c in META_COLUMNS if c not in AUC_TABLE_COLUMNS]
    return table[[*AUC_TABLE_COLUMNS, *extra]].reset_index(drop=True)


def _published_metadata(table: pd.DataFrame) -> pd.DataFrame:
    """Metadata of the paper's released conditions, from their documented values
    (shared/data/README.md: ``exact`` = nu copies; ``fuzzy_mlm_topk10`` = 9 copies with
    ``value`` tokens replaced by roberta-base top-10 candidates)."""
    is_exact = table["kind"] == EXACT_KIND
    value = table["value"].astype(float)
    return table.assign(
        family=np.where(is_exact, "exact", "fuzzy"),
        strategy=np.where(is_exact, None, "mlm"),
        nu=value.where(is_exact), R=value.where(~is_exact),
        top_k=np.where(is_exact, np.nan, 10.0), n=np.nan, x=np.nan, tau=np.nan,
    )


def _condition_meta_table(auc_table: pd.DataFrame) -> pd.DataFrame:
    """One row per (kind, value) with its metadata columns (``grid.META_COLUMNS``
    without ``num_copies``, which rho tables carry already)."""
    cols = [c for c in META_COLUMNS if c != "num_copies"]
    return auc_table.drop_duplicates(["kind", "value"])[["kind", "value", *cols]]


def _with_metadata(frame: pd.DataFrame, auc_table: pd.DataFrame) -> pd.DataFrame:
    meta = _condition_meta_table(auc_table)
    meta = meta.astype({"value": frame["value"].dtype}) if len(frame) else meta
    return frame.merge(meta, on=["kind", "value"], how="left")


def compute_rho_per_seed(
    auc_table: pd.DataFrame, params: dict[str, Any]
) -> pd.DataFrame:
    """rho of every fuzzy condition, per seed, with the condition's metadata columns
    (input: AUC table; output: per-seed rho)."""
    per_seed = rho_per_seed(auc_table, smooth=_params(params).smooth)
    return _with_metadata(per_seed, auc_table)


def compute_rho_bootstrap(
    mia_scores: Any, auc_table: pd.DataFrame, params: dict[str, Any]
) -> pd.DataFrame:
    """Bootstrap intervals of rho from per-canary scores (inputs: ``mia_scores``, AUC
    table for K and the model name). Empty when disabled or without scores."""
    p = _params(params)
    scores = _frame(mia_scores)
    if not p.bootstrap.enabled or scores.empty:
        return pd.DataFrame(columns=BOOTSTRAP_COLUMNS)
    if "model" not in scores.columns:
        models = auc_table["model"].unique()
        if len(models) != 1:
            raise RhoError(
                f"mia_scores has no model column but the AUC table has {len(models)} models"
            )
        scores = scores.assign(model=models[0])
    out = bootstrap_rho(  # paired: one resample of canary ids per replicate and group
        scores,
        n_boot=p.bootstrap.n_boot,
        alpha=p.bootstrap.alpha,
        smooth=p.smooth,
        random_state=p.bootstrap.random_state,
    )
    return out[BOOTSTRAP_COLUMNS]


def build_rho_table(
    per_seed: pd.DataFrame, bootstrap: pd.DataFrame, auc_table: pd.DataFrame,
    params: dict[str, Any],
) -> pd.DataFrame:
    """The rho table: mean/std over seeds (std with ``reporting.std_ddof``), the paired
    bootstrap interval (NaN without per-canary scores) and the condition's metadata.
    One row per model, score, kind and value."""
    keys = ["model", "score", "kind", "value"]
    table = aggregate_rho(per_seed, ddof=_params(params).std_ddof)
    if len(bootstrap):
        ci = bootstrap[[*keys, "rho_ci_low", "rho_ci_high"]]
        table = table.merge(ci.astype({"value": table["value"].dtype}), on=keys, how="left")
    else:
        table = table.assign(rho_ci_low=np.nan, rho_ci_high=np.nan)
    return _with_metadata(table, auc_table)


SECONDARY_COLUMNS = ["family", "model", "score", "kind", "value", "strategy", "top_k", "R",
                     "n", "x", "tau", "auc_mean", "rho_mean", "rho_std", "rho_ci_low",
                     "rho_ci_high", "n_seeds"]


def secondary_family(meta: pd.DataFrame) -> pd.Series:
    """The secondary table each condition belongs to (None: not secondary), read from
    the metadata columns: insertion, scrambled, shuffle and paraphrase by family;
    ``topk`` for every token-replacement condition when the run has more than one
    (strategy, top_k) combination (with one, they are the main rho table)."""
    fuzzy = meta["family"] == "fuzzy"
    combos = meta.loc[fuzzy, ["strategy", "top_k"]].astype(str).drop_duplicates()
    out = meta["family"].where(meta["family"].isin(["insertion", "scrambled", "shuffle",
                                                    "paraphrase"]))
    if len(combos) > 1:
        out = out.where(~fuzzy, "topk")
    return out


def build_secondary_tables(
    auc_table: pd.DataFrame, rho_table: pd.DataFrame
) -> pd.DataFrame:
    """Long table of the secondary experiments of the run (insertion n x X, scrambled n,
    shuffle n x tau, paraphrase, and the top-k / strategy comparison): family, the
    condition's metadata, mean AUC over seeds, rho (mean, std, paired interval) per
    model, score, kind and value. Empty when none ran."""
    keys = ["model", "score", "kind", "value"]
    fuzzy = auc_table[auc_table["family"] != "exact"]
    auc = fuzzy.groupby(keys, as_index=False, dropna=False)["auc"].mean()
    auc = _with_metadata(auc.rename(columns={"auc": "auc_mean"}), auc_table)
    auc["family"] = secondary_family(auc).to_numpy()
    auc = auc.dropna(subset=["family"])
    if auc.empty:
        return pd.DataFrame(columns=SECONDARY_COLUMNS)
    rho = rho_table[[*keys, "rho_mean", "rho_std", "rho_ci_low", "rho_ci_high", "n_seeds"]]
    out = auc.merge(rho.astype({"value": auc["value"].dtype}), on=keys, how="left")
    return (out.reindex(columns=SECONDARY_COLUMNS)
            .sort_values(["family", "model", "score", "kind", "value"])
            .reset_index(drop=True))


EXTRACTION_TABLE_COLUMNS = ["model", "kind", "value", *META_COLUMNS,
                            "bleu_mean", "bleu_std", "token_edit_similarity_mean",
                            "token_edit_similarity_std", "exact_match_rate", "n_canaries",
                            "n_seeds"]


def build_extraction_table(extraction_scores: Any, params: dict[str, Any]) -> pd.DataFrame:
    """The extraction experiment per model and condition (kind, value): BLEU, token edit
    similarity (mean over canaries, averaged over seeds; std over seeds with
    ``reporting.std_ddof``) and the exact-match rate. Input: ``extraction_scores``.
    Empty when the run made none."""
    scores = _frame(extraction_scores)
    if scores.empty:
        return pd.DataFrame(columns=EXTRACTION_TABLE_COLUMNS)
    ddof = _params(params).std_ddof
    keys = ["model", "kind", "value"]
    per_seed = scores.groupby([*keys, "seed"], as_index=False, dropna=False).agg(
        bleu=("bleu", "mean"), token_edit_similarity=("token_edit_similarity", "mean"),
        exact_match=("exact_match", "mean"), n_canaries=("canary_id", "size"))

    def spread(a: pd.Series) -> float:
        return _seed_std(a, ddof)

    out = per_seed.groupby(keys, as_index=False, dropna=False).agg(
        bleu_mean=("bleu", "mean"), bleu_std=("bleu", spread),
        token_edit_similarity_mean=("token_edit_similarity", "mean"),
        token_edit_similarity_std=("token_edit_similarity", spread),
        exact_match_rate=("exact_match", "mean"), n_canaries=("n_canaries", "sum"),
        n_seeds=("seed", "nunique"))
    meta = scores.drop_duplicates(["kind", "value"])[["kind", "value", *META_COLUMNS]]
    out = out.merge(meta, on=["kind", "value"], how="left")
    return out[EXTRACTION_TABLE_COLUMNS].sort_values(keys).reset_index(drop=True)


# ------------------------------------------------------------------------- figures


def plot_auc_vs_nu(auc_table: pd.DataFrame) -> Figured:
    """Figure: AUC vs nu (exact copies), per score with bands; plus its embed."""
    return _figured(
        plotting.auc_vs_nu(auc_table), "auc_vs_nu", "AUC vs nu (exact duplicates)"
    )


def plot_auc_vs_r(auc_table: pd.DataFrame) -> Figured:
    """Figure: AUC vs R (fuzzy duplicates), per score with bands; plus its embed."""
    return _figured(
        plotting.auc_vs_r(auc_table), "auc_vs_r", "AUC vs R (fuzzy duplicates)"
    )


def plot_rho_vs_r(
    per_seed: pd.DataFrame, rho_table: pd.DataFrame, params: dict[str, Any]
) -> Figured:
    """Figure 1: rho vs R with seed spread, headline score; plus its embed."""
    score = _params(params).headline_score
    return _figured(
        plotting.rho_vs_r(per_seed, rho_table, score), "rho_vs_r", f"rho vs R ({score})"
    )


def plot_rho_vs_levenshtein(
    rho_table: pd.DataFrame, perturbation_summary: Any, params: dict[str, Any]
) -> Figured:
    """Figure: rho vs mean token Levenshtein distance per kind; plus its embed."""
    score = _params(params).headline_score
    fig = plotting.rho_vs_levenshtein(rho_table, _frame(perturbation_summary), score)
    return _figured(
        fig, "rho_vs_levenshtein", f"rho vs token Levenshtein distance ({score})"
    )


def choose_roc_condition(mia_scores: pd.DataFrame, wanted: str | None) -> str | None:
    """The condition whose ROC is drawn: ``wanted``, else the first fuzzy condition by
    name, else the first condition; ``None`` without scores."""
    if mia_scores.empty:
        return None
    conditions = sorted(mia_scores["condition"].astype(str).unique())
    if wanted is not None:
        if wanted not in conditions:
            raise RhoError(
                f"reporting.roc_condition = {wanted!r} has no scores; allowed: {conditions}"
            )
        return wanted
    fuzzy = sorted(
        mia_scores.loc[mia_scores["kind"] != EXACT_KIND, "condition"]
        .astype(str)
        .unique()
    )
    return (fuzzy or conditions)[0]


def plot_roc(mia_scores: Any, params: dict[str, Any]) -> Figured:
    """Figure: ROC curves on log axes for the chosen condition; plus its embed."""
    scores = _frame(mia_scores)
    condition = choose_roc_condition(scores, _params(params).roc_condition)
    fig = plotting.roc_curves(scores, condition or "")
    return _figured(fig, "roc", f"ROC curves ({condition or 'no scores'})")


def plot_extraction(extraction_table: pd.DataFrame) -> Figured:
    """Figure: extraction BLEU and token edit similarity vs nu and vs R; plus its embed."""
    return _figured(plotting.extraction(extraction_table), "extraction",
                    "Extraction (greedy continuation of the canary's second half)")


def plot_training_curves(training_metrics: Any) -> Figured:
    """Figure: training-time loss-attack AUC and perplexities; plus its embed."""
    fig = plotting.training_curves(_frame(training_metrics))
    return _figured(fig, "training_curves", "Training-time AUC and perplexity")


# ------------------------------------------------------------------------- report


def _md_table(frame: pd.DataFrame) -> str:
    if frame.empty:
        return "_(empty)_\n"
    cols = [str(c) for c in frame.columns]
    lines = [
        "| " + " | ".join(cols) + " |",
        "| " + " | ".join("---" for _ in cols) + " |",
    ]
    for row in frame.itertuples(index=False):
        lines.append("| " + " | ".join(str(v) for v in row) + " |")
    return "\n".join(lines) + "\n"


def _mean_std(mean: float, std: float, digits: int = 3) -> str:
    if not np.isfinite(mean):
        return str(mean)
    return (
        f"{mean:.{digits}f}"
        if not np.isfinite(std)
        else f"{mean:.{digits}f} ± {std:.{digits}f}"
    )


def _seed_std(values: pd.Series, ddof: int) -> float:
    """Standard deviation over seeds with ``ddof`` (NaN when too few seeds)."""
    return float(np.std(values, ddof=ddof)) if len(values) > ddof else np.nan


def _spread(ddof: int) -> str:
    return ("population std over seeds (ddof 0, the paper's ±)" if ddof == 0
            else "sample std over seeds (ddof 1)")


def _auc_tables(auc_table: pd.DataFrame, ddof: int) -> str:
    parts = []
    stats = (
        auc_table.groupby(["model", "kind", "value", "score"])["auc"]
        .agg(mean="mean", std=lambda a: _seed_std(a, ddof))
        .reset_index()
    )
    stats["cell"] = [_mean_std(m, s) for m, s in zip(stats["mean"], stats["std"])]
    for model, group in stats.groupby("model", sort=True):
        pivot = group.pivot(
            index=["kind", "value"], columns="score", values="cell"
        ).reset_index()
        parts.append(f"**{model}** (mean ± {_spread(ddof)})\n\n" + _md_table(pivot))
    return "\n".join(parts)


def _rho_tables(rho_table: pd.DataFrame, ddof: int) -> str:
    parts = []
    cells = rho_table.assign(
        cell=[
            _mean_std(m, s) for m, s in zip(rho_table["rho_mean"], rho_table["rho_std"])
        ]
    )
    for model, group in cells.groupby("model", sort=True):
        pivot = group.pivot(
            index=["kind", "value"], columns="score", values="cell"
        ).reset_index()
        n = group.groupby(["kind", "value"])["n_seeds"].max().reset_index(drop=True)
        pivot["n_seeds"] = n.to_numpy()
        parts.append(f"**{model}** (rho mean ± {_spread(ddof)})\n\n" + _md_table(pivot))
    ci = rho_table.dropna(subset=["rho_ci_low", "rho_ci_high"])
    if len(ci):
        ci = ci.assign(
            interval=[_interval(a, b) for a, b in zip(ci["rho_ci_low"], ci["rho_ci_high"])]
        )
        parts.append(
            "Paired bootstrap 95 % intervals of the mean rho: each replicate resamples "
            "the canary ids once (members and non-members) and uses that resample in "
            "every condition that shares them, recomputes every AUC, smooths and "
            "inverts the exact curve, and averages rho over seeds (percentile "
            "interval):\n\n"
            + _md_table(
                ci[["model", "score", "kind", "value", "rho_mean", "interval"]].round(3)
            )
        )
    return "\n".join(parts)


def _secondary_section(secondary: pd.DataFrame, score: str, ddof: int) -> str:
    if secondary.empty:
        return "No secondary conditions (insertion, shuffle, top-k variants) in this run.\n"
    parts = []
    sel = secondary[secondary["score"] == score]
    for family, group in sel.groupby("family", sort=True):
        cols = [c for c in ("strategy", "top_k", "R", "n", "x", "tau")
                if group[c].notna().any()]
        shown = group.assign(
            rho=[_mean_std(m, s) for m, s in zip(group["rho_mean"], group["rho_std"])],
            interval=[_interval(a, b) for a, b in zip(group["rho_ci_low"],
                                                      group["rho_ci_high"])])
        parts.append(
            f"**{family}** ({score}; rho mean ± {_spread(ddof)}, paired 95 % "
            "bootstrap interval)\n\n"
            + _md_table(shown[["model", *cols, "auc_mean", "rho", "interval", "n_seeds"]]
                        .round(3)))
    return "\n".join(parts)


def _interval(low: float, high: float) -> str:
    return "" if pd.isna(low) or pd.isna(high) else f"[{low:.3f}, {high:.3f}]"


def _extraction_section(extraction: pd.DataFrame, ddof: int) -> str:
    if extraction.empty:
        return "No extraction results in this run (mia.extraction.enabled: false).\n"
    shown = extraction.assign(
        bleu=[_mean_std(m, s, 2) for m, s in zip(extraction["bleu_mean"],
                                                  extraction["bleu_std"])],
        token_edit_similarity=[_mean_std(m, s) for m, s in zip(
            extraction["token_edit_similarity_mean"], extraction["token_edit_similarity_std"])])
    return (
        "Each trained model is prompted with the first half of every member canary and "
        "greedy-decodes as many tokens as the second half; the continuation is compared "
        "with the true suffix by sacrebleu sentence BLEU (0-100) and token edit "
        f"similarity (1 - Levenshtein / max length); mean over canaries ± {_spread(ddof)}."
        "\n\n" + _md_table(shown[["model", "kind", "value", "bleu", "token_edit_similarity",
                                   "exact_match_rate", "n_canaries", "n_seeds"]].round(3)))


def _versions() -> str:
    found = []
    for name in VERSIONED_PACKAGES:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            found.append(f"{name} (not installed)")
    return ", ".join(found)


def departures_from_paper(auc_table: pd.DataFrame, p: ReportingParams) -> list[str]:
    """Plain statements of where the run departs from the paper."""
    notes = []
    if p.input_layout == "published":
        notes.append(
            "Computed from the paper's released per-seed AUCs (data/01_raw/published_aucs.csv): "
            "no model was trained or scored here, so there are no AUC confidence intervals, "
            "TPR values, ROC curves, training curves, Levenshtein distances or bootstrap "
            "intervals for rho (the paper released none of these)."
        )
    others = sorted(set(auc_table["model"]) - set(PAPER_MODELS))
    if others:
        notes.append(
            f"Target model(s) {others} are not the paper's ({', '.join(PAPER_MODELS)}): "
            "a tiny target memorizes differently, so compare trends, not values."
        )
    kinds = sorted(set(auc_table["kind"]) - {EXACT_KIND})
    if any("clm" in k for k in kinds):
        notes.append(
            "Fuzzy copies use a causal replacer (`clm`: the generator's top-k next-token "
            "predictions from the left context) instead of the paper's masked LM (roberta-base)."
        )
    seeds = auc_table.groupby("model")["seed"].nunique()
    if (seeds < 5).any():
        notes.append(f"Fewer seeds than the paper's 5: {seeds.to_dict()}.")
    return notes + list(p.departures)


def write_report(  # noqa: PLR0914
    auc_table: pd.DataFrame,
    rho_table: pd.DataFrame,
    secondary: pd.DataFrame,
    extraction: pd.DataFrame,
    parameters: dict[str, Any],
    params: dict[str, Any],
    *figures: dict[str, str],
) -> str:
    """The Markdown report: what was run (models, grid, seeds, parameters, versions),
    departures from the paper, AUC and rho tables, secondary and extraction tables,
    and every figure
    embedded as a PNG data URI (the file stands alone)."""
    p = _params(params)
    if p.input_layout == "published":  # the project's grid did not make these AUCs
        parameters = {"reporting": params}
    grid = auc_table.groupby("kind")["value"].apply(
        lambda v: ", ".join(str(x) for x in sorted(v.unique()))
    )
    seeds = ", ".join(str(s) for s in sorted(auc_table["seed"].unique()))
    fig_md = "\n".join(
        f"### {f['title']}\n\n![{f['title']}]({f['uri']})\n" for f in figures
    )
    departures = departures_from_paper(auc_table, p)
    source = (
        "the paper's released per-seed AUCs (data/01_raw/published_aucs.csv)"
        if p.input_layout == "published"
        else "this project's AUC table (mia pipeline)"
    )
    sections = [
        "# mosaic_kedro report: the mosaic memory of language models\n",
        "rho is the number of exact copies one fuzzy copy is worth (SPEC §6): the exact-copy "
        "AUC curve of each seed is smoothed (3-point moving average, endpoints kept"
        + ("" if p.smooth else "; smoothing was OFF for this run")
        + "), inverted at the fuzzy AUC, and rescaled by the number of fuzzy copies K; "
        "rho is then averaged over seeds.\n",
        "## What was run\n",
        f"- Input: {source}\n"
        f"- Models: {', '.join(sorted(auc_table['model'].unique()))}\n"
        f"- Scores: {', '.join(sorted(auc_table['score'].unique()))} (headline: {p.headline_score})\n"
        f"- Seeds: {seeds}\n"
        f"- Fuzzy copies K: {sorted(auc_table.loc[auc_table['kind'] != EXACT_KIND, 'num_copies'].unique().tolist())}\n"
        f"- Package versions: {_versions()}\n",
        "Grid (kind: values):\n\n"
        + _md_table(grid.reset_index().rename(columns={"value": "values"})),
        "## Departures from the paper\n",
        ("\n".join(f"- {d}" for d in departures) if departures else "None detected.")
        + "\n",
        f"## Figure 1 and the other figures\n\n{fig_md}",
        "## rho\n\n" + _rho_tables(rho_table, p.std_ddof),
        "## AUC\n\n" + _auc_tables(auc_table, p.std_ddof),
        "## Secondary experiments\n\n"
        + _secondary_section(secondary, p.headline_score, p.std_ddof),
        "## Extraction\n\n" + _extraction_section(extraction, p.std_ddof),
        "## Parameters\n\n```yaml\n"
        + yaml.safe_dump(parameters, sort_keys=True, default_flow_style=False)
        + "```\n",
    ]
    return "\n".join(sections)
