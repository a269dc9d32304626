"""Tests of the canaries pipeline: parameter errors, context check, in-memory run."""

from __future__ import annotations

import pytest
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner

from mosaic_kedro.params import ParameterError
from mosaic_kedro.pipelines.canaries import create_pipeline, nodes

PARAMS = dict(num_canaries=3, length=10, temperature=1.0, jaccard_threshold=0.6,
              batch_size=8, margin_tokens=4, max_attempts=64)


def grid(seeds, design="isolated"):
    return {"design": design, "seeds": seeds, "exact": [1, 2],
            "fuzzy": [{"strategy": "random", "replaced_tokens": [2]}]}


@pytest.mark.parametrize(
    ("override", "key"),
    [({"num_canaries": -1}, "canaries.num_canaries"),
     ({"temperature": 0}, "canaries.temperature"),
     ({"lenght": 5}, "canaries.lenght")],
)
def test_invalid_parameters_name_the_key(override, key):
    with pytest.raises(ParameterError, match=key.replace(".", r"\.")):
        nodes.validate_params({**PARAMS, **override}, grid([1]))


def test_seeds_must_be_integers():
    with pytest.raises(ParameterError, match="grid.seeds"):
        nodes.validate_params(PARAMS, grid(["one"]))


def test_length_longer_than_target_context(tiny_lm):
    config = nodes.validate_params({**PARAMS, "length": 500}, grid([1]))
    with pytest.raises(ValueError, match=r"canaries.length = 500 exceeds .* 128"):
        nodes.sample_canaries(tiny_lm, tiny_lm, config)


def _run(tiny_lm, params, seeds, design="isolated"):
    catalog = DataCatalog({
        "generator_model": MemoryDataset(tiny_lm, copy_mode="assign"),
        "base_model": MemoryDataset(tiny_lm, copy_mode="assign"),
        "params:canaries": MemoryDataset(params),
        "params:grid": MemoryDataset(grid(seeds, design)),
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


def test_isolated_design_one_group_per_seed(tiny_lm):
    table = _run(tiny_lm, PARAMS, [1])
    assert (_set(table, 1, "member")["group"] == 0).all()
    assert (_set(table, 1, "non_member")["group"] == -1).all()


def test_pooled_design_one_disjoint_group_per_condition(tiny_lm):
    """pooled: 3 conditions per seed (exact 1, 2 and random R = 2), so 3 x 3 members,
    3 per group, and 3 shared non-members; the groups are a per-seed permutation."""
    table = _run(tiny_lm, PARAMS, [1, 2], design="pooled")
    for seed in (1, 2):
        members = _set(table, seed, "member")
        assert len(members) == 9 and len(_set(table, seed, "non_member")) == 3
        assert members.groupby("group").size().to_dict() == {0: 3, 1: 3, 2: 3}
    one = _set(table, 1, "member").set_index("canary_id")["group"]
    two = _set(table, 2, "member").set_index("canary_id")["group"]
    assert list(one.index) == list(two.index) and not one.equals(two)
