"""The reporting pipeline on tables built from real grids (tables.py), run with a real
runner into atomic datasets; and the published environment run for real
(`kedro run --pipelines=reporting --env=published` through a session)."""

from __future__ import annotations

import importlib.util
import re
import shutil
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from matplotlib.figure import Figure

from mosaic_kedro.grid import conditions
from mosaic_kedro.params import ParameterError
from mosaic_kedro.pipelines.reporting import create_pipeline, nodes, sections
from mosaic_kedro.rho import RhoError


def _tables():
    name = "reporting_test_tables"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("tables.py"))
        sys.modules[name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules[name])
    return sys.modules[name]


T = _tables()
PROJECT = T.PROJECT
MODEL = T.MODEL
PARAMS = T.PARAMS
GRID = T.GRID
N_FIGURES = 10  # 7 of the experiment, 3 of SlimPajama


@pytest.fixture(scope="module")
def run_outputs(tmp_path_factory) -> dict:
    """The whole pipeline once, real runner, atomic datasets in a temporary folder."""
    run = T.run_reporting(tmp_path_factory.mktemp("reporting") / "08_reporting")
    return {**run, "report": run["md"].read_text(), "html_text": run["html"].read_text()}


def test_pipeline_shape():
    pipe = create_pipeline()
    assert pipe.inputs() == {
        "auc_table",
        "mia_scores",
        "training_metrics",
        "perturbation_summary",
        "extraction_scores",
        "slimpajama_near_duplicates",
        "slimpajama_planted_check",
        "slimpajama_throughput",
        "run_records",
        "params:reporting",
        "parameters",
    }
    assert len(pipe.nodes) == 15
    assert {"reporting.prepare_auc_table", "reporting.write_report"} <= {n.name for n in pipe.nodes}
    assert {n.namespace for n in pipe.nodes} == {"reporting"}  # one deployment group


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
    scores = T.scores(n=n, seeds=(1,), grid=grid)
    auc = nodes.prepare_auc_table(T.auc_table(scores), PARAMS)
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
        "Design: isolated (`grid.design: isolated`), as in the paper",
        "one member set (seed 42) and one non-member set (seed 420) serve every seed",
        "The ratio score's reference is the base model",
        "a note from the parameters",
        "## rho",
        "## AUC",
        "Paired bootstrap 90 % intervals",
        "**insertion** (ratio;",
        "sample std over seeds (ddof 1)",
        "## Extraction",
        "n_boot: 60",
    ):
        assert needle in report, needle


def test_first_node_validates_parameters():
    table = T.auc_table(T.scores(n=5, seeds=(1,)))
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
    table = nodes.prepare_auc_table(T.auc_table(T.scores(n=20, seeds=(1,))), PARAMS)
    assert nodes.compute_rho_bootstrap([], table, PARAMS).empty
    for fig, block in (
        nodes.plot_roc([], PARAMS),
        nodes.plot_training_curves([], table),
        nodes.plot_rho_vs_levenshtein(pd.DataFrame(), [], PARAMS),
    ):
        assert isinstance(fig, Figure)
        assert block["figure"] is fig and block["caption"]
    for block in nodes.plot_slimpajama([]):
        assert block["figure"].axes[0].texts  # a placeholder that says why
    with pytest.raises(RhoError, match="roc_condition"):
        nodes.plot_roc(T.scores(n=5, seeds=(1,)), {**PARAMS, "roc_condition": "nope"})


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

    published = yaml.safe_load((PROJECT / "conf/published/catalog.yml").read_text())
    unbound = [name for name in ("slimpajama_near_duplicates", "slimpajama_planted_check",
                                 "slimpajama_throughput") if name not in published]
    assert not unbound, (
        f"conf/published/catalog.yml must bind {unbound} to empty in-memory datasets "
        "(`type: MemoryDataset`, `data: []`): the report reads them and the paper "
        "released no SlimPajama outputs")
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
    (page,) = (out / "report.html").glob("*/report.html")
    assert "released per-seed AUCs" in page.read_text()
    assert "No planted-copy check in this run" in text
    # R = 1, GPT-Neo, ratio: rho over 5 seeds with the paper's ± (population std,
    # ddof 0: 0.0314; the sample std would be 0.0351)
    assert "released per-seed AUCs" in text and "0.898 ± 0.031" in text
    assert "population std over seeds (ddof 0, the paper's ±)" in text


# ----------------------------------------------------------------- report.md / .html

_MD_IMAGE = re.compile(r"!\[([^\]]*)\]\(([^)]+)\)")


def test_markdown_links_figure_files_and_embeds_nothing(run_outputs):
    report, md = run_outputs["report"], run_outputs["md"]
    assert "data:" not in report
    links = _MD_IMAGE.findall(report)
    assert len(links) == N_FIGURES
    for title, link in links:
        assert not link.startswith(("/", "http")), link  # relative
        target = (md.parent / link).resolve()
        assert target.is_file(), f"{title}: {link} does not resolve from {md}"
        assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    written = sorted(p.name for p in run_outputs["figures"].iterdir())
    assert written == sorted(Path(link).name for _, link in links)
    assert len(report) < 60_000  # text, not base64


def test_html_is_self_contained(run_outputs):
    page = run_outputs["html_text"]
    sources = re.findall(r'<img src="([^"]+)"', page)
    assert len(sources) == N_FIGURES
    assert all(s.startswith("data:image/png;base64,") for s in sources)
    assert not re.search(r'(src|href)="(?!data:)', page)  # nothing fetched
    assert page.count("<figcaption>") == N_FIGURES
    assert "<table>" in page and "<strong>AUC at training step 0: 0.573</strong>" in page


def test_report_says_what_a_reader_looks_for(run_outputs):
    report = run_outputs["report"]
    for needle in (
        "## Summary",
        "AUC at training step 0: 0.573",
        "Canaries are 64 tokens long (the paper: 100)",
        "Each AUC compares 60 member with 60 non-member canaries (the paper: 100 + 100)",
        "Paired bootstrap 90 % intervals of the mean rho (60 replicates",
        "## SlimPajama: exact and fuzzy duplicates in a corpus",
        "**Planted-copy recall.**",
        "found 19 of 22 planted copies (recall 0.86)",
        "**Throughput** on 174,369 tokens in 2 parts",
        "| build | 1,912,189 |",
        "*Figure 1: rho vs R (ratio).* rho is how many exact copies",
        "*SlimPajama: near-duplicates surviving exact-substring dedup.*",
    ):
        assert needle in report, needle
    # every figure has a caption under it
    assert len(re.findall(r"\)\n\n\*[^*]+\.\* \S", report)) == N_FIGURES


def test_report_verdict_on_rho_and_r(run_outputs):
    """One sentence on whether rho falls with R beyond the intervals; the fixture's
    fuzzy copies lose worth with R, so it falls, and the sentence says so."""
    report = run_outputs["report"]
    (sentence,) = nodes.sections.rho_trend_sentences(run_outputs["rho_table"], "ratio", 90)
    assert sentence.startswith("rho falls with R")
    assert sentence in report


def test_verdict_sentences_cover_each_case():
    base = {"model": MODEL, "score": "ratio", "kind": "fuzzy_clm_topk10", "family": "fuzzy",
            "value": [1, 10], "rho_std": [0.05, 0.05], "n_seeds": 2}
    table = pd.DataFrame({**base, "rho_mean": [0.9, 0.2], "rho_ci_low": [0.8, 0.1],
                          "rho_ci_high": [1.0, 0.3]})
    (beyond,) = nodes.sections.rho_trend_sentences(table, "ratio")
    assert "beyond the paired 95 % bootstrap intervals" in beyond and "do not overlap" in beyond
    overlapping = table.assign(rho_ci_low=[0.1, 0.0], rho_ci_high=[1.0, 0.95])
    (noise,) = nodes.sections.rho_trend_sentences(overlapping, "ratio")
    assert "not beyond" in noise and "cannot tell" in noise
    rising = table.assign(rho_mean=[0.2, 0.9])
    assert "does not fall" in nodes.sections.rho_trend_sentences(rising, "ratio")[0]
    no_ci = table.assign(rho_ci_low=float("nan"), rho_ci_high=float("nan"))
    assert "seed std" in nodes.sections.rho_trend_sentences(no_ci, "ratio")[0]


def test_report_figures_follow_the_headline_score(run_outputs):
    """AUC vs nu: the headline panel large with the fuzzy conditions on it, the other
    score in a small panel; legends outside the axes."""
    fig = run_outputs["outputs"]["auc_vs_nu_figure"]
    axes = fig.axes
    assert [ax.get_title() for ax in axes] == ["ratio score (headline)", "loss"]
    big, small = axes
    assert big.get_position().width > 1.5 * small.get_position().width
    fuzzy = [c for c in conditions(GRID) if c.family == "fuzzy" and c.seed == 1]
    filled = [ln for ln in big.lines if ln.get_label().startswith("fuzzy R=")]
    assert len(filled) == len(fuzzy)
    assert not big.get_legend()  # the legend is the subfigure's, below the axes
    assert fig.subfigs[0].legends


def _stamped(frame, run_of):
    """Rows of the conditions in ``run_of`` stamped with (run_id, params_hash)."""
    runs = frame["condition"].map(run_of)
    return frame.assign(run_id=[r[0] for r in runs], params_hash=[r[1] for r in runs])


def test_report_names_its_runs_and_their_parameters(tmp_path):
    """One run: the Provenance section names it and the Parameters section shows the
    parameters recorded with the data, not those in force when the report is written."""
    data = T.inputs()
    record = {"run_id": "2026-01-01T00.00.00.000Z", "env": "local", "pipelines": [],
              "namespaces": [], "params_hash": "aaaa", "parameters": {"canaries":
                                                                    {"num_canaries": 64}}}
    for name in ("auc_table", "extraction_scores", "training_metrics"):
        data[name] = _stamped(data[name], lambda c: (record["run_id"], "aaaa"))
    data["run_records"] = {record["run_id"]: lambda: record}
    data["parameters"] = {"canaries": {"num_canaries": 100}}  # changed since
    report = T.run_reporting(tmp_path, data)["md"].read_text()
    provenance = report.split("## Provenance")[1].split("## Parameters")[0]
    assert record["run_id"] in provenance and "aaaa" in provenance
    parameters = report.split("## Parameters")[1]
    assert "num_canaries: 64" in parameters and "num_canaries: 100" not in parameters
    assert "Mixed runs" not in report


def test_report_marks_a_mix_of_runs_first(tmp_path):
    """Versions of two runs with different parameters (a one-off --namespaces rerun
    with other settings): the summary says so before anything else, naming both."""
    data = T.inputs()
    conds = sorted(data["auc_table"]["condition"].unique())
    late = set(conds[:2])
    for name in ("auc_table", "extraction_scores", "training_metrics"):
        data[name] = _stamped(data[name], lambda c: (
            ("run-b", "bbbb") if c in late else ("run-a", "aaaa")))
    report = T.run_reporting(tmp_path, data)["md"].read_text()
    summary = report.split("## Summary")[1].split("##")[0]
    first = summary.strip().splitlines()[0]
    assert "Mixed runs" in first and "run-a" in first and "run-b" in first
    assert "(parameters bbbb, 2 conditions)" in first


def test_report_says_which_run_each_input_came_from(tmp_path):
    """Training metrics of one run, scores and extraction rescored by another: the
    per-input table of the Provenance section says which input came from which run."""
    data = T.inputs()
    data["training_metrics"] = _stamped(data["training_metrics"], lambda c: ("run-t", "aaaa"))
    for name in ("auc_table", "extraction_scores"):
        data[name] = _stamped(data[name], lambda c: ("run-m", "aaaa"))
    report = T.run_reporting(tmp_path, data)["md"].read_text()
    per_input = report.split("## Provenance")[1].split("Per input")[1].split("##")[0]
    rows = {tuple(cell.strip() for cell in line.strip("|").split("|")[:3])
            for line in per_input.splitlines() if line.startswith("|")}
    assert ("mia_scores (AUC, rho)", "run-m", "aaaa") in rows
    assert ("extraction_scores", "run-m", "aaaa") in rows
    assert ("training_metrics", "run-t", "aaaa") in rows
    assert not any(r[0] == "training_metrics" and r[1] == "run-m" for r in rows)


def test_report_says_which_design_and_canary_sampling_ran():
    pooled = {"grid": {"design": "pooled"}, "canaries": {"per_seed": True},
              "mia": {"reference": {"name_or_path": "meta-llama/Llama-2-7b-hf"}}}
    text = " ".join(sections.design_sentences(pooled))
    assert "Design: pooled" in text and "one model per seed" in text
    assert "sampled anew for every seed" in text and "serve every seed" not in text
    assert "reference is meta-llama/Llama-2-7b-hf" in text
    assert sections.design_sentences({}) == []
