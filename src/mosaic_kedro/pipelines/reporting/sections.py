"""The report's sections as document blocks (see :mod:`mosaic_kedro.report_render`).

Pure functions of the tables: each returns a list of blocks, or a sentence, that
``write_report`` assembles; nothing here reads or writes a file.
"""

from __future__ import annotations

from importlib import metadata
from typing import Any

import numpy as np
import pandas as pd
import yaml

from mosaic_kedro.rho import PUBLISHED_CANARIES_PER_SET

Block = dict[str, Any]

PAPER_MODELS = (
    "EleutherAI/gpt-neo-1.3B",
    "google/gemma-2b",
    "meta-llama/Llama-3.2-1B",
    "microsoft/phi-2",
)
#: The paper's canaries: 100 members and 100 non-members of 100 tokens (SPEC §1).
PAPER_CANARY_LENGTH = 100
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


def p(text: str) -> Block:
    """A paragraph block."""
    return {"type": "p", "text": text}


def table(frame: pd.DataFrame) -> Block:
    """A table block."""
    return {"type": "table", "frame": frame}


def mean_std(mean: float, std: float, digits: int = 3) -> str:
    """``mean ± std`` (``mean`` alone when the std is not finite)."""
    if not np.isfinite(mean):
        return str(mean)
    return (f"{mean:.{digits}f}" if not np.isfinite(std)
            else f"{mean:.{digits}f} ± {std:.{digits}f}")


def seed_std(values: pd.Series, ddof: int) -> float:
    """Standard deviation over seeds with ``ddof`` (NaN when too few seeds)."""
    return float(np.std(values, ddof=ddof)) if len(values) > ddof else np.nan


def spread(ddof: int) -> str:
    """What the ± of a table means."""
    return ("population std over seeds (ddof 0, the paper's ±)" if ddof == 0
            else "sample std over seeds (ddof 1)")


def interval(low: float, high: float) -> str:
    """``[low, high]``, empty when either end is missing."""
    return "" if pd.isna(low) or pd.isna(high) else f"[{low:.3f}, {high:.3f}]"


def versions() -> str:
    """The versions of the packages that shape the numbers."""
    found = []
    for name in VERSIONED_PACKAGES:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            found.append(f"{name} (not installed)")
    return ", ".join(found)


# --------------------------------------------------------------------------- verdict


def rho_trend_sentences(rho_table: pd.DataFrame, score: str, level: int = 95) -> list[str]:
    """One sentence per (model, kind) of the token-replacement conditions: does rho
    fall from the smallest to the largest R beyond the intervals? Beyond means the
    two paired bootstrap intervals do not overlap (without intervals: the mean +/-
    seed std ranges, said so)."""
    sel = rho_table[(rho_table["score"] == score) & (rho_table["family"] == "fuzzy")]
    out = []
    several = sel["model"].nunique() > 1 or sel["kind"].nunique() > 1
    for (model, kind), unsorted in sel.groupby(["model", "kind"], sort=True):
        group = unsorted.sort_values("value")
        who = f"For {model.rsplit('/', 1)[-1]} · {kind}, rho" if several else "rho"
        if len(group) < 2:
            out.append(f"{who} was measured at one R only ({group['value'].iloc[0]:g}), "
                       "so no trend can be read.")
            continue
        first, last = group.iloc[0], group.iloc[-1]
        has_ci = pd.notna([first["rho_ci_low"], first["rho_ci_high"], last["rho_ci_low"],
                           last["rho_ci_high"]]).all()
        if has_ci:
            lo = (first["rho_ci_low"], first["rho_ci_high"])
            hi = (last["rho_ci_low"], last["rho_ci_high"])
            what = f"paired {level} % bootstrap intervals"
        else:
            sd0, sd1 = (np.nan_to_num(float(r["rho_std"])) for r in (first, last))
            lo = (first["rho_mean"] - sd0, first["rho_mean"] + sd0)
            hi = (last["rho_mean"] - sd1, last["rho_mean"] + sd1)
            what = "mean ± seed std ranges (no per-canary scores, so no bootstrap interval)"
        change = (f"from {first['rho_mean']:.2f} {interval(*lo)} at R = {first['value']:g} "
                  f"to {last['rho_mean']:.2f} {interval(*hi)} at R = {last['value']:g}")
        if first["rho_mean"] <= last["rho_mean"]:
            out.append(f"{who} does not fall with R: it goes {change}.")
        elif lo[0] > hi[1]:
            out.append(f"{who} falls with R beyond the {what}: {change}, and the two do "
                       "not overlap.")
        else:
            out.append(f"{who} falls with R but not beyond the {what}: {change}, and the "
                       "two overlap, so this run cannot tell the fall from noise.")
    return out


# --------------------------------------------------------------------------- run facts


def step_zero_auc(training_metrics: pd.DataFrame) -> dict[str, float] | None:
    """The loss attack's AUC at each training run's first logged step (step 0: the
    base model before any injected text was learnt): mean, min, max, the number of
    runs and the mean AUC at the last step. ``None`` without a step-0 row."""
    if training_metrics.empty or "step" not in training_metrics:
        return None
    ordered = training_metrics.sort_values("step")
    first = ordered.groupby("condition").head(1)
    first = first[first["step"] == 0]
    if first.empty:
        return None
    last = ordered.groupby("condition").tail(1)
    return {"mean": float(first["auc_loss"].mean()), "min": float(first["auc_loss"].min()),
            "max": float(first["auc_loss"].max()), "runs": int(len(first)),
            "last_mean": float(last["auc_loss"].mean()),
            "last_step": float(last["step"].median())}


def canary_counts(auc_table: pd.DataFrame) -> tuple[list[int], list[int]]:
    """Distinct member and non-member counts per condition in the AUC table."""
    return (sorted(auc_table["n_members"].dropna().astype(int).unique().tolist()),
            sorted(auc_table["n_non_members"].dropna().astype(int).unique().tolist()))


def canary_departures(auc_table: pd.DataFrame, parameters: dict[str, Any]) -> list[str]:
    """The canary length (from the run's parameters) and the member / non-member counts
    (from the AUC table) where they differ from the paper's 100 x 100 tokens."""
    notes = []
    length = (parameters.get("canaries") or {}).get("length")
    if length is not None and int(length) != PAPER_CANARY_LENGTH:
        notes.append(f"Canaries are {int(length)} tokens long (the paper: "
                     f"{PAPER_CANARY_LENGTH}), per the run's `canaries.length`.")
    members, non_members = canary_counts(auc_table)
    paper = PUBLISHED_CANARIES_PER_SET
    if members and (members != [paper] or non_members != [paper]):
        notes.append(
            f"Each AUC compares {'/'.join(map(str, members))} member with "
            f"{'/'.join(map(str, non_members))} non-member canaries (the paper: {paper} + "
            f"{paper}); an AUC's 95 % interval is about ±{_auc_halfwidth(members, non_members):.2f} "
            "at this size.")
    return notes


def design_sentences(parameters: dict[str, Any]) -> list[str]:
    """Which experiment design, canary sampling and ratio reference the run used (the
    run's ``grid.design``, ``canaries.per_seed`` and ``mia.reference``), and what the
    seed spread then measures."""
    grid, canaries = parameters.get("grid") or {}, parameters.get("canaries") or {}
    out = []
    if grid.get("design") == "pooled":
        out.append("Design: pooled (`grid.design: pooled`; the paper trains one model per "
                   "condition and seed): one model per seed saw every condition's own group "
                   "of members, all scored against the seed's shared non-members.")
    elif grid.get("design") == "isolated":
        out.append("Design: isolated (`grid.design: isolated`), as in the paper: one model "
                   "per condition and seed.")
    if canaries.get("per_seed") is True:
        out.append("Canaries are sampled anew for every seed (`canaries.per_seed: true`; "
                   "the paper's scripts share one set): the seed spread includes the draw "
                   "of the canaries.")
    elif canaries.get("per_seed") is False:
        out.append(f"Canaries: one member set (seed {canaries.get('member_seed')}) and one "
                   f"non-member set (seed {canaries.get('non_member_seed')}) serve every "
                   "seed, as in the paper's scripts (`canaries.per_seed: false`): the seed "
                   "spread measures training randomness (data order) only.")
    reference = (parameters.get("mia") or {}).get("reference")
    if reference == "base":
        out.append("The ratio score's reference is the base model, the target before any "
                   "training on canaries (`mia.reference: base`).")
    elif reference == "generator":
        out.append("The ratio score's reference is the generator, the model that sampled "
                   "the canaries (`mia.reference: generator`).")
    elif isinstance(reference, dict) and reference.get("name_or_path"):
        out.append(f"The ratio score's reference is {reference['name_or_path']} "
                   "(`mia.reference`).")
    return out


def _auc_halfwidth(members: list[int], non_members: list[int]) -> float:
    """Rough 95 % half-width of an AUC near 0.6 (Hanley-McNeil) at the smallest sets."""
    m, n, a = min(members), min(non_members), 0.6
    q1, q2 = a / (2 - a), 2 * a * a / (1 + a)
    var = (a * (1 - a) + (m - 1) * (q1 - a * a) + (n - 1) * (q2 - a * a)) / (m * n)
    return 1.96 * float(np.sqrt(max(var, 0.0)))


def departures_from_paper(auc_table: pd.DataFrame, published: bool,
                          parameters: dict[str, Any], extra: list[str]) -> list[str]:
    """Plain statements of where the run departs from the paper."""
    notes = []
    if published:
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
    if (auc_table["strategy"] == "clm").any():
        notes.append(
            "Fuzzy copies use a causal replacer (`clm`: the generator's top-k next-token "
            "predictions from the left context) instead of the paper's masked LM (roberta-base)."
        )
    if not published:
        notes += canary_departures(auc_table, parameters)
    seeds = auc_table.groupby("model")["seed"].nunique()
    if (seeds < 5).any():
        notes.append(f"Fewer seeds than the paper's 5: {seeds.to_dict()}.")
    return notes + list(extra)


# --------------------------------------------------------------------------- tables


def _pivot(cells: pd.DataFrame, value: str) -> pd.DataFrame:
    return cells.pivot(index=["kind", "value"], columns="score", values=value).reset_index()


def auc_blocks(auc_table: pd.DataFrame, ddof: int) -> list[Block]:
    """Mean ± seed std of every AUC, one table per model (kinds x scores)."""
    out: list[Block] = []
    stats = (auc_table.groupby(["model", "kind", "value", "score"])["auc"]
             .agg(mean="mean", std=lambda a: seed_std(a, ddof)).reset_index())
    stats["cell"] = [mean_std(m, s) for m, s in zip(stats["mean"], stats["std"])]
    for model, group in stats.groupby("model", sort=True):
        out += [p(f"**{model}** (mean ± {spread(ddof)})"), table(_pivot(group, "cell"))]
    return out


def rho_blocks(rho_table: pd.DataFrame, ddof: int, bootstrap: dict[str, Any]) -> list[Block]:
    """rho per model (kinds x scores, mean ± seed std), then the paired bootstrap
    intervals with their method."""
    out: list[Block] = []
    cells = rho_table.assign(cell=[mean_std(m, s) for m, s in
                                   zip(rho_table["rho_mean"], rho_table["rho_std"])])
    for model, group in cells.groupby("model", sort=True):
        pivot = _pivot(group, "cell")
        pivot["n_seeds"] = group.groupby(["kind", "value"])["n_seeds"].max().to_numpy()
        out += [p(f"**{model}** (rho mean ± {spread(ddof)})"), table(pivot)]
    ci = rho_table.dropna(subset=["rho_ci_low", "rho_ci_high"])
    if ci.empty:
        out.append(p("No bootstrap intervals for rho: the run has no per-canary scores "
                     "(`mia_scores`) or `reporting.bootstrap.enabled` is false."))
        return out
    pct = level(bootstrap.get("alpha", 0.05))
    ci = ci.assign(interval=[interval(a, b) for a, b in zip(ci["rho_ci_low"], ci["rho_ci_high"])])
    out += [
        p(f"Paired bootstrap {pct} % intervals of the mean rho "
          f"({bootstrap.get('n_boot')} replicates, random_state "
          f"{bootstrap.get('random_state')}; `mosaic_kedro.rho.bootstrap_rho`): each "
          "replicate resamples the canary ids once (members and non-members) and uses "
          "that resample in every condition that shares them, recomputes every AUC, "
          "smooths and inverts the exact curve, and averages rho over seeds "
          "(percentile interval). Pairing keeps the noise the conditions share out of "
          "their difference; resampling each condition apart gave intervals of [0, inf]."),
        table(ci[["model", "score", "kind", "value", "rho_mean", "interval"]].round(3)),
    ]
    return out


def level(alpha: float) -> int:
    """The confidence level in percent of a ``1 - alpha`` interval."""
    return round(100 * (1 - float(alpha)))


def secondary_blocks(secondary: pd.DataFrame, score: str, ddof: int,
                     level_: int = 95) -> list[Block]:
    """The secondary experiments of the run, one table per family (headline score)."""
    if secondary.empty:
        return [p("No secondary conditions (insertion, shuffle, top-k variants) in this run.")]
    out: list[Block] = []
    sel = secondary[secondary["score"] == score]
    for family, group in sel.groupby("family", sort=True):
        cols = [c for c in ("strategy", "top_k", "R", "n", "x", "tau") if group[c].notna().any()]
        shown = group.assign(
            rho=[mean_std(m, s) for m, s in zip(group["rho_mean"], group["rho_std"])],
            interval=[interval(a, b) for a, b in zip(group["rho_ci_low"], group["rho_ci_high"])])
        out += [p(f"**{family}** ({score}; rho mean ± {spread(ddof)}, paired {level_} % "
                  "bootstrap interval)"),
                table(shown[["model", *cols, "auc_mean", "rho", "interval", "n_seeds"]].round(3))]
    return out


def extraction_blocks(extraction: pd.DataFrame, ddof: int) -> list[Block]:
    """The extraction experiment's table."""
    if extraction.empty:
        return [p("No extraction results in this run (mia.extraction.enabled: false).")]
    shown = extraction.assign(
        bleu=[mean_std(m, s, 2) for m, s in zip(extraction["bleu_mean"], extraction["bleu_std"])],
        token_edit_similarity=[mean_std(m, s) for m, s in zip(
            extraction["token_edit_similarity_mean"], extraction["token_edit_similarity_std"])])
    return [
        p("Each trained model is prompted with the first half of every member canary and "
          "greedy-decodes as many tokens as the second half; the continuation is compared "
          "with the true suffix by sacrebleu sentence BLEU (0-100) and token edit "
          f"similarity (1 - Levenshtein / max length); mean over canaries ± {spread(ddof)}."),
        table(shown[["model", "kind", "value", "bleu", "token_edit_similarity",
                     "exact_match_rate", "n_canaries", "n_seeds"]].round(3)),
    ]


def step_zero_blocks(training_metrics: pd.DataFrame) -> list[Block]:
    """The attack's AUC at training step 0, the baseline before injection."""
    zero = step_zero_auc(training_metrics)
    if zero is None:
        return [p("No training metrics with a step-0 row in this run, so the attack's "
                  "baseline before injection is not known.")]
    spread_ = ("" if zero["runs"] == 1 else
               f" (mean of {zero['runs']} training runs; range {zero['min']:.3f} to "
               f"{zero['max']:.3f})")
    return [p(
        f"**AUC at training step 0: {zero['mean']:.3f}**{spread_}. This is the loss "
        "attack on the base model before it has seen any injected canary: the part of "
        "every AUC that comes from the member and non-member canaries differing by "
        f"chance, not from memorization (0.5 would be none). At the last step "
        f"(median step {zero['last_step']:g}) the mean is {zero['last_mean']:.3f}.")]


def slimpajama_blocks(planted: pd.DataFrame, throughput: dict[str, Any]) -> list[Block]:
    """The SlimPajama scan's planted-copy recall table and throughput (SPEC §7)."""
    out: list[Block] = []
    if planted.empty:
        out.append(p("No planted-copy check in this run (`slimpajama_dedup` did not run)."))
    else:
        total = planted[planted["kind"] == "all"]
        lead = ""
        if len(total):
            row = total.iloc[0]
            lead = (f" Overall the scan found {int(row['found'])} of {int(row['planted'])} "
                    f"planted copies (recall {row['recall']:.2f}); "
                    f"{int(row['selected'])} belonged to targets the query selection kept.")
        out += [p("**Planted-copy recall.** The embedded sample plants exact copies and "
                  "Hamming / Levenshtein near-copies at known distances; a copy counts as "
                  "found when the scan reports it in its document at the planted "
                  "distances." + lead),
                table(planted.round(3))]
    if not throughput:
        out.append(p("No throughput summary in this run."))
        return out
    rates = throughput.get("tokens_per_second", {}) or {}
    frame = pd.DataFrame({"step": list(rates),
                          "tokens per second": [f"{v:,.0f}" for v in rates.values()]})
    sa = throughput.get("sa_bytes_per_token")
    out += [p(f"**Throughput** on {int(throughput.get('n_tokens', 0)):,} tokens in "
              f"{throughput.get('n_parts')} parts of {throughput.get('token_width')}-byte "
              "tokens" + (f"; suffix arrays take {sa:.2f} bytes per token" if sa else "")
              + f"; {throughput.get('n_planted', 0)} planted copies."),
            table(frame)]
    return out


def mixed_runs_sentence(runs: pd.DataFrame) -> str | None:
    """A loud sentence when the data comes from runs with different parameters."""
    hashes = sorted(runs["params_hash"].unique()) if len(runs) else []
    if len(hashes) < 2:
        return None
    parts = [f"{r.run_id} (parameters {r.params_hash}, {r.conditions} conditions)"
             for r in runs.itertuples()]
    return (f"**Mixed runs:** this report's data comes from {len(runs)} runs with "
            f"{len(hashes)} different parameter sets: {'; '.join(parts)}. Numbers made "
            "with different parameters may not be comparable; rerun the grid in one "
            "`kedro run` (without --namespaces) for a consistent report.")


def provenance_blocks(runs: pd.DataFrame, records: dict[str, dict[str, Any]],
                      per_input: pd.DataFrame | None = None) -> list[Block]:
    """Which runs made the data (run id = the session's save version, which is also the
    version folder of every dataset it saved) and with which parameters; with
    ``per_input``, which run each input's rows came from."""
    if not len(runs):
        return [p("No per-condition data in this report.")]
    rows = []
    for r in runs.itertuples():
        rec = records.get(r.run_id, {})
        rows.append({"run_id": r.run_id, "params_hash": r.params_hash,
                     "conditions": r.conditions, "env": rec.get("env", "-"),
                     "pipelines": ", ".join(rec.get("pipelines") or []) or "(default)",
                     "namespaces": ", ".join(rec.get("namespaces") or []) or "(all)"})
    return [p("The runs whose outputs this report read (versioned datasets live under "
              "`<dataset>/<run_id>/`; each run's record is "
              "`data/09_tracking/runs/<run_id>.yml`):"), table(pd.DataFrame(rows)),
            *([p("Per input: the run (and so the version folder) each input's rows "
                 "came from:"), table(per_input)] if per_input is not None and len(per_input)
              else [])]


def parameters_blocks(runs: pd.DataFrame, records: dict[str, dict[str, Any]],
                      current: dict[str, Any]) -> list[Block]:
    """The parameters that produced the data (from the run records), one block per
    parameter set; the current settings only for data without a record."""
    shown, blocks = set(), []
    for r in runs.itertuples():
        rec = records.get(r.run_id)
        if rec is None or r.params_hash in shown:
            continue
        shown.add(r.params_hash)
        blocks += [p(f"Parameters {r.params_hash} (run {r.run_id}, environment "
                     f"{rec.get('env', '-')}):"),
                   {"type": "code", "lang": "yaml",
                    "text": yaml.safe_dump(rec.get("parameters", {}), sort_keys=True,
                                           default_flow_style=False)}]
    if not blocks:
        blocks = [p("No run record for this data (published inputs, or data made before "
                    "run records existed): the settings in force when the report was "
                    "written."),
                  {"type": "code", "lang": "yaml",
                   "text": yaml.safe_dump(current, sort_keys=True, default_flow_style=False)}]
    return blocks
