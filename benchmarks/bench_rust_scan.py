"""The near-duplicate scan (SPEC §7 step 5) of 300 targets of 100 tokens:
`mosaic-sa scan` vs a straightforward Python implementation (per target a
sliding Counter overlap, candidates verified with DP Hamming / Levenshtein,
greedy non-overlapping selection), on the same corpus slice; the Python one
runs on a shorter slice and both are reported in tokens/s.

    .venv/bin/python benchmarks/bench_rust_scan.py --tokens 5000000 --python-tokens 20000
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from pathlib import Path

import numpy as np
from bench_rust_common import binary, load_avg, timed, tokens_of, zipf_corpus

from mosaic_kedro.rust_bridge import read_scan
from mosaic_kedro.token_files import read_token_file, write_token_file


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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--tokens", type=int, default=5_000_000, help="slice scanned by mosaic-sa")
    ap.add_argument("--python-tokens", type=int, default=20_000, help="slice scanned by the Python version")
    ap.add_argument("--targets", type=int, default=300)
    ap.add_argument("--max-distance", type=int, default=50)
    ap.add_argument("--work", type=Path, default=Path("/tmp/mosaic-sa-bench"))
    a = ap.parse_args()
    a.work.mkdir(parents=True, exist_ok=True)
    tok = zipf_corpus(a.work / f"zipf{a.tokens}.tok", a.tokens, seed=2)
    t = tokens_of(tok)
    sep = 0xFFFF
    rng = np.random.default_rng(3)
    targets = []
    while len(targets) < a.targets:
        p = int(rng.integers(0, len(t) - 100))
        w = np.asarray(t[p : p + 100]).astype(np.int64)
        if (w == sep).any() or len(set(w.tolist())) < 50:
            continue
        targets.append(w)
    tf = a.work / "targets.tok"
    write_token_file(tf, targets, 50257)
    out = a.work / "scan.jsonl"
    b = binary()
    r = timed([b, "scan", "--tokens", str(tok), "--targets", str(tf), "--output", str(out), "--max-distance", str(a.max_distance), "--threads", "2"])
    _, rows = read_scan(out)
    rust_tps = len(t) / r["wall"]
    print(f"{a.targets} targets x 100 tokens, max distance {a.max_distance} (load avg {load_avg()})")
    print(f"mosaic-sa scan of {len(t):,} tokens: wall {r['wall']:.2f}s cpu {r['cpu']:.2f}s peak RSS {r['rss_kib'] / 1024:.0f} MiB -> {rust_tps / 1e6:.2f} M tokens/s; {sum(x['n_matches'] for x in rows)} matches")

    # same slice prefix for both: check agreement and time the Python version
    head = [int(x) for x in np.asarray(t[: a.python_tokens])]
    slice_tok = a.work / "slice.tok"
    docs, cur = [], None
    for x in head:
        if x == sep:
            if cur is not None:
                docs.append(cur)
            cur = []
        else:
            cur.append(x)
    docs.append(cur)
    write_token_file(slice_tok, docs, 50257)
    r2 = timed([b, "scan", "--tokens", str(slice_tok), "--targets", str(tf), "--output", str(out), "--max-distance", str(a.max_distance), "--threads", "2"])
    _, rows2 = read_scan(out)
    stoks = [int(x) for x in np.asarray(read_token_file(slice_tok).tokens)]
    t0 = time.perf_counter()
    py = python_scan(stoks, sep, [x.tolist() for x in targets], a.max_distance)
    py_s = time.perf_counter() - t0
    agree = all(sorted(r_["positions"]) == p for r_, p in zip(rows2, py))
    py_tps = len(stoks) / py_s
    print(f"python scan of {len(stoks):,} tokens: {py_s:.2f}s -> {py_tps:,.0f} tokens/s; same matches as mosaic-sa on that slice: {agree}")
    print(f"mosaic-sa on that slice (whole command): {r2['wall']:.2f}s; speed-up in tokens/s (big slice vs python): {rust_tps / py_tps:,.0f}x")


if __name__ == "__main__":
    main()
