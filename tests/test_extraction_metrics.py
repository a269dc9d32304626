"""Tests of mosaic_kedro.extraction_metrics (SPEC §6 extraction: BLEU, edit similarity)."""

from __future__ import annotations

import pandas as pd
import pytest

from mosaic_kedro.extraction_metrics import (
    bleu,
    extraction_scores,
    token_edit_similarity,
    token_levenshtein,
)


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [
        ([], [], 0),
        ([1, 2, 3], [], 3),
        ([1, 2, 3], [1, 2, 3], 0),
        ([1, 2, 3], [1, 9, 3], 1),  # one substitution
        ([1, 2, 3], [1, 3], 1),  # one deletion
        ([1, 2, 3], [0, 1, 2, 3], 1),  # one insertion
        ([1, 2, 3, 4], [2, 1, 4, 3], 3),  # no transpositions in Levenshtein
        ([5, 6, 7, 8, 9], [9, 8, 7, 6, 5], 4),
    ],
)
def test_token_levenshtein(a, b, distance):
    assert token_levenshtein(a, b) == distance
    assert token_levenshtein(b, a) == distance


def test_token_edit_similarity():
    assert token_edit_similarity([1, 2, 3, 4], [1, 2, 3, 4]) == 1.0
    assert token_edit_similarity([1, 2, 3, 4], [1, 2, 0, 4]) == pytest.approx(0.75)
    assert token_edit_similarity([1, 2], [1, 2, 3, 4]) == pytest.approx(0.5)
    assert token_edit_similarity([], []) == 1.0
    assert token_edit_similarity([1], [2]) == 0.0


def test_bleu_uses_sacrebleu_scale():
    text = "the quick brown fox jumps over the lazy dog"
    assert bleu(text, text) == pytest.approx(100.0)
    assert bleu("completely different words here", text) < 10
    partial = bleu("the quick brown fox jumps over a sleepy cat", text)
    assert 10 < partial < 100


def test_extraction_scores_keeps_keys_and_adds_metrics():
    frame = pd.DataFrame(
        {
            "canary_id": ["c0", "c1"],
            "generated_ids": [[1, 2, 3], [4, 5, 6]],
            "reference_ids": [[1, 2, 3], [4, 0, 0]],
            "generated_text": ["a b c", "d e f"],
            "reference_text": ["a b c", "d x y"],
        }
    )
    out = extraction_scores(frame)
    assert list(out["canary_id"]) == ["c0", "c1"]
    assert out["exact_match"].tolist() == [True, False]
    assert out["token_edit_similarity"].tolist() == pytest.approx([1.0, 1 / 3])
    assert out.loc[0, "bleu"] == pytest.approx(100.0)
    assert "bleu" not in frame.columns
