"""MLflow tracking (mosaic_kedro.tracking) on a local SQLite store."""

from __future__ import annotations

import pandas as pd
import pytest
from pydantic import ValidationError

from mosaic_kedro.tracking import GridTracker, TrackingParams


def _training(condition: str) -> pd.DataFrame:
    return pd.DataFrame({"condition": condition, "step": [0, 5, 10],
                         "auc_loss": [0.5, 0.6, 0.7], "ppl_members": [9.0, 8.0, 7.0],
                         "run_id": "r1", "params_hash": "h1"})


def _aucs() -> pd.DataFrame:
    rows = [{"condition": c, "kind": "exact", "value": v, "seed": 1, "score": s, "auc": a,
             "ci_low": a - 0.1, "ci_high": a + 0.1, "tpr_at_1": 0.0, "tpr_at_10": 0.2,
             "run_id": "r2", "params_hash": "h1"}
            for c, v in (("exact_n01_s1", 1), ("exact_n04_s1", 4))
            for s, a in (("loss", 0.6), ("ratio", 0.7))]
    return pd.DataFrame(rows)


def test_two_writers_land_in_one_run_per_condition(tmp_path):
    params = TrackingParams(mlflow_uri=f"sqlite:///{tmp_path}/mlflow.db", experiment="t")
    # e.g. a Slurm array task logs training, the report job the final AUCs
    GridTracker(params).log_training(_training("exact_n01_s1"))
    tracker = GridTracker(params)
    tracker.log_final(_aucs())
    runs = tracker.client.search_runs([tracker.experiment_id])
    by_name = {r.info.run_name: r for r in runs}
    assert set(by_name) == {"exact_n01_s1", "exact_n04_s1"}
    run = by_name["exact_n01_s1"]
    assert run.data.metrics["auc/ratio"] == pytest.approx(0.7)
    assert run.data.metrics["train/auc_loss"] == pytest.approx(0.7)  # the last step
    history = tracker.client.get_metric_history(run.info.run_id, "train/auc_loss")
    assert [(m.step, round(m.value, 3)) for m in history] == [(0, 0.5), (5, 0.6), (10, 0.7)]
    assert run.data.tags["params_hash"] == "h1" and run.data.tags["kind"] == "exact"
    assert (run.data.tags["training_run_id"], run.data.tags["scoring_run_id"]) == ("r1", "r2")
    assert "train/auc_loss" not in by_name["exact_n04_s1"].data.metrics


def test_other_parameters_make_another_run(tmp_path):
    params = TrackingParams(mlflow_uri=f"sqlite:///{tmp_path}/mlflow.db", experiment="t")
    tracker = GridTracker(params)
    tracker.log_final(_aucs())
    tracker.log_final(_aucs().assign(params_hash="h2"))
    assert len(tracker.client.search_runs([tracker.experiment_id])) == 4


def test_tracking_block_is_validated():
    with pytest.raises(ValidationError, match="mlflow_url"):
        TrackingParams.model_validate({"mlflow_url": "sqlite:///x.db"})


def test_a_uri_without_mlflow_fails_saying_what_to_install(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "mlflow.tracking", None)  # import raises ImportError
    from mosaic_kedro.tracking import TrackingError

    with pytest.raises(TrackingError, match=r'pip install -e "\.\[tracking\]"'):
        GridTracker(TrackingParams(mlflow_uri="sqlite:///x.db"))
