"""Suffix array + all repeats >= 50 tokens: mosaic-sa (2 threads, 1 thread,
2 parts merged) vs pydivsufsort (the token array viewed as bytes, and the
tokens as u32 symbols + Kasai LCP), on real text and a Zipf-synthetic corpus.

    .venv/bin/python benchmarks/bench_rust_build_repeats.py --tokens 50000000 --repeats 3

With `--baseline OLD_BINARY` every mosaic-sa run is paired with the same run of
an older build (runs alternate, so both see the same machine load) and a ratio
row follows; `--no-pydivsufsort` skips the (slow) pydivsufsort baselines;
`--corpus bpe` replaces the Zipf corpus by the books tokenized with the project's
byte-level BPE and replicated to `--tokens` (issue 13's 50 M-token corpus):

    .venv/bin/python benchmarks/bench_rust_build_repeats.py --corpus bpe --tokens 50000000 \
        --length 100 --no-books --no-pydivsufsort --baseline OLD_BINARY --repeats 3
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

from bench_rust_common import (
    HEADER,
    binary,
    bpe_corpus,
    load_avg,
    median_run,
    real_corpus,
    row,
    timed,
    zipf_corpus,
)

PYDIV = r"""
import sys, numpy as np, pydivsufsort as d
sys.path.insert(0, sys.argv[3])
from mosaic_kedro.token_files import read_token_file
t = np.array(read_token_file(sys.argv[1]).tokens)
mode = sys.argv[2]
if mode == "bytes":
    s = np.ascontiguousarray(t).view(np.uint8)
    sa = d.divsufsort(s)
    lcp = d.kasai(s, sa)
    print("repeats>=100 bytes:", int((lcp >= 100).sum()))
else:
    sep = t.max() if t.size else 0
    x = t.astype(np.uint32)
    is_sep = t == (0xFFFF if t.dtype.itemsize == 2 else 0xFFFFFFFF)
    x[is_sep] = x[~is_sep].max() + 1 + np.arange(int(is_sep.sum()), dtype=np.uint32)
    sa = d.divsufsort(x)
    lcp = d.kasai(x, sa)
    print("adjacent pairs lcp>=50:", int((lcp >= 50).sum()))
"""


def paired(cmds: list[list[str]], repeats: int) -> list[dict]:
    """Run each command `repeats` times, alternating; medians per command."""
    runs: list[list[dict]] = [[] for _ in cmds]
    for _ in range(repeats):
        for i, c in enumerate(cmds):
            runs[i].append(timed(c))
    return [{k: statistics.median(r[k] for r in rs) for k in ("wall", "cpu", "rss_kib")} for rs in runs]


def bench(tok: Path, work: Path, repeats: int, baseline: str | None = None, pydiv: bool = True,
          length: int = 50) -> None:
    from mosaic_kedro.token_files import read_token_header

    h = read_token_header(tok)
    nbytes = h.n_tokens * h.width
    b = binary()
    print(f"\n### {tok.name}: {h.n_tokens:,} tokens x {h.width} B = {nbytes / 1e6:.1f} MB (load avg {load_avg()})\n")
    print(HEADER)
    sa = work / f"{tok.stem}.sa"
    outs: dict[str, Path] = {}
    walls: dict[str, float] = {}
    for key, name, args in (
        ("t2", "mosaic-sa build, 2 threads", ["--threads", "2"]),
        ("t1", "mosaic-sa build, 1 thread", ["--threads", "1"]),
        ("p2", "mosaic-sa build, 2 parts merged, 2 threads", ["--threads", "2", "--parts", "2"]),
    ):
        outs[key] = work / f"{tok.stem}.{key}.sa"
        cmds = [[b, "build", "--tokens", str(tok), "--output", str(outs[key]), *args]]
        if baseline:
            outs[key + "-base"] = work / f"{tok.stem}.{key}.base.sa"
            cmds.append([baseline, "build", "--tokens", str(tok), "--output", str(outs[key + "-base"]), *args])
        rs = paired(cmds, repeats)
        walls[key] = rs[0]["wall"]
        print(row(name, rs[0], h.n_tokens, nbytes), flush=True)
        if baseline:
            print(row(f"{name} (baseline)", rs[1], h.n_tokens, nbytes), flush=True)
            print(f"| ratio baseline / ours | {rs[1]['wall'] / rs[0]['wall']:.2f}x | {rs[1]['cpu'] / max(rs[0]['cpu'], 1e-9):.2f}x | | | |", flush=True)
    print(f"\nbuild speed-up, 2 threads vs 1 (median wall): {walls['t1'] / walls['t2']:.2f}x; "
          f"2 parts vs 1 thread: {walls['t1'] / walls['p2']:.2f}x")
    ref = outs["t1"].read_bytes()
    same = {key: p.read_bytes() == ref for key, p in outs.items() if key != "t1"}
    print("suffix array files byte-identical to the 1-thread build: "
          + ", ".join(f"{key} {'yes' if ok else 'NO'}" for key, ok in same.items()), flush=True)
    if not all(same.values()):
        raise SystemExit("suffix arrays differ")
    outs["t1"].replace(sa)
    for p in outs.values():
        p.unlink(missing_ok=True)
    ss = [b, "self-similar", "--tokens", str(tok), "--sa", str(sa), "--length", str(length), "--output", str(work / "r.ss"), "--threads", "2"]
    cmds = [ss] + ([[baseline, *ss[1:]]] if baseline else [])
    rs = paired(cmds, repeats)
    print(row(f"mosaic-sa self-similar >= {length} tokens", rs[0], h.n_tokens, nbytes), flush=True)
    if baseline:
        print(row(f"mosaic-sa self-similar >= {length} tokens (baseline)", rs[1], h.n_tokens, nbytes), flush=True)
        print(f"| ratio baseline / ours | {rs[1]['wall'] / rs[0]['wall']:.2f}x | {rs[1]['cpu'] / max(rs[0]['cpu'], 1e-9):.2f}x | | | |", flush=True)
    if not pydiv:
        return
    src = work / "pydiv.py"
    src.write_text(PYDIV)
    repo_src = str(Path(__file__).resolve().parents[1] / "src")
    for mode in ("bytes", "tokens"):
        r = median_run([sys.executable, str(src), str(tok), mode, repo_src], repeats)
        print(row(f"pydivsufsort SA + Kasai LCP ({mode})", r, h.n_tokens, nbytes), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--tokens", type=int, default=50_000_000, help="size of the Zipf (or BPE) corpus")
    ap.add_argument("--corpus", choices=("zipf", "bpe"), default="zipf",
                    help="zipf: synthetic; bpe: the books, BPE-tokenized and replicated")
    ap.add_argument("--length", type=int, default=50, help="self-similar repeat length")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--work", type=Path, default=Path("/tmp/mosaic-sa-bench"))
    ap.add_argument("--baseline", help="an older mosaic-sa binary to run alternately with ours")
    ap.add_argument("--no-pydivsufsort", action="store_true", help="skip the pydivsufsort baselines")
    ap.add_argument("--no-books", action="store_true", help="skip the small real-text corpus")
    a = ap.parse_args()
    a.work.mkdir(parents=True, exist_ok=True)
    pydiv = not a.no_pydivsufsort
    if not a.no_books:
        bench(real_corpus(a.work / "books.tok"), a.work, a.repeats, a.baseline, pydiv, a.length)
    if a.corpus == "bpe":
        big = bpe_corpus(a.work / f"bpe{a.tokens}.tok", a.tokens)
    else:
        big = zipf_corpus(a.work / f"zipf{a.tokens}.tok", a.tokens)
    bench(big, a.work, a.repeats, a.baseline, pydiv, a.length)


if __name__ == "__main__":
    main()
