"""`kedro run --env smoke` end to end: every condition kind of the paper's grid at toy
scale (exact, mlm at two top-k, mlm_random, random, clm, insertion, scrambled, shuffle,
paraphrase) plus extraction, on a tiny GPT-Neo target whose tokenizer has no pad token
and a tiny RoBERTa masked LM, offline. Other families train in tests/test_tiny_models.py."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

PIPELINES = "preparation,canaries,perturbation,injection,training,mia,slimpajama_dedup,reporting"


def _latest(path):
    versions = sorted(path.glob(f"*/{path.name}"))
    assert versions, f"{path} was not written"
    return versions[-1]


@pytest.mark.slow
def test_smoke_environment_runs_every_path(project_copy):
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "true", "TOKENIZERS_PARALLELISM": "false"}
    result = subprocess.run(
        [sys.executable, "-m", "kedro", "run", "--env", "smoke", f"--pipelines={PIPELINES}"],
        cwd=project_copy, capture_output=True, text=True, timeout=900, check=False, env=env)
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    out = project_copy / "data"
    secondary = pd.read_csv(_latest(out / "08_reporting/secondary_tables.csv"))
    assert {"insertion", "scrambled", "shuffle", "topk", "paraphrase"} <= set(secondary["family"])
    topk = secondary[secondary["family"] == "topk"]
    assert {("mlm", 10.0), ("mlm", 100.0)} <= set(zip(topk["strategy"], topk["top_k"]))
    assert {"mlm_random", "random", "clm"} <= set(topk["strategy"])
    extraction = pd.read_csv(_latest(out / "08_reporting/extraction_table.csv"))
    assert len(extraction) == 14 and extraction["bleu_mean"].notna().all()
    rho = pd.read_csv(_latest(out / "08_reporting/rho_table.csv"))
    loss = rho[rho["score"] == "loss"]
    assert len(loss) == 11
    assert np.isfinite(loss[["rho_mean", "rho_ci_low", "rho_ci_high"]]).all().all()
    copies = pd.read_parquet(_latest(out / "04_feature/shuffle_n01_t030_s1/perturbed_copies.parquet"))
    assert copies["tau"].between(0.3, 0.31, inclusive="left").all()
    base = out / "06_models/base_target"
    assert '"model_type": "gpt_neo"' in (base / "config.json").read_text()
    report = _latest(out / "08_reporting/report.md").read_text()
    for needle in ("**insertion**", "**scrambled**", "**shuffle**", "**topk**", "## Extraction"):
        assert needle in report, needle
