"""Tests of mosaic_kedro.lm_training: chunking and a deterministic CPU training run."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mosaic_kedro import lm_training


def test_chunks_never_cross_books_and_follow_the_seed():
    books = [list(range(0, 10)), list(range(100, 125))]
    chunks = lm_training.chunk_books(books, 8, seed=3)
    for chunk in chunks:
        assert (chunk < 100).all() or (chunk >= 100).all()  # one book per chunk
    # book 1: 8 + a tail of 2; book 2: 8 + 8 + 8 + a tail of 1 (every tail kept)
    assert sorted(len(c) for c in chunks) == [1, 2, 8, 8, 8, 8]
    again = lm_training.chunk_books(books, 8, seed=3)
    other = lm_training.chunk_books(books, 8, seed=4)
    assert [c.tolist() for c in chunks] == [c.tolist() for c in again]
    assert [c.tolist() for c in chunks] != [c.tolist() for c in other]


def _train(tokenizer, texts, seed, tmp_path):
    model = lm_training.tiny_gpt2(tokenizer, n_layer=1, n_embd=16, n_head=2,
                                  n_positions=64, seed=0)
    chunks = lm_training.chunk_books(lm_training.encode_books(tokenizer, texts), 32, seed)
    lm_training.train_causal_lm(model, tokenizer, chunks[:24], output_dir=tmp_path / str(seed),
                                learning_rate=1e-3, batch_size=4, seed=seed, device="cpu",
                                resume=False)
    return {k: v.clone() for k, v in model.state_dict().items()}


def test_training_is_deterministic_on_cpu_under_a_seed(tiny_tokenizer, sample_texts, tmp_path):
    texts = [t[:20000] for t in sample_texts]
    first = _train(tiny_tokenizer, texts, 7, tmp_path / "a")
    second = _train(tiny_tokenizer, texts, 7, tmp_path / "b")
    third = _train(tiny_tokenizer, texts, 8, tmp_path / "c")
    assert all(torch.equal(first[k], second[k]) for k in first)
    assert not all(torch.equal(first[k], third[k]) for k in first)
    assert np.isfinite(first["lm_head.weight"].numpy()).all()


def test_every_token_of_every_book_is_in_exactly_one_chunk():
    rng = np.random.default_rng(0)
    books = [list(range(1000 * b, 1000 * b + n)) for b, n in enumerate(rng.integers(1, 60, 20))]
    chunks = lm_training.chunk_books(books, 16, seed=1)
    seen = np.concatenate(list(chunks))
    assert sorted(seen.tolist()) == sorted(t for book in books for t in book)
    for book in books:  # in order within each book
        pieces = sorted((c for c in chunks if c[0] // 1000 == book[0] // 1000), key=lambda c: c[0])
        assert np.concatenate(pieces).tolist() == book


def test_collator_pads_without_a_pad_token_and_ignores_padding():
    batch = lm_training.CausalCollator(5)([{"input_ids": [1, 2, 3]}, {"input_ids": [5, 4]}])
    assert batch["input_ids"].tolist() == [[1, 2, 3], [5, 4, 5]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [1, 1, 0]]
    assert batch["labels"].tolist() == [[1, 2, 3], [5, 4, -100]]  # a real 5 is a label


class _Crash(RuntimeError):
    pass


def _crash_at(step):
    """A callback that raises at the start of the step after ``step`` (a killed run)."""
    from transformers import TrainerCallback

    class _CrashAt(TrainerCallback):
        def on_step_begin(self, args, state, control, **kwargs):
            if state.global_step == step:
                raise _Crash(f"interrupted after step {step}")

    return _CrashAt()


def _leakage_run(tokenizer, texts, out_dir, *, crash_at=None):
    """6 steps, checkpoints every 2, the leakage callback every step; (model, table)."""
    from mosaic_kedro.training_callback import make_leakage_callback

    model = lm_training.tiny_gpt2(tokenizer, n_layer=1, n_embd=16, n_head=2,
                                  n_positions=64, seed=0)
    tokens = lm_training.encode_books(tokenizer, texts)
    chunks = lm_training.chunk_books(tokens, 32, seed=5)[:24]
    members = [list(c) for c in chunks[:4]]  # trained on
    non_members = [t[-32:] for t in lm_training.encode_books(tokenizer, [t[-3000:] for t in texts])]
    callback = make_leakage_callback("c", tokenizer, members, non_members, eval_steps=1)
    extra = [] if crash_at is None else [_crash_at(crash_at)]
    lm_training.train_causal_lm(model, tokenizer, chunks, output_dir=out_dir, learning_rate=1e-3,
                                batch_size=4, seed=5, save_steps=2, logging_steps=100,
                                device="cpu", callbacks=[callback, *extra])
    return model, callback.table()


def test_a_resumed_run_keeps_the_leakage_history_and_its_weights(
        tiny_tokenizer, sample_texts, tmp_path, caplog):
    import logging

    import pandas as pd
    from safetensors.torch import load_file
    from transformers.trainer_utils import get_last_checkpoint

    texts = [t[:20000] for t in sample_texts]
    _, full = _leakage_run(tiny_tokenizer, texts, tmp_path / "full")
    assert full["step"].tolist() == list(range(7))

    out = tmp_path / "resumed"
    try:
        _leakage_run(tiny_tokenizer, texts, out, crash_at=3)  # checkpoint-2 is the last
    except _Crash:
        pass
    else:
        raise AssertionError("the crash callback did not interrupt the run")
    assert get_last_checkpoint(str(out)).endswith("checkpoint-2")
    _, resumed = _leakage_run(tiny_tokenizer, texts, out)
    pd.testing.assert_frame_equal(resumed, full, rtol=1e-5)

    # a finished run rerun: resumes from its last checkpoint, trains nothing
    with caplog.at_level(logging.INFO):
        model, again = _leakage_run(tiny_tokenizer, texts, out)
    pd.testing.assert_frame_equal(again, full, rtol=1e-5)
    assert "There were missing keys" not in caplog.text
    assert "lm_head.weight" in caplog.text  # explained at INFO instead

    # the weights are the checkpoint's, lm_head still tied to the input embeddings
    last = get_last_checkpoint(str(out))
    saved = load_file(f"{last}/model.safetensors")
    assert "lm_head.weight" not in saved  # why the Trainer would have warned
    state = model.state_dict()
    assert all(torch.equal(state[k], v) for k, v in saved.items())
    assert model.lm_head.weight.data_ptr() == model.get_input_embeddings().weight.data_ptr()
    assert torch.equal(state["lm_head.weight"], saved["transformer.wte.weight"])


def test_history_file_is_replaced_whole_and_read_up_to_the_step(tmp_path):
    from mosaic_kedro.training_callback import HISTORY_FILE, load_history, save_history

    assert load_history(tmp_path, 5) is None  # a checkpoint written before histories
    save_history([{"step": 0}], tmp_path)
    save_history([{"step": 0}, {"step": 4}, {"step": 6}], tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == [HISTORY_FILE]  # no temp file left
    assert load_history(tmp_path, 4) == [{"step": 0}, {"step": 4}]
    (tmp_path / HISTORY_FILE).write_text('[{"step": 0}, {"st')
    with pytest.raises(ValueError, match="not valid JSON.*delete"):
        load_history(tmp_path, 4)


def test_each_log_is_one_line_and_leakage_metrics_are_not_repeated(caplog):
    """The throughput callback logs training logs once and leaves ``mia/*`` logs (which
    the leakage callback already reports in its own line) alone."""
    from types import SimpleNamespace

    callback = lm_training.make_throughput_callback(tokens_per_step=100)
    state = SimpleNamespace(global_step=4, max_steps=8)
    callback.on_train_begin(None, state, None)
    with caplog.at_level("INFO", logger="mosaic_kedro.lm_training"):
        callback.on_log(None, state, None, logs={"mia/auc_loss": 0.7, "epoch": 0.5})
        callback.on_log(None, state, None, logs={"loss": 6.1, "epoch": 0.5})
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1 and lines[0].startswith("step 4/8") and "'loss': 6.1" in lines[0]
