"""Unknown top-level parameter keys stop a run before any node, naming the nearest key."""

from __future__ import annotations

import subprocess
import sys

import pytest

from mosaic_kedro.hooks import (
    KNOWN_PARAMETER_BLOCKS,
    UnknownParameterKeyError,
    check_parameter_keys,
)


def test_known_and_anchor_keys_pass():
    check_parameter_keys({k: {} for k in KNOWN_PARAMETER_BLOCKS} | {"_anchor": {}})


def test_unknown_key_names_nearest():
    with pytest.raises(UnknownParameterKeyError, match=r"'reportng' \(did you mean 'reporting'\?\)"):
        check_parameter_keys({"reporting": {}, "reportng": {"x": 1}})


def test_every_conf_env_passes(project_copy):
    from kedro.config import OmegaConfigLoader

    from mosaic_kedro import settings

    for env in ("local", "paper", "published", "test"):
        loader = OmegaConfigLoader(conf_source=str(project_copy / "conf"), env=env,
                                   **settings.CONFIG_LOADER_ARGS)
        check_parameter_keys(dict(loader["parameters"]))


def test_kedro_run_refuses_misspelled_block(project_copy):
    (project_copy / "conf" / "local" / "parameters.yml").write_text("reportng:\n  dpi: 99\n")
    result = subprocess.run(
        [sys.executable, "-m", "kedro", "run", "--pipelines=preparation"], check=False,
        cwd=project_copy, capture_output=True, text=True, timeout=180,
    )
    out = " ".join((result.stdout + result.stderr).split())  # rich wraps lines
    assert result.returncode != 0
    assert "reportng" in out and "did you mean 'reporting'" in out
    assert "Running node" not in out and "Loading data" not in out
    assert not (project_copy / "data").exists()
    # The last lines say what failed and what to do, with no traceback above them.
    tail = [line for line in result.stderr.splitlines() if line.strip()][-3:]
    assert tail[0] == "FAILED: UnknownParameterKeyError"
    assert "did you mean 'reporting'" in tail[1]
    assert "Traceback" not in result.stderr and len(result.stderr.splitlines()) < 10
