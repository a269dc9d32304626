"""models.greedy_continuations: batching with left padding changes nothing, and a
tokenizer without a pad token works (the paper's targets have none)."""

from __future__ import annotations

import copy

from mosaic_kedro.models import LoadedModel, greedy_continuations


def _prompts(tokenizer, sample_texts):
    lengths = [5, 9, 12, 7, 3, 10]
    ids = [tokenizer(t[1000:1400], add_special_tokens=False)["input_ids"]
           for t in sample_texts]
    return [ids[i % len(ids)][:n] for i, n in enumerate(lengths)]


def test_batched_equals_one_by_one(tiny_lm, tiny_tokenizer, sample_texts):
    prompts = _prompts(tiny_tokenizer, sample_texts)
    batched = greedy_continuations(tiny_lm, prompts, max_new_tokens=8, batch_size=6)
    alone = [greedy_continuations(tiny_lm, [p], max_new_tokens=8)[0] for p in prompts]
    assert batched == alone
    assert all(len(c) <= 8 for c in batched)
    assert max(len(c) for c in batched) == 8


def test_works_without_a_pad_token(tiny_lm, tiny_tokenizer, sample_texts):
    tokenizer = copy.deepcopy(tiny_tokenizer)
    tokenizer.pad_token = None
    assert tokenizer.pad_token_id is None
    no_pad = LoadedModel(tiny_lm.model, tokenizer, tiny_lm.spec)
    prompts = _prompts(tiny_tokenizer, sample_texts)
    assert (greedy_continuations(no_pad, prompts, max_new_tokens=6, batch_size=4)
            == greedy_continuations(tiny_lm, prompts, max_new_tokens=6, batch_size=4))
