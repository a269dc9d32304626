"""The 2-thread suffix-array build: `mosaic-sa build --threads 1/2` vs libsais
(Ilya Grebnov's SA-IS, OpenMP, `libsais_int_omp` with 1 and 2 threads) on the
same symbol string, runs alternating, each tool's speed-up from 2 threads, and
a byte check that all four suffix arrays are the same.

libsais is not vendored (the project copies no third-party code): pass a
checkout of https://github.com/IlyaGrebnov/libsais (its `src/libsais.c` and
`include/libsais.h`); the script compiles a small driver against it with the
system C compiler and OpenMP (`make bench` runs it when `LIBSAIS_SRC` names the
checkout):

    .venv/bin/python benchmarks/bench_rust_build_vs_libsais.py --libsais-src ~/src/libsais \
        --tokens 50000000 --repeats 5

Corpus: issue 13's (the offline books, BPE-tokenized, replicated to `--tokens`;
`bench_rust_common.bpe_corpus`). libsais gets the symbol string mosaic-sa sorts:
tokens as dense ids in token order, each separator a symbol of its own above
every token (in text order), and a largest end symbol; its array minus the end
suffix (last) must equal ours. Times are whole processes (`/usr/bin/time`):
each tool reads its own input (ours the token file, libsais the 4-byte
symbols), so compare each tool's own 1 -> 2-thread ratio, not the two tools'
absolute times.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

import numpy as np
from bench_rust_common import binary, bpe_corpus, load_avg, timed

DRIVER = r"""
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <time.h>
#include "libsais.h"
/* usage: drv SYMBOLS.i32 K THREADS OUT.i32 */
int main(int argc, char **argv) {
    if (argc != 5) { fprintf(stderr, "usage: drv symbols k threads out\n"); return 2; }
    FILE *f = fopen(argv[1], "rb");
    if (!f) { perror(argv[1]); return 1; }
    fseek(f, 0, SEEK_END); long n = ftell(f) / 4; fseek(f, 0, SEEK_SET);
    int32_t *t = malloc(n * 4), *sa = malloc(n * 4);
    if (!t || !sa || fread(t, 4, n, f) != (size_t)n) { fprintf(stderr, "read failed\n"); return 1; }
    fclose(f);
    struct timespec a, b; clock_gettime(CLOCK_MONOTONIC, &a);
    int32_t rc = libsais_int_omp(t, sa, (int32_t)n, atoi(argv[2]), 0, atoi(argv[3]));
    clock_gettime(CLOCK_MONOTONIC, &b);
    if (rc != 0) { fprintf(stderr, "libsais_int_omp returned %d\n", rc); return 1; }
    fprintf(stderr, "libsais: %ld symbols, %s thread(s): %.3f s\n", n, argv[3], (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) * 1e-9);
    FILE *o = fopen(argv[4], "wb");
    if (!o || fwrite(sa, 4, n, o) != (size_t)n || fclose(o) != 0) { fprintf(stderr, "write failed\n"); return 1; }
    return 0;
}
"""


def build_driver(src: Path, work: Path) -> Path:
    c_file, header = src / "src" / "libsais.c", src / "include" / "libsais.h"
    if not c_file.is_file() or not header.is_file():
        raise SystemExit(f"{src} is not a libsais checkout (no src/libsais.c and include/libsais.h)")
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        raise SystemExit("no C compiler (cc/gcc) on PATH: libsais cannot be built")
    drv = work / "libsais-drv.c"
    drv.write_text(DRIVER)
    exe = work / "libsais-drv"
    cmd = [cc, "-O3", "-fopenmp", "-DLIBSAIS_OPENMP", f"-I{header.parent}", str(drv), str(c_file), "-o", str(exe)]
    p = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if p.returncode != 0:
        raise SystemExit(f"compiling libsais failed ({' '.join(cmd)}):\n{p.stderr[-2000:]}")
    return exe


def symbols(tok: Path, out: Path) -> int:
    """mosaic-sa's symbol string of the token file, as int32; returns k."""
    from mosaic_kedro.token_files import read_token_file

    t = np.asarray(read_token_file(tok).tokens)
    sep = t == np.iinfo(t.dtype).max
    present = np.unique(t[~sep])
    ids = np.searchsorted(present, t).astype(np.int64)
    ids[sep] = len(present) + np.arange(int(sep.sum()))
    k = len(present) + int(sep.sum())
    np.append(ids, k).astype(np.int32).tofile(out)
    return k + 1


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--libsais-src",
        type=Path,
        default=os.environ.get("LIBSAIS_SRC"),
        help="a checkout of github.com/IlyaGrebnov/libsais (default: $LIBSAIS_SRC)",
    )
    ap.add_argument("--tokens", type=int, default=50_000_000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--work", type=Path, default=Path("/tmp/mosaic-sa-bench"))
    a = ap.parse_args()
    if a.libsais_src is None:
        ap.error("needs --libsais-src (or LIBSAIS_SRC): a checkout of github.com/IlyaGrebnov/libsais")
    a.work.mkdir(parents=True, exist_ok=True)
    exe = build_driver(a.libsais_src.expanduser(), a.work)
    tok = bpe_corpus(a.work / f"bpe{a.tokens}.tok", a.tokens)
    sym = a.work / f"bpe{a.tokens}.i32"
    k = symbols(tok, sym)
    b = binary()
    runs = {
        ("mosaic-sa", 1): [b, "build", "--tokens", str(tok), "--output", str(a.work / "ours.t1.sa"), "--threads", "1"],
        ("mosaic-sa", 2): [b, "build", "--tokens", str(tok), "--output", str(a.work / "ours.t2.sa"), "--threads", "2"],
        ("libsais", 1): [str(exe), str(sym), str(k), "1", str(a.work / "libsais.t1.i32")],
        ("libsais", 2): [str(exe), str(sym), str(k), "2", str(a.work / "libsais.t2.i32")],
    }
    from mosaic_kedro.token_files import read_token_header

    print(f"{tok.name}: {read_token_header(tok).n_tokens:,} tokens, {k:,} symbols; load avg {load_avg()}; medians of {a.repeats}, runs alternating")
    times: dict = {key: [] for key in runs}
    for _ in range(a.repeats):
        for key, cmd in runs.items():
            times[key].append(timed(cmd))
    print("\n| tool | threads | wall s (min / median / max) | CPU s (median) | peak RSS MiB |\n| --- | --- | --- | --- | --- |")
    med = {}
    for key, rs in times.items():
        w = sorted(r["wall"] for r in rs)
        med[key] = statistics.median(w)
        cpu = statistics.median(r["cpu"] for r in rs)
        rss = statistics.median(r["rss_kib"] for r in rs) / 1024
        print(f"| {key[0]} | {key[1]} | {w[0]:.2f} / {med[key]:.2f} / {w[-1]:.2f} | {cpu:.2f} | {rss:.0f} |")
    for tool in ("mosaic-sa", "libsais"):
        print(f"{tool}: speed-up, 2 threads vs 1 (median wall): {med[(tool, 1)] / med[(tool, 2)]:.2f}x")

    from mosaic_kedro.rust_bridge import read_suffix_array

    ours = [read_suffix_array(a.work / f"ours.t{n}.sa")[1] for n in (1, 2)]
    theirs = [np.fromfile(a.work / f"libsais.t{n}.i32", dtype=np.int32) for n in (1, 2)]
    checks = {
        "ours 2 threads = ours 1 thread": np.array_equal(ours[0], ours[1]),
        "libsais 2 threads = libsais 1 thread": np.array_equal(theirs[0], theirs[1]),
        "libsais (end suffix dropped) = ours": len(theirs[0]) == len(ours[0]) + 1
        and np.array_equal(theirs[0][:-1].astype(np.int64), ours[0].astype(np.int64)),
    }
    print("same suffix array: " + "; ".join(f"{name}: {'yes' if ok else 'NO'}" for name, ok in checks.items()))
    if not all(checks.values()):
        sys.exit("suffix arrays differ")


if __name__ == "__main__":
    main()
