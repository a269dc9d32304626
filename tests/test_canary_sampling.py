"""Tests of mosaic_kedro.canary_sampling on a real (tiny) generator."""

from __future__ import annotations

import pytest

from mosaic_kedro.canary_sampling import CanarySamplingError, jaccard, sample_set

COMMON = dict(length=12, temperature=1.0, batch_size=8, margin=4, max_attempts=80,
              jaccard_threshold=0.5)


def _sample(lm, **kwargs):
    args = {**COMMON, **kwargs}
    return sample_set(lm.model, lm.tokenizer, lm.tokenizer, **args)


def test_jaccard():
    assert jaccard({1, 2}, {2, 3}) == pytest.approx(1 / 3)
    assert jaccard(set(), set()) == 0.0


def test_deterministic_and_rules_hold(tiny_lm):
    first = _sample(tiny_lm, num=4, seed=7)
    second = _sample(tiny_lm, num=4, seed=7)
    assert first.tokens == second.tokens
    tok = tiny_lm.tokenizer
    special = set(tok.all_special_ids)
    for tokens, text in zip(first.tokens, first.texts, strict=True):
        assert len(tokens) == 12
        assert not special & set(tokens)
        assert tok(text, add_special_tokens=False)["input_ids"] == tokens  # round trip
    sets = [set(t) for t in first.tokens]
    for i in range(len(sets)):
        for j in range(i):
            assert jaccard(sets[i], sets[j]) <= 0.5
    assert _sample(tiny_lm, num=4, seed=8).tokens != first.tokens


def test_other_set_is_avoided(tiny_lm):
    members = _sample(tiny_lm, num=3, seed=1)
    non_members = _sample(tiny_lm, num=3, seed=2, avoid=[set(t) for t in members.tokens])
    for a in members.tokens:
        for b in non_members.tokens:
            assert jaccard(set(a), set(b)) <= 0.5


def test_unmeetable_rules_raise_with_counts(tiny_lm):
    with pytest.raises(CanarySamplingError, match=r"accepted only 1 of 5 canaries in 16"):
        _sample(tiny_lm, num=5, seed=3, jaccard_threshold=1e-9, max_attempts=16)
