"""Tests of the canaries pipeline: parameter errors, context check, in-memory run."""

from __future__ import annotations

import pytest
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner

from mosaic_kedro.params import ParameterError
from mosaic_kedro.pipelines.canaries import create_pipeline, nodes

PARAMS = dict(num_canaries=3, length=10, temperature=1.0, jaccard_threshold=0.6,
              batch_size=8, margin_tokens=4, max_attempts=64)


@pytest.mark.parametrize(
    ("override", "key"),
    [({"num_canaries": -1}, "canaries.num_canaries"),
     ({"temperature": 0}, "canaries.temperature"),
     ({"lenght": 5}, "canaries.lenght")],
)
def test_invalid_parameters_name_the_key(override, key):
    with pytest.raises(ParameterError, match=key.replace(".", r"\.")):
        nodes.validate_params({**PARAMS, **override}, [1])


def test_seeds_must_be_integers():
    with pytest.raises(ParameterError, match="grid.seeds"):
        nodes.validate_params(PARAMS, ["one"])


def test_length_longer_than_target_context(tiny_lm):
    config = nodes.validate_params({**PARAMS, "length": 500}, [1])
    with pytest.raises(ValueError, match=r"canaries.length = 500 exceeds .* 128"):
        nodes.sample_canaries(tiny_lm, tiny_lm, config)


def _run(tiny_lm, params, seeds):
    catalog = DataCatalog({
        "generator_model": MemoryDataset(tiny_lm, copy_mode="assign"),
        "base_model": MemoryDataset(tiny_lm, copy_mode="assign"),
        "params:canaries": MemoryDataset(params),
        "params:grid.seeds": MemoryDataset(seeds),
        "canaries": MemoryDataset(),
    })
    SequentialRunner().run(create_pipeline(), catalog)
    return catalog.load("canaries")


def _set(table, seed, name):
    return table[(table.seed == seed) & (table.set == name)]


def test_per_seed_canaries_differ_between_seeds(tiny_lm):
    table = _run(tiny_lm, {**PARAMS, "per_seed": True}, [1, 2])
    assert len(table) == 2 * 2 * 3
    assert set(table["set"]) == {"member", "non_member"}
    assert table["canary_id"].is_unique
    assert (table["length"] == 10).all()
    member = _set(table, 1, "member")["tokens"].map(tuple)
    other = _set(table, 2, "member")["tokens"].map(tuple)
    assert set(member) != set(other)


def test_the_papers_way_one_set_scored_by_every_seed(tiny_lm):
    """per_seed false (default): sampled once (seeds 42 / 420), the same ids and
    tokens under every seed, and a different member_seed gives other canaries."""
    table = _run(tiny_lm, PARAMS, [1, 2])
    assert len(table) == 2 * 2 * 3
    for name in ("member", "non_member"):
        one, two = _set(table, 1, name), _set(table, 2, name)
        assert list(one["canary_id"]) == list(two["canary_id"])
        assert list(one["tokens"].map(tuple)) == list(two["tokens"].map(tuple))
    assert _set(table, 1, "member")["canary_id"].iloc[0] == "member_0000"
    other = _run(tiny_lm, {**PARAMS, "member_seed": 7}, [1])
    assert (list(_set(other, 1, "member")["tokens"].map(tuple))
            != list(_set(table, 1, "member")["tokens"].map(tuple)))
