"""Tests of the preparation pipeline's nodes on real books and a tiny target."""

from __future__ import annotations

import pytest

from mosaic_kedro.datasets import ModelReference
from mosaic_kedro.models import LoadedModel, ModelNotAvailableError
from mosaic_kedro.params import ParameterError
from mosaic_kedro.pipelines.preparation import nodes

TINY = {
    "books": {"host_chars": 2000, "num_hosts": 6},
    "tiny_target": {"vocab_size": 400, "n_layer": 1, "n_embd": 16, "n_head": 2,
                    "n_positions": 64,
                    "pretrain": {"max_tokens": 3000, "block_size": 32, "batch_size": 8}},
}


def test_invalid_parameters_name_the_key():
    with pytest.raises(ParameterError, match=r"preparation\.tiny_target"):
        nodes.validate_params({"tiny_target": {"n_embd": 30, "n_head": 4}})
    with pytest.raises(ParameterError, match=r"preparation\.books\.num_hosts"):
        nodes.validate_params({"books": {"num_hosts": 0}})


def test_books_split_and_tiny_base_model():
    config = nodes.validate_params(TINY)
    books = nodes.load_books(config)
    hosts, heldout = nodes.split_books(books, config)
    assert len(hosts) == 6
    base = nodes.prepare_base_model(heldout.iloc[:2], config)
    assert isinstance(base, LoadedModel)
    assert base.model.config.n_positions == 64
    assert len(base.tokenizer) == 400
    ids = base.tokenizer("To be, or not to be", add_special_tokens=False)["input_ids"]
    assert base.tokenizer.eos_token_id not in ids


def test_hub_target_is_checked_not_loaded():
    config = nodes.validate_params({**TINY, "target": {"name_or_path": "EleutherAI/gpt-neo-1.3B"}})
    with pytest.raises(ModelNotAvailableError, match="gpt-neo-1.3B"):
        nodes.prepare_base_model(None, config)


def test_local_generator_reference(tmp_path, tiny_lm):
    tiny_lm.model.save_pretrained(tmp_path)
    tiny_lm.tokenizer.save_pretrained(tmp_path)
    config = nodes.validate_params({"generator": {"name_or_path": str(tmp_path)}})
    ref = nodes.prepare_generator(config)
    assert isinstance(ref, ModelReference)
    assert ref.spec.name_or_path == str(tmp_path)
