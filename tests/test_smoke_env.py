"""`kedro run --env smoke` end to end: every condition kind of the paper's grid at toy
scale (exact, mlm at two top-k, mlm_random, random, clm, insertion, scrambled, shuffle,
paraphrase) plus extraction, on a tiny GPT-Neo target whose tokenizer has no pad token
and a tiny RoBERTa masked LM, offline. GPT-2, Llama, Phi and Gemma targets go through kedro below."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from mosaic_kedro.mia_scores import SCORES

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
    assert rho.groupby("score").size().to_dict() == {s: 11 for s in SCORES}
    finite = np.isfinite(rho[["rho_mean", "rho_ci_low", "rho_ci_high"]]).all(axis=1)
    assert finite.all(), rho.loc[~finite, ["score", "kind", "value", "rho_mean",
                                           "rho_ci_low", "rho_ci_high"]]
    copies = pd.read_parquet(_latest(out / "04_feature/shuffle_n01_t030_s1/perturbed_copies.parquet"))
    assert copies["tau"].between(0.3, 0.31, inclusive="left").all()
    base = out / "06_models/base_target"
    assert '"model_type": "gpt_neo"' in (base / "config.json").read_text()
    report = _latest(out / "08_reporting/report.md").read_text()
    for needle in ("**insertion**", "**scrambled**", "**shuffle**", "**topk**", "## Extraction"):
        assert needle in report, needle


@pytest.mark.slow
@pytest.mark.parametrize("family", ["gpt2", "llama", "phi", "gemma"])
def test_each_family_trains_and_is_attacked_through_kedro(project_copy, family):
    """A target family other than GPT-Neo (which runs the whole smoke test above)
    goes through the real pipelines, switched as the README says, on a reduced smoke
    grid (exact copies only): preparation builds it, training trains it, mia scores
    it under its own label."""
    import yaml

    smoke = yaml.safe_load((project_copy / "conf/smoke/parameters.yml").read_text())
    smoke["grid"] = {"seeds": [1], "exact": [1, 4], "fuzzy": [], "insertion": [],
                     "scrambled": [], "shuffle": [], "paraphrase": []}
    smoke["canaries"]["num_canaries"] = 4
    smoke["training"]["num_epochs"] = 1.0
    (project_copy / "conf/family").mkdir()
    (project_copy / "conf/family/parameters.yml").write_text(yaml.safe_dump(smoke))
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "true", "TOKENIZERS_PARALLELISM": "false"}
    result = subprocess.run(
        [sys.executable, "-m", "kedro", "run", "--env", "family",
         "--pipelines=preparation,canaries,injection,training,mia",
         "--params", f"preparation.tiny_target.family={family}"],
        cwd=project_copy, capture_output=True, text=True, timeout=600, check=False, env=env)
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    out = project_copy / "data"
    config = (out / "06_models/base_target/config.json").read_text()
    assert f'"model_type": "{family}"' in config
    metrics = pd.read_csv(_latest(out / "07_model_output/training_metrics.csv"))
    assert set(metrics["condition"]) == {"exact_n01_s1", "exact_n04_s1"}
    aucs = pd.read_csv(_latest(out / "07_model_output/auc_table.csv"))
    assert set(aucs["model"]) == {f"tiny-{family}"}
    assert aucs["auc"].between(0, 1).all() and len(aucs) == 2 * 7
