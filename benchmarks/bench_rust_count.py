"""Counting 100,000 queries (50-token sequences: 90 % sampled from the corpus,
10 % random) with `mosaic-sa count` vs pydivsufsort's `sa_search` called per
query from Python (on a 2,000-query subset, extrapolated).

    .venv/bin/python benchmarks/bench_rust_count.py --tokens 50000000
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from bench_rust_common import binary, load_avg, timed, tokens_of, zipf_corpus

from mosaic_kedro.rust_bridge import read_counts
from mosaic_kedro.token_files import write_token_file


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--tokens", type=int, default=50_000_000)
    ap.add_argument("--queries", type=int, default=100_000)
    ap.add_argument("--work", type=Path, default=Path("/tmp/mosaic-sa-bench"))
    a = ap.parse_args()
    a.work.mkdir(parents=True, exist_ok=True)
    tok = zipf_corpus(a.work / f"zipf{a.tokens}.tok", a.tokens)
    t = tokens_of(tok)
    rng = np.random.default_rng(1)
    sep = 0xFFFF if t.dtype.itemsize == 2 else 0xFFFFFFFF
    qs = []
    while len(qs) < a.queries:
        if rng.random() < 0.9:
            p = int(rng.integers(0, len(t) - 50))
            q = np.asarray(t[p : p + 50])
            if (q == sep).any():
                continue
        else:
            q = rng.integers(0, 50257, 50)
        qs.append(q.astype(np.int64))
    qf = a.work / "queries.tok"
    write_token_file(qf, qs, 50257)
    b = binary()
    sa = a.work / f"{tok.stem}.sa"
    if not sa.exists():
        timed([b, "build", "--tokens", str(tok), "--output", str(sa)])
    out = a.work / "counts.jsonl"
    r = timed([b, "count", "--tokens", str(tok), "--sa", str(sa), "--queries", str(qf), "--output", str(out), "--threads", "2"])
    counts = read_counts(out).counts
    print(f"corpus {len(t):,} tokens, {a.queries:,} queries of 50 tokens (load avg {load_avg()})")
    print(f"mosaic-sa count (whole command incl. loading SA): wall {r['wall']:.2f}s cpu {r['cpu']:.2f}s peak RSS {r['rss_kib'] / 1024:.0f} MiB")
    print(f"  -> {a.queries / r['wall']:,.0f} queries/s end to end; total matches {int(counts.sum()):,}")

    import pydivsufsort as d

    x = np.array(t).view(np.uint8)
    sa_b = d.divsufsort(x)
    sub = qs[:2000]
    t0 = time.perf_counter()
    for q in sub:
        d.sa_search(x, sa_b, q.astype(t.dtype).tobytes())
    dt = time.perf_counter() - t0
    print(f"pydivsufsort sa_search per query from Python (bytes, may match mid-token): {len(sub) / dt:,.0f} queries/s")


if __name__ == "__main__":
    main()
