"""Metrics of the extraction experiment (SPEC §6, secondary).

Prompt a target model with the first 50 tokens of a canary, decode 50 tokens
greedily, and compare the continuation with the canary's true suffix:

- BLEU of the decoded texts, by sacrebleu's sentence BLEU (its default tokenizer
  ``13a`` and ``exp`` smoothing), on sacrebleu's 0-100 scale;
- token edit similarity, 1 - Levenshtein(tokens) / max(len), in [0, 1].

A pure library: the generation itself (a model forward loop) lives with the code that
loads models; these functions take token ids and texts.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import sacrebleu


def token_levenshtein(a: Sequence[int], b: Sequence[int]) -> int:
    """Levenshtein distance between two token sequences (insert, delete, substitute
    each cost 1), by the two-row dynamic programme."""
    a, b = list(a), list(b)
    if len(a) < len(b):
        a, b = b, a
    previous = np.arange(len(b) + 1)
    for i, token in enumerate(a, start=1):
        current = np.empty_like(previous)
        current[0] = i
        for j, other in enumerate(b, start=1):
            current[j] = min(
                previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (token != other)
            )
        previous = current
    return int(previous[-1])


def token_edit_similarity(generated: Sequence[int], reference: Sequence[int]) -> float:
    """1 - Levenshtein / max(len(generated), len(reference)); 1.0 for two empty sequences."""
    longest = max(len(generated), len(reference))
    if longest == 0:
        return 1.0
    return 1.0 - token_levenshtein(generated, reference) / longest


def bleu(generated: str, reference: str) -> float:
    """Sentence BLEU of ``generated`` against one ``reference`` (sacrebleu, 0-100)."""
    return float(sacrebleu.sentence_bleu(generated, [reference]).score)


def extraction_scores(continuations: pd.DataFrame) -> pd.DataFrame:
    """Per-canary extraction metrics.

    Args:
        continuations: columns ``generated_ids``, ``reference_ids`` (token id lists),
            ``generated_text``, ``reference_text``, plus any key columns (condition,
            canary_id ...), which are kept.

    Returns:
        The input with ``bleu``, ``token_edit_similarity`` and ``exact_match`` added.
    """
    out = continuations.copy()
    out["bleu"] = [
        bleu(g, r) for g, r in zip(out["generated_text"], out["reference_text"])
    ]
    out["token_edit_similarity"] = [
        token_edit_similarity(g, r)
        for g, r in zip(out["generated_ids"], out["reference_ids"])
    ]
    out["exact_match"] = [
        list(g) == list(r) for g, r in zip(out["generated_ids"], out["reference_ids"])
    ]
    return out
