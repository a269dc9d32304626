"""Peak memory of `self-similar` and `collect`: ours vs an older mosaic-sa binary,
runs alternating, on the books tokenized with the project's BPE and replicated
(`bench_rust_common.bpe_corpus`).

    .venv/bin/python benchmarks/bench_rust_selfsim_memory.py --tokens 200000000 \
        --baseline /tmp/mosaic-sa-base --repeats 2

Both binaries read the token file and the suffix array into memory (n x width +
n x pointer bytes); the column "beyond inputs" is peak RSS minus those two files'
payloads, per byte of the token file: the memory the job itself adds.
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

from bench_rust_common import binary, bpe_corpus, load_avg, timed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--tokens", type=int, default=200_000_000)
    ap.add_argument("--baseline", required=True, help="an older mosaic-sa binary to run alternately with ours")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--work", type=Path, default=Path("/tmp/mosaic-sa-bench"))
    a = ap.parse_args()
    a.work.mkdir(parents=True, exist_ok=True)
    tok = bpe_corpus(a.work / f"bpe{a.tokens}.tok", a.tokens)
    sa = a.work / f"bpe{a.tokens}.sa"
    ours = binary()
    if not sa.exists():
        timed([ours, "build", "--tokens", str(tok), "--output", str(sa), "--threads", "2"])
    tok_bytes = tok.stat().st_size
    inputs = tok_bytes + sa.stat().st_size
    print(f"\n{tok.name}: {tok_bytes / 1e6:.0f} MB of tokens + {sa.stat().st_size / 1e6:.0f} MB of suffix array (load avg {load_avg()})\n")
    print("| job | binary | wall s (median) | peak RSS MiB | beyond inputs, B / token-file B |")
    print("| --- | --- | --- | --- | --- |")
    jobs = {
        "self-similar --length 100": ["self-similar", "--length", "100"],
        "self-similar --length 50 --positions": ["self-similar", "--length", "50", "--positions"],
        "collect --length 50": ["collect", "--length", "50"],
    }
    for name, args in jobs.items():
        outs = {}
        runs: dict[str, list[dict]] = {"ours": [], "baseline": []}
        for _ in range(a.repeats):
            for who, b in (("ours", ours), ("baseline", a.baseline)):
                out = a.work / f"mem.{who}.out"
                runs[who].append(timed([b, args[0], "--tokens", str(tok), "--sa", str(sa), *args[1:], "--output", str(out), "--threads", "2"]))
                outs[who] = out.read_bytes()
        same = "identical" if outs["ours"] == outs["baseline"] else "DIFFERENT"
        for who in ("ours", "baseline"):
            wall = statistics.median(r["wall"] for r in runs[who])
            rss = statistics.median(r["rss_kib"] for r in runs[who]) * 1024
            print(f"| {name} | {who} | {wall:.2f} | {rss / 2**20:,.0f} | {(rss - inputs) / tok_bytes:.2f} |", flush=True)
        print(f"| {name} | outputs | {same} | | |", flush=True)


if __name__ == "__main__":
    main()
