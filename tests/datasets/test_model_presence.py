"""ModelPresenceDataset: True only for a saved model (versioned or not); save is a no-op."""

from __future__ import annotations

import json

from mosaic_kedro.datasets.model_presence import ModelPresenceDataset, holds_model
from mosaic_kedro.models import REFERENCE_FILE


def test_presence(tmp_path):
    ds = ModelPresenceDataset(filepath=str(tmp_path / "m"))
    assert ds.load() is False and not ds.exists()
    ds.save(True)
    assert ds.load() is False  # saving writes nothing
    (tmp_path / "m" / "2026-01-01T00.00.00.000Z").mkdir(parents=True)
    assert ds.load() is False  # an empty version is no model
    (tmp_path / "m" / ".m.tmp-1234").mkdir()
    (tmp_path / "m" / ".m.tmp-1234" / "config.json").write_text("{}")
    assert ds.load() is False  # nor is a half-written one
    (tmp_path / "m" / "2026-01-01T00.00.00.000Z" / "config.json").write_text("{}")
    assert ds.load() is True and ds.exists()
    ref = tmp_path / "r"
    ref.mkdir()
    (ref / REFERENCE_FILE).write_text(json.dumps({"name_or_path": "x"}))
    assert holds_model(ref)
