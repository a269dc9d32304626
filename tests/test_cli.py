"""Project commands (mosaic_kedro.cli): ``kedro mosaic slurm``.

Slurm itself cannot exist here; the slow test stands in for it by running each
generated job script with bash in order, the array script once per
``SLURM_ARRAY_TASK_ID``, as sbatch would on a cluster (each task its own process,
sharing data only through the catalog on disk).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from mosaic_kedro.grid import conditions

VENV_BIN = str(Path(sys.executable).parent)


def _slurm(project: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kedro", "mosaic", "slurm", *args],
                          cwd=project, capture_output=True, text=True, timeout=300, check=False)


def _namespaces(text: str) -> list[list[str]]:
    return [e.split(",") for e in re.findall(r"^  (\S+)  # \d+$", text, flags=re.MULTILINE)]


def test_slurm_scripts_for_the_paper_grid(project_copy):
    out = project_copy / "slurm"
    result = _slurm(project_copy, "--env", "paper", "--out", str(out), "--max-parallel", "32")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "470 array tasks" in result.stdout
    units = (out / "units.sbatch").read_text()
    assert "#SBATCH --array=0-469%32" in units
    # The command checked every listed namespace against the pipelines it built; here,
    # against the paper grid itself: index i is condition i, each exactly once.
    grid = yaml.safe_load((project_copy / "conf/paper/parameters.yml").read_text())["grid"]
    assert _namespaces(units) == [[c.name] for c in conditions(grid)]
    setup, report = (out / "setup.sbatch").read_text(), (out / "report.sbatch").read_text()
    for node in ("validate_mia_params", "score_reference", "compute_mlm_topk10_s1_candidates",
                 "compute_mlm_topk1000_s5_candidates"):
        assert node in setup, node
    for node in ("gather_mia_scores", "evaluate_mia", "gather_training_metrics",
                 "gather_extraction"):
        assert node in report and node not in setup, node
    assert os.access(out / "submit.sh", os.X_OK)


@pytest.mark.slow
def test_slurm_scripts_run_the_test_grid_end_to_end(project_copy):
    """Every job of the generated scripts, in order, as separate processes."""
    out = project_copy / "slurm"
    assert _slurm(project_copy, "--env", "test", "--out", str(out)).returncode == 0
    env = {**os.environ, "PATH": f"{VENV_BIN}:{os.environ['PATH']}"}
    tasks = len(_namespaces((out / "units.sbatch").read_text()))
    jobs = [("setup.sbatch", None), *(("units.sbatch", i) for i in range(tasks)),
            ("report.sbatch", None)]
    for script, index in jobs:
        task_env = env if index is None else {**env, "SLURM_ARRAY_TASK_ID": str(index)}
        result = subprocess.run(["bash", str(out / script)], env=task_env, cwd="/",
                                capture_output=True, text=True, timeout=600, check=False)
        assert result.returncode == 0, f"{script} {index}: {(result.stdout + result.stderr)[-3000:]}"
    data = project_copy / "data"
    auc = pd.read_csv(sorted((data / "07_model_output/auc_table.csv").glob("*/auc_table.csv"))[-1])
    grid = yaml.safe_load((project_copy / "conf/test/parameters.yml").read_text())["grid"]
    assert set(auc["condition"]) == {c.name for c in conditions(grid)}
    assert list((data / "08_reporting/report.html").glob("*/report.html"))
