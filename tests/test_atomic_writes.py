"""Atomic saves: kill a real save midway (SIGINT, SIGKILL) and find the old or the new
output, byte for byte, never a partial one; after SIGINT no temporary is left.

Each trial runs a fresh Python process that saves the "new" object through the
project's dataset over a copy of the "old" output and blocks at a kill point:

- ``mid_write``: half of the first write is on disk in the temporary (files), or the
  weights are written and the tokenizer is not (model directories);
- ``before_commit``: the temporary is complete and fsynced, not yet renamed;
- ``after_commit``: renamed into place, cleanup not yet done.

The parameter ids are the matrix: dataset type x versioned x signal x kill point.
"""

from __future__ import annotations

import hashlib
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from mosaic_kedro.datasets import AtomicParquetDataset, atomic

V_OLD, V_NEW = "2026-01-01T00.00.00.000Z", "2026-01-02T00.00.00.000Z"

CHILD = textwrap.dedent(r'''
    import sys, time
    kind, path, versioned, point, payload = sys.argv[1:6]
    from kedro.io.core import Version
    import mosaic_kedro.datasets as D
    from mosaic_kedro.datasets import atomic
    def block(where):
        print("READY", where, flush=True)
        time.sleep(120)
    if point in ("before_commit", "after_commit"):
        atomic.interruption_point = lambda name: block(name) if name == point else None
    if point == "mid_write" and kind != "hf_model":
        from fsspec.implementations.local import LocalFileOpener
        orig = LocalFileOpener.write
        def write(self, data, *a, **k):
            half = len(data) // 2
            orig(self, data[:half]); self.flush()
            block("mid_write")
        LocalFileOpener.write = write
    big = 200_000
    if kind in ("parquet", "csv"):
        import pandas as pd
        data = pd.DataFrame({"i": range(big), "s": [f"{payload}-{i}" for i in range(big)]})
        cls = D.AtomicParquetDataset if kind == "parquet" else D.AtomicCSVDataset
    elif kind == "json":
        data, cls = {"payload": payload, "xs": list(range(big))}, D.AtomicJSONDataset
    elif kind == "yaml":
        data, cls = {"payload": payload, "xs": list(range(5000))}, D.AtomicYAMLDataset
    elif kind == "pickle":
        data, cls = [f"{payload}-{i}" for i in range(big)], D.AtomicPickleDataset
    elif kind == "text":
        data, cls = "".join(f"{payload} line {i}\n" for i in range(big)), D.AtomicTextDataset
    elif kind == "png":
        import matplotlib; matplotlib.use("Agg"); import matplotlib.pyplot as plt
        data = plt.figure(figsize=(8, 6)); data.gca().plot(range(100 if payload == "old" else 50))
        cls = D.AtomicMatplotlibDataset
    else:
        from mosaic_kedro import lm_training
        from mosaic_kedro.models import LoadedModel
        tok = lm_training.train_bpe_tokenizer(["hello world, a tiny corpus. " * 5] * 3, 280)
        model = lm_training.tiny_gpt2(tok, n_layer=1, n_embd=64, n_head=2, n_positions=32,
                                      seed=0 if payload == "old" else 1)
        if point == "mid_write":
            tok.save_pretrained = lambda *a, **k: block("mid_write")
        data, cls = LoadedModel(model, tok), D.HFModelDataset
    version = None
    if versioned == "1":
        version = Version(None, "V_OLD" if payload == "old" else "V_NEW")
    cls(filepath=path, version=version).save(data)
    print("DONE", flush=True)
''').replace("V_OLD", V_OLD).replace("V_NEW", V_NEW)

KINDS = {"parquet": "x.parquet", "csv": "x.csv", "json": "x.json", "yaml": "x.yml",
         "pickle": "x.pkl", "png": "x.png", "text": "x.md", "hf_model": "model"}
POINTS = ["mid_write", "before_commit", "after_commit"]
EXPECTED = {"mid_write": "old", "before_commit": "old", "after_commit": "new"}


def _child(kind, path, versioned, point, payload) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, kind, str(path), versioned, point, payload],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def _digest(path: Path):
    if path.is_dir():
        return {p.relative_to(path).as_posix(): _digest(p) for p in sorted(path.rglob("*"))
                if p.is_file()}
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


def _final(root: Path, kind: str, versioned: str, version: str) -> Path:
    base = root / KINDS[kind]
    return base / version / KINDS[kind] if versioned == "1" else base


def _temps(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if atomic.is_temp_name(p.name)) \
        if directory.is_dir() else []


@pytest.fixture(scope="module")
def references(tmp_path_factory):
    """Per (kind, versioned): the old output and the new one, each saved completely."""
    refs = {}
    root = tmp_path_factory.mktemp("refs")
    for kind, name in KINDS.items():
        for payload in ("old", "new"):
            d = root / payload / kind
            proc = _child(kind, d / name, "0", "none", payload)
            out, err = proc.communicate(timeout=300)
            assert proc.returncode == 0, err[-2000:]
            refs[kind, payload] = d / name
    return refs


CASES = [(k, "0") for k in KINDS] + [("parquet", "1"), ("hf_model", "1")]


@pytest.mark.parametrize("point", POINTS)
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["SIGINT", "SIGKILL"])
@pytest.mark.parametrize(("kind", "versioned"), CASES,
                         ids=[f"{k}-{'versioned' if v == '1' else 'unversioned'}" for k, v in CASES])
def test_killed_save_leaves_old_or_new(tmp_path, references, kind, versioned, sig, point):
    old_ref, new_ref = references[kind, "old"], references[kind, "new"]
    old_path = _final(tmp_path, kind, versioned, V_OLD)
    new_path = _final(tmp_path, kind, versioned, V_NEW)  # == old_path when unversioned
    old_path.parent.mkdir(parents=True, exist_ok=True)
    (shutil.copytree if old_ref.is_dir() else shutil.copy2)(old_ref, old_path)
    old_digest, new_digest = _digest(old_ref), _digest(new_ref)
    assert old_digest != new_digest

    proc = _child(kind, tmp_path / KINDS[kind], versioned, point, "new")
    line = proc.stdout.readline()
    assert line.startswith("READY"), proc.stderr.read()[-3000:]
    temps_at_kill = _temps(new_path.parent)
    if point != "after_commit":
        assert temps_at_kill, "the kill point is inside the save: a temporary exists"
    proc.send_signal(sig)
    proc.communicate(timeout=60)
    assert proc.returncode != 0

    found = _digest(new_path)
    if versioned == "1":
        assert _digest(old_path) == old_digest  # the old version is never touched
        result = "new" if found == new_digest else "absent" if found is None else "PARTIAL"
        assert result == ("new" if EXPECTED[point] == "new" else "absent")
    else:
        result = "new" if found == new_digest else "old" if found == old_digest else "PARTIAL"
        assert result == EXPECTED[point]
    left = _temps(new_path.parent)
    if sig == signal.SIGINT:
        assert left == [], f"SIGINT left temporaries {left}"
    # after SIGKILL a temporary may remain (mid_write/before_commit: the new one;
    # after_commit of a directory: the swapped-out old one); the dataset ignores it:
    if kind == "parquet":
        ds = AtomicParquetDataset(filepath=str(tmp_path / KINDS[kind]))
        if versioned == "0":
            assert ds.exists()
            assert ds.load()["s"].iloc[0] == f"{EXPECTED[point]}-0"
    # ... and the next save of that output removes those of dead processes
    atomic.remove_stale_temps(new_path)
    assert _temps(new_path.parent) == []
    print(f"\nMATRIX {kind} versioned={versioned} {sig.name} {point} -> {result}, "  # noqa: T201
          f"temporaries left: {len(left)}")


def test_timed_kills_parquet(tmp_path, references):
    """Kills at spread-out times during a real save (no hooks): old or new, never partial."""
    old_ref, new_ref = references["parquet", "old"], references["parquet", "new"]
    old_d, new_d = _digest(old_ref), _digest(new_ref)
    target = tmp_path / "x.parquet"
    seen = set()
    for i, delay in enumerate([0.3, 0.8, 1.2, 1.6, 2.0, 2.5]):
        shutil.copy2(old_ref, target)
        proc = _child("parquet", target, "0", "none", "new")
        try:
            proc.communicate(timeout=delay)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGINT if i % 2 else signal.SIGKILL)
            proc.communicate(timeout=60)
        d = _digest(target)
        assert d in (old_d, new_d)
        seen.add("old" if d == old_d else "new")
        if i % 2:
            assert _temps(tmp_path) == []
        atomic.remove_stale_temps(target)


def test_failed_save_keeps_old_and_no_temp(tmp_path):
    ds = AtomicParquetDataset(filepath=str(tmp_path / "x.parquet"))
    ds.save(pd.DataFrame({"a": [1]}))
    with pytest.raises(Exception, match="."):
        ds.save(pd.DataFrame({"a": [object()]}))  # pyarrow cannot write it
    assert ds.load()["a"].tolist() == [1]
    assert _temps(tmp_path) == []


def test_fsspec_memory_path(tmp_path):
    ds = AtomicParquetDataset(filepath="memory://atomic-test/x.parquet")
    ds.save(pd.DataFrame({"a": [1]}))
    ds.save(pd.DataFrame({"a": [2]}))
    assert ds.load()["a"].tolist() == [2]
    names = [p.rsplit("/", 1)[-1] for p in ds._fs.store]
    assert "x.parquet" in names
    assert not [n for n in names if atomic.is_temp_name(n)]  # the temporary was moved


def test_catalog_uses_only_atomic_types():
    """Every file dataset the catalog names is one whose save goes through the atomic
    layer (an ``AtomicWriteMixin`` subclass, or the model dataset, which swaps whole
    directories with ``atomic_local_path``); checked on the class, not its name."""
    import importlib

    from mosaic_kedro.datasets import HFModelDataset
    from mosaic_kedro.datasets.atomic import AtomicWriteMixin

    repo = Path(__file__).resolve().parents[1]
    seen = set()
    for path in sorted((repo / "conf").rglob("catalog*.yml")):
        for line in path.read_text().splitlines():
            if line.strip().startswith("type:"):
                t = line.split(":", 1)[1].strip()
                # a PartitionedDataset writes each partition with its inner dataset,
                # whose own `type:` line is checked here too
                if t in ("MemoryDataset", "partitions.PartitionedDataset"):
                    continue
                module, _, name = t.rpartition(".")
                cls = getattr(importlib.import_module(module), name)
                assert issubclass(cls, (AtomicWriteMixin, HFModelDataset)), f"{path.name}: {t}"
                seen.add(name)
    assert "RunScopedPickleDataset" in seen and "AtomicParquetDataset" in seen
