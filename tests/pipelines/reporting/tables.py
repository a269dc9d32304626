"""Input tables for the reporting tests, built from real grids (grid.conditions()), and
one real run of the reporting pipeline into a temporary folder laid out as the
catalog lays out data/08_reporting (versioned report.md and report.html beside the
report_figures directory).

Not a test module: the tests load it by path (pytest runs with --import-mode=importlib).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from kedro.io import DataCatalog, MemoryDataset, Version
from kedro.runner import SequentialRunner
from sklearn.metrics import roc_auc_score

from mosaic_kedro.datasets import (
    AtomicCSVDataset,
    AtomicMatplotlibDataset,
    AtomicTextDataset,
)
from mosaic_kedro.grid import META_COLUMNS, Condition, conditions
from mosaic_kedro.pipelines.reporting import create_pipeline
from mosaic_kedro.rho import AUC_TABLE_COLUMNS

PROJECT = Path(__file__).resolve().parents[3]
MODEL = "local/tiny-gpt2"

# A real grid: the fixtures' conditions come from grid.conditions(), never typed by hand
GRID = {
    "seeds": [1, 2],
    "exact": [1, 2, 3, 4, 5],
    "fuzzy": [{"strategy": "clm", "top_k": 10, "replaced_tokens": [1, 5, 10]}],
    "insertion": [{"ngram": [5], "inserted": [1]}],
    "shuffle": [{"ngram": [10], "tau": [0.3]}],
}

PARAMS = {
    "input_layout": "project",
    "headline_score": "ratio",
    "smooth": True,
    "std_ddof": 1,
    "bootstrap": {"enabled": True, "n_boot": 60, "alpha": 0.1, "random_state": 0},
    "roc_condition": None,
    "departures": ["a note from the parameters"],
    "markdown_figure_dir": "../../report_figures",
}

#: The run's parameters as the report's Parameters section and departures see them.
PARAMETERS = {"reporting": PARAMS, "grid": {"design": "isolated"}, "mia": {"reference": "base"},
              "canaries": {"num_canaries": 60, "length": 64, "per_seed": False,
                           "member_seed": 42, "non_member_seed": 420}}


def load(name: str) -> Any:
    """This module, loaded by path (for tests outside this folder)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, Path(__file__))
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def worth(cond: Condition) -> float:
    """Shift of the member scores in exact-copy units (K = 9 copies)."""
    meta = cond.metadata()
    if meta["family"] == "exact":
        return meta["nu"]
    if meta["family"] == "fuzzy":
        return 1 + 9 * max(0.0, 0.5 - meta["R"] / 40)
    return {"insertion": 2.0, "shuffle": 1.5}.get(meta["family"], 1.0)


def scores(n: int = 60, seeds=(1, 2), grid: dict | None = None) -> pd.DataFrame:
    """Per-canary scores (mia_scores layout, with the condition metadata columns):
    members' scores fall with the condition's exact-copy worth; higher = more likely a
    non-member. Canaries are shared by every condition of a seed, as in the pipeline."""
    rng = np.random.default_rng(7)
    frames = []
    for cond in conditions({**(grid or GRID), "seeds": list(seeds)}):
        for score, scale in (("loss", 0.25), ("ratio", 0.35)):
            members = rng.normal(-scale * worth(cond), 1, n)
            frames.append(pd.DataFrame({
                "condition": cond.name, "kind": cond.kind, "value": cond.value,
                "seed": cond.seed, **cond.metadata(),
                "canary_id": [f"s{cond.seed}_member_{i}" for i in range(n)]
                + [f"s{cond.seed}_non_member_{i}" for i in range(n)],
                "set": ["member"] * n + ["non_member"] * n, "score": score,
                "value_score": np.concatenate([members, rng.normal(0, 1, n)])}))
    return pd.concat(frames, ignore_index=True)


def auc_table(per_canary: pd.DataFrame) -> pd.DataFrame:
    """The AUC table mia would write for these scores (members positive)."""
    rows = []
    for (condition, score), g in per_canary.groupby(["condition", "score"]):
        y = (g["set"] == "member").to_numpy(int)
        auc = roc_auc_score(y, -g["value_score"].to_numpy())
        first = g.iloc[0]
        rows.append({
            "model": MODEL, "condition": condition,
            **{c: first[c] for c in ("kind", "value", "seed", *META_COLUMNS)},
            "score": score, "auc": auc, "ci_low": auc - 0.05, "ci_high": auc + 0.05,
            "tpr_at_1": 0.02, "tpr_at_10": 0.2, "n_members": int(y.sum()),
            "n_non_members": int((1 - y).sum()),
        })
    extra = [c for c in META_COLUMNS if c not in AUC_TABLE_COLUMNS]
    return pd.DataFrame(rows)[[*AUC_TABLE_COLUMNS, *extra]]


def training_metrics(grid: dict | None = None, median: bool = False) -> pd.DataFrame:
    """One history per condition of the grid (training_metrics layout): the AUC starts
    at 0.573 at step 0 (the attack before injection) and rises with the copies."""
    steps = np.arange(0, 200, 50)
    frames = []
    for cond in conditions(grid or GRID):
        frame = pd.DataFrame({
            "condition": cond.name, "step": steps,
            "auc_loss": 0.573 + worth(cond) * steps / 4000,
            "ppl_members": 50 - steps / 10, "ppl_non_members": 50 - steps / 20})
        if median:
            frame["ppl_members_median"] = frame["ppl_members"] * 0.8
            frame["ppl_non_members_median"] = frame["ppl_non_members"] * 0.8
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def perturbation_summary() -> pd.DataFrame:
    """Levenshtein distances of the grid's perturbed conditions (seed 1)."""
    perturbed = [c for c in conditions(GRID) if not c.is_exact and c.seed == 1]
    return pd.DataFrame({
        "kind": [c.kind for c in perturbed], "value": [c.value for c in perturbed],
        "seed": 1, "mean_levenshtein": [1.0, 5.2, 10.5, 19.0, 30.0],
        "mean_seen_levenshtein": [1.5, 6.0, 12.0, 19.0, 30.0]})


def extraction(per_canary: pd.DataFrame) -> pd.DataFrame:
    """extraction_scores rows (mia layout): similarity grows with the exact copies."""
    members = per_canary[(per_canary["set"] == "member") & (per_canary["score"] == "loss")].copy()
    w = members["nu"].fillna(members["R"].rsub(12).clip(lower=0) / 4).fillna(1)
    return members.assign(model=MODEL, prompt_tokens=8, generated_text="a",
                          reference_text="b", bleu=w * 3.0,
                          token_edit_similarity=w / 10, exact_match=w > 4)


def near_duplicates(buckets=(4, 8), targets: int = 3, max_distance: int = 20,
                    dedup_ns=(10, 20, 30, 40)) -> pd.DataFrame:
    """A slimpajama_near_duplicates table (gather's layout): cumulative counts within
    distance d grow with d; dedup survivors are 0 at small n (exact dedup removes them
    all), as on the embedded sample."""
    rows = []
    for t in range(targets * len(buckets)):
        bucket = buckets[t % len(buckets)]
        base = {"target": t, "bucket": bucket, "exact_count": bucket}
        for measure, slope in (("hamming", 0.2), ("levenshtein", 0.35)):
            for d in range(max_distance + 1):
                k = bucket + int(slope * d * (1 + t % 2))
                rows.append({**base, "measure": measure, "x": d, "n": k,
                             "n_extrapolated": 1.5 * k})
        for i, n in enumerate(dedup_ns):
            rows.append({**base, "measure": "dedup_survivors", "x": n, "n": i * (t % 2),
                         "n_extrapolated": 1.5 * i * (t % 2)})
    return pd.DataFrame(rows)


def planted_check() -> pd.DataFrame:
    """A slimpajama_planted_check table (gather's layout)."""
    rows = [("exact", 0, 15, 14, 14), ("hamming", 1, 3, 3, 3), ("levenshtein", 3, 4, 3, 2)]
    table = pd.DataFrame(rows, columns=["kind", "distance", "planted", "selected", "found"])
    total = pd.DataFrame([{"kind": "all", "distance": -1, "planted": 22, "selected": 20,
                           "found": 19}])
    table = pd.concat([table, total], ignore_index=True)
    return table.assign(recall=table["found"] / table["planted"])


def throughput() -> dict[str, Any]:
    """A slimpajama_throughput summary (its JSON layout)."""
    return {"n_tokens": 174369, "n_parts": 2, "token_width": 2,
            "tokens_per_second": {"tokenize": 438185.1, "build": 1912189.2,
                                  "self_similar": 1864327.7, "scan": 2362777.2},
            "sa_bytes_per_token": 4.0016, "n_planted": 56}


SAVE_VERSION = "2026-01-01T00.00.00.000Z"


def inputs(per_canary: pd.DataFrame | None = None) -> dict[str, Any]:
    """Every free input of the reporting pipeline."""
    per_canary = scores() if per_canary is None else per_canary
    return {
        "auc_table": auc_table(per_canary), "mia_scores": per_canary,
        "training_metrics": training_metrics(), "perturbation_summary": perturbation_summary(),
        "extraction_scores": extraction(per_canary),
        "slimpajama_near_duplicates": near_duplicates(),
        "slimpajama_planted_check": planted_check(), "slimpajama_throughput": throughput(),
        "run_records": {}, "params:reporting": PARAMS, "parameters": PARAMETERS,
    }


def run_reporting(out: Path, data: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run the reporting pipeline with a real runner; tables, report.md, report.html
    and report_figures go through the project's atomic datasets under ``out`` as the
    catalog lays them out. Returns the free outputs and the written paths."""
    version = Version(None, SAVE_VERSION)
    datasets: dict[str, Any] = {k: MemoryDataset(v) for k, v in (data or inputs()).items()}
    for name in ("rho_table", "rho_per_seed", "secondary_tables"):
        datasets[name] = AtomicCSVDataset(filepath=str(out / f"{name}.csv"),
                                          save_args={"index": False})
    datasets["report"] = AtomicTextDataset(filepath=str(out / "report.md"), version=version)
    datasets["report_html"] = AtomicTextDataset(filepath=str(out / "report.html"),
                                                version=version)
    datasets["report_figures"] = AtomicMatplotlibDataset(
        filepath=str(out / "report_figures"), save_args={"dpi": 100})
    free = SequentialRunner().run(create_pipeline(), DataCatalog(datasets))
    return {
        "outputs": {name: ds.load() for name, ds in free.items()
                    if isinstance(ds, MemoryDataset)},
        "md": out / "report.md" / SAVE_VERSION / "report.md",
        "html": out / "report.html" / SAVE_VERSION / "report.html",
        "figures": out / "report_figures",
        "rho_table": pd.read_csv(out / "rho_table.csv"),
        "rho_per_seed": pd.read_csv(out / "rho_per_seed.csv"),
        "secondary": pd.read_csv(out / "secondary_tables.csv"),
    }
