"""Tests of mosaic_kedro.lm_training: chunking and a deterministic CPU training run."""

from __future__ import annotations

import numpy as np
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
