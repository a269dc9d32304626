"""RunScopedPickleDataset: loadable from another process, never reused by
``--only-missing-outputs``."""

from __future__ import annotations

from kedro.io import DataCatalog
from kedro.pipeline import Node, Pipeline
from kedro.runner import SequentialRunner

from mosaic_kedro.datasets import AtomicJSONDataset, RunScopedPickleDataset


def test_round_trips_and_never_exists(tmp_path):
    ds = RunScopedPickleDataset(filepath=str(tmp_path / "config.pkl"))
    ds.save({"lr": 1e-3, "shape": (1, 2)})
    assert RunScopedPickleDataset(filepath=str(tmp_path / "config.pkl")).load() == {
        "lr": 1e-3, "shape": (1, 2)}
    assert (tmp_path / "config.pkl").exists() and not ds.exists()


def _validate(params: dict) -> dict:
    return dict(params)


def _value(config: dict) -> int:
    return config["value"]


def _run(tmp_path, value: int) -> None:
    catalog = DataCatalog({
        "params:block": None,
        "config": RunScopedPickleDataset(filepath=str(tmp_path / "config.pkl")),
        "result": AtomicJSONDataset(filepath=str(tmp_path / "result.json")),
        "other": AtomicJSONDataset(filepath=str(tmp_path / "other.json")),
    })
    catalog["params:block"] = {"value": value}
    pipe = Pipeline([
        Node(_validate, "params:block", "config", name="validate"),
        Node(_value, "config", "result", name="use"),
        Node(_value, "config", "other", name="use_too"),
    ])
    SequentialRunner().run(pipe, catalog, only_missing_outputs=True)


def test_only_missing_outputs_revalidates_instead_of_reading_a_stale_config(tmp_path):
    _run(tmp_path, 1)
    (tmp_path / "result.json").unlink()
    _run(tmp_path, 2)  # the parameters changed; "other" still exists and is kept
    assert AtomicJSONDataset(filepath=str(tmp_path / "result.json")).load() == 2
    assert AtomicJSONDataset(filepath=str(tmp_path / "other.json")).load() == 1


def test_was_saved_tells_a_later_task_it_can_read(tmp_path):
    ds = RunScopedPickleDataset(filepath=str(tmp_path / "config.pkl"))
    assert not ds.was_saved()
    ds.save({"seed": 1})
    assert ds.was_saved() and not ds.exists()
