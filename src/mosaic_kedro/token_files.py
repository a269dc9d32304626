"""Token files: the corpus format shared with the Rust tools (``rust/``).

A token file (``*.tok``) is a fixed 64-byte little-endian header followed by the
tokens::

    bytes  0-7   magic b"MOSAICTK"
    bytes  8-11  u32 version = 1
    bytes 12-15  u32 token width in bytes (2 or 4)
    bytes 16-23  u64 number of tokens (separators included)
    bytes 24-31  u64 number of documents
    bytes 32-39  u64 vocab size (every ordinary token is < vocab size)
    bytes 40-43  u32 separator token value (0xFFFF or 0xFFFFFFFF)
    bytes 44-63  zero
    bytes 64-    tokens, little-endian, width bytes each

Every document is preceded by one separator token, so the file starts with a
separator whenever it holds a document. The separator is the maximum value of the
width, so a vocabulary must be strictly smaller than it.

The offsets file (same path + ``.offsets``) holds the start (token index of the
first real token) of each document::

    bytes  0-7   magic b"MOSAICOF"
    bytes  8-11  u32 version = 1
    bytes 12-15  u32 entry width = 8
    bytes 16-23  u64 number of documents
    bytes 24-31  u64 number of tokens of the token file
    bytes 32-63  zero
    bytes 64-    u64 start of each document

This module is a pure library (numpy only). Writing streams the documents
(never holding the corpus) into temporary names and renames them when complete.
"""

from __future__ import annotations

import os
import struct
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MAGIC = b"MOSAICTK"
OFFSETS_MAGIC = b"MOSAICOF"
VERSION = 1
HEADER_LEN = 64
OFFSETS_HEADER_LEN = 64
SEPARATORS = {2: 0xFFFF, 4: 0xFFFFFFFF}
DTYPES = {2: np.dtype("<u2"), 4: np.dtype("<u4")}
_HEADER = struct.Struct("<8sIIQQQI20x")
_OFFSETS_HEADER = struct.Struct("<8sIIQQ32x")
_FLUSH_TOKENS = 1 << 20

__all__ = [
    "TokenFileError",
    "TokenHeader",
    "TokenFile",
    "choose_width",
    "offsets_path",
    "write_token_file",
    "read_token_header",
    "read_token_file",
    "read_offsets",
]


class TokenFileError(ValueError):
    """A token or offsets file is truncated, foreign or inconsistent, or data
    do not fit the format. The message names the file."""


@dataclass(frozen=True)
class TokenHeader:
    width: int
    n_tokens: int
    n_docs: int
    vocab_size: int
    separator: int

    @property
    def dtype(self) -> np.dtype:
        return DTYPES[self.width]

    def to_bytes(self) -> bytes:
        return _HEADER.pack(
            MAGIC,
            VERSION,
            self.width,
            self.n_tokens,
            self.n_docs,
            self.vocab_size,
            self.separator,
        )


@dataclass
class TokenFile:
    """A token file opened read-only: ``tokens`` is a numpy memmap (or array)
    view of all tokens, separators included."""

    path: Path
    header: TokenHeader
    tokens: np.ndarray

    @property
    def separator(self) -> int:
        return self.header.separator

    def separator_positions(self) -> np.ndarray:
        return np.flatnonzero(self.tokens == self.header.separator)

    def offsets(self) -> np.ndarray:
        """Document starts, from the offsets file when present, else from the
        separators."""
        op = offsets_path(self.path)
        if op.exists():
            return read_offsets(op, self.header)
        return self.separator_positions().astype(np.uint64) + 1

    def documents(self) -> Iterator[np.ndarray]:
        seps = self.separator_positions()
        ends = np.append(seps[1:], len(self.tokens))
        for s, e in zip(seps, ends):
            yield self.tokens[s + 1 : e]


def choose_width(vocab_size: int) -> int:
    """2 bytes for vocabularies below 65,535 tokens, else 4."""
    if vocab_size < 0:
        raise TokenFileError(f"vocab size {vocab_size} is negative")
    if vocab_size < SEPARATORS[2]:
        return 2
    if vocab_size < SEPARATORS[4]:
        return 4
    raise TokenFileError(
        f"vocab size {vocab_size} does not fit 4-byte tokens (must be < {SEPARATORS[4]})"
    )


def offsets_path(path: str | os.PathLike) -> Path:
    return Path(os.fspath(path) + ".offsets")


def _tmp_for(dest: Path) -> tuple[int, str]:
    return tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)


def write_token_file(  # noqa: PLR0912, PLR0915 (one streaming pass: checks, header, atomic rename)
    path: str | os.PathLike,
    docs: Iterable[Sequence[int] | np.ndarray],
    vocab_size: int,
    width: int | None = None,
) -> TokenHeader:
    """Write documents (sequences of token ids < ``vocab_size``) to ``path`` and
    its offsets file. Streams; both files appear atomically when complete."""
    path = Path(path)
    vocab_size = int(vocab_size)
    auto = choose_width(vocab_size)
    if width is None:
        width = auto
    if width not in SEPARATORS:
        raise TokenFileError(f"{path}: token width {width} is not 2 or 4")
    sep = SEPARATORS[width]
    if vocab_size >= sep:
        raise TokenFileError(
            f"{path}: vocab size {vocab_size} does not fit {width}-byte tokens (must be < {sep})"
        )
    dtype = DTYPES[width]
    path.parent.mkdir(parents=True, exist_ok=True)
    opath = offsets_path(path)
    tfd, tname = _tmp_for(path)
    ofd, oname = _tmp_for(opath)
    n_tokens = 0
    n_docs = 0
    try:
        with os.fdopen(tfd, "wb") as tf, os.fdopen(ofd, "wb") as of:
            tf.write(b"\0" * HEADER_LEN)
            of.write(b"\0" * OFFSETS_HEADER_LEN)
            buf: list[np.ndarray] = []
            obuf: list[int] = []
            pending = 0
            sep_arr = np.array([sep], dtype=dtype)
            for i, doc in enumerate(docs):
                arr = np.asarray(doc)
                if arr.ndim != 1:
                    raise TokenFileError(
                        f"{path}: document {i} is not a flat sequence of token ids"
                    )
                if arr.size:
                    if not np.issubdtype(arr.dtype, np.integer):
                        raise TokenFileError(
                            f"{path}: document {i} holds non-integer values ({arr.dtype})"
                        )
                    lo, hi = int(arr.min()), int(arr.max())
                    if lo < 0 or hi >= vocab_size:
                        bad = lo if lo < 0 else hi
                        raise TokenFileError(
                            f"{path}: document {i} holds token {bad}, outside the vocabulary [0, {vocab_size})"
                        )
                buf.append(sep_arr)
                buf.append(arr.astype(dtype, copy=False))
                obuf.append(n_tokens + 1)
                n_tokens += 1 + arr.size
                n_docs += 1
                pending += 1 + arr.size
                if pending >= _FLUSH_TOKENS:
                    tf.write(np.concatenate(buf).tobytes())
                    of.write(np.asarray(obuf, dtype="<u8").tobytes())
                    buf, obuf, pending = [], [], 0
            if buf:
                tf.write(np.concatenate(buf).tobytes())
                of.write(np.asarray(obuf, dtype="<u8").tobytes())
            header = TokenHeader(width, n_tokens, n_docs, vocab_size, sep)
            tf.seek(0)
            tf.write(header.to_bytes())
            of.seek(0)
            of.write(_OFFSETS_HEADER.pack(OFFSETS_MAGIC, VERSION, 8, n_docs, n_tokens))
            tf.flush()
            of.flush()
            os.fsync(tf.fileno())
            os.fsync(of.fileno())
        for name in (tname, oname):
            os.chmod(name, 0o644)
        os.replace(oname, opath)
        os.replace(tname, path)
    except BaseException:
        for name in (tname, oname):
            try:
                os.unlink(name)
            except FileNotFoundError:
                pass
        raise
    return header


def _parse_header(raw: bytes, size: int, path: Path) -> TokenHeader:
    if len(raw) < HEADER_LEN:
        raise TokenFileError(
            f"{path}: not a token file ({size} bytes, shorter than the {HEADER_LEN}-byte header)"
        )
    magic, version, width, n_tokens, n_docs, vocab, sep = _HEADER.unpack(
        raw[:HEADER_LEN]
    )
    if magic != MAGIC:
        raise TokenFileError(
            f"{path}: not a token file (magic {magic!r} is not {MAGIC!r})"
        )
    if version != VERSION:
        raise TokenFileError(
            f"{path}: token file version {version} is not supported (expected {VERSION})"
        )
    if width not in SEPARATORS:
        raise TokenFileError(f"{path}: token width {width} is not 2 or 4")
    if sep != SEPARATORS[width]:
        raise TokenFileError(
            f"{path}: separator {sep} is not the maximum of width {width}"
        )
    if vocab >= sep:
        raise TokenFileError(f"{path}: vocab size {vocab} does not fit width {width}")
    if size != HEADER_LEN + n_tokens * width:
        raise TokenFileError(
            f"{path}: file size {size} does not match the header ({n_tokens} tokens of {width} bytes "
            f"+ {HEADER_LEN}): truncated or corrupt"
        )
    if n_docs > n_tokens:
        raise TokenFileError(
            f"{path}: header says {n_docs} documents but only {n_tokens} tokens"
        )
    return TokenHeader(width, n_tokens, n_docs, vocab, sep)


def read_token_header(path: str | os.PathLike) -> TokenHeader:
    """Read and validate the header of a token file (and its size)."""
    path = Path(path)
    try:
        size = path.stat().st_size
        with open(path, "rb") as f:
            raw = f.read(HEADER_LEN)
    except OSError as e:
        raise TokenFileError(f"{path}: cannot read: {e}") from e
    return _parse_header(raw, size, path)


def read_token_file(
    path: str | os.PathLike, *, mmap: bool = True, validate: bool = False
) -> TokenFile:
    """Open a token file. ``tokens`` is a read-only memmap view (or an array
    with ``mmap=False``). ``validate=True`` also scans the tokens: separator
    count = document count, a leading separator, every token < vocab size."""
    path = Path(path)
    header = read_token_header(path)
    if header.n_tokens == 0:
        tokens = np.zeros(0, dtype=header.dtype)
    elif mmap:
        tokens = np.memmap(
            path,
            dtype=header.dtype,
            mode="r",
            offset=HEADER_LEN,
            shape=(header.n_tokens,),
        )
    else:
        tokens = np.fromfile(
            path, dtype=header.dtype, offset=HEADER_LEN, count=header.n_tokens
        )
    tf = TokenFile(path, header, tokens)
    if validate:
        seps = int(np.count_nonzero(tokens == header.separator))
        if seps != header.n_docs:
            raise TokenFileError(
                f"{path}: header says {header.n_docs} documents but the file holds {seps} separators"
            )
        if header.n_tokens and tokens[0] != header.separator:
            raise TokenFileError(f"{path}: the first token is not a separator")
        body = tokens[tokens != header.separator]
        if body.size and int(body.max()) >= header.vocab_size:
            raise TokenFileError(
                f"{path}: token {int(body.max())} is not below the vocab size {header.vocab_size}"
            )
    return tf


def read_offsets(
    path: str | os.PathLike, header: TokenHeader | None = None
) -> np.ndarray:
    """Read an offsets file; with ``header`` (of its token file), check that it
    belongs to it."""
    path = Path(path)
    try:
        size = path.stat().st_size
        with open(path, "rb") as f:
            raw = f.read(OFFSETS_HEADER_LEN)
    except OSError as e:
        raise TokenFileError(f"{path}: cannot read: {e}") from e
    if len(raw) < OFFSETS_HEADER_LEN:
        raise TokenFileError(
            f"{path}: not an offsets file ({size} bytes, shorter than its header)"
        )
    magic, version, ew, count, n_tokens = _OFFSETS_HEADER.unpack(raw)
    if magic != OFFSETS_MAGIC:
        raise TokenFileError(
            f"{path}: not an offsets file (magic {magic!r} is not {OFFSETS_MAGIC!r})"
        )
    if version != VERSION or ew != 8:
        raise TokenFileError(
            f"{path}: unsupported offsets version {version} / entry width {ew}"
        )
    if size != OFFSETS_HEADER_LEN + 8 * count:
        raise TokenFileError(
            f"{path}: file size {size} does not match {count} offsets: truncated or corrupt"
        )
    if header is not None and (count != header.n_docs or n_tokens != header.n_tokens):
        raise TokenFileError(
            f"{path}: offsets are for {count} documents / {n_tokens} tokens, the token file has "
            f"{header.n_docs} / {header.n_tokens}"
        )
    return np.fromfile(path, dtype="<u8", offset=OFFSETS_HEADER_LEN, count=count)
