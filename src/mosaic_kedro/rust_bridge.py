"""The bridge to the compiled Rust tools (``rust/``, binary ``mosaic-sa``).

Finds the binary (``MOSAIC_RUST_BIN``, else ``<repo>/rust/target/release/mosaic-sa``,
else ``mosaic-sa`` on ``PATH``), runs it with an argument list (never a shell
string), streams its stderr progress lines into this module's logger as they
arrive, and turns a non-zero exit into :class:`RustToolError` carrying the exit
code and the last stderr lines. One small typed function per subcommand, plus
readers of the files the tools write (formats: ``rust/README.md``).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import struct
import subprocess
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

BINARY_NAME = "mosaic-sa"
ENV_VAR = "MOSAIC_RUST_BIN"
BUILD_COMMAND = "cargo build --release --manifest-path rust/Cargo.toml"
REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_BINARY = REPO_ROOT / "rust" / "target" / "release" / BINARY_NAME

SA_MAGIC = b"MOSAICSA"
SELFSIM_MAGIC = b"MOSAICSS"
RANGES_MAGIC = b"MOSAICRG"
OUT_HEADER_LEN = 128
_OUT_HEADER = struct.Struct("<8sIIII9Q32x")

PathLike = str | os.PathLike


class RustToolError(RuntimeError):
    """The Rust tool failed: ``returncode`` and the last ``stderr_lines``."""

    def __init__(self, message: str, returncode: int | None = None, stderr_lines: Sequence[str] = (), args: Sequence[str] = ()):
        super().__init__(message)
        self.returncode = returncode
        self.stderr_lines = list(stderr_lines)
        self.command = list(args)


class RustBinaryNotFoundError(RustToolError, FileNotFoundError):
    """No ``mosaic-sa`` binary: build it with ``make setup`` or BUILD_COMMAND."""


class RustOutputError(RustToolError, ValueError):
    """An output file of the tools is truncated, foreign or inconsistent."""


def find_binary() -> Path:
    """``MOSAIC_RUST_BIN``, else the repo's release build, else ``PATH``."""
    env = os.environ.get(ENV_VAR)
    if env:
        p = Path(env)
        if p.is_file() and os.access(p, os.X_OK):
            return p
        raise RustBinaryNotFoundError(
            f"{ENV_VAR}={env} is not an executable file; unset it or build the tools with `{BUILD_COMMAND}` (or `make setup`)"
        )
    if DEFAULT_BINARY.is_file() and os.access(DEFAULT_BINARY, os.X_OK):
        return DEFAULT_BINARY
    which = shutil.which(BINARY_NAME)
    if which:
        return Path(which)
    raise RustBinaryNotFoundError(
        f"the Rust tool '{BINARY_NAME}' was not found (looked at ${ENV_VAR}, {DEFAULT_BINARY} and PATH); "
        f"build it with `{BUILD_COMMAND}` (or `make setup`)"
    )


@dataclass
class RunResult:
    args: list[str]
    returncode: int
    stdout: str
    stderr_lines: list[str]
    seconds: float


def run_tool(args: Sequence[PathLike], *, binary: PathLike | None = None, timeout: float | None = None, tail: int = 40) -> RunResult:
    """Run ``mosaic-sa`` with ``args`` (a list; no shell). Progress lines on
    stderr go to the logger as they arrive; non-zero exit raises RustToolError."""
    exe = Path(binary) if binary is not None else find_binary()
    argv = [str(exe), *[os.fspath(a) for a in args]]
    logger.info("running %s", " ".join(argv))
    t0 = time.monotonic()
    try:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1)
    except OSError as e:
        raise RustBinaryNotFoundError(f"cannot run {exe}: {e}; build it with `{BUILD_COMMAND}` (or `make setup`)") from e
    last: deque[str] = deque(maxlen=tail)

    def pump() -> None:
        assert proc.stderr is not None
        for raw in proc.stderr:
            line = raw.rstrip("\n")
            last.append(line)
            logger.info("%s", line)

    out_chunks: list[str] = []

    def drain() -> None:
        assert proc.stdout is not None
        out_chunks.append(proc.stdout.read())

    reader = threading.Thread(target=pump, daemon=True)
    out_reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    out_reader.start()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired as e:
        proc.kill()
        proc.wait()
        reader.join(5)
        raise RustToolError(f"{BINARY_NAME} timed out after {timeout}s", None, list(last), argv) from e
    out_reader.join()
    reader.join()
    stdout = "".join(out_chunks)
    seconds = time.monotonic() - t0
    if proc.returncode != 0:
        msg = last[-1] if last else "(no message)"
        raise RustToolError(f"{BINARY_NAME} {argv[1] if len(argv) > 1 else ''} exited with code {proc.returncode}: {msg}", proc.returncode, list(last), argv)
    return RunResult(argv, proc.returncode, stdout, list(last), seconds)


def _threads(threads: int | None) -> list[str]:
    return [] if threads is None else ["--threads", str(int(threads))]


# ---------------------------------------------------------------- subcommands


def build_suffix_array(tokens: PathLike, output: PathLike, *, threads: int | None = None, parts: int = 1) -> Path:
    """Suffix array of a token file (``mosaic-sa build``)."""
    run_tool(["build", "--tokens", tokens, "--output", output, "--parts", str(int(parts)), *_threads(threads)])
    return Path(output)


def self_similar(tokens: PathLike, sa: PathLike, output: PathLike, *, length: int, positions: bool = False, threads: int | None = None) -> Path:
    """Repeated sequences of ``length`` tokens (``mosaic-sa self-similar``)."""
    args = ["self-similar", "--tokens", tokens, "--sa", sa, "--output", output, "--length", str(int(length)), *_threads(threads)]
    if positions:
        args.append("--positions")
    run_tool(args)
    return Path(output)


def count_occurrences(
    tokens: PathLike,
    sa: PathLike,
    queries: PathLike,
    output: PathLike,
    *,
    positions: bool = False,
    doc_ids: bool = False,
    threads: int | None = None,
) -> Path:
    """Exact counts of every query (a token file, one query per document)."""
    args = ["count", "--tokens", tokens, "--sa", sa, "--queries", queries, "--output", output, *_threads(threads)]
    if positions:
        args.append("--positions")
    if doc_ids:
        args.append("--doc-ids")
    run_tool(args)
    return Path(output)


def scan(
    tokens: PathLike,
    targets: PathLike,
    output: PathLike,
    *,
    max_distance: int = 50,
    select: str = "levenshtein",
    threads: int | None = None,
) -> Path:
    """Near-duplicates of the targets (a token file, one target per document,
    all of one length) in a token file (SPEC §7 step 5)."""
    if select not in ("levenshtein", "hamming"):
        raise ValueError(f"select must be 'levenshtein' or 'hamming', got {select!r}")
    run_tool(
        ["scan", "--tokens", tokens, "--targets", targets, "--output", output, "--max-distance", str(int(max_distance)), "--select", select, *_threads(threads)]
    )
    return Path(output)


def collect(tokens: PathLike, sa: PathLike, output: PathLike, *, length: int, mode: str = "keep-first", threads: int | None = None) -> Path:
    """Token ranges covered by repeats of at least ``length`` tokens."""
    if mode not in ("keep-first", "remove-all"):
        raise ValueError(f"mode must be 'keep-first' or 'remove-all', got {mode!r}")
    run_tool(["collect", "--tokens", tokens, "--sa", sa, "--output", output, "--length", str(int(length)), "--mode", mode, *_threads(threads)])
    return Path(output)


def info(path: PathLike) -> dict:
    """Header of any file of the tools, as a dict (``mosaic-sa info``)."""
    return json.loads(run_tool(["info", path]).stdout)


# ---------------------------------------------------------------- readers


@dataclass(frozen=True)
class OutHeader:
    magic: bytes
    version: int
    token_width: int
    pointer_width: int
    flags: int
    n_tokens: int
    n_docs: int
    token_file_size: int
    token_checksum: int
    param: int
    count1: int
    count2: int
    param2: int
    payload_checksum: int


def read_out_header(path: PathLike, magic: bytes) -> OutHeader:
    path = Path(path)
    with open(path, "rb") as f:
        raw = f.read(OUT_HEADER_LEN)
    if len(raw) < OUT_HEADER_LEN:
        raise RustOutputError(f"{path}: too short for a {magic.decode()} header")
    h = OutHeader(*_OUT_HEADER.unpack(raw))
    if h.magic != magic:
        raise RustOutputError(f"{path}: not a {magic.decode()} file (magic {h.magic!r})")
    if h.version != 1:
        raise RustOutputError(f"{path}: unsupported version {h.version}")
    return h


def _u64_payload(path: Path, h: OutHeader, expected: int) -> np.ndarray:
    size = path.stat().st_size
    if size != OUT_HEADER_LEN + 8 * expected:
        raise RustOutputError(f"{path}: file size {size} does not match its header ({expected} u64 values): truncated or corrupt")
    return np.fromfile(path, dtype="<u8", offset=OUT_HEADER_LEN, count=expected)


def read_suffix_array(path: PathLike) -> tuple[OutHeader, np.ndarray]:
    """A suffix array file: header and the pointers (u32 or u64 memmap)."""
    path = Path(path)
    h = read_out_header(path, SA_MAGIC)
    dt = {4: "<u4", 8: "<u8"}.get(h.pointer_width)
    if dt is None:
        raise RustOutputError(f"{path}: pointer width {h.pointer_width} is not 4 or 8")
    size = path.stat().st_size
    if size != OUT_HEADER_LEN + h.pointer_width * h.count1 or h.count1 != h.n_tokens:
        raise RustOutputError(f"{path}: file size {size} does not match {h.n_tokens} pointers: truncated or corrupt")
    if h.count1 == 0:
        return h, np.zeros(0, dtype=dt)
    return h, np.memmap(path, dtype=dt, mode="r", offset=OUT_HEADER_LEN, shape=(h.count1,))


@dataclass
class SelfSimilar:
    """Clusters sorted by first position; ``positions[i]`` (when requested) are
    cluster i's occurrences, ascending."""

    header: OutHeader
    length: int
    first: np.ndarray
    count: np.ndarray
    positions: list[np.ndarray] | None = field(default=None)


def read_self_similar(path: PathLike) -> SelfSimilar:
    path = Path(path)
    h = read_out_header(path, SELFSIM_MAGIC)
    with_pos = bool(h.flags & 1)
    payload = _u64_payload(path, h, 2 * h.count1 + (h.count2 if with_pos else 0))
    rec = payload[: 2 * h.count1].reshape(-1, 2)
    first, count = rec[:, 0].copy(), rec[:, 1].copy()
    positions = None
    if with_pos:
        flat = payload[2 * h.count1 :]
        positions = np.split(flat, np.cumsum(count)[:-1].astype(np.int64)) if len(count) else []
    return SelfSimilar(h, int(h.param), first, count, positions)


def read_ranges(path: PathLike) -> tuple[OutHeader, np.ndarray]:
    """Covered ranges: an (k, 2) array of half-open [start, end)."""
    path = Path(path)
    h = read_out_header(path, RANGES_MAGIC)
    return h, _u64_payload(path, h, 2 * h.count1).reshape(-1, 2)


def _read_jsonl(path: PathLike, fmt: str) -> tuple[dict, list[dict]]:
    path = Path(path)
    with open(path, encoding="utf-8") as f:
        first = f.readline()
        try:
            head = json.loads(first)
        except json.JSONDecodeError as e:
            raise RustOutputError(f"{path}: not a {fmt} file (bad header line)") from e
        if head.get("format") != fmt or head.get("version") != 1:
            raise RustOutputError(f"{path}: not a {fmt} version 1 file")
        rows = [json.loads(line) for line in f if line.strip()]
    return head, rows


@dataclass
class Counts:
    header: dict
    counts: np.ndarray
    positions: list[np.ndarray] | None
    doc_ids: list[np.ndarray] | None


def read_counts(path: PathLike) -> Counts:
    head, rows = _read_jsonl(path, "mosaic-sa.count")
    if len(rows) != head["n_queries"]:
        raise RustOutputError(f"{path}: {len(rows)} rows for {head['n_queries']} queries: truncated")
    counts = np.array([r["count"] for r in rows], dtype=np.int64)
    pos = [np.array(r["positions"], dtype=np.int64) for r in rows] if head.get("positions") else None
    docs = [np.array(r["doc_ids"], dtype=np.int64) for r in rows] if head.get("doc_ids") else None
    return Counts(head, counts, pos, docs)


def read_scan(path: PathLike) -> tuple[dict, list[dict]]:
    """Header and one dict per target: positions, doc_ids, hamming, levenshtein."""
    head, rows = _read_jsonl(path, "mosaic-sa.scan")
    if len(rows) != head["n_targets"]:
        raise RustOutputError(f"{path}: {len(rows)} rows for {head['n_targets']} targets: truncated")
    return head, rows
