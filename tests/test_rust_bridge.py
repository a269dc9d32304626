"""The Python bridge to `mosaic-sa`: discovery, errors, progress logging, and
every subcommand on the real binary (compared with plain Python references)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from mosaic_kedro import rust_bridge
from mosaic_kedro.rust_bridge import (
    RustBinaryNotFoundError,
    RustOutputError,
    RustToolError,
)
from mosaic_kedro.token_files import read_token_file, write_token_file

SEP = 0xFFFF


@pytest.fixture(scope="session")
def binary(mosaic_sa_binary) -> Path:
    """The real binary (shared fixture of tests/conftest.py)."""
    return mosaic_sa_binary


@pytest.fixture
def tool(binary, monkeypatch):
    monkeypatch.setenv("MOSAIC_RUST_BIN", str(binary))
    return binary


@pytest.fixture
def corpus(tmp_path):
    rng = np.random.default_rng(0)
    base = rng.integers(0, 500, 120)
    docs = [base, rng.integers(0, 500, 300), base[:80], rng.integers(0, 500, 50)]
    near = base.copy()
    near[[5, 50, 90]] = 499
    near = np.insert(near, 60, 498)
    docs += [near, [], np.concatenate([rng.integers(0, 500, 7), base[20:120]])]
    p = tmp_path / "c.tok"
    write_token_file(p, docs, 500)
    return p, np.asarray(read_token_file(p).tokens).astype(np.int64), base


def _grams(t, length):
    g = {}
    for p in range(len(t) - length + 1):
        w = t[p : p + length]
        if (w == SEP).any():
            continue
        g.setdefault(w.tobytes(), []).append(p)
    return g


def _doc_of(t, positions):
    seps = np.flatnonzero(t == SEP)
    return (np.searchsorted(seps, positions, side="right") - 1).tolist()


def test_find_binary_env_and_missing(tmp_path, monkeypatch, binary):
    monkeypatch.setenv("MOSAIC_RUST_BIN", str(binary))
    assert rust_bridge.find_binary() == binary
    monkeypatch.setenv("MOSAIC_RUST_BIN", str(tmp_path / "nope"))
    with pytest.raises(RustBinaryNotFoundError, match="cargo build --release --manifest-path rust/Cargo.toml"):
        rust_bridge.find_binary()
    monkeypatch.delenv("MOSAIC_RUST_BIN")
    monkeypatch.setattr(rust_bridge, "DEFAULT_BINARY", tmp_path / "absent")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="make setup"):
        rust_bridge.build_suffix_array(tmp_path / "a.tok", tmp_path / "a.sa")


def test_error_carries_code_and_stderr(tool, tmp_path):
    bad = tmp_path / "bad.tok"
    bad.write_bytes(b"garbage" * 20)
    with pytest.raises(RustToolError) as ei:
        rust_bridge.build_suffix_array(bad, tmp_path / "x.sa")
    e = ei.value
    assert e.returncode == 3
    assert "bad.tok" in e.stderr_lines[-1] and "not a token file" in str(e)
    assert e.command[1] == "build"
    assert not (tmp_path / "x.sa").exists()
    with pytest.raises(RustToolError) as ei:
        rust_bridge.run_tool(["self-similar", "--length", "0"])
    assert ei.value.returncode == 2


def test_progress_lines_are_logged(tool, corpus, tmp_path, caplog):
    tok, _, _ = corpus
    with caplog.at_level(logging.INFO, logger="mosaic_kedro.rust_bridge"):
        rust_bridge.build_suffix_array(tok, tmp_path / "c.sa", threads=2, parts=2)
    msgs = [r.getMessage() for r in caplog.records if r.name == "mosaic_kedro.rust_bridge"]
    assert any("[mosaic-sa] suffix array of" in m for m in msgs)
    assert any("build: ok" in m for m in msgs)


def test_subcommands_against_python_references(tool, corpus, tmp_path):
    tok, t, base = corpus
    sa = rust_bridge.build_suffix_array(tok, tmp_path / "c.sa", threads=2, parts=3)
    h, arr = rust_bridge.read_suffix_array(sa)
    assert h.n_tokens == len(t) and sorted(arr.tolist()) == list(range(len(t)))
    assert rust_bridge.info(sa)["kind"] == "suffix_array"

    # self-similar
    ss = rust_bridge.read_self_similar(rust_bridge.self_similar(tok, sa, tmp_path / "c.ss", length=30, positions=True))
    want = sorted(v for v in _grams(t, 30).values() if len(v) > 1)
    assert ss.length == 30
    assert ss.first.tolist() == [v[0] for v in want]
    assert ss.count.tolist() == [len(v) for v in want]
    assert [p.tolist() for p in ss.positions] == want
    ss2 = rust_bridge.read_self_similar(rust_bridge.self_similar(tok, sa, tmp_path / "c2.ss", length=30))
    assert ss2.positions is None and ss2.count.tolist() == ss.count.tolist()

    # count
    queries = [base[:40], base[100:120], np.array([499, 499, 499]), t[5:6]]
    qf = tmp_path / "q.tok"
    write_token_file(qf, queries, 500)
    cnt = rust_bridge.read_counts(rust_bridge.count_occurrences(tok, sa, qf, tmp_path / "q.jsonl", positions=True, doc_ids=True))
    for i, q in enumerate(queries):
        pos = _grams(t, len(q)).get(np.asarray(q, dtype=np.int64).tobytes(), [])
        assert cnt.counts[i] == len(pos)
        assert cnt.positions[i].tolist() == pos
        assert cnt.doc_ids[i].tolist() == _doc_of(t, pos)

    # collect
    for mode in ("keep-first", "remove-all"):
        h, rg = rust_bridge.read_ranges(rust_bridge.collect(tok, sa, tmp_path / f"{mode}.rg", length=30, mode=mode))
        covered = np.zeros(len(t), bool)
        for v in _grams(t, 30).values():
            if len(v) > 1:
                for p in v[1:] if mode == "keep-first" else v:
                    covered[p : p + 30] = True
        assert h.count2 == covered.sum()
        mask = np.zeros(len(t), bool)
        for a, b in rg:
            mask[a:b] = True
        np.testing.assert_array_equal(mask, covered)

    # scan: target = base (120 tokens); exact copy in doc 0, near copy in doc 4
    tg = tmp_path / "t.tok"
    write_token_file(tg, [base], 500)
    head, rows = rust_bridge.read_scan(rust_bridge.scan(tok, tg, tmp_path / "s.jsonl", max_distance=6))
    assert head["target_length"] == 120 and head["n_targets"] == 1
    r = rows[0]
    assert r["doc_ids"] == [0, 4]
    assert r["levenshtein"] == [0, 5]
    assert r["hamming"][0] == 0 and r["hamming"][1] > 6
    head, rows = rust_bridge.read_scan(rust_bridge.scan(tok, tg, tmp_path / "s2.jsonl", max_distance=6, select="hamming"))
    assert rows[0]["doc_ids"] == [0]


def test_readers_reject_foreign_and_truncated(tool, corpus, tmp_path):
    tok, _, _ = corpus
    sa = rust_bridge.build_suffix_array(tok, tmp_path / "c.sa")
    with pytest.raises(RustOutputError, match="not a MOSAICSS"):
        rust_bridge.read_self_similar(sa)
    ss = rust_bridge.self_similar(tok, sa, tmp_path / "c.ss", length=10)
    ss.write_bytes(ss.read_bytes()[:-8])
    with pytest.raises(RustOutputError, match="truncated"):
        rust_bridge.read_self_similar(ss)
    trunc = tmp_path / "t.sa"
    trunc.write_bytes(sa.read_bytes()[:-2])
    with pytest.raises(RustOutputError, match="truncated"):
        rust_bridge.read_suffix_array(trunc)
