"""The pooled design against the paper's isolated one, on the same seeds and canary budget.

Both designs run through kedro on the embedded default's models (SmolLM2 generator,
the tiny GPT-2 target pretrained by ``preparation``) in one temporary project copy,
with the same ``canaries``, corpus and training settings; only ``grid.design``
differs. ``isolated`` trains one model per (condition, seed); ``pooled`` one per seed,
its corpus holding a disjoint group of ``num_canaries`` members per condition. The
script prints, per fuzzy R, rho (mean over seeds) with its paired 95 % bootstrap
interval for both designs, the difference, and whether the intervals overlap; then
the exact AUC curves, the share of canary tokens in each training corpus (the knob
that controls interference between a seed's groups) and the wall time of each design.

The scale is smaller than ``make run`` so both designs fit in about half an hour on 2
cores (32-token canaries, 32 per group, a 300 k-token base pretraining, hosts of
1,500 characters); every setting is a flag.

    .venv/bin/python benchmarks/design_pooled_vs_isolated.py [--seeds 1 2 3] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml

REPO = Path(__file__).resolve().parents[1]
EXPERIMENT = "canaries,perturbation,injection,training,mia,slimpajama_dedup,reporting"


def _project(root: Path, args: argparse.Namespace) -> None:
    for name in ("conf", "pyproject.toml"):
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, root / name, ignore=shutil.ignore_patterns("local"))
        else:
            shutil.copy(src, root / name)
    (root / "conf/local").mkdir(exist_ok=True)
    (root / "src").mkdir(exist_ok=True)  # the package is the editable install
    grid = yaml.safe_load((REPO / "conf/base/parameters_grid.yml").read_text())["grid"]
    grid.update(seeds=args.seeds, exact=args.exact)
    grid["fuzzy"][0]["replaced_tokens"] = args.replaced
    bench = {
        "grid": grid,
        "canaries": {"num_canaries": args.canaries, "length": args.length},
        "preparation": {"books": {"num_hosts": args.hosts, "host_chars": args.host_chars},
                        "tiny_target": {"pretrain": {"max_tokens": args.pretrain_tokens}}},
    }
    (root / "conf/bench").mkdir()
    (root / "conf/bench/parameters.yml").write_text(yaml.safe_dump(bench, sort_keys=False))


def _kedro(root: Path, *args: str) -> float:
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "true", "TOKENIZERS_PARALLELISM": "false"}
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "kedro", "run", "--env", "bench", *args],
                            cwd=root, env=env, capture_output=True, text=True, check=False)
    if result.returncode:
        sys.exit(f"kedro run {' '.join(args)} failed:\n{(result.stdout + result.stderr)[-3000:]}")
    return time.perf_counter() - start


def _latest(path: Path) -> Path:
    return sorted(path.glob(f"*/{path.name}"))[-1]


def _canary_share(data: Path) -> float:
    """Injected characters / corpus characters, mean over the run's training units."""
    shares = []
    for manifest_dir in sorted((data / "05_model_input").glob("*/injection_manifest.parquet")):
        unit = manifest_dir.parent
        manifest = pd.read_parquet(_latest(manifest_dir))
        corpus = pd.read_parquet(_latest(unit / "injected_corpus.parquet"))
        shares.append(manifest["char_length"].sum() / corpus["text"].str.len().sum())
    return float(sum(shares) / len(shares))


def _run_design(root: Path, design: str) -> dict:
    data = root / "data"
    for stale in ("05_model_input", "06_models"):  # keep only this design's units
        for path in (data / stale).glob("*_s*"):
            shutil.rmtree(path)
    wall = _kedro(root, f"--pipelines={EXPERIMENT}", "--params", f"grid.design={design}")
    rho = pd.read_csv(_latest(data / "08_reporting/rho_table.csv"))
    aucs = pd.read_csv(_latest(data / "07_model_output/auc_table.csv"))
    return {"wall": wall, "rho": rho, "auc": aucs, "share": _canary_share(data)}


def _fmt(row: pd.Series) -> str:
    return f"{row.rho_mean:6.3f} [{row.rho_ci_low:6.3f}, {row.rho_ci_high:6.3f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--exact", type=int, nargs="+", default=[1, 2, 4, 7, 10])
    parser.add_argument("--replaced", type=int, nargs="+", default=[1, 8, 24])
    parser.add_argument("--canaries", type=int, default=32)
    parser.add_argument("--length", type=int, default=32)
    parser.add_argument("--hosts", type=int, default=256)
    parser.add_argument("--host-chars", type=int, default=1500)
    parser.add_argument("--pretrain-tokens", type=int, default=300_000)
    parser.add_argument("--score", default="ratio")
    parser.add_argument("--keep", type=Path, help="project directory to keep (default: a temp one)")
    args = parser.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="design_bench_"))
    root.mkdir(parents=True, exist_ok=True)
    if not (root / "conf/bench").is_dir():  # a kept directory keeps its preparation
        _project(root, args)
    prep = _kedro(root, "--pipelines=preparation", "--only-missing-outputs")
    print(f"project: {root}; preparation {prep:.0f} s", flush=True)
    runs = {d: _run_design(root, d) for d in ("isolated", "pooled")}

    print(f"\nrho ({args.score} score), mean over seeds {args.seeds}, paired 95 % bootstrap "
          f"interval; {args.canaries} members per condition, {args.length}-token canaries")
    print(f"{'R':>4}  {'isolated':>26}  {'pooled':>26}  {'pooled - isolated':>17}  overlap")
    tables = {d: r["rho"][r["rho"]["score"] == args.score].set_index("value")
              for d, r in runs.items()}
    for value in sorted(tables["isolated"].index):
        iso, poo = tables["isolated"].loc[value], tables["pooled"].loc[value]
        overlap = iso.rho_ci_low <= poo.rho_ci_high and poo.rho_ci_low <= iso.rho_ci_high
        print(f"{value:>4g}  {_fmt(iso):>26}  {_fmt(poo):>26}  "
              f"{poo.rho_mean - iso.rho_mean:>+17.3f}  {'yes' if overlap else 'NO'}")

    print(f"\nexact AUC curve ({args.score}), mean over seeds")
    for design, run in runs.items():
        auc = run["auc"]
        curve = (auc[(auc["score"] == args.score) & (auc["kind"] == "exact")]
                 .groupby("value")["auc"].mean())
        print(f"  {design:9s}" + "  ".join(f"nu={v:g}: {a:.3f}" for v, a in curve.items()))
    print("\nshare of canary characters in a training corpus (interference knob: "
          "canaries.num_canaries x conditions / preparation.books.num_hosts x host_chars)")
    for design, run in runs.items():
        print(f"  {design:9s}{run['share']:.4f}")
    print("\nwall time (canaries through reporting)")
    for design, run in runs.items():
        print(f"  {design:9s}{run['wall']:.0f} s")
    print(f"  ratio isolated / pooled: {runs['isolated']['wall'] / runs['pooled']['wall']:.2f}")


if __name__ == "__main__":
    main()
