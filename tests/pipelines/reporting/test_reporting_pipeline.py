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

from mosaic_kedro.grid import META_COLUMNS, Condition, conditions
from mosaic_kedro.params import ParameterError
from mosaic_kedro.pipelines.reporting import create_pipeline, nodes
from mosaic_kedro.rho import AUC_TABLE_COLUMNS, RhoError

PROJECT = Path(__file__).resolve().parents[3]
MODEL = "local/tiny-gpt2"

# A real grid: the fixtures' conditions come from grid.conditions(), never typed by hand
GRID = {
    "seeds": [1, 2],
    "exact": [1, 2, 3, 4, 5],
    "fuzzy": [{"strategy": "clm", "top_k": 10, "replaced_tokens": [1, 5, 10]}],
    "insertion": [{"ngram": [5], "inserted": [1]}],
    "shuffle": [{"ngram": [10], "tau": [0.3]}],
}


def _worth(cond: Condition) -> float:
    """Shift of the member scores in exact-copy units (K = 9 copies)."""
    meta = cond.metadata()
    if meta["family"] == "exact":
        return meta["nu"]
    if meta["family"] == "fuzzy":
        return 1 + 9 * max(0.0, 0.5 - meta["R"] / 40)
    return {"insertion": 2.0, "shuffle": 1.5}.get(meta["family"], 1.0)


def _scores(n: int = 60, seeds=(1, 2), grid: dict | None = None) -> pd.DataFrame:
    """Per-canary scores (mia_scores layout, with the condition metadata columns):
    members' scores fall with the condition's exact-copy worth; higher = more likely a
    non-member. Canaries are shared by every condition of a seed, as in the pipeline."""
    rng = np.random.default_rng(7)
    frames = []
    for cond in conditions({**(grid or GRID), "seeds": list(seeds)}):
        for score, scale in (("loss", 0.25), ("ratio", 0.35)):
            members = rng.normal(-scale * _worth(cond), 1, n)
            frames.append(pd.DataFrame({
                "condition": cond.name, "kind": cond.kind, "value": cond.value,
                "seed": cond.seed, **cond.metadata(),
                "canary_id": [f"s{cond.seed}_member_{i}" for i in range(n)]
                + [f"s{cond.seed}_non_member_{i}" for i in range(n)],
                "set": ["member"] * n + ["non_member"] * n, "score": score,
                "value_score": np.concatenate([members, rng.normal(0, 1, n)])}))
    return pd.concat(frames, ignore_index=True)


def _auc_table(scores: pd.DataFrame) -> pd.DataFrame:
    """The AUC table mia would write for these scores (members positive)."""
    rows = []
    for (condition, score), g in scores.groupby(["condition", "score"]):
        y = (g["set"] == "member").to_numpy(int)
        auc = roc_auc_score(y, -g["value_score"].to_numpy())
        first = g.iloc[0]
        rows.append(
            {
                "model": MODEL,
                "condition": condition,
                **{c: first[c] for c in ("kind", "value", "seed", *META_COLUMNS)},
                "score": score,
                "auc": auc,
                "ci_low": auc - 0.05,
                "ci_high": auc + 0.05,
                "tpr_at_1": 0.02,
                "tpr_at_10": 0.2,
                "n_members": int(y.sum()),
                "n_non_members": int((1 - y).sum()),
            }
        )
    extra = [c for c in META_COLUMNS if c not in AUC_TABLE_COLUMNS]
    return pd.DataFrame(rows)[[*AUC_TABLE_COLUMNS, *extra]]


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
    perturbed = [c for c in conditions(GRID) if not c.is_exact and c.seed == 1]
    return pd.DataFrame({
        "kind": [c.kind for c in perturbed], "value": [c.value for c in perturbed],
        "seed": 1, "mean_levenshtein": [1.0, 5.2, 10.5, 19.0, 30.0],
        "mean_seen_levenshtein": [1.5, 6.0, 12.0, 19.0, 30.0]})


def _extraction(scores: pd.DataFrame) -> pd.DataFrame:
    """extraction_scores rows (mia layout): similarity grows with the exact copies."""
    members = scores[(scores["set"] == "member") & (scores["score"] == "loss")].copy()
    worth = members["nu"].fillna(members["R"].rsub(12).clip(lower=0) / 4).fillna(1)
    return members.assign(model=MODEL, prompt_tokens=8, generated_text="a",
                          reference_text="b", bleu=worth * 3.0,
                          token_edit_similarity=worth / 10, exact_match=worth > 4)


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
            "extraction_scores": MemoryDataset(_extraction(scores)),
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
        "extraction_scores",
        "params:reporting",
        "parameters",
    }
    assert len(pipe.nodes) == 14
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
    assert set(table["kind"]) == {"fuzzy_clm_topk10", "insertion_n05", "shuffle_n10"}
    assert set(table["family"]) == {"fuzzy", "insertion", "shuffle"}
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
        "extraction",
    ):
        assert isinstance(outputs[f"{name}_figure"], Figure), name
    roc = outputs["roc_figure"].axes[0]
    assert roc.get_xscale() == "log" and roc.get_yscale() == "log"
    assert (
        roc.get_title() == "ROC · fuzzy_clm_topk10_r01_s1"
    )  # first fuzzy condition by name
    assert len(outputs["rho_vs_levenshtein_figure"].axes[0].containers) == 3  # 3 kinds


def test_secondary_tables_read_metadata(run_outputs):
    secondary = run_outputs["secondary"]
    # one top-k kind only: it is the main fuzzy table, not a secondary one
    assert set(secondary["family"]) == {"insertion", "shuffle"}
    ins = secondary[secondary["family"] == "insertion"].iloc[0]
    assert (ins["n"], ins["x"]) == (5, 1)
    shuffle = secondary[secondary["family"] == "shuffle"].iloc[0]
    assert (shuffle["n"], shuffle["tau"]) == (10, pytest.approx(0.3))
    assert secondary["rho_mean"].notna().all()
    assert secondary[["rho_ci_low", "rho_ci_high"]].notna().all().all()


def _reporting_tables(grid: dict, n: int = 8) -> tuple[pd.DataFrame, pd.DataFrame]:
    scores = _scores(n=n, seeds=(1,), grid=grid)
    auc = nodes.prepare_auc_table(_auc_table(scores), PARAMS)
    per_seed = nodes.compute_rho_per_seed(auc, PARAMS)
    boot = nodes.compute_rho_bootstrap(scores, auc, {**PARAMS, "bootstrap": {"n_boot": 20}})
    rho = nodes.build_rho_table(per_seed, boot, auc, PARAMS)
    return nodes.build_secondary_tables(auc, rho), rho


def test_every_secondary_family_of_the_paper_grid_survives():
    """conf/paper's real grid: every secondary condition reaches its table (the kinds
    insertion_n05, scrambled, shuffle_n05 ... are never parsed)."""
    grid = yaml.safe_load((PROJECT / "conf/paper/parameters.yml").read_text())["grid"]
    secondary, rho = _reporting_tables(grid)
    conds = [c for c in conditions({**grid, "seeds": [1]}) if not c.is_exact]
    assert set(secondary["family"]) == {"insertion", "scrambled", "shuffle", "topk",
                                        "paraphrase"}
    for family in ("insertion", "scrambled", "shuffle", "paraphrase"):
        expected = {(c.kind, c.value) for c in conds if c.family == family}
        got = secondary[(secondary["family"] == family) & (secondary["score"] == "ratio")]
        assert set(zip(got["kind"], got["value"])) == expected, family
    topk = secondary[(secondary["family"] == "topk") & (secondary["score"] == "ratio")]
    assert len(topk) == sum(c.family == "fuzzy" for c in conds) == 32
    assert set(zip(topk["strategy"], topk["top_k"].fillna(0))) == {
        ("mlm", 10), ("mlm", 100), ("mlm", 1000), ("mlm_random", 0)}
    assert set(rho["family"]) == {"fuzzy", "insertion", "scrambled", "shuffle",
                                  "paraphrase"}


def test_secondary_top_k_needs_two_combinations():
    grid = {"seeds": [1], "exact": [1, 2, 3],
            "fuzzy": [{"strategy": "clm", "top_k": 10, "replaced_tokens": [1, 2]}]}
    assert _reporting_tables(grid)[0].empty
    grid["fuzzy"].append({"strategy": "random", "replaced_tokens": [1]})
    secondary, _ = _reporting_tables(grid)
    assert set(secondary["family"]) == {"topk"}
    assert set(secondary["strategy"]) == {"clm", "random"}


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
        "Paired bootstrap 95 % intervals",
        "**insertion** (ratio;",
        "sample std over seeds (ddof 1)",
        "## Extraction",
        "n_boot: 60",
    ):
        assert needle in report, needle
    assert report.count("](data:image/png;base64,") == 7


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
    # R = 1, GPT-Neo, ratio: rho over 5 seeds with the paper's ± (population std,
    # ddof 0: 0.0314; the sample std would be 0.0351)
    assert "released per-seed AUCs" in text and "0.898 ± 0.031" in text
    assert "population std over seeds (ddof 0, the paper's ±)" in text
