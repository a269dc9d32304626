"""Pretraining corpora as SlimPajama distributes them, streamed (SPEC §7).

Reading
    :func:`iter_documents` streams documents from a directory tree of ``*.jsonl.zst``
    shards (each line ``{"text": ..., "meta": {"redpajama_set_name": ...}}``), plain
    ``*.jsonl`` files, or a folder of ``.txt`` files (one document per file). Nothing
    is held in memory beyond one decompressed chunk. Zstandard files may hold several
    frames; a file that ends inside a frame raises :class:`CorpusFormatError` naming
    the file. **Invalid JSON lines** (unparsable, not an object, or without a string
    ``text``) are, by default, *skipped and counted*: the count per file is logged as
    a warning (with the first offending line numbers) and returned in
    :class:`ReadStats`; ``on_invalid="error"`` raises instead. Never silent.

Tokenizing
    :func:`tokenize_corpus` tokenizes the shards into ``parts`` token files
    (:mod:`mosaic_kedro.token_files`), u16 when the vocabulary fits, else u32; a width
    that cannot hold the vocabulary is an error. Shards are dealt round-robin to parts;
    the parts are tokenized in parallel (threads: the fast tokenizer and zstandard
    release the GIL), each with its own copy of the tokenizer, in batches, with
    progress in the log.

Planting
    :func:`make_planted_sample` writes a small SlimPajama-format sample (jsonl.zst
    shards) from book texts, with exact copies of chosen token sequences at chosen
    counts and fuzzy copies at known token Hamming / Levenshtein distances, and a
    manifest saying what was planted where, so the method can be checked end to end.

A pure library: imports neither Kedro's framework nor the pipelines.
"""

from __future__ import annotations

import copy
import io
import json
import logging
import os
import random
import re
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from mosaic_kedro import token_files

log = logging.getLogger(__name__)

SHARD_SUFFIXES = (".jsonl.zst", ".jsonl", ".txt")
PLANTED_KEY = "mosaic_planted"
_CHUNK = 1 << 20

__all__ = [
    "CorpusFormatError",
    "ReadStats",
    "list_shards",
    "iter_documents",
    "iter_shard",
    "assign_shards",
    "tokenize_corpus",
    "token_width_for",
    "hamming",
    "levenshtein",
    "longest_common_run",
    "make_planted_sample",
    "write_jsonl_zst",
]


class CorpusFormatError(ValueError):
    """A corpus file is unreadable, truncated or malformed; the message names it."""


@dataclass
class ReadStats:
    """What reading saw: files, documents, bytes and skipped lines (per file)."""

    files: int = 0
    documents: int = 0
    bytes_in: int = 0
    invalid_lines: int = 0
    invalid_by_file: dict[str, int] = field(default_factory=dict)

    def merge(self, other: ReadStats) -> None:
        """Add another stats object into this one."""
        self.files += other.files
        self.documents += other.documents
        self.bytes_in += other.bytes_in
        self.invalid_lines += other.invalid_lines
        for k, v in other.invalid_by_file.items():
            self.invalid_by_file[k] = self.invalid_by_file.get(k, 0) + v

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


# ----------------------------------------------------------------------------- reading


def _shard_kind(path: Path) -> str | None:
    name = path.name
    for suf in SHARD_SUFFIXES:
        if name.endswith(suf):
            return suf
    return None


def list_shards(root: str | os.PathLike) -> list[Path]:
    """The corpus files under ``root`` (a file or a directory tree), sorted by path.

    Raises:
        CorpusFormatError: ``root`` does not exist or holds no ``*.jsonl.zst``,
            ``*.jsonl`` or ``*.txt`` file.
    """
    root = Path(root)
    if root.is_file():
        if _shard_kind(root) is None:
            raise CorpusFormatError(f"{root}: not a corpus file (expected {', '.join(SHARD_SUFFIXES)})")
        return [root]
    if not root.is_dir():
        raise CorpusFormatError(f"{root}: no such corpus file or directory")
    shards = sorted(p for p in root.rglob("*") if p.is_file() and _shard_kind(p) is not None)
    if not shards:
        raise CorpusFormatError(f"{root}: holds no {', '.join(SHARD_SUFFIXES)} files")
    return shards


def _zst_chunks(path: Path) -> Iterator[bytes]:
    """Decompressed chunks of a (possibly multi-frame) zstandard file.

    Raises CorpusFormatError when the file is not zstandard or ends inside a frame.
    """
    import zstandard

    dctx = zstandard.ZstdDecompressor()
    obj = dctx.decompressobj()
    in_frame = False
    with open(path, "rb") as fh:
        while True:
            raw = fh.read(_CHUNK)
            if not raw:
                break
            while raw:
                try:
                    out = obj.decompress(raw)
                except zstandard.ZstdError as exc:
                    raise CorpusFormatError(f"{path}: corrupt zstandard data: {exc}") from exc
                in_frame = True
                if out:
                    yield out
                if obj.eof:
                    raw = obj.unused_data
                    obj = dctx.decompressobj()
                    in_frame = False
                else:
                    raw = b""
    if in_frame:
        raise CorpusFormatError(
            f"{path}: zstandard file is truncated (it ends inside a frame); re-download or "
            "re-copy this shard"
        )


def _lines(path: Path, kind: str) -> Iterator[bytes]:
    """Raw lines (without the newline) of a jsonl or jsonl.zst file."""
    if kind == ".jsonl.zst":
        chunks: Iterator[bytes] = _zst_chunks(path)
    else:
        def plain() -> Iterator[bytes]:
            with open(path, "rb") as fh:
                while chunk := fh.read(_CHUNK):
                    yield chunk

        chunks = plain()
    rest = b""
    for chunk in chunks:
        buf = rest + chunk
        parts = buf.split(b"\n")
        rest = parts.pop()
        yield from parts
    if rest:
        yield rest


def iter_shard(
    path: str | os.PathLike,
    stats: ReadStats | None = None,
    *,
    on_invalid: Literal["skip", "error"] = "skip",
    text_key: str = "text",
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Stream ``(text, meta)`` documents of one corpus file.

    Args:
        path: a ``.jsonl.zst``, ``.jsonl`` or ``.txt`` file.
        stats: updated in place (documents, bytes, invalid lines).
        on_invalid: ``"skip"`` (count and log) or ``"error"`` for invalid JSON lines.
        text_key: the key holding the text.

    Raises:
        CorpusFormatError: truncated zstandard data, unreadable file, or an invalid line
            with ``on_invalid="error"``.
    """
    path = Path(path)
    kind = _shard_kind(path)
    if kind is None:
        raise CorpusFormatError(f"{path}: not a corpus file (expected {', '.join(SHARD_SUFFIXES)})")
    if on_invalid not in ("skip", "error"):
        raise ValueError(f"on_invalid must be 'skip' or 'error', got {on_invalid!r}")
    stats = stats if stats is not None else ReadStats()
    stats.files += 1
    try:
        stats.bytes_in += path.stat().st_size
    except OSError as exc:
        raise CorpusFormatError(f"{path}: cannot read: {exc}") from exc
    if kind == ".txt":
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise CorpusFormatError(f"{path}: cannot read: {exc}") from exc
        stats.documents += 1
        yield text, {"source_file": path.name}
        return
    bad: list[int] = []
    for lineno, line in enumerate(_lines(path, kind), start=1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
            text = rec[text_key] if isinstance(rec, dict) else None
            if not isinstance(text, str):
                raise ValueError(f"no string {text_key!r} field")
        except (ValueError, KeyError) as exc:
            if on_invalid == "error":
                raise CorpusFormatError(f"{path}:{lineno}: invalid JSON line: {exc}") from exc
            bad.append(lineno)
            continue
        meta = rec.get("meta")
        stats.documents += 1
        yield text, meta if isinstance(meta, dict) else {}
    if bad:
        stats.invalid_lines += len(bad)
        stats.invalid_by_file[str(path)] = stats.invalid_by_file.get(str(path), 0) + len(bad)
        log.warning("%s: skipped %d invalid JSON line(s) (first at lines %s)", path, len(bad),
                    ", ".join(map(str, bad[:5])))


def iter_documents(
    root: str | os.PathLike,
    stats: ReadStats | None = None,
    *,
    on_invalid: Literal["skip", "error"] = "skip",
    text_key: str = "text",
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Stream ``(text, meta)`` over every corpus file under ``root`` (see :func:`iter_shard`)."""
    for shard in list_shards(root):
        yield from iter_shard(shard, stats, on_invalid=on_invalid, text_key=text_key)


# ----------------------------------------------------------------------------- tokenizing


def token_width_for(vocab_size: int, width: int | str | None = "auto") -> int:
    """The token width for ``vocab_size``: 2 when it fits (< 65,535), else 4.

    Raises:
        token_files.TokenFileError: a forced ``width`` cannot hold the vocabulary.
    """
    auto = token_files.choose_width(vocab_size)
    if width in (None, "auto"):
        return auto
    width = int(width)
    if width not in token_files.SEPARATORS:
        raise token_files.TokenFileError(f"token width {width} is not 2 or 4")
    if vocab_size >= token_files.SEPARATORS[width]:
        raise token_files.TokenFileError(
            f"a vocabulary of {vocab_size} tokens does not fit {width}-byte tokens (the separator "
            f"is {token_files.SEPARATORS[width]}); use token_width: auto or 4"
        )
    return width


def assign_shards(shards: Sequence[Path], parts: int) -> list[list[Path]]:
    """Deal shards round-robin to ``parts`` groups (the shard order is the sorted path order).

    Raises:
        ValueError: fewer shards than parts (a part would be empty).
    """
    if parts < 1:
        raise ValueError(f"parts must be at least 1, got {parts}")
    if len(shards) < parts:
        raise ValueError(f"{len(shards)} shard(s) cannot fill {parts} parts: lower parts or split the shards")
    return [list(shards[i::parts]) for i in range(parts)]


def _encoder(tokenizer: Any) -> Callable[[list[str]], list[list[int]]]:
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is not None:
        return lambda texts: [e.ids for e in backend.encode_batch(texts, add_special_tokens=False)]
    return lambda texts: list(tokenizer(texts, add_special_tokens=False)["input_ids"])


def _tokenize_part(
    index: int,
    shards: Sequence[Path],
    out_path: Path,
    tokenizer: Any,
    vocab_size: int,
    width: int,
    batch_size: int,
    on_invalid: Literal["skip", "error"],
    text_key: str,
    progress_seconds: float,
) -> dict[str, Any]:
    encode = _encoder(tokenizer)
    stats = ReadStats()
    planted: dict[str, int] = {}
    t0 = time.perf_counter()
    counter = {"docs": 0, "tokens": 0, "last": t0}

    def docs() -> Iterator[list[int]]:
        batch: list[str] = []
        keys: list[str | None] = []
        for shard in shards:
            for text, meta in iter_shard(shard, stats, on_invalid=on_invalid, text_key=text_key):
                batch.append(text)
                keys.append(meta.get(PLANTED_KEY))
                if len(batch) >= batch_size:
                    yield from flush(batch, keys)
                    batch, keys = [], []
        if batch:
            yield from flush(batch, keys)

    def flush(batch: list[str], keys: list[str | None]) -> Iterator[list[int]]:
        for ids, key in zip(encode(batch), keys):
            if key is not None:
                planted[str(key)] = counter["docs"]
            counter["docs"] += 1
            counter["tokens"] += len(ids) + 1
            yield ids
        now = time.perf_counter()
        if now - counter["last"] >= progress_seconds:
            counter["last"] = now
            log.info("part %02d: %d documents, %d tokens, %.0f tokens/s", index, counter["docs"],
                     counter["tokens"], counter["tokens"] / max(now - t0, 1e-9))

    header = token_files.write_token_file(out_path, docs(), vocab_size, width)
    secs = time.perf_counter() - t0
    log.info("part %02d: wrote %s (%d documents, %d tokens, %d-byte tokens) in %.1fs, %.0f tokens/s",
             index, out_path, header.n_docs, header.n_tokens, width, secs, header.n_tokens / max(secs, 1e-9))
    return {
        "part": index,
        "tokens": str(out_path),
        "n_tokens": header.n_tokens,
        "n_docs": header.n_docs,
        "shards": [str(s) for s in shards],
        "seconds": secs,
        "read": stats.to_dict(),
        "planted_docs": planted,
    }


def tokenize_corpus(
    root: str | os.PathLike,
    out_dir: str | os.PathLike,
    tokenizer: Any,
    parts: int,
    *,
    tokenizer_name: str = "",
    width: int | str | None = "auto",
    batch_size: int = 256,
    workers: int | None = None,
    on_invalid: Literal["skip", "error"] = "skip",
    text_key: str = "text",
    progress_seconds: float = 10.0,
) -> dict[str, Any]:
    """Tokenize every shard under ``root`` into ``out_dir/part_XX.tok`` (+ ``.offsets``).

    Args:
        root: corpus file or directory tree (see :func:`list_shards`).
        out_dir: where the parts go.
        tokenizer: a Hugging Face (fast) tokenizer; ``len(tokenizer)`` is the vocab size.
        parts: number of token files; shards are dealt round-robin.
        tokenizer_name: recorded in the manifest.
        width: ``"auto"`` (2 bytes when the vocabulary fits, else 4), 2 or 4.
        batch_size: documents per tokenizer call.
        workers: parts tokenized at once (default: CPU count).
        on_invalid: invalid JSON lines: ``"skip"`` (counted) or ``"error"``.

    Returns:
        A manifest: ``parts`` (path, tokens, documents, planted documents per part),
        totals, read statistics and throughput.
    """
    vocab_size = len(tokenizer)
    width = token_width_for(vocab_size, width)
    groups = assign_shards(list_shards(root), parts)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    workers = max(1, min(parts, workers or os.cpu_count() or 1))
    log.info("tokenizing %d shard(s) into %d part(s) of %d-byte tokens (vocab %d) on %d worker(s)",
             sum(map(len, groups)), parts, width, vocab_size, workers)
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [
            pool.submit(_tokenize_part, i, g, out / f"part_{i:02d}.tok",
                        tokenizer if workers == 1 else copy.deepcopy(tokenizer),
                        vocab_size, width, batch_size, on_invalid, text_key, progress_seconds)
            for i, g in enumerate(groups)
        ]
        part_manifests = [f.result() for f in futures]
    secs = time.perf_counter() - t0
    stats = ReadStats()
    for p in part_manifests:
        stats.merge(ReadStats(**p["read"]))
    n_tokens = sum(p["n_tokens"] for p in part_manifests)
    if stats.invalid_lines:
        log.warning("tokenize: skipped %d invalid JSON line(s) in %d file(s) in total",
                    stats.invalid_lines, len(stats.invalid_by_file))
    return {
        "root": str(root),
        "tokenizer": tokenizer_name,
        "vocab_size": vocab_size,
        "token_width": width,
        "n_parts": parts,
        "n_tokens": n_tokens,
        "n_docs": sum(p["n_docs"] for p in part_manifests),
        "seconds": secs,
        "tokens_per_second": n_tokens / max(secs, 1e-9),
        "read": stats.to_dict(),
        "parts": part_manifests,
    }


# ----------------------------------------------------------------------------- distances


def hamming(a: Sequence[int], b: Sequence[int]) -> int:
    """Token Hamming distance of two equal-length sequences."""
    if len(a) != len(b):
        raise ValueError("hamming needs equal lengths")
    return int(sum(x != y for x, y in zip(a, b)))


def levenshtein(a: Sequence[int], b: Sequence[int]) -> int:
    """Token Levenshtein distance (unit costs)."""
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, start=1):
        cur = [i] + [0] * len(b)
        for j, y in enumerate(b, start=1):
            cur[j] = min(prev[j - 1] + (x != y), prev[j] + 1, cur[j - 1] + 1)
        prev = cur
    return prev[-1]


def longest_common_run(a: Sequence[int], b: Sequence[int]) -> int:
    """Length of the longest common contiguous token run of ``a`` and ``b``."""
    x = np.asarray(a)
    y = np.asarray(b)
    if not len(x) or not len(y):
        return 0
    eq = x[:, None] == y[None, :]
    best = 0
    run = np.zeros(len(y), dtype=np.int64)
    for i in range(len(x)):
        new = np.zeros_like(run)
        new[1:] = run[:-1] + 1
        new[0] = 1
        run = np.where(eq[i], new, 0)
        best = max(best, int(run.max()))
    return best


# ----------------------------------------------------------------------------- planting


def write_jsonl_zst(path: str | os.PathLike, records: Sequence[dict[str, Any]], level: int = 3) -> None:
    """Write records as one jsonl.zst shard (temporary name, renamed when complete)."""
    import zstandard

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as fh:
        with zstandard.ZstdCompressor(level=level).stream_writer(fh, closefd=False) as zw:
            w = io.TextIOWrapper(zw, encoding="utf-8")
            for rec in records:
                w.write(json.dumps(rec, ensure_ascii=False) + "\n")
            w.flush()
            w.detach()
    os.replace(tmp, path)


def _chunks(text: str, chunk_chars: int) -> list[str]:
    out = []
    i = 0
    while i < len(text):
        j = min(len(text), i + chunk_chars)
        if j < len(text):
            k = text.rfind(" ", i + chunk_chars // 2, j)
            j = k if k > i else j
        piece = text[i:j].strip()
        if piece:
            out.append(piece)
        i = j
    return out


def _word_pool(tokenizer: Any, limit: int = 4000) -> list[int]:
    """Token ids that decode to a space and a lowercase word (they round-trip well)."""
    pool = []
    for tid in range(len(tokenizer)):
        s = tokenizer.decode([tid])
        if re.fullmatch(r" [a-z]{3,}", s):
            pool.append(tid)
            if len(pool) >= limit:
                break
    if len(pool) < 10:
        raise ValueError("the tokenizer has too few ' word' tokens to plant fuzzy copies")
    return pool


def _mutate(src: list[int], kind: str, d: int, pool: list[int], rng: random.Random) -> list[int]:
    n = len(src)
    if kind == "hamming":
        out = list(src)
        for i in rng.sample(range(n), d):
            out[i] = rng.choice([t for t in rng.sample(pool, 4) if t != src[i]] or [pool[0]])
        return out
    # levenshtein: a deletions + a insertions + (d - 2a) substitutions, length kept;
    # a is capped because nearby insertion/deletion pairs cancel into cheaper edits,
    # which makes an exact distance d unlikely when most edits are indels
    a = min(d // 2, 3)
    out = list(src)
    for i in sorted(rng.sample(range(n), d - 2 * a)):
        out[i] = rng.choice([t for t in rng.sample(pool, 4) if t != src[i]] or [pool[0]])
    for i in sorted(rng.sample(range(n), a), reverse=True):
        del out[i]
    for _ in range(a):
        out.insert(rng.randrange(len(out) + 1), rng.choice(pool))
    return out


def _choose_targets(ids_all: list[list[int]], encode: Callable[[list[str]], list[list[int]]],
                    tokenizer: Any, n_targets: int, length: int, min_distinct: int,
                    rng: random.Random) -> list[tuple[int, list[int]]]:
    order = list(range(len(ids_all)))
    rng.shuffle(order)
    chosen: list[tuple[int, list[int]]] = []
    for i in order:
        if len(chosen) == n_targets:
            break
        ids = ids_all[i][:length]
        if len(ids) < length or len(set(ids)) < min_distinct:
            continue
        if encode([tokenizer.decode(ids)])[0] != ids:
            continue
        if any(ids == c for _, c in chosen):
            continue
        chosen.append((i, ids))
    if len(chosen) < n_targets:
        raise ValueError(f"only {len(chosen)} of {n_targets} book passages can serve as planted targets: "
                         "give more text or lower the counts")
    return chosen


def _fuzzy_copy(ids: list[int], kind: str, d: int, pool: list[int], rng: random.Random,
                encode: Callable[[list[str]], list[list[int]]], tokenizer: Any) -> tuple[list[int], int, int]:
    closest: tuple[int, list[int], int, int] | None = None
    for _attempt in range(200):
        mut = _mutate(ids, kind, d, pool, rng)
        if encode([tokenizer.decode(mut)])[0] != mut:
            continue
        h, lev = hamming(ids, mut), levenshtein(ids, mut)
        got = h if kind == "hamming" else lev
        if got == d:
            return mut, h, lev
        if closest is None or abs(got - d) < closest[0]:
            closest = (abs(got - d), mut, h, lev)
    if closest is None:
        raise ValueError(f"could not plant a {kind} copy at distance {d}: no edit of the "
                         "target survived decode -> encode in 200 attempts")
    # the copy is planted at the distance it really has (recorded in the manifest)
    log.info("planted a %s copy at distance %d instead of %d", kind,
             closest[2] if kind == "hamming" else closest[3], d)
    return closest[1], closest[2], closest[3]


def make_planted_sample(
    texts: Sequence[str],
    out_dir: str | os.PathLike,
    tokenizer: Any,
    *,
    length: int,
    exact_counts: Sequence[int],
    targets_per_count: int,
    fuzzy_distances: Sequence[int],
    fuzzy_kinds: Sequence[str] = ("hamming", "levenshtein"),
    min_distinct: int,
    chunk_chars: int = 2000,
    shards: int = 4,
    seed: int = 0,
    set_name: str = "RedPajamaBook",
) -> dict[str, Any]:
    """Write a SlimPajama-format sample with planted exact and fuzzy copies.

    The texts are cut into documents of about ``chunk_chars`` characters. For each count
    ``c`` in ``exact_counts``, ``targets_per_count`` documents are taken out of the
    corpus and their first ``length`` tokens (a sequence that re-tokenizes to itself on
    its own, with at least ``min_distinct`` distinct tokens) become a planted target:
    ``c`` exact copies are added as documents of their own, plus one fuzzy copy per
    (kind, distance) whose exact token Hamming and Levenshtein distances to the target
    are recorded (``hamming`` copies substitute ``d`` tokens; ``levenshtein`` copies mix
    deletions, insertions and substitutions for an edit distance of exactly ``d`` at
    the same length). All documents are shuffled into ``shards`` jsonl.zst files.

    Returns:
        The manifest: shard paths, document and planted-copy counts, and per target its
        token ids, count and fuzzy copies (id, kind, planted distance, measured
        Hamming and Levenshtein). Planted documents carry ``meta.mosaic_planted`` = id.
    """
    rng = random.Random(seed)
    encode = _encoder(tokenizer)
    docs = [c for t in texts for c in _chunks(t, chunk_chars)]
    ids_all = encode(docs)
    n_targets = len(exact_counts) * targets_per_count
    chosen = _choose_targets(ids_all, encode, tokenizer, n_targets, length, min_distinct, rng)
    removed = {i for i, _ in chosen}
    records: list[dict[str, Any]] = [
        {"text": d, "meta": {"redpajama_set_name": set_name}} for i, d in enumerate(docs) if i not in removed
    ]
    pool = _word_pool(tokenizer)
    targets = []
    n_planted = 0
    for k, (_, ids) in enumerate(chosen):
        count = int(exact_counts[k // targets_per_count])
        text = tokenizer.decode(ids)
        tid = f"t{k:03d}"
        for j in range(count):
            records.append({"text": text, "meta": {"redpajama_set_name": "Planted", PLANTED_KEY: f"{tid}_exact_{j}"}})
        fuzzy = []
        for kind in fuzzy_kinds:
            for d in fuzzy_distances:
                mut, h, lev = _fuzzy_copy(ids, kind, int(d), pool, rng, encode, tokenizer)
                cid = f"{tid}_{kind}_{d}"
                records.append({"text": tokenizer.decode(mut),
                                "meta": {"redpajama_set_name": "Planted", PLANTED_KEY: cid}})
                fuzzy.append({"id": cid, "kind": kind, "requested_distance": int(d),
                              "distance": h if kind == "hamming" else lev,
                              "hamming": h, "levenshtein": lev})
        n_planted += count + len(fuzzy)
        targets.append({"id": tid, "count": count, "tokens": ids, "fuzzy": fuzzy})
    rng.shuffle(records)
    out = Path(out_dir)
    paths = []
    for s in range(shards):
        p = out / f"chunk1/example_train_{s}.jsonl.zst"
        write_jsonl_zst(p, records[s::shards])
        paths.append(str(p))
    log.info("planted sample: %d documents (%d planted copies of %d targets) in %d shard(s) under %s",
             len(records), n_planted, len(targets), shards, out)
    return {"root": str(out), "shards": paths, "n_docs": len(records), "n_planted": n_planted,
            "length": length, "targets": targets}
