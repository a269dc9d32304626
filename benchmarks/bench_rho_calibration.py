"""Calibration of rho's bootstrap interval on synthetic worlds where the truth is known.

Canaries carry a latent difficulty shared by every condition (member score =
difficulty - effect(condition) + noise, non-member = difficulty + noise); the exact
curve rises with nu and three fuzzy conditions sit at nu_eq = 3, 5.5 and 8. The true
sampling spread of rho is the 95 % range of rho over fresh canary draws; the paired
and unpaired bootstrap widths are averaged over several datasets of the same world.

Run: ``.venv/bin/python benchmarks/bench_rho_calibration.py [--out PNG]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from test_rho import (  # noqa: E402
    FUZZY_NU,
    _true_rho,
    _widths,
    _world_arrays,
    _world_frame,
)

from mosaic_kedro.rho import bootstrap_rho  # noqa: E402

SETTINGS = [  # (n canaries per set, difficulty sd, noise sd, pooled)
    (50, 1.0, 0.25, False),
    (100, 1.0, 0.25, False),
    (200, 1.0, 0.25, False),
    (100, 1.0, 0.5, False),
    (100, 0.5, 0.25, False),
    (100, 1.0, 0.25, True),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", default="/tmp/rho_calibration.png")
    ap.add_argument("--draws", type=int, default=600)
    ap.add_argument("--datasets", type=int, default=10)
    ap.add_argument("--n-boot", type=int, default=400)
    a = ap.parse_args()
    rng = np.random.default_rng(0)
    pts = []
    print(f"{'n':>4} {'sd_d':>5} {'sd_e':>5} {'design':>7} {'fuzzy':>8} "
          f"{'true':>7} {'paired':>7} {'unpaired':>8} {'p/true':>7} {'u/true':>7}")
    t0 = time.perf_counter()
    for n, sd_d, sd_e, pooled in SETTINGS:
        truth = _true_rho(*_world_arrays(rng, a.draws, n, pooled, sd_d, sd_e))
        true_w = np.quantile(truth, 0.975, axis=0) - np.quantile(truth, 0.025, axis=0)
        frame = _world_frame(*_world_arrays(rng, a.datasets, n, pooled, sd_d, sd_e),
                             pooled=pooled)
        pw = _widths(bootstrap_rho(frame, n_boot=a.n_boot, random_state=1))
        uw = _widths(bootstrap_rho(frame, n_boot=a.n_boot, random_state=1, paired=False))
        for kind, t, p, u in zip(FUZZY_NU, true_w, pw, uw):
            print(f"{n:>4} {sd_d:>5} {sd_e:>5} {'pooled' if pooled else 'shared':>7} "
                  f"{kind:>8} {t:7.4f} {p:7.4f} {u:8.4f} {p / t:7.2f} {u / t:7.2f}")
            pts.append((t, p, u))
    print(f"total {time.perf_counter() - t0:.1f} s")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t, p, u = np.array(pts).T
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.scatter(t, p, label="paired bootstrap")
    ax.scatter(t, u, marker="x", label="unpaired (old)")
    lim = [0, max(t.max(), p.max(), u.max()) * 1.05]
    ax.plot(lim, lim, "k--", lw=1, label="y = x")
    ax.fill_between(lim, [0.8 * v for v in lim], [1.2 * v for v in lim], alpha=0.15,
                    color="gray", label="±20 %")
    ax.set_xlabel("true 95 % spread of rho (fresh canary draws)")
    ax.set_ylabel("bootstrap 95 % interval width (mean over datasets)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(a.out, dpi=120)
    print(f"figure: {a.out}")


if __name__ == "__main__":
    main()
