"""The token-file format shared with the Rust tools."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from mosaic_kedro.token_files import (
    HEADER_LEN,
    TokenFileError,
    choose_width,
    offsets_path,
    read_offsets,
    read_token_file,
    read_token_header,
    write_token_file,
)


def test_choose_width():
    assert choose_width(0) == 2
    assert choose_width(50257) == 2
    assert choose_width(65534) == 2
    assert choose_width(65535) == 4
    assert choose_width(2**32 - 2) == 4
    with pytest.raises(TokenFileError):
        choose_width(2**32 - 1)


@pytest.mark.parametrize("vocab,width", [(100, 2), (65534, 2), (70000, 4)])
def test_roundtrip_bytes_and_offsets(tmp_path, vocab, width):
    docs = [[1, 2, 3], [], [vocab - 1, 0], [5] * 10]
    p = tmp_path / "a.tok"
    h = write_token_file(p, (d for d in docs), vocab)  # a generator: streamed
    assert (h.width, h.n_docs, h.n_tokens, h.vocab_size) == (width, 4, 3 + 0 + 2 + 10 + 4, vocab)
    raw = p.read_bytes()
    assert raw[:8] == b"MOSAICTK"
    magic, ver, w, n, nd, v, sep = struct.unpack("<8sIIQQQI", raw[:44])
    assert (ver, w, n, nd, v) == (1, width, 19, 4, vocab)
    assert sep == (0xFFFF if width == 2 else 0xFFFFFFFF)
    assert raw[44:64] == b"\0" * 20
    assert len(raw) == HEADER_LEN + 19 * width
    tf = read_token_file(p, validate=True)
    assert isinstance(tf.tokens, np.memmap)
    assert tf.tokens[0] == sep
    assert [list(map(int, d)) for d in tf.documents()] == docs
    offs = read_offsets(offsets_path(p), tf.header)
    assert offs.tolist() == [1, 5, 6, 9]
    assert tf.offsets().tolist() == [1, 5, 6, 9]
    assert read_token_header(p) == tf.header


def test_forced_width_and_numpy_docs(tmp_path):
    p = tmp_path / "b.tok"
    write_token_file(p, [np.arange(5, dtype=np.int32)], 10, width=4)
    tf = read_token_file(p, mmap=False)
    assert tf.header.width == 4 and tf.tokens.dtype == np.dtype("<u4")
    assert tf.tokens.tolist() == [0xFFFFFFFF, 0, 1, 2, 3, 4]


def test_empty_corpus(tmp_path):
    p = tmp_path / "e.tok"
    write_token_file(p, [], 10)
    tf = read_token_file(p, validate=True)
    assert tf.header.n_tokens == 0 and len(tf.tokens) == 0


def test_vocab_does_not_fit_width(tmp_path):
    with pytest.raises(TokenFileError, match="does not fit"):
        write_token_file(tmp_path / "c.tok", [[1]], 70000, width=2)
    with pytest.raises(TokenFileError, match="does not fit"):
        write_token_file(tmp_path / "c.tok", [[1]], 65535, width=2)


def test_token_outside_vocab_names_file_and_leaves_nothing(tmp_path):
    p = tmp_path / "d.tok"
    with pytest.raises(TokenFileError, match=r"d\.tok.*document 1.*token 10"):
        write_token_file(p, [[1, 2], [3, 10]], 10)
    with pytest.raises(TokenFileError, match="token -1"):
        write_token_file(p, [[-1]], 10)
    assert list(tmp_path.iterdir()) == []


def test_atomic_on_failure_midway(tmp_path):
    p = tmp_path / "f.tok"
    write_token_file(p, [[1, 2, 3]], 10)
    before = p.read_bytes()

    def docs():
        yield [1, 2]
        raise RuntimeError("tokenizer died")

    with pytest.raises(RuntimeError):
        write_token_file(p, docs(), 10)
    assert p.read_bytes() == before
    assert sorted(x.name for x in tmp_path.iterdir()) == ["f.tok", "f.tok.offsets"]


def test_truncated_foreign_and_mismatched_files(tmp_path):
    p = tmp_path / "g.tok"
    write_token_file(p, [[1, 2, 3], [4]], 10)
    raw = p.read_bytes()
    t = tmp_path / "trunc.tok"
    t.write_bytes(raw[:-1])
    with pytest.raises(TokenFileError, match=r"trunc\.tok.*truncated"):
        read_token_file(t)
    short = tmp_path / "short.tok"
    short.write_bytes(raw[:10])
    with pytest.raises(TokenFileError, match=r"short\.tok.*shorter"):
        read_token_file(short)
    foreign = tmp_path / "foreign.tok"
    foreign.write_bytes(b"PK\x03\x04" + b"\0" * 100)
    with pytest.raises(TokenFileError, match=r"foreign\.tok.*not a token file"):
        read_token_file(foreign)
    bad_w = tmp_path / "w.tok"
    bad_w.write_bytes(raw[:12] + struct.pack("<I", 3) + raw[16:])
    with pytest.raises(TokenFileError, match="width 3"):
        read_token_file(bad_w)
    # header document count disagrees with the separators
    bad_d = tmp_path / "docs.tok"
    bad_d.write_bytes(raw[:24] + struct.pack("<Q", 1) + raw[32:])
    read_token_file(bad_d)  # sizes are fine
    with pytest.raises(TokenFileError, match="separators"):
        read_token_file(bad_d, validate=True)
    # offsets file of another token file
    other = tmp_path / "o.tok"
    write_token_file(other, [[1]], 10)
    with pytest.raises(TokenFileError, match="offsets are for"):
        read_offsets(offsets_path(other), read_token_header(p))
    off = offsets_path(p)
    off.write_bytes(off.read_bytes()[:-4])
    with pytest.raises(TokenFileError, match="truncated"):
        read_offsets(off)
    with pytest.raises(ValueError):  # TokenFileError is a ValueError
        read_token_file(tmp_path / "missing.tok")
