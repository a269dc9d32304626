"""The reporting pipeline on small in-memory tables, and the published environment
run for real (`kedro run --pipelines=reporting --env=published` through a session)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner
from kedro_datasets.pandas import CSVDataset
from kedro_datasets.text import TextDataset
from matplotlib.figure import Figure
from sklearn.metrics import roc_auc_score

from mosaic_kedro.params import ParameterError
from mosaic_kedro.pipelines.reporting import create_pipeline, nodes
from mosaic_kedro.rho import AUC_TABLE_COLUMNS, RhoError

PROJECT = Path(__file__).resolve().parents[3]
MODEL = "local/tiny-gpt2"

# (kind, value, shift of member scores in exact-copy units); copies K = 9
CONDITIONS = (
    [("exact", nu, nu) for nu in range(1, 6)]
    + [("fuzzy_clm_topk10", r, 1 + 9 * max(0.0, 0.5 - r / 40)) for r in (1, 5, 10)]
    + [("insertion_n5_x1", 0, 2.0), ("shuffle_n10_tau0.3", 0, 1.5)]
)


def _scores(n: int = 60, seeds=(1, 2)) -> pd.DataFrame:
    """Per-canary scores (mia_scores layout): members' scores fall with the condition's
    exact-copy worth; higher = more likely a non-member."""
    rng = np.random.default_rng(7)
    rows = []
    for seed in seeds:
        for kind, value, worth in CONDITIONS:
            condition = f"{kind}_v{value}_s{seed}"
            for score, scale in (("loss", 0.25), ("ratio", 0.35)):
                for i in range(n):
                    rows.append(
                        (
                            condition,
                            kind,
                            value,
                            seed,
                            f"m{i}",
                            "member",
                            score,
                            rng.normal(-scale * worth, 1),
                        )
                    )
                    rows.append(
                        (
                            condition,
                            kind,
                            value,
                            seed,
                            f"n{i}",
                            "non_member",
                            score,
                            rng.normal(0, 1),
                        )
                    )
    columns = [
        "condition",
        "kind",
        "value",
        "seed",
        "canary_id",
        "set",
        "score",
        "value_score",
    ]
    return pd.DataFrame(rows, columns=columns)


def _auc_table(scores: pd.DataFrame) -> pd.DataFrame:
    """The AUC table mia would write for these scores (members positive)."""
    rows = []
    for (condition, kind, value, seed, score), g in scores.groupby(
        ["condition", "kind", "value", "seed", "score"]
    ):
        y = (g["set"] == "member").to_numpy(int)
        auc = roc_auc_score(y, -g["value_score"].to_numpy())
        rows.append(
            {
                "model": MODEL,
                "condition": condition,
                "kind": kind,
                "value": value,
                "seed": seed,
                "score": score,
                "auc": auc,
                "ci_low": auc - 0.05,
                "ci_high": auc + 0.05,
                "tpr_at_1": 0.02,
                "tpr_at_10": 0.2,
                "n_members": int(y.sum()),
                "n_non_members": int((1 - y).sum()),
                "num_copies": value if kind == "exact" else 9,
            }
        )
    return pd.DataFrame(rows, columns=AUC_TABLE_COLUMNS)


def _training_metrics() -> pd.DataFrame:
    steps = np.arange(0, 200, 50)
    return pd.concat(
        pd.DataFrame(
            {
                "condition": c,
                "step": steps,
                "auc_loss": 0.5 + steps / 1000,
                "ppl_members": 50 - steps / 10,
                "ppl_non_members": 50 - steps / 20,
            }
        )
        for c in ("exact_n01_s1", "fuzzy_clm_topk10_r10_s1")
    )


def _summary() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "kind": ["fuzzy_clm_topk10"] * 3
            + ["insertion_n5_x1", "shuffle_n10_tau0.3"],
            "value": [1, 5, 10, 0, 0],
            "seed": 1,
            "mean_levenshtein": [1.0, 5.2, 10.5, 19.0, 30.0],
        }
    )


PARAMS = {
    "input_layout": "project",
    "headline_score": "ratio",
    "smooth": True,
    "std_ddof": 1,
    "bootstrap": {"enabled": True, "n_boot": 60, "alpha": 0.1, "random_state": 0},
    "roc_condition": None,
    "departures": ["a note from the parameters"],
}


@pytest.fixture(scope="module")
def run_outputs(tmp_path_factory) -> dict:
    """Run the whole pipeline once with a real runner on in-memory inputs; tables and
    the report go to real CSV / text datasets in a temporary folder."""
    tmp = tmp_path_factory.mktemp("reporting")
    scores = _scores()
    catalog = DataCatalog(
        {
            "auc_table": MemoryDataset(_auc_table(scores)),
            "mia_scores": MemoryDataset(scores),
            "training_metrics": MemoryDataset(_training_metrics()),
            "perturbation_summary": MemoryDataset(_summary()),
            "params:reporting": MemoryDataset(PARAMS),
            "parameters": MemoryDataset({"reporting": PARAMS}),
            "rho_table": CSVDataset(filepath=str(tmp / "rho_table.csv")),
            "rho_per_seed": CSVDataset(filepath=str(tmp / "rho_per_seed.csv")),
            "secondary_tables": CSVDataset(filepath=str(tmp / "secondary.csv")),
            "report": TextDataset(filepath=str(tmp / "report.md")),
        }
    )
    free = SequentialRunner().run(create_pipeline(), catalog)
    outputs = {name: dataset.load() for name, dataset in free.items()}
    return {
        "tmp": tmp,
        "outputs": outputs,
        "rho_table": pd.read_csv(tmp / "rho_table.csv"),
        "rho_per_seed": pd.read_csv(tmp / "rho_per_seed.csv"),
        "secondary": pd.read_csv(tmp / "secondary.csv"),
        "report": (tmp / "report.md").read_text(),
    }


def test_pipeline_shape():
    pipe = create_pipeline()
    assert pipe.inputs() == {
        "auc_table",
        "mia_scores",
        "training_metrics",
        "perturbation_summary",
        "params:reporting",
        "parameters",
    }
    assert len(pipe.nodes) == 12
    assert {"prepare_auc_table", "write_report"} <= {n.name for n in pipe.nodes}


def test_rho_table_schema_and_bootstrap(run_outputs):
    table = run_outputs["rho_table"]
    for column in (
        "model",
        "score",
        "kind",
        "value",
        "rho_mean",
        "rho_std",
        "n_seeds",
        "rho_ci_low",
        "rho_ci_high",
    ):
        assert column in table.columns
    assert set(table["kind"]) == {
        "fuzzy_clm_topk10",
        "insertion_n5_x1",
        "shuffle_n10_tau0.3",
    }
    assert (table["n_seeds"] == 2).all()
    assert table[["rho_ci_low", "rho_ci_high"]].notna().all().all()
    assert (table["rho_ci_low"] <= table["rho_ci_high"]).all()
    assert len(run_outputs["rho_per_seed"]) == 2 * len(table)


def test_figures_are_matplotlib_figures(run_outputs):
    outputs = run_outputs["outputs"]
    for name in (
        "auc_vs_nu",
        "auc_vs_r",
        "rho_vs_r",
        "rho_vs_levenshtein",
        "roc",
        "training_curves",
    ):
        assert isinstance(outputs[f"{name}_figure"], Figure), name
    roc = outputs["roc_figure"].axes[0]
    assert roc.get_xscale() == "log" and roc.get_yscale() == "log"
    assert (
        roc.get_title()
        == "ROC · fuzzy_clm_topk10_v10_s1"  # first fuzzy by name ("v10" < "v1_")
    )  # first fuzzy condition by name
    assert len(outputs["rho_vs_levenshtein_figure"].axes[0].containers) == 3  # 3 kinds


def test_secondary_tables_parse_families(run_outputs):
    secondary = run_outputs["secondary"]
    # one top-k kind only: it is the main fuzzy table, not a secondary one
    assert set(secondary["family"]) == {"insertion", "shuffle"}
    ins = secondary[secondary["family"] == "insertion"].iloc[0]
    assert (ins["n"], ins["x"]) == (5, 1)
    shuffle = secondary[secondary["family"] == "shuffle"].iloc[0]
    assert shuffle["tau"] == pytest.approx(0.3)
    assert secondary["rho_mean"].notna().all()


def test_secondary_top_k_table_when_several_k_ran():
    rows = []
    for kind in ("exact", "fuzzy_mlm_topk10", "fuzzy_mlm_topk100", "fuzzy_random"):
        for value in (1, 2):
            rows.append((kind, value, 0.6 + 0.1 * value))
    auc = pd.DataFrame(rows, columns=["kind", "value", "auc"]).assign(
        model="m", score="loss", seed=1
    )
    rho = pd.DataFrame(
        {"model": "m", "score": "loss", "kind": ["fuzzy_mlm_topk10"], "value": [1]}
    ).assign(rho_mean=0.5, rho_std=np.nan, n_seeds=1)
    out = nodes.build_secondary_tables(auc, rho)
    assert set(out["family"]) == {"topk"}
    assert set(zip(out["strategy"], out["top_k"])) == {("mlm", "10"), ("mlm", "100")}
    assert out["rho_mean"].notna().sum() == 1


def test_report_states_what_was_run(run_outputs):
    report = run_outputs["report"]
    for needle in (
        "## What was run",
        MODEL,
        "Seeds: 1, 2",
        "Package versions: kedro ",
        "## Departures from the paper",
        "causal replacer",
        "not the paper's",
        "Fewer seeds than the paper's 5",
        "a note from the parameters",
        "## rho",
        "## AUC",
        "Bootstrap intervals",
        "**insertion** (ratio)",
        "n_boot: 60",
    ):
        assert needle in report, needle
    assert report.count("](data:image/png;base64,") == 6


def test_first_node_validates_parameters():
    table = _auc_table(_scores(n=5, seeds=(1,)))
    with pytest.raises(ParameterError, match=r"reporting\.bootstrap\.n_boot"):
        nodes.prepare_auc_table(table, {**PARAMS, "bootstrap": {"n_boot": 0}})
    with pytest.raises(ParameterError, match=r"reporting\.input_layout"):
        nodes.prepare_auc_table(table, {**PARAMS, "input_layout": "paper"})
    with pytest.raises(ParameterError, match=r"reporting\.colour"):
        nodes.prepare_auc_table(table, {**PARAMS, "colour": "red"})
    with pytest.raises(
        RhoError, match=r"headline_score = 'zlib' .*allowed: \['loss', 'ratio'\]"
    ):
        nodes.prepare_auc_table(table, {**PARAMS, "headline_score": "zlib"})
    with pytest.raises(RhoError, match="input_layout: published"):
        nodes.prepare_auc_table(
            pd.read_csv(PROJECT / "data/01_raw/published_aucs.csv"), PARAMS
        )


def test_optional_inputs_may_be_empty():
    table = nodes.prepare_auc_table(_auc_table(_scores(n=20, seeds=(1,))), PARAMS)
    assert nodes.compute_rho_bootstrap([], table, PARAMS).empty
    for fig, embed in (
        nodes.plot_roc([], PARAMS),
        nodes.plot_training_curves([]),
        nodes.plot_rho_vs_levenshtein(pd.DataFrame(), [], PARAMS),
    ):
        assert isinstance(fig, Figure)
        assert embed["uri"].startswith("data:image/png;base64,")
    with pytest.raises(RhoError, match="roc_condition"):
        nodes.plot_roc(_scores(n=5, seeds=(1,)), {**PARAMS, "roc_condition": "nope"})


def _published_conf(tmp_path: Path) -> Path:
    """A copy of conf/ whose data_root is a temporary folder holding the published CSV,
    so the real published environment runs without writing into the repository."""
    conf = tmp_path / "conf"
    shutil.copytree(PROJECT / "conf", conf, ignore=shutil.ignore_patterns("local"))
    (conf / "local").mkdir()
    data = tmp_path / "data"
    (data / "01_raw").mkdir(parents=True)
    shutil.copy(PROJECT / "data/01_raw/published_aucs.csv", data / "01_raw")
    globals_file = conf / "base" / "globals.yml"
    values = yaml.safe_load(globals_file.read_text()) or {}
    values["data_root"] = str(data)
    globals_file.write_text(yaml.safe_dump(values))
    return conf


def test_published_environment_end_to_end(tmp_path):
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    bootstrap_project(PROJECT)
    conf = _published_conf(tmp_path)
    with KedroSession.create(
        PROJECT, env="published", conf_source=str(conf)
    ) as session:
        session.run(pipeline_names=["reporting"])
    out = tmp_path / "data" / "08_reporting"
    (rho_csv,) = (out / "rho_table.csv").glob("*/rho_table.csv")
    table = pd.read_csv(rho_csv)
    neo = table[
        (table["model"] == "EleutherAI/gpt-neo-1.3B") & (table["score"] == "ratio")
    ].set_index("value")
    assert neo.loc[[1, 5, 10, 75], "rho_mean"].round(2).tolist() == [
        0.90,
        0.78,
        0.65,
        0.08,
    ]
    assert set(table["kind"]) == {"fuzzy_mlm_topk10"}
    assert table["rho_ci_low"].isna().all()
    for figure in (
        "rho_vs_r",
        "auc_vs_nu",
        "auc_vs_r",
        "roc",
        "training_curves",
        "rho_vs_levenshtein",
    ):
        (png,) = (out / f"{figure}.png").glob(f"*/{figure}.png")
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    (report,) = (out / "report.md").glob("*/report.md")
    text = report.read_text()
    assert "released per-seed AUCs" in text and "0.898 ± 0.035" in text
