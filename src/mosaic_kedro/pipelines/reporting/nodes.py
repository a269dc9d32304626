"""Nodes of the ``reporting`` pipeline: rho (SPEC §6), the paper's figures, a report.

Inputs produced by other pipelines (``auc_table``, ``mia_scores``,
``training_metrics``, ``perturbation_summary``) may be empty: the ``published``
environment binds the last three to empty in-memory datasets, since the paper
released only AUCs. Nodes then return a placeholder figure or an empty table, and the
report says what is missing.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from pydantic import Field

from mosaic_kedro import plotting, provenance, report_render
from mosaic_kedro.grid import META_COLUMNS
from mosaic_kedro.params import StrictParams, parse_params
from mosaic_kedro.pipelines.reporting import sections
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

logger = logging.getLogger(__name__)


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
    # where report.md (a versioned file: report.md/<version>/report.md) finds the
    # figure files of ``report_figures``
    markdown_figure_dir: str = "../../report_figures"


Block = dict[str, Any]
Figured = tuple[Figure, Block]


def _params(raw: Any) -> ReportingParams:
    return parse_params(ReportingParams, raw, "reporting")


def _frame(data: Any) -> pd.DataFrame:
    """An optional input as a DataFrame (empty for ``[]`` or ``None``)."""
    if data is None:
        return pd.DataFrame()
    return data if isinstance(data, pd.DataFrame) else pd.DataFrame(data)


def _figured(fig: Figure, key: str, title: str, caption: str) -> Figured:
    """The figure (for its own dataset) and its report block (with what to read)."""
    return fig, {"type": "figure", "key": key, "title": title, "caption": caption,
                 "figure": fig}


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
    runs = [c for c in provenance.RUN_COLUMNS if c in table.columns]  # absent: published
    return table[[*AUC_TABLE_COLUMNS, *extra, *runs]].reset_index(drop=True)


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
        return sections.seed_std(a, ddof)

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


def plot_auc_vs_nu(
    auc_table: pd.DataFrame, rho_table: pd.DataFrame, params: dict[str, Any]
) -> Figured:
    """Figure: AUC vs nu, headline score large, other scores small, the fuzzy
    conditions at their AUC on the same axes (inputs: AUC and rho tables); plus its
    report block."""
    score = _params(params).headline_score
    fig = plotting.auc_vs_nu(auc_table, rho_table, score)
    return _figured(fig, "auc_vs_nu", "AUC vs exact copies nu", (
        "The black line is the attack's AUC against the number nu of exact copies of "
        "each member canary (the exact curve rho is read from). Each coloured pair is "
        "one token-replacement condition at its mean AUC: the open marker sits where "
        "its 1 + K copies are, the filled one at the number of exact copies that give "
        "the same AUC (nu_eq); the further left the filled marker, the less a fuzzy "
        "copy is worth (rho = (nu_eq - 1) / K). Small panels: the other scores."))


def plot_auc_vs_r(auc_table: pd.DataFrame, params: dict[str, Any]) -> Figured:
    """Figure: AUC vs R, headline score large, other scores small; plus its block."""
    score = _params(params).headline_score
    return _figured(plotting.auc_vs_r(auc_table, score), "auc_vs_r", "AUC vs replaced tokens R", (
        "AUC of each token-replacement condition against R, the tokens replaced in "
        "every copy. The grey lines are the exact conditions with the fewest and the "
        "most copies: a fuzzy curve that falls from near the upper line towards the "
        "lower one shows memorization fading as the copies drift from the canary."))


def plot_rho_vs_r(
    per_seed: pd.DataFrame, rho_table: pd.DataFrame, params: dict[str, Any]
) -> Figured:
    """Figure 1: rho vs R, per-seed dots, mean and paired bootstrap interval, rho = 1
    line (inputs: per-seed rho, rho table); the caption carries the verdict."""
    p = _params(params)
    score, pct = p.headline_score, sections.level(p.bootstrap.alpha)
    verdict = " ".join(sections.rho_trend_sentences(rho_table, score, pct))
    return _figured(plotting.rho_vs_r(per_seed, rho_table, score), "rho_vs_r",
                    f"Figure 1: rho vs R ({score})", (
        "rho is how many exact copies one fuzzy copy is worth. Dots: one seed each; "
        f"line: the mean over seeds; bars: the paired {pct} % bootstrap interval of the mean "
        "(the seed std where no per-canary scores exist). Points near the dashed "
        "rho = 1 line mean a fuzzy copy counts like an exact one. " + verdict))


def plot_rho_vs_levenshtein(
    rho_table: pd.DataFrame, perturbation_summary: Any, params: dict[str, Any]
) -> Figured:
    """Figure: rho vs mean token Levenshtein distance per kind; plus its block."""
    score = _params(params).headline_score
    fig = plotting.rho_vs_levenshtein(rho_table, _frame(perturbation_summary), score)
    return _figured(fig, "rho_vs_levenshtein",
                    f"rho vs token Levenshtein distance ({score})", (
        "rho of every perturbation kind against how far its copies are, in tokens, "
        "from the canary as the model saw them (re-tokenized). Kinds that lie on one "
        "falling curve lose memorization by distance alone; a kind above the others "
        "is worth more at the same distance."))


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
    """Figure: ROC curves on log axes for the chosen condition; plus its block."""
    scores = _frame(mia_scores)
    condition = choose_roc_condition(scores, _params(params).roc_condition)
    fig = plotting.roc_curves(scores, condition or "")
    return _figured(fig, "roc", f"ROC curves ({condition or 'no scores'})", (
        "True against false positive rate of every score on log axes, where the "
        "low-FPR regime that matters for privacy is visible; curves above the dashed "
        "diagonal beat chance. With few non-members the left end is coarse."))


def plot_extraction(extraction_table: pd.DataFrame) -> Figured:
    """Figure: extraction BLEU and token edit similarity vs nu and R; plus its block."""
    return _figured(plotting.extraction(extraction_table), "extraction",
                    "Extraction (greedy continuation of the canary's second half)", (
        "How much of a member canary's second half the trained model reproduces from "
        "its first half, against exact copies (left) and replaced tokens (right). "
        "Rising with nu and falling with R is verbatim memorization."))


def plot_training_curves(training_metrics: Any, auc_table: pd.DataFrame) -> Figured:
    """Figure: training-time loss-attack AUC and median perplexities, coloured by the
    family column of the AUC table (inputs: training metrics, AUC table); plus its
    block."""
    families = dict(zip(auc_table["condition"].astype(str), auc_table["family"].astype(str)))
    fig = plotting.training_curves(_frame(training_metrics), families)
    return _figured(fig, "training_curves", "Training-time AUC and perplexity", (
        "Left: the loss attack's AUC on the canaries as training proceeds; its value at "
        "step 0 is the attack's baseline before any injected text was learnt (member "
        "and non-member canaries differ a little by chance). Right: perplexity of "
        "members (solid) and non-members (dashed); members falling below non-members "
        "is the leak the attack reads."))


def plot_slimpajama(near_duplicates: Any) -> tuple[Block, Block, Block]:
    """The SlimPajama near-duplicate figures for the report (input:
    ``slimpajama_near_duplicates``; empty without a SlimPajama run)."""
    table = _frame(near_duplicates)
    return (
        _figured(plotting.near_duplicates_vs_distance(table), "slimpajama_near_dups",
                 "SlimPajama: near-duplicates within edit distance d", (
            "For sequences that occur a given number of times exactly (one colour per "
            "bucket), how many more copies lie within d token edits, extrapolated to "
            "the whole corpus: the fuzzy copies a model also trains on."))[1],
        _figured(plotting.levenshtein_vs_hamming(table), "slimpajama_lev_vs_hamming",
                 "SlimPajama: Levenshtein vs Hamming distance", (
            "The same counts by Levenshtein (solid, insertions and deletions allowed) and "
            "Hamming distance (dashed, substitutions only): the gap is the copies that "
            "only an edit distance finds."))[1],
        _figured(plotting.dedup_survivors(table), "slimpajama_dedup_survivors",
                 "SlimPajama: near-duplicates surviving exact-substring dedup", (
            "Near-duplicates (within the scan's distance) sharing no n-token run with "
            "their target, i.e. that exact-substring deduplication at length n would "
            "keep. The y axis starts at the data (symlog, linear below 1, when some "
            "counts are 0)."))[1],
    )


# ------------------------------------------------------------------------- report

REPORT_TITLE = "mosaic_kedro report: the mosaic memory of language models"


def _exact_rise(auc_table: pd.DataFrame, score: str) -> list[str]:
    """Per model, the headline exact curve's mean AUC at its smallest and largest nu."""
    exact = auc_table[(auc_table["kind"] == EXACT_KIND) & (auc_table["score"] == score)]
    out = []
    for model, group in exact.groupby("model", sort=True):
        mean = group.groupby("nu")["auc"].mean().sort_index()
        if len(mean) > 1:
            out.append(f"{model}: the {score} AUC goes from {mean.iloc[0]:.3f} at nu = "
                       f"{mean.index[0]:g} to {mean.iloc[-1]:.3f} at nu = {mean.index[-1]:g} "
                       f"(a rise of {mean.iloc[-1] - mean.iloc[0]:+.3f}).")
    return out


def _run_facts(auc_table: pd.DataFrame, p: ReportingParams,
               parameters: dict[str, Any]) -> list[str]:
    fuzzy = auc_table[auc_table["family"] != "exact"]
    members, non_members = sections.canary_counts(auc_table)
    source = ("the paper's released per-seed AUCs (data/01_raw/published_aucs.csv)"
              if p.input_layout == "published" else "this project's AUC table (mia pipeline)")
    return [
        f"Input: {source}",
        f"Models: {', '.join(sorted(auc_table['model'].unique()))}",
        f"Scores: {', '.join(sorted(auc_table['score'].unique()))} (headline: {p.headline_score})",
        f"Seeds: {', '.join(str(s) for s in sorted(auc_table['seed'].unique()))}",
        f"Canaries per AUC: {'/'.join(map(str, members))} members, "
        f"{'/'.join(map(str, non_members))} non-members",
        f"Fuzzy copies K: {sorted(fuzzy['num_copies'].unique().tolist())}",
        *([] if p.input_layout == "published" else sections.design_sentences(parameters)),
        f"Package versions: {sections.versions()}",
    ]


def _report_blocks(  # noqa: PLR0913
    auc_table: pd.DataFrame, rho_table: pd.DataFrame, secondary: pd.DataFrame,
    extraction: pd.DataFrame, training_metrics: pd.DataFrame, planted: pd.DataFrame,
    throughput: dict[str, Any], parameters: dict[str, Any], p: ReportingParams,
    figures: tuple[Block, ...], runs: pd.DataFrame, records: dict[str, dict[str, Any]],
    per_input: pd.DataFrame,
) -> list[Block]:
    score = p.headline_score
    mixed = sections.mixed_runs_sentence(runs)
    if mixed:
        logger.warning(mixed.replace("**", ""))
    zero = sections.step_zero_auc(training_metrics)
    pct = sections.level(p.bootstrap.alpha)
    summary = [*([mixed] if mixed else []), *sections.rho_trend_sentences(rho_table, score, pct),
               *_exact_rise(auc_table, score)]
    if zero is not None:
        summary.append(f"The attack's AUC at training step 0, before any injection, is "
                       f"{zero['mean']:.3f}.")
    grid = auc_table.groupby("kind")["value"].apply(
        lambda v: ", ".join(str(x) for x in sorted(v.unique())))
    departures = sections.departures_from_paper(
        auc_table, p.input_layout == "published", parameters, p.departures)
    main = [f for f in figures if not f["key"].startswith("slimpajama_")]
    slim = [f for f in figures if f["key"].startswith("slimpajama_")]
    return [
        {"type": "h1", "text": REPORT_TITLE},
        sections.p(
            "rho is the number of exact copies one fuzzy copy is worth (SPEC §6): the "
            "exact-copy AUC curve of each seed is smoothed (3-point moving average, "
            "endpoints kept" + ("" if p.smooth else "; smoothing was OFF for this run")
            + "), inverted at the fuzzy AUC, and rescaled by the number of fuzzy copies "
            "K; rho is then averaged over seeds."),
        {"type": "h2", "text": "Summary"},
        {"type": "ul", "items": summary or ["No fuzzy condition in this run."]},
        {"type": "h2", "text": "What was run"},
        {"type": "ul", "items": _run_facts(auc_table, p, parameters)},
        sections.p("Grid (kind: values):"),
        sections.table(grid.reset_index().rename(columns={"value": "values"})),
        {"type": "h2", "text": "Departures from the paper"},
        {"type": "ul", "items": departures} if departures else sections.p("None detected."),
        {"type": "h2", "text": "Figure 1 and the other figures"},
        *main,
        {"type": "h2", "text": "rho"},
        *sections.rho_blocks(rho_table, p.std_ddof, p.bootstrap.model_dump()),
        {"type": "h2", "text": "AUC"},
        *sections.step_zero_blocks(training_metrics),
        *sections.auc_blocks(auc_table, p.std_ddof),
        {"type": "h2", "text": "Secondary experiments"},
        *sections.secondary_blocks(secondary, score, p.std_ddof, pct),
        {"type": "h2", "text": "Extraction"},
        *sections.extraction_blocks(extraction, p.std_ddof),
        {"type": "h2", "text": "SlimPajama: exact and fuzzy duplicates in a corpus"},
        *slim,
        *sections.slimpajama_blocks(planted, throughput),
        {"type": "h2", "text": "Provenance"},
        *sections.provenance_blocks(runs, records, per_input),
        {"type": "h2", "text": "Parameters"},
        *sections.parameters_blocks(runs, records, parameters),
    ]


def _loaded(partition: Any) -> dict[str, Any]:
    """A run record: a PartitionedDataset partition (a loader) or a plain dict."""
    return partition() if callable(partition) else partition


def write_report(  # noqa: PLR0913
    auc_table: pd.DataFrame,
    rho_table: pd.DataFrame,
    secondary: pd.DataFrame,
    extraction: pd.DataFrame,
    extraction_scores: Any,
    training_metrics: Any,
    slimpajama_planted_check: Any,
    slimpajama_throughput: Any,
    run_records: dict[str, Any],
    parameters: dict[str, Any],
    params: dict[str, Any],
    *figures: Block,
) -> tuple[str, str, dict[str, Figure]]:
    """The report, twice: Markdown linking the figure files (``report``), one
    self-contained HTML page with them embedded (``report_html``), and the figure
    files the Markdown links (``report_figures``: ``<key>-<hash>.png``). Contents: a
    summary (rho's trend with R, the exact curve's rise, the AUC at step 0), what was
    run, departures, every figure with a caption, rho with its intervals and method,
    AUC, secondary, extraction and SlimPajama tables, the runs the data came from
    (``run_records``; a mix of parameter sets is said first; per input: the AUC
    table, ``extraction_scores`` and the training metrics) and their parameters."""
    p = _params(params)
    if p.input_layout == "published":  # the project's grid did not make these AUCs
        parameters = {"reporting": params}
    throughput = slimpajama_throughput if isinstance(slimpajama_throughput, dict) else {}
    metrics = _frame(training_metrics)
    per_condition = {"mia_scores (AUC, rho)": auc_table,
                     "extraction_scores": _frame(extraction_scores),
                     "training_metrics": metrics}
    runs = provenance.runs_of(*per_condition.values())
    per_input = provenance.runs_by_input(per_condition)
    records = {r: _loaded(run_records[r]) for r in runs["run_id"] if r in (run_records or {})}
    blocks = _report_blocks(auc_table, rho_table, secondary, extraction, metrics,
                            _frame(slimpajama_planted_check), throughput, parameters, p,
                            figures, runs, records, per_input)
    files = report_render.figure_files(blocks)
    return (report_render.render_markdown(blocks, files, p.markdown_figure_dir),
            report_render.render_html(blocks, files, REPORT_TITLE),
            {name: fig for name, (fig, _) in files.items()})
