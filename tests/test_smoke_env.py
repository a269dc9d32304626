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


ENV = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "true", "TOKENIZERS_PARALLELISM": "false"}
# One torch thread per process in the smoke run and in its Airflow peer: Airflow runs
# two tasks at once on two cores (two threads each oversubscribed them: condition
# tasks 2-4x slower), and the two runs are compared bit for bit, so they use the same count.
THREADS = {"OMP_NUM_THREADS": "1"}


@pytest.fixture(scope="module")
def smoke_run(another_project):
    """``kedro run --env smoke`` of every pipeline in a fresh project copy, once."""
    project = another_project()
    result = subprocess.run(
        [sys.executable, "-m", "kedro", "run", "--env", "smoke", f"--pipelines={PIPELINES}"],
        cwd=project, capture_output=True, text=True, timeout=1500, check=False,
        env={**ENV, **THREADS})
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    return project


@pytest.mark.slow
def test_smoke_environment_runs_every_path(smoke_run):
    out = smoke_run / "data"
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


def _grid_results(data) -> dict[str, pd.DataFrame]:
    """What a run of the grid concludes: AUCs (with intervals), rho, extraction,
    near-duplicate counts; without the run ids, which differ by construction."""
    files = {"auc_table": "07_model_output/auc_table.csv",
             "rho_table": "08_reporting/rho_table.csv",
             "extraction_table": "08_reporting/extraction_table.csv",
             "slimpajama_near_duplicates": "08_reporting/slimpajama_near_duplicates.csv"}
    return {name: pd.read_csv(_latest(data / path)).drop(columns=["run_id"], errors="ignore")
            for name, path in files.items()}


@pytest.mark.slow
def test_airflow_runs_the_smoke_grid_like_kedro_run(smoke_run, airflow, another_project):
    """``kedro airflow create --env smoke --group-by namespace``: the whole smoke grid
    (preparation to the report) executed by Airflow with the LocalExecutor, each task
    its own process reading what earlier tasks wrote through the catalog, concludes
    exactly what one ``kedro run --env smoke`` concluded."""
    peer = another_project()
    engine = airflow(peer, **THREADS)
    dag = engine.create_dag("--env", "smoke")
    tasks = engine.test_dag(dag, timeout=1500)
    assert all(t["state"] == "success" for t in tasks), [t for t in tasks if t["state"] != "success"]
    assert len({t["pid"] for t in tasks}) == len(tasks)  # one process per task
    names = {t["task"] for t in tasks}
    assert {"exact-n01-s1", "reporting", "part-00"} <= names
    ours, theirs = _grid_results(peer / "data"), _grid_results(smoke_run / "data")
    for name, table in theirs.items():
        pd.testing.assert_frame_equal(ours[name], table, obj=name)
    assert list((peer / "data/08_reporting/report.html").glob("*/report.html"))


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
        cwd=project_copy, capture_output=True, text=True, timeout=1200, check=False, env=env)
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    out = project_copy / "data"
    config = (out / "06_models/base_target/config.json").read_text()
    assert f'"model_type": "{family}"' in config
    metrics = pd.read_csv(_latest(out / "07_model_output/training_metrics.csv"))
    assert set(metrics["condition"]) == {"exact_n01_s1", "exact_n04_s1"}
    aucs = pd.read_csv(_latest(out / "07_model_output/auc_table.csv"))
    assert set(aucs["model"]) == {f"tiny-{family}"}
    assert aucs["auc"].between(0, 1).all() and len(aucs) == 2 * 7


@pytest.mark.slow
def test_pooled_design_runs_through_kedro(project_copy):
    """grid.design: pooled on a reduced smoke grid (exact 1 and 4, random R = 2): the
    canaries come in one disjoint member group per condition, one corpus and one model
    per seed (``pooled_s1``), and every condition is scored on its own group against the
    shared non-members, through to the report."""
    import yaml

    smoke = yaml.safe_load((project_copy / "conf/smoke/parameters.yml").read_text())
    smoke["grid"] = {"design": "pooled", "seeds": [1], "exact": [1, 4],
                     "fuzzy": [{"strategy": "random", "replaced_tokens": [2], "num_copies": 3}],
                     "insertion": [], "scrambled": [], "shuffle": [], "paraphrase": []}
    smoke["canaries"]["num_canaries"] = 4
    smoke["preparation"]["books"]["num_hosts"] = 12
    smoke["training"]["num_epochs"] = 1.0
    (project_copy / "conf/pooled").mkdir()
    (project_copy / "conf/pooled/parameters.yml").write_text(yaml.safe_dump(smoke))
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "true", "TOKENIZERS_PARALLELISM": "false"}
    result = subprocess.run(
        [sys.executable, "-m", "kedro", "run", "--env", "pooled",
         f"--pipelines={PIPELINES}"],
        cwd=project_copy, capture_output=True, text=True, timeout=1200, check=False, env=env)
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    out = project_copy / "data"
    assert (out / "06_models/pooled_s1/target_model").is_dir()
    assert not (out / "06_models/exact_n01_s1").exists()  # one model per seed
    manifest = pd.read_parquet(_latest(out / "05_model_input/pooled_s1/injection_manifest.parquet"))
    canaries = pd.read_parquet(out / "03_primary/canaries.parquet")
    members = canaries[canaries["set"] == "member"]
    assert len(members) == 12 and set(manifest["canary_id"]) == set(members["canary_id"])
    copies = manifest.groupby("canary_id").size()  # nu = 1, nu = 4, 1 + 3 copies
    assert sorted(copies.value_counts().to_dict().items()) == [(1, 4), (4, 8)]
    metrics = pd.read_csv(_latest(out / "07_model_output/training_metrics.csv"))
    assert set(metrics["condition"]) == {"pooled_s1"}
    scores = pd.read_parquet(_latest(out / "07_model_output/mia_scores.parquet"))
    by_condition = scores[scores["score"] == "loss"].groupby("condition")
    scored = {c: set(g.loc[g["set"] == "member", "canary_id"]) for c, g in by_condition}
    assert len(scored) == 3 and sum(len(v) for v in scored.values()) == 12
    assert set.union(*scored.values()) == set(members["canary_id"])  # disjoint groups
    non = {c: frozenset(g.loc[g["set"] == "non_member", "canary_id"]) for c, g in by_condition}
    assert len(set(non.values())) == 1  # one shared non-member set
    rho = pd.read_csv(_latest(out / "08_reporting/rho_table.csv"))
    assert len(rho[rho["score"] == "loss"]) == 1
    records = sorted((out / "09_tracking/runs").glob("*.yml"))  # this run's identity
    run_id = records[0].stem
    assert len(records) == 1 and run_id == _latest(out / "08_reporting/report.md").parent.name
    assert set(scores["run_id"]) == {run_id} and set(metrics["run_id"]) == {run_id}
    report = _latest(out / "08_reporting/report.md").read_text()
    assert f"| {run_id} |" in report.split("## Provenance")[1]
