"""Benchmark: wall time of `kedro run --env smoke` from an empty data folder, against
its budget (5 minutes on a 2-core machine, issue "Every path of the paper runs").

Copies conf/ into a temporary project (conf/local left out), runs every pipeline
(set-up excluded: run it from a set-up checkout), and prints the total wall time and
its share of the budget. Run:
``.venv/bin/python benchmarks/bench_smoke.py``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PIPELINES = "preparation,canaries,perturbation,injection,training,mia,slimpajama_dedup,reporting"
BUDGET_S = 300.0


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="mosaic-smoke-") as tmp:
        project = Path(tmp)
        shutil.copytree(REPO / "conf", project / "conf", ignore=shutil.ignore_patterns("local"))
        (project / "conf" / "local").mkdir()
        shutil.copy(REPO / "pyproject.toml", project)
        (project / "src").mkdir()
        env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "true",
               "TOKENIZERS_PARALLELISM": "false"}
        start = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "kedro", "run", "--env", "smoke", f"--pipelines={PIPELINES}"],
            cwd=project, env=env, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - start
    if result.returncode != 0:
        print((result.stdout + result.stderr)[-3000:])
        raise SystemExit(f"kedro run --env smoke failed (exit {result.returncode})")
    print(f"kedro run --env smoke: {wall:.1f} s wall (budget {BUDGET_S:.0f} s): "
          f"{wall / BUDGET_S:.2f} of the budget, {'within' if wall <= BUDGET_S else 'OVER'}")


if __name__ == "__main__":
    main()
