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
    params = {**TINY, "target": {"name_or_path": "EleutherAI/gpt-neo-1.3B"}}
    with pytest.raises(ModelNotAvailableError, match="gpt-neo-1.3B"):
        nodes.validate_params(params)  # before any node writes
    config = nodes.PreparationParams.model_validate(params).model_dump()
    with pytest.raises(ModelNotAvailableError, match="gpt-neo-1.3B"):
        nodes.prepare_base_model(None, config)


def test_every_named_model_is_checked_before_the_books_are_written():
    specs = nodes.model_specs(nodes.PreparationParams.model_validate(
        {"generator": {"name_or_path": "g/g"}, "target": {"name_or_path": "t/t"},
         "mlm_model": {"name_or_path": "m/m"}}))
    assert [s.name_or_path for s in specs] == ["g/g", "t/t", "m/m"]
    assert nodes.model_specs(nodes.PreparationParams.model_validate(
        {"mlm_model": {"tiny": {}}}))[0].is_embedded  # the embedded generator only
    for name in ("generator", "target", "mlm_model"):
        with pytest.raises(ModelNotAvailableError, match="no/such-model"):
            nodes.validate_params({name: {"name_or_path": "no/such-model"}})


def _files(root):
    """Every file under ``root`` but the run records (``09_tracking``, one per run)."""
    return {p.relative_to(root): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and p.relative_to(root).parts[0] != "09_tracking"}


def test_offline_paper_run_fails_before_writing(project_copy):
    """``kedro run --env paper --pipelines=preparation`` without the hub models: the
    model check fails first and the earlier books file is byte-identical."""
    from kedro.framework.project import configure_project
    from kedro.framework.session import KedroSession

    books = project_copy / "data" / "01_raw" / "books.parquet"
    books.parent.mkdir(parents=True)
    books.write_bytes(b"an earlier run's books")
    before = _files(project_copy / "data")
    configure_project("mosaic_kedro")
    with KedroSession.create(project_path=project_copy, env="paper") as session:
        with pytest.raises(ModelNotAvailableError, match="meta-llama/Llama-2-7b-hf"):
            session.run(pipeline_names=["preparation"])
    assert _files(project_copy / "data") == before


def test_local_generator_reference(tmp_path, tiny_lm):
    tiny_lm.model.save_pretrained(tmp_path)
    tiny_lm.tokenizer.save_pretrained(tmp_path)
    config = nodes.validate_params({"generator": {"name_or_path": str(tmp_path)}})
    ref = nodes.prepare_generator(config)
    assert isinstance(ref, ModelReference)
    assert ref.spec.name_or_path == str(tmp_path)
