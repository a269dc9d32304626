"""Optional MLflow tracking of the grid: one MLflow run per condition.

Whatever ran a condition (``kedro run`` on one machine, a Slurm array task, the report
job), its training-time metrics and its final AUCs land in the same MLflow run: the run
is found by the tags ``condition`` and ``params_hash`` (the hash of the parameters that
made the data, see :mod:`mosaic_kedro.provenance`), and created by whichever writer
comes first. Point ``tracking.mlflow_uri`` at storage every writer reaches: an MLflow
server (``http://host:5000``), a database, or ``sqlite:///<path>`` on one machine
(SQLite locking over NFS is unreliable).

Install with ``pip install -e ".[tracking]"`` (``mlflow-skinny`` with SQLAlchemy for the
SQLite store); MLflow is imported only when a URI is set.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict

#: Condition metadata columns logged as MLflow tags.
META = ("kind", "value", "seed", "family", "strategy", "nu", "R", "top_k", "n", "x", "tau",
        "num_copies")


class TrackingParams(BaseModel):
    """``tracking:``: where the grid's metrics go (``mlflow_uri: null``: nowhere)."""

    model_config = ConfigDict(extra="forbid")
    mlflow_uri: str | None = None
    experiment: str = "mosaic_kedro"


class TrackingError(RuntimeError):
    """Tracking was asked for but cannot work (MLflow missing)."""


def _client(uri: str) -> Any:
    try:
        from mlflow.tracking import MlflowClient
    except ImportError as err:
        raise TrackingError(
            f"tracking.mlflow_uri is {uri!r} but MLflow is not installed: "
            'pip install -e ".[tracking]" (or set tracking.mlflow_uri: null)') from err
    return MlflowClient(tracking_uri=uri)


class GridTracker:
    """Logs a condition's metrics into its MLflow run (created on first use)."""

    def __init__(self, params: TrackingParams) -> None:
        self.client = _client(params.mlflow_uri)
        found = self.client.get_experiment_by_name(params.experiment)
        self.experiment_id = (found.experiment_id if found is not None
                              else self.client.create_experiment(params.experiment))

    def run_for(self, condition: str, params_hash: str, tags: dict[str, Any]) -> str:
        """The MLflow run id of (condition, params_hash), created if new; ``tags`` are
        set either way (a later writer adds its own)."""
        runs = self.client.search_runs(
            [self.experiment_id], max_results=1,
            filter_string=f"tags.condition = '{condition}' and tags.params_hash = '{params_hash}'")
        clean = {k: str(v) for k, v in tags.items() if v is not None and not pd.isna(v)}
        if not runs:
            run = self.client.create_run(self.experiment_id, run_name=condition,
                                         tags={**clean, "condition": condition,
                                               "params_hash": params_hash})
            return run.info.run_id
        run_id = runs[0].info.run_id
        for key, value in clean.items():
            self.client.set_tag(run_id, key, value)
        return run_id

    def _log(self, run_id: str, values: list[tuple[str, float, int]]) -> None:
        from mlflow.entities import Metric

        metrics = [Metric(k, float(v), 0, int(step)) for k, v, step in values if pd.notna(v)]
        for start in range(0, len(metrics), 1000):  # MLflow's batch limit
            self.client.log_batch(run_id, metrics=metrics[start:start + 1000])

    def log_training(self, metrics: pd.DataFrame) -> None:
        """Training-time metrics (``training_metrics``: one row per evaluation step),
        as ``train/<column>`` at their step, in each condition's run."""
        values = [c for c in metrics.columns
                  if c not in ("condition", "step", "run_id", "params_hash")]
        for (condition, phash), rows in metrics.groupby(["condition", "params_hash"]):
            run = self.run_for(str(condition), str(phash), {"training_run_id": rows["run_id"].iloc[0]})
            self._log(run, [(f"train/{c}", r[c], r["step"])
                            for _, r in rows.iterrows() for c in values])

    def log_final(self, auc_table: pd.DataFrame) -> None:
        """Final metrics per condition and score (``auc_table``): ``auc/<score>``, its
        interval and TPR at 1 % / 10 % FPR."""
        for (condition, phash), rows in auc_table.groupby(["condition", "params_hash"]):
            first = rows.iloc[0]
            tags = {k: first[k] for k in META if k in rows.columns}
            run = self.run_for(str(condition), str(phash),
                               {**tags, "scoring_run_id": first.get("run_id")})
            values = []
            for _, r in rows.iterrows():
                for column, name in (("auc", "auc"), ("ci_low", "auc_ci_low"),
                                     ("ci_high", "auc_ci_high"), ("tpr_at_1", "tpr_at_1"),
                                     ("tpr_at_10", "tpr_at_10")):
                    if column in rows.columns:
                        values.append((f"{name}/{r['score']}", r[column], 0))
            self._log(run, values)
