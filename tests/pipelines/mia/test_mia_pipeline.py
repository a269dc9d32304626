"""training + mia on the test configuration's grid (conf/test) with tiny real models, in
in-memory catalogs; the missing-model error; the reference scored once."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from kedro.config import OmegaConfigLoader
from kedro.io import DataCatalog, MemoryDataset
from kedro.io.core import Version
from kedro.runner import SequentialRunner
from kedro_datasets.pickle import PickleDataset

from mosaic_kedro import lm_training
from mosaic_kedro.datasets import HFModelDataset
from mosaic_kedro.grid import conditions
from mosaic_kedro.hooks import GridHooks, MissingTargetModelsError
from mosaic_kedro.models import LoadedModel, ModelSpec
from mosaic_kedro.pipelines.mia import nodes as mia_nodes
from mosaic_kedro.pipelines.mia.pipeline import build as build_mia
from mosaic_kedro.pipelines.training.pipeline import build as build_training
from mosaic_kedro.rho import AUC_TABLE_COLUMNS

PROJECT = Path(__file__).resolve().parents[3]
WORDS = ("river stone light window garden paper letter morning yellow quiet horse "
         "table winter bread silver market candle forest north music").split()


def _text(rng: np.random.Generator, n_words: int) -> str:
    return " ".join(rng.choice(WORDS, n_words)).capitalize() + "."


@pytest.fixture(scope="module")
def params() -> dict:
    loader = OmegaConfigLoader(str(PROJECT / "conf"), env="test", base_env="base",
                               default_run_env="local",
                               merge_strategy={"parameters": "soft"})
    return dict(loader["parameters"])


@pytest.fixture(scope="module")
def world(params):
    """Tiny base target and generator (different tokenizers), canaries, corpora."""
    rng = np.random.default_rng(0)
    books = [" ".join(_text(rng, 12) for _ in range(12)) for _ in range(6)]
    tok = lm_training.train_bpe_tokenizer(books, 200)
    base = lm_training.tiny_gpt2(tok, n_layer=1, n_embd=32, n_head=2, n_positions=128, seed=0)
    gen_tok = lm_training.train_bpe_tokenizer(books[:4], 150)
    gen = lm_training.tiny_gpt2(gen_tok, n_layer=1, n_embd=16, n_head=2, n_positions=128, seed=1)
    rows = []
    for kind in ("member", "non_member"):
        for i in range(6):
            text = _text(rng, 8).upper() if i % 2 else _text(rng, 8)
            ids = tok(text, add_special_tokens=False)["input_ids"]
            rows.append((f"s1_{kind}_{i:04d}", kind, 1, i, ids, text, len(ids)))
    canaries = pd.DataFrame(rows, columns=["canary_id", "set", "seed", "index", "tokens",
                                           "text", "length"])
    canaries["group"] = canaries["set"].map({"member": 0, "non_member": -1})  # isolated
    members = list(canaries.loc[canaries["set"] == "member", "text"])
    corpora = {}
    for cond in conditions(params["grid"]):
        copies = members * cond.num_copies
        corpora[cond.name] = pd.DataFrame({
            "book_id": range(len(books)),
            "text": [b + " " + " ".join(copies[j::len(books)]) for j, b in enumerate(books)],
        })
    return {"base": LoadedModel(base.eval(), tok, ModelSpec(name_or_path="tiny-test")),
            "generator": LoadedModel(gen.eval(), gen_tok), "canaries": canaries,
            "corpora": corpora}


def _catalog(tmp: Path, params: dict, world: dict) -> DataCatalog:
    training = {**params["training"], "checkpoint_root": str(tmp / "06_models")}
    mia = params["mia"]
    datasets = {
        "params:training": MemoryDataset(training),
        "params:mia": MemoryDataset(mia),
        "params:preparation.target": MemoryDataset(None),
        "base_model": MemoryDataset(world["base"]),
        "generator_model": MemoryDataset(world["generator"]),
        "canaries": MemoryDataset(world["canaries"]),
    }
    for name in ("training_metrics", "mia_config", "reference_scores", "mia_scores",
                 "auc_table", "roc_curves", "extraction_scores"):  # kept after the run (memory ones are released)
        datasets[name] = PickleDataset(filepath=str(tmp / f"{name}.pkl"))
    for name, corpus in world["corpora"].items():
        datasets[f"{name}.injected_corpus"] = MemoryDataset(corpus)
        datasets[f"{name}.target_model"] = HFModelDataset(
            filepath=str(tmp / f"06_models/{name}/target_model"),
            load_args={"device": "cpu"}, version=Version(None, None))
    return DataCatalog(datasets)


def test_missing_models_stop_at_once(tmp_path, params, world):
    catalog = _catalog(tmp_path, params, world)
    pipe = build_mia(params["grid"])
    # the project hook runs before any node: nothing is loaded or scored
    with pytest.raises(MissingTargetModelsError) as err:
        GridHooks().before_pipeline_run(run_params={}, pipeline=pipe, catalog=catalog)
    message = str(err.value)
    for cond in conditions(params["grid"]):
        assert cond.name in message
    assert "kedro run --pipelines=training --namespaces=" in message
    assert "reference_scores" not in catalog.keys() or not catalog.exists("reference_scores")


def test_training_then_mia_on_the_test_grid(tmp_path, params, world):
    catalog = _catalog(tmp_path, params, world)
    conds = conditions(params["grid"])
    # training and mia in one run: the models are made by the run, so no complaint
    both = build_training(params["grid"]) + build_mia(params["grid"])
    GridHooks().before_pipeline_run(run_params={}, pipeline=both, catalog=catalog)
    SequentialRunner().run(both, catalog)

    metrics = catalog.load("training_metrics")
    assert set(metrics["condition"]) == {c.name for c in conds}
    assert metrics.groupby("condition")["step"].min().eq(0).all()  # measured before step 1
    assert metrics[["auc_loss", "ppl_members", "ppl_non_members"]].notna().all().all()
    for cond in conds:
        assert any((tmp_path / "06_models" / cond.name / "checkpoints").rglob("checkpoint-*"))
        assert catalog.exists(f"{cond.name}.target_model")

    # mia alone again, on the saved models (no training node in this pipeline)
    mia = build_mia(params["grid"])
    assert not any(n.name.endswith("train_target_model") for n in mia.nodes)
    reference_nodes = [n for n in mia.nodes if "reference_scores" in n.outputs]
    assert len(reference_nodes) == 1  # scored once for every condition
    SequentialRunner().run(mia, catalog)

    scores = catalog.load("mia_scores")
    auc = catalog.load("auc_table")
    roc = catalog.load("roc_curves")
    assert list(auc.columns) == mia_nodes.AUC_COLUMNS
    assert list(auc.columns[: len(AUC_TABLE_COLUMNS)]) == AUC_TABLE_COLUMNS
    meta = auc.drop_duplicates("condition").set_index("condition")
    for cond in conds:  # the condition's metadata travels as data
        for key, value in cond.metadata().items():
            got = meta.loc[cond.name, key]
            assert got == value or (pd.isna(got) and pd.isna(value)), (cond.name, key)

    # the extraction experiment: one row per member canary and condition
    extraction = catalog.load("extraction_scores")
    assert len(extraction) == len(conds) * 6
    assert extraction["bleu"].between(0, 100).all()
    assert extraction["token_edit_similarity"].between(0, 1).all()
    lengths = world["canaries"].set_index("canary_id")["tokens"].map(len)
    halves = (lengths.loc[extraction["canary_id"]] * 0.5).round().astype(int)
    assert (extraction["prompt_tokens"].to_numpy() == halves.to_numpy()).all()
    assert len(auc) == len(conds) * 7
    assert set(auc["score"]) == set(scores["score"])
    assert auc[["auc", "ci_low", "ci_high", "tpr_at_1", "tpr_at_10"]].notna().all().all()
    assert ((auc["ci_low"] <= auc["auc"]) & (auc["auc"] <= auc["ci_high"])).all()
    assert (auc["n_members"] == 6).all() and (auc["n_non_members"] == 6).all()
    assert auc.set_index("condition")["num_copies"].to_dict() == {
        c.name: c.num_copies for c in conds}
    assert scores["value_score"].notna().all() and len(scores) == len(conds) * 7 * 12
    assert {"fpr", "tpr"} <= set(roc.columns)

    # the mia scores of a condition equal a direct computation on its saved model
    cond = conds[0]
    direct = mia_nodes.score_condition(
        catalog.load(f"{cond.name}.target_model"), world["canaries"],
        catalog.load("reference_scores"), catalog.load("params:mia"), None,
        condition=asdict(cond))
    mine = scores[scores["condition"] == cond.name].reset_index(drop=True)
    np.testing.assert_allclose(mine["value_score"], direct["value_score"], rtol=1e-5)
