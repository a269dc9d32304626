"""Slurm job scripts (mosaic_kedro.slurm): units, shared-node split, script text."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from mosaic_kedro import slurm
from mosaic_kedro.grid import conditions

REPO = Path(__file__).resolve().parents[1]
GRID = {"seeds": [1, 2], "exact": [1, 4],
        "fuzzy": [{"strategy": "clm", "top_k": 10, "replaced_tokens": [2, 8]}]}


def test_isolated_has_one_unit_per_condition():
    units = slurm.unit_namespaces(GRID)
    assert units == [[c.name] for c in conditions(GRID)]
    assert len(units) == 2 * (2 + 2)


def test_pooled_has_one_unit_per_seed_with_its_conditions():
    units = slurm.unit_namespaces({**GRID, "design": "pooled"})
    assert [u[0] for u in units] == ["pooled_s1", "pooled_s2"]
    assert units[0][1:] == [c.name for c in conditions(GRID) if c.seed == 1]


def test_paper_grid_has_470_array_tasks():
    grid = yaml.safe_load((REPO / "conf/paper/parameters.yml").read_text())["grid"]
    text = slurm.units_script("/p", slurm.SlurmOptions(max_parallel=20), grid)
    assert "#SBATCH --array=0-469%20" in text
    entries = re.findall(r"^  (\S+)  # (\d+)$", text, flags=re.MULTILINE)
    assert [int(i) for _, i in entries] == list(range(470))
    assert {e for e, _ in entries} == {c.name for c in conditions(grid)}


def test_shared_nodes_split_by_what_they_depend_on():
    nodes = [
        ("validate_mia_params", None, ["params:mia"], ["mia_config"]),
        ("score_reference", None, ["canaries", "mia_config"], ["reference_scores"]),
        ("score_condition", "exact_n01_s1", ["exact_n01_s1.target_model", "reference_scores"],
         ["exact_n01_s1.mia_scores"]),
        ("gather_mia_scores", None, ["exact_n01_s1.mia_scores"], ["mia_scores"]),
        ("evaluate_mia", None, ["mia_scores", "mia_config"], ["auc_table"]),
    ]
    setup, gather = slurm.split_shared_nodes(nodes)
    assert setup == ["validate_mia_params", "score_reference"]
    # evaluate_mia has no namespaced input, but it reads what gathering made
    assert gather == ["validate_mia_params", "gather_mia_scores", "evaluate_mia"]


def test_scripts_chain_and_name_their_resources():
    options = slurm.SlurmOptions(env="paper", partition="gpu", account="lab", time="02:00:00")
    units = slurm.units_script("/work/p", options, GRID)
    for line in ("#SBATCH --partition=gpu", "#SBATCH --account=lab", "#SBATCH --gpus=1",
                 "#SBATCH --time=02:00:00", "#SBATCH --chdir=/work/p",
                 "#SBATCH --output=logs/%x-%A_%a.out"):
        assert line in units, line
    assert ('kedro run --env=paper --pipelines=perturbation,injection,training,mia '
            '--namespaces="$namespaces"') in units
    setup = slurm.setup_script("/work/p", options, ["validate_mia_params", "score_reference"])
    assert "--pipelines=preparation --only-missing-outputs" in setup
    assert ("--pipelines=canaries,perturbation,injection,training,mia "
            "--to-nodes=validate_mia_params,score_reference") in setup
    report = slurm.report_script("/work/p", options, ["gather_mia_scores"])
    assert "#SBATCH --gpus" not in report
    assert report.rstrip().endswith("--pipelines=slimpajama_dedup,reporting")
    submit = slurm.submit_script("/work/p")
    assert '--dependency=afterok:"$setup"' in submit and '--dependency=afterok:"$units"' in submit
