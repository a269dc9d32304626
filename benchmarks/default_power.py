"""Benchmark: does the embedded default show the mosaic effect with confidence, in time?

Issue "A default that shows the mosaic effect with confidence". From a fresh clone of
this checkout's HEAD (``git clone``, so only committed files), times ``make run``
end to end, set-up included (venv, torch pin, pip, Rust build, every pipeline), then
reads the run's AUC and rho tables and prints each criterion with its figure:

- wall time of ``make run`` <= 15 minutes;
- >= 3 seeds; exact nu: >= 6 values, 1 and 10 included; fuzzy R: >= 5 values from
  about 2 % to about 75 % of the canary length;
- the headline score's exact AUC (mean over seeds) rises by >= 0.15 from nu = 1 to 10;
- every fuzzy condition's rho (mean over seeds) has a paired 95 % bootstrap interval
  of half-width (high - low) / 2 <= 0.15;

and the report's sentence on whether rho falls with R beyond the intervals.

    .venv/bin/python benchmarks/default_power.py [--project DIR]

``--project DIR`` reads the outputs of a ``make run`` already done in DIR instead
(no timing). The clone is kept under /tmp and its path printed.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml

REPO = Path(__file__).resolve().parents[1]
BUDGET_S = 15 * 60
MIN_RISE, MAX_HALF_WIDTH = 0.15, 0.15


def _latest(path: Path) -> Path:
    """The newest version of a versioned dataset (``<path>/<version>/<name>``)."""
    return sorted(path.glob(f"*/{path.name}"))[-1]


def _make_run(project: Path) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIRTUAL_ENV")}
    start = time.perf_counter()
    with open(project / "make_run.log", "w") as log:
        result = subprocess.run(["make", "run"], cwd=project, env=env, stdout=log,
                                stderr=subprocess.STDOUT, check=False)
    wall = time.perf_counter() - start
    if result.returncode:
        tail = (project / "make_run.log").read_text()[-3000:]
        sys.exit(f"make run failed (exit {result.returncode}) in {project}:\n{tail}")
    return wall


def _check(ok: bool) -> str:
    return "ok" if ok else "NOT MET"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--project", type=Path, help="a project where make run already ran")
    args = parser.parse_args()
    wall = None
    if args.project is None:
        project = Path(tempfile.mkdtemp(prefix="mosaic-default-")) / "mosaic_kedro"
        subprocess.run(["git", "clone", "-q", str(REPO), str(project)], check=True)
        print(f"fresh clone of {REPO} HEAD in {project}; running make run ...", flush=True)
        wall = _make_run(project)
    else:
        project = args.project
    data = project / "data"
    auc = pd.read_csv(_latest(data / "07_model_output/auc_table.csv"))
    rho = pd.read_csv(_latest(data / "08_reporting/rho_table.csv"))
    # The parameters recorded by the run that trained and scored these models.
    run_id = auc["run_id"].mode().iloc[0]
    record = yaml.safe_load((data / f"09_tracking/runs/{run_id}.yml").read_text())
    params = record["parameters"]
    grid, length = params["grid"], int(params["canaries"]["length"])
    score = params["reporting"]["headline_score"]
    print(f"run {run_id} (env {record.get('env')}, parameters {record.get('params_hash')})")
    report = _latest(data / "08_reporting/report.md").read_text()

    if wall is not None:
        print(f"make run (fresh clone, set-up included): {wall:.0f} s = {wall / 60:.1f} min "
              f"(budget {BUDGET_S // 60} min): {_check(wall <= BUDGET_S)}")
    seeds, exact = sorted(int(s) for s in auc["seed"].unique()), sorted(grid["exact"])
    replaced = sorted({r for f in grid.get("fuzzy", []) for r in f.get("replaced_tokens", [])})
    print(f"design {grid.get('design')}, {len(seeds)} seeds {seeds}: {_check(len(seeds) >= 3)}")
    print(f"exact nu {exact}: {_check(len(exact) >= 6 and 1 in exact and 10 in exact)}")
    shares = [f"{r / length:.0%}" for r in replaced]
    print(f"fuzzy R {replaced} of {length}-token canaries = {shares}: "
          f"{_check(len(replaced) >= 5 and replaced[0] / length <= 0.05 and replaced[-1] / length >= 0.6)}")

    curve = (auc[(auc["score"] == score) & (auc["kind"] == "exact")]
             .groupby("value")["auc"].agg(["mean", "std"]))
    print(f"\nexact AUC curve ({score}, the headline score), mean +- std over seeds:")
    print("  " + "  ".join(f"nu={v:g}: {m:.3f}+-{s:.3f}" for v, (m, s) in curve.iterrows()))
    rise = curve.loc[10, "mean"] - curve.loc[1, "mean"]
    print(f"rise nu=1 -> nu=10: {rise:+.3f} (at least {MIN_RISE}): {_check(rise >= MIN_RISE)}")

    means = auc[auc["kind"] == "exact"].groupby(["score", "value"])["auc"].mean().unstack()
    print("rise per score (context): " + ", ".join(
        f"{name} {row[10] - row[1]:+.3f}" for name, row in means.iterrows()))

    fuzzy = rho[(rho["score"] == score) & (rho["kind"] != "exact")].sort_values("value")
    fuzzy = fuzzy.assign(half_width=(fuzzy["rho_ci_high"] - fuzzy["rho_ci_low"]) / 2)
    print(f"\nrho ({score}), mean over seeds, paired 95 % bootstrap interval:")
    print(f"{'kind':>14} {'R':>4} {'rho':>7} {'interval':>18} {'half-width':>10}")
    for row in fuzzy.itertuples():
        print(f"{row.kind:>14} {row.value:>4g} {row.rho_mean:7.3f} "
              f"[{row.rho_ci_low:6.3f}, {row.rho_ci_high:6.3f}] {row.half_width:10.3f}")
    widest = fuzzy["half_width"].max()
    print(f"widest half-width {widest:.3f} (at most {MAX_HALF_WIDTH}): "
          f"{_check(bool(widest <= MAX_HALF_WIDTH))}")
    trend = re.search(r"[^.\n]*falls with R[^\n]*", report) or re.search(
        r"[^.\n]*with R[^\n]*", report)
    print(f"\nthe report says: {trend.group(0).strip() if trend else '(no sentence on R found)'}")


if __name__ == "__main__":
    main()
