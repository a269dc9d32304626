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
    """Every job of the generated scripts, in order, as separate processes; MLflow
    tracking (a local SQLite store) gathers each condition's training-time metrics
    (logged by its array task) and final AUCs (logged by the report job) in one run."""
    store = project_copy / "mlflow.db"
    with open(project_copy / "conf/test/parameters.yml", "a") as conf:
        conf.write(f"tracking:\n  mlflow_uri: sqlite:///{store}\n  experiment: slurm-test\n")
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
    names = {c.name for c in conditions(grid)}
    assert set(auc["condition"]) == names
    assert list((data / "08_reporting/report.html").glob("*/report.html"))

    from mosaic_kedro.tracking import GridTracker, TrackingParams

    tracker = GridTracker(TrackingParams(mlflow_uri=f"sqlite:///{store}",
                                         experiment="slurm-test"))
    runs = {r.info.run_name: r for r in tracker.client.search_runs([tracker.experiment_id])}
    assert set(runs) == names  # one MLflow run per condition, however many processes
    for name, run in runs.items():
        history = tracker.client.get_metric_history(run.info.run_id, "train/auc_loss")
        assert len(history) >= 2, name  # step 0 and later evaluations
        final = auc[(auc["condition"] == name) & (auc["score"] == "ratio")]["auc"].iloc[0]
        assert run.data.metrics["auc/ratio"] == pytest.approx(final)
        # trained and scored in its array task, whose run id the data carries
        scored_by = auc[auc["condition"] == name]["run_id"].iloc[0]
        assert run.data.tags["training_run_id"] == run.data.tags["scoring_run_id"] == scored_by
    assert len({r.data.tags["scoring_run_id"] for r in runs.values()}) == len(names)
