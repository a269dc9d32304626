"""The injection pipeline on a real perturbation run of tiny models."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from kedro.config import OmegaConfigLoader

from mosaic_kedro import injection as inj
from mosaic_kedro.pipelines.injection import nodes
from mosaic_kedro.pipelines.injection.pipeline import build

CONF = Path(__file__).resolve().parents[3] / "conf"
GRID = {"seeds": [1], "exact": [1, 3],
        "fuzzy": [{"strategy": "clm", "top_k": 5, "replaced_tokens": [3]}],
        "shuffle": [{"ngram": [2], "tau": [0.5], "num_copies": 4}]}


def test_structure_default_grid():
    loader = OmegaConfigLoader(str(CONF), base_env="base", default_run_env="local",
                               merge_strategy={"parameters": "soft"})
    pipe = build(loader["parameters"]["grid"])
    assert len(pipe.nodes) == 3 * (6 + 5) + 1  # 3 seeds x (6 exact + 5 fuzzy), 1 validation
    assert "fuzzy_clm_topk10_r12_s3.injected_corpus" in pipe.all_outputs()
    assert "exact_n05_s1.perturbed_copies" not in pipe.inputs()


def test_bad_separator_is_named():
    with pytest.raises(Exception, match=r"injection\.separator"):
        nodes.validate_params({"separator": "x"})


def _load_perturbation_tests():
    """The perturbation pipeline's test module (its tiny-model fixture and runner)."""
    path = Path(__file__).resolve().parents[1] / "perturbation" / "test_perturbation_pipeline.py"
    spec = importlib.util.spec_from_file_location("_perturbation_pipeline_tests", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def run():
    helpers = _load_perturbation_tests()
    models = helpers.models_and_canaries.__wrapped__()
    return helpers.run_grid(models, GRID), models


def test_pieces_at_offsets_rest_unchanged_same_placements(run):
    catalog, (_, _, canaries, hosts) = run
    members = canaries[canaries["set"] == "member"].sort_values("index")
    first_boundary = {}
    for cond in ("exact_n01_s1", "exact_n03_s1", "fuzzy_clm_topk5_r03_s1",
                 "shuffle_n02_t050_s1"):
        corpus = catalog.load(f"{cond}.injected_corpus")
        manifest = catalog.load(f"{cond}.injection_manifest")
        assert list(corpus.columns) == ["book_id", "text"] and len(corpus) == len(hosts)
        assert list(manifest.columns[:4]) == ["canary_id", "piece_kind", "char_offset",
                                              "book_id"]
        assert set(manifest["canary_id"]) == set(members["canary_id"])  # never non-members
        copies = (catalog.load(f"{cond}.perturbed_copies") if not cond.startswith("exact")
                  else None)
        for i, (book_id, original) in enumerate(zip(hosts["book_id"], hosts["text"],
                                                    strict=True)):
            text = corpus["text"].iloc[i]
            rows = manifest[manifest["book_id"] == book_id]
            if i >= len(members):
                assert text == original and rows.empty
                continue
            placements = []
            for r in rows.itertuples():
                if r.piece_kind == "original":
                    piece = members["text"].iloc[i]
                else:
                    c = copies[(copies["canary_id"] == r.canary_id)
                               & (copies["copy_index"] == r.copy_index)]
                    piece = c["text"].iloc[0]
                assert text[r.char_offset:r.char_offset + len(piece) + 1] == piece + " "
                placements.append(inj.Placement(inj.Piece(r.canary_id, r.piece_kind,
                                                          r.copy_index, piece),
                                                book_id, r.char_offset))
            assert inj.remove_pieces(text, placements) == original
            # the first piece (the original) sits at the same boundary of the book
            ordered = sorted(placements, key=lambda p: p.char_offset)
            shift = 0
            for p in ordered:
                if p.piece.piece_kind == "original" and p.piece.copy_index in (-1, 0):
                    first_boundary.setdefault(book_id, set()).add(p.char_offset - shift)
                shift += len(p.piece.text) + 1
    assert all(len(v) == 1 for v in first_boundary.values())
