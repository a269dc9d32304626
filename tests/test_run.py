"""End-to-end: a KedroSession run in a temporary project, and configuration rules."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from kedro.config import OmegaConfigLoader

from mosaic_kedro import settings

REPO = Path(__file__).resolve().parents[1]


def _loader(project: Path, env: str = "local") -> OmegaConfigLoader:
    return OmegaConfigLoader(conf_source=str(project / "conf"), env=env,
                             **{k: v for k, v in settings.CONFIG_LOADER_ARGS.items()})


def test_local_override_keeps_siblings(project_copy):
    (project_copy / "conf" / "local" / "parameters.yml").write_text(
        "canaries:\n  temperature: 0.7\n"
    )
    params = _loader(project_copy)["parameters"]
    assert params["canaries"]["temperature"] == 0.7
    assert params["canaries"]["num_canaries"] == 64  # sibling from conf/base survives


def test_every_catalog_path_starts_at_data_root():
    for path in (REPO / "conf" / "base").glob("catalog*.yml"):
        for line in path.read_text().splitlines():
            if line.strip().startswith(("filepath:", "path:")):
                assert "${globals:data_root}" in line, f"{path.name}: {line.strip()}"


def test_import_contract_covers_every_library_module():
    """The import-linter contract lists every top-level library module."""
    import tomllib

    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    contracts = config["tool"]["importlinter"]["contracts"]
    listed = {m for c in contracts for m in c.get("source_modules", [])}
    framework = {"settings", "pipeline_registry", "hooks", "cli", "__main__", "__init__"}
    package = REPO / "src" / "mosaic_kedro"
    modules = {p.stem for p in package.glob("*.py")} | {
        p.name for p in package.iterdir() if (p / "__init__.py").exists()
    }
    missing = {f"mosaic_kedro.{m}" for m in modules - framework - {"pipelines"}} - listed
    assert not missing, f"add to [tool.importlinter] source_modules: {sorted(missing)}"


@pytest.mark.slow
def test_session_runs_preparation_and_canaries(project_copy):
    """The real chain on the test configuration, including the real SmolLM2 file."""
    from kedro.framework.project import configure_project
    from kedro.framework.session import KedroSession

    configure_project("mosaic_kedro")
    with KedroSession.create(project_path=project_copy, env="test") as session:
        session.run(pipeline_names=["preparation", "canaries"])
    versions = list((project_copy / "data/03_primary/canaries.parquet").glob("*/canaries.parquet"))
    assert len(versions) == 1
    table = pd.read_parquet(versions[0])
    assert set(table["set"]) == {"member", "non_member"}
    assert (table["length"] == 16).all()
    assert (project_copy / "data/06_models/generator/model.safetensors").is_file()


@pytest.mark.parametrize("flag", ["--pipeline=canaries", "--pipelines=canaries"])
def test_cli_accepts_both_pipeline_flags(project_copy, flag):
    """Both spellings select the pipeline; an invalid parameter stops it at once."""
    (project_copy / "conf" / "local" / "parameters.yml").write_text(
        "canaries:\n  temperature: -1\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "kedro", "run", flag], check=False, cwd=project_copy,
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode != 0
    assert "canaries.temperature" in result.stdout + result.stderr


@pytest.mark.parametrize("flag", ["--pipeline=mia", "--pipelines=mia"])
def test_mia_alone_without_trained_models_stops_at_once(project_copy, flag):
    """`kedro run --pipeline=mia` before training: a message naming what to run."""
    result = subprocess.run(
        [sys.executable, "-m", "kedro", "run", flag, "--env=test"], check=False,
        cwd=project_copy, capture_output=True, text=True, timeout=120,
    )
    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode != 0
    assert "MissingTargetModelsError" in output
    assert "exact_n01_s1" in output and "--pipelines=training" in output
    assert "Loading data from" not in output  # stopped before any dataset loaded


def test_reporting_before_its_inputs_exist_stops_at_once(project_copy):
    """`kedro run --pipelines=reporting` on a fresh project: every missing input is
    named with the pipeline that makes it, before any node runs."""
    result = subprocess.run(
        [sys.executable, "-m", "kedro", "run", "--pipelines=reporting", "--env=test"],
        check=False, cwd=project_copy, capture_output=True, text=True, timeout=120,
    )
    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode != 0
    assert "MissingInputsError" in output
    assert "slimpajama_near_duplicates: made by slimpajama_dedup" in output
    assert "auc_table: made by mia" in output
    assert "Running node" not in output
