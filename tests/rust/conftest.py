"""Fixtures for the tests of the Rust tools: the real binary, built if missing."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def ensure_binary() -> Path:
    env = os.environ.get("MOSAIC_RUST_BIN")
    if env:
        return Path(env)
    binary = REPO / "rust" / "target" / "release" / "mosaic-sa"
    if not binary.exists():
        subprocess.run(
            ["cargo", "build", "--release", "--manifest-path", str(REPO / "rust" / "Cargo.toml")],
            check=True,
        )
    return binary


@pytest.fixture(scope="session")
def mosaic_sa_binary() -> Path:
    return ensure_binary()
