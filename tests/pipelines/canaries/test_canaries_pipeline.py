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


def test_pipeline_on_memory_catalog(tiny_lm):
    catalog = DataCatalog({
        "generator_model": MemoryDataset(tiny_lm, copy_mode="assign"),
        "base_model": MemoryDataset(tiny_lm, copy_mode="assign"),
        "params:canaries": MemoryDataset(PARAMS),
        "params:grid.seeds": MemoryDataset([1, 2]),
        "canaries": MemoryDataset(),
    })
    SequentialRunner().run(create_pipeline(), catalog)
    table = catalog.load("canaries")
    assert len(table) == 2 * 2 * 3
    assert set(table["set"]) == {"member", "non_member"}
    assert table["canary_id"].is_unique
    assert (table["length"] == 10).all()
    member = table[(table.seed == 1) & (table.set == "member")]["tokens"].map(tuple)
    other = table[(table.seed == 2) & (table.set == "member")]["tokens"].map(tuple)
    assert set(member) != set(other)
