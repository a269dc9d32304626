"""HFModelDataset: round trip with a tiny model, versioning, atomic write, references."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from kedro.io.core import DatasetError, Version

from mosaic_kedro import lm_training
from mosaic_kedro.datasets import HFModelDataset, ModelReference
from mosaic_kedro.models import REFERENCE_FILE, LoadedModel, ModelSpec


@pytest.fixture(scope="module")
def tiny() -> LoadedModel:
    tok = lm_training.train_bpe_tokenizer(["hello world, a tiny corpus. " * 5] * 3, 280)
    model = lm_training.tiny_gpt2(tok, n_layer=1, n_embd=16, n_head=2, n_positions=32, seed=0)
    return LoadedModel(model.eval(), tok)


def _same(a: LoadedModel, b: LoadedModel) -> None:
    ids = torch.tensor([a.tokenizer("hello world", add_special_tokens=False)["input_ids"]])
    with torch.no_grad():
        torch.testing.assert_close(a.model(ids).logits, b.model(ids).logits)
    assert a.tokenizer.get_vocab() == b.tokenizer.get_vocab()


def test_round_trip_safetensors(tmp_path, tiny):
    ds = HFModelDataset(filepath=str(tmp_path / "model"), load_args={"device": "cpu"})
    assert not ds.exists()
    ds.save(tiny)
    assert ds.exists()
    files = {p.name for p in (tmp_path / "model").iterdir()}
    assert "model.safetensors" in files and "tokenizer.json" in files
    _same(tiny, ds.load())


def test_versioned_saves_and_loads(tmp_path, tiny):
    path = str(tmp_path / "versioned")
    ds = HFModelDataset(filepath=path, version=Version(None, "2026-01-01T00.00.00.000Z"))
    ds.save(tiny)
    other = lm_training.tiny_gpt2(tiny.tokenizer, n_layer=1, n_embd=16, n_head=2,
                                  n_positions=32, seed=1)
    HFModelDataset(filepath=path, version=Version(None, "2026-01-02T00.00.00.000Z")).save(
        LoadedModel(other, tiny.tokenizer))
    versions = sorted(p.name for p in Path(path).iterdir())
    assert versions == ["2026-01-01T00.00.00.000Z", "2026-01-02T00.00.00.000Z"]
    latest = HFModelDataset(filepath=path, version=Version(None, None)).load()
    _same(LoadedModel(other.eval(), tiny.tokenizer), latest)
    first = HFModelDataset(filepath=path, version=Version("2026-01-01T00.00.00.000Z", None))
    _same(tiny, first.load())
    with pytest.raises(DatasetError):  # a version is never overwritten
        ds.save(tiny)


def test_missing_model_is_a_clear_error(tmp_path):
    with pytest.raises(DatasetError, match="no model at|Did not find any versions"):
        HFModelDataset(filepath=str(tmp_path / "none")).load()
    versioned = HFModelDataset(filepath=str(tmp_path / "none"), version=Version(None, None))
    assert not versioned.exists()


def test_atomic_write_leaves_nothing_on_failure(tmp_path, tiny):
    class Broken:
        def save_pretrained(self, *args, **kwargs):
            raise RuntimeError("disk full")

    path = tmp_path / "atomic"
    ds = HFModelDataset(filepath=str(path))
    with pytest.raises(DatasetError, match="disk full"):
        ds.save(LoadedModel(Broken(), tiny.tokenizer))
    assert not path.exists()
    assert list(tmp_path.iterdir()) == []  # no temporary directory left behind
    ds.save(tiny)  # an existing unversioned model is replaced whole
    with pytest.raises(DatasetError):
        ds.save(LoadedModel(Broken(), tiny.tokenizer))
    _same(tiny, ds.load())
    with pytest.raises(DatasetError, match="saves LoadedModel or ModelReference"):
        ds.save("not a model")


def test_reference_save_and_load(tmp_path, tiny):
    tiny_dir = tmp_path / "tiny"
    HFModelDataset(filepath=str(tiny_dir)).save(tiny)
    ds = HFModelDataset(filepath=str(tmp_path / "ref"), load_args={"dtype": "float32"})
    ds.save(ModelReference(ModelSpec(name_or_path=str(tiny_dir))))
    saved = json.loads((tmp_path / "ref" / REFERENCE_FILE).read_text())
    assert saved == {"name_or_path": str(tiny_dir)}
    loaded = ds.load()
    assert loaded.spec.name_or_path == str(tiny_dir) and loaded.spec.dtype == "float32"
    _same(tiny, loaded)


def test_bad_model_type():
    with pytest.raises(DatasetError, match="model_type"):
        HFModelDataset(filepath="x", model_type="seq2seq")
