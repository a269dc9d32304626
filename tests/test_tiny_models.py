"""Tiny random-weight models of every family: pad-less tokenizers train, score, round-trip."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mosaic_kedro import lm_training, tiny_models
from mosaic_kedro.datasets import HFModelDataset
from mosaic_kedro.mia_scores import target_pass
from mosaic_kedro.models import LoadedModel, score_sequences
from mosaic_kedro.training_callback import leakage_metrics


@pytest.fixture(scope="module", params=tiny_models.FAMILIES)
def family_lm(request, sample_texts) -> LoadedModel:
    family = request.param
    tok = tiny_models.train_causal_tokenizer([t[:30000] for t in sample_texts], 400, family)
    model = tiny_models.tiny_causal_lm(tok, family, n_layer=1, n_embd=32, n_head=2,
                                       n_positions=128, seed=0)
    return LoadedModel(model.eval(), tok)


def test_tokenizers_have_no_pad_except_gpt2(family_lm):
    tok = family_lm.tokenizer
    assert tok.eos_token_id is not None and tok.bos_token_id is not None
    has_pad = type(family_lm.model).__name__.startswith("GPT2")
    assert (tok.pad_token_id is not None) == has_pad


def test_train_score_callback_on_ragged_chunks(family_lm, sample_texts, tmp_path):
    tok, model = family_lm.tokenizer, family_lm.model
    books = lm_training.encode_books(tok, [t[:3000] for t in sample_texts])
    chunks = lm_training.chunk_books(books, 48, seed=0)
    assert len({len(c) for c in chunks}) > 1  # book tails are shorter
    before = {k: v.clone() for k, v in model.state_dict().items()}
    lm_training.train_causal_lm(model, tok, chunks[:8], output_dir=tmp_path, learning_rate=1e-3,
                                batch_size=4, seed=0, device="cpu", resume=False)
    assert tok.pad_token_id is None or tok.pad_token_id == tok.eos_token_id  # unchanged
    assert any(not torch.equal(before[k], v) for k, v in model.state_dict().items())
    seqs = [list(c[:n]) for c, n in zip(chunks[:6], (5, 9, 13, 20, 7, 30), strict=True)]
    texts = [tok.decode(s) for s in seqs]
    scored = target_pass(family_lm, seqs, texts, batch_size=4)
    for seq, got in zip(seqs, scored.scores, strict=True):
        (alone,) = score_sequences(model, [seq], batch_size=1, distribution_stats=True)
        np.testing.assert_allclose(got.logprobs, alone.logprobs, atol=1e-5)
        assert len(got.logprobs) == len(seq) - 1
    metrics = leakage_metrics(model, tok, seqs[:3], seqs[3:], batch_size=4)
    assert all(np.isfinite(v) for v in metrics.values())


def test_round_trip_through_the_dataset(family_lm, tmp_path):
    ds = HFModelDataset(filepath=str(tmp_path / "m"), load_args={"device": "cpu"})
    ds.save(family_lm)
    back = ds.load()
    assert type(back.model) is type(family_lm.model)
    assert back.tokenizer.pad_token_id == family_lm.tokenizer.pad_token_id
    ids = torch.tensor([family_lm.tokenizer("To be, or not", add_special_tokens=False)["input_ids"]])
    with torch.no_grad():
        torch.testing.assert_close(back.model(ids).logits, family_lm.model(ids).logits)


def test_config_details():
    tok = tiny_models.train_causal_tokenizer(["abc def ghi " * 50], 300, "gemma")
    cfg = tiny_models.tiny_causal_config(tok, "gemma", n_layer=1, n_embd=32, n_head=2,
                                         n_positions=64)
    assert cfg.head_dim == 16 and cfg.tie_word_embeddings and cfg.pad_token_id is None
    phi = tiny_models.tiny_causal_config(tok, "phi", n_layer=3, n_embd=32, n_head=2,
                                         n_positions=64)
    assert phi.rope_parameters["partial_rotary_factor"] == 0.5
    neo = tiny_models.tiny_causal_config(tok, "gpt_neo", n_layer=3, n_embd=32, n_head=2,
                                         n_positions=64)
    assert neo.attention_layers == ["global", "local", "global"]
    with pytest.raises(ValueError, match="multiple of 4"):
        tiny_models.check_shape("phi", 12, 2)


def test_tiny_roberta_round_trip(sample_texts, tmp_path):
    tok = tiny_models.train_mlm_tokenizer([t[:20000] for t in sample_texts], 400)
    assert [tok.convert_ids_to_tokens(i) for i in range(5)] == list(tiny_models.MLM_SPECIALS)
    ids = tok("To be <mask> not")["input_ids"]
    assert ids[0] == tok.bos_token_id and ids[-1] == tok.eos_token_id
    assert tok.mask_token_id in ids
    model = tiny_models.tiny_roberta(tok, n_layer=1, n_embd=32, n_head=2, n_positions=64, seed=0)
    ds = HFModelDataset(filepath=str(tmp_path / "mlm"), model_type="masked_lm",
                        load_args={"device": "cpu"})
    ds.save(LoadedModel(model, tok))
    back = ds.load()
    assert back.tokenizer.mask_token_id == tok.mask_token_id
    with torch.no_grad():
        x = torch.tensor([ids])
        torch.testing.assert_close(back.model(x).logits, model(x).logits)


def test_greedy_continuations_ignore_padding(family_lm, sample_texts):
    from mosaic_kedro.models import greedy_continuations

    tok = family_lm.tokenizer
    ids = tok(sample_texts[0][:4000], add_special_tokens=False)["input_ids"]
    prompts = [ids[i : i + n] for i, n in zip((0, 50, 120, 200, 333), (3, 11, 7, 20, 1), strict=True)]
    batched = greedy_continuations(family_lm, prompts, max_new_tokens=6, batch_size=5)
    for prompt, got in zip(prompts, batched, strict=True):
        (alone,) = greedy_continuations(family_lm, [prompt], max_new_tokens=6, batch_size=1)
        assert got == alone and len(got) <= 6
        assert tok.eos_token_id not in got
