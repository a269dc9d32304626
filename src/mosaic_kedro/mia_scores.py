"""Membership-inference scores and their metrics (SPEC §5).

Every score derives from the per-token log-probs that :func:`mosaic_kedro.models.
score_sequences` returns, computed in **one forward pass per sequence per model**:

- the target model scores each canary's tokens once (with the next-token distribution
  statistics Min-K%++ needs) and its lower-cased text once;
- the reference model scores each canary's decoded text in its own tokenizer once, for
  all conditions (the ``mia`` pipeline caches that pass).

Every score is oriented so that **higher = more likely a non-member**:

=================== =========================================================================
``loss``            target perplexity ``exp(-mean log p)``
``ratio``           target perplexity / reference perplexity (each model scores the text in
                    its own tokenizer)
``lowercase``       perplexity(text) / perplexity(text.lower()), both under the target;
                    exactly 1.0 for a text without capitals
``zlib``            ln perplexity / (zlib-compressed bytes of the UTF-8 text / characters):
                    the paper's zlib score, whose entropy term is normalized per character
                    (Carlini et al. divide by the raw compressed length instead)
``min_k``           minus the mean of the k lowest token log-probs, k = ``min_k_tokens``
                    (paper: 20 tokens)
``min_k_frac``      the same with k = ``min_k_fraction`` of the targets (rounded half to
                    even, >= 1; MIMIR floors: see :func:`fraction_k`)
``min_k_plus_plus`` Min-K%++: minus the mean of the lowest ``min_k_fraction`` of
                    ``(log p(x_t) - mu_t) / sigma_t``, where mu_t and sigma_t are the mean
                    and standard deviation of log p(v) under the model's own next-token
                    distribution at position t
=================== =========================================================================

**AUC convention:** members are the positive class, the decision variable is the
*negated* score ("member-ness"), so AUC = P(score(member) < score(non-member)) (ties
count one half). 0.5 is chance; 1.0 means every member scores below every non-member.
TPR at x % FPR is read off the same ROC curve.
"""

from __future__ import annotations

import logging
import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.metrics import roc_auc_score, roc_curve

from mosaic_kedro.models import (
    LoadedModel,
    SequenceScores,
    pad_id,
    perplexity,
    score_sequences,
)

logger = logging.getLogger(__name__)

SCORES = ("loss", "ratio", "lowercase", "zlib", "min_k", "min_k_frac", "min_k_plus_plus")
MEMBER, NON_MEMBER = "member", "non_member"


@dataclass(frozen=True)
class ScoreSettings:
    """Parameters of the scores (k of Min-K as a token count and as a fraction)."""

    min_k_tokens: int = 20
    min_k_fraction: float = 0.2


@dataclass
class ModelPass:
    """One model's per-token results for a list of canaries (input order kept)."""

    scores: list[SequenceScores]
    lowercase: list[SequenceScores] | None = None


# --------------------------------------------------------------------------- forward passes


def with_bos(tokens: Sequence[int], tokenizer: Any, prepend_bos: bool) -> list[int]:
    """``tokens`` with the tokenizer's BOS in front when asked and when it has one."""
    bos = getattr(tokenizer, "bos_token_id", None)
    return [int(bos), *map(int, tokens)] if prepend_bos and bos is not None else list(map(int, tokens))


def encode_texts(tokenizer: Any, texts: Sequence[str], prepend_bos: bool = False) -> list[list[int]]:
    """Token ids of ``texts`` in ``tokenizer`` (no special tokens, optional BOS)."""
    ids = tokenizer(list(texts), add_special_tokens=False)["input_ids"]
    return [with_bos(t, tokenizer, prepend_bos) for t in ids]


def target_pass(
    loaded: LoadedModel,
    tokens: Sequence[Sequence[int]],
    texts: Sequence[str],
    *,
    batch_size: int = 32,
    prepend_bos: bool = False,
    lowercase: bool = True,
) -> ModelPass:
    """Score canaries with the target: their tokens (with Min-K%++ statistics) and,
    when ``lowercase``, their lower-cased text, one forward pass each."""
    pad = pad_id(loaded.tokenizer)
    seqs = [with_bos(t, loaded.tokenizer, prepend_bos) for t in tokens]
    main = score_sequences(loaded.model, seqs, batch_size=batch_size, pad_token_id=pad,
                           distribution_stats=True)
    lower = None
    if lowercase:
        lower_ids = encode_texts(loaded.tokenizer, [t.lower() for t in texts], prepend_bos)
        lower = score_sequences(loaded.model, lower_ids, batch_size=batch_size, pad_token_id=pad)
    return ModelPass(main, lower)


def reference_perplexities(
    loaded: LoadedModel, texts: Sequence[str], *, batch_size: int = 32, prepend_bos: bool = False
) -> np.ndarray:
    """Perplexity of each text under the reference model, in its own tokenizer."""
    ids = encode_texts(loaded.tokenizer, texts, prepend_bos)
    scored = score_sequences(loaded.model, ids, batch_size=batch_size,
                             pad_token_id=pad_id(loaded.tokenizer))
    return np.array([perplexity(s.logprobs) for s in scored])


# --------------------------------------------------------------------------- scores


def zlib_ratio(text: str) -> float:
    """zlib-compressed bytes of the UTF-8 text per character."""
    return len(zlib.compress(text.encode("utf-8"))) / max(len(text), 1)


def lowest_mean(values: np.ndarray, k: int) -> float:
    """Mean of the ``k`` lowest values (all of them when fewer than ``k``)."""
    if len(values) == 0:
        return math.nan
    k = max(1, min(int(k), len(values)))
    return float(np.mean(np.partition(values, k - 1)[:k]))


def fraction_k(n: int, fraction: float) -> int:
    """k for a fraction of ``n`` targets: ``max(1, round(fraction * n))``.

    Python's ``round`` rounds half to even (0.5 -> 0 -> 1, 2.5 -> 2, 3.5 -> 4). MIMIR
    (and the Min-K% / Min-K%++ reference code) floors instead, ``int(n * fraction)``,
    and so does not guard against k = 0. The two agree whenever ``fraction * n`` has a
    fractional part below 0.5 (e.g. the paper's 100-token canaries at 20 %: both 20);
    above 0.5 this k is one larger (n = 13, 20 %: 3 here, 2 in MIMIR).
    """
    return max(1, int(round(fraction * n)))


def min_k_plus_plus(seq: SequenceScores, fraction: float) -> float:
    """Min-K%++ (higher = non-member): minus the mean of the lowest standardized log-probs."""
    if seq.mean_logprob is None or seq.std_logprob is None:
        raise ValueError("min_k_plus_plus needs distribution statistics "
                         "(score_sequences(..., distribution_stats=True))")
    z = (seq.logprobs - seq.mean_logprob) / np.maximum(seq.std_logprob, 1e-8)
    return -lowest_mean(z, fraction_k(len(z), fraction))


def _lowercase_ratio(ppl: float, text: str, lowercase: SequenceScores | None) -> float:
    """perplexity(text) / perplexity(lowercased): exactly 1.0 when lower-casing changes
    nothing (no capitals), NaN without the lower-cased pass."""
    if lowercase is None:
        return math.nan
    if text.lower() == text:
        return 1.0
    return ppl / perplexity(lowercase.logprobs)


def sequence_scores(
    seq: SequenceScores,
    text: str,
    settings: ScoreSettings = ScoreSettings(),
    *,
    lowercase: SequenceScores | None = None,
    reference_ppl: float | None = None,
) -> dict[str, float]:
    """Every score of one canary; ``ratio``/``lowercase`` are NaN without their pass."""
    lp = np.asarray(seq.logprobs, dtype=np.float64)
    ppl = perplexity(lp)
    out = {
        "loss": ppl,
        "ratio": ppl / reference_ppl if reference_ppl else math.nan,
        "lowercase": _lowercase_ratio(ppl, text, lowercase),
        "zlib": math.log(ppl) / zlib_ratio(text),
        "min_k": -lowest_mean(lp, settings.min_k_tokens),
        "min_k_frac": -lowest_mean(lp, fraction_k(len(lp), settings.min_k_fraction)),
        "min_k_plus_plus": math.nan,
    }
    if seq.mean_logprob is not None:
        out["min_k_plus_plus"] = min_k_plus_plus(seq, settings.min_k_fraction)
    return out


def score_table(
    target: ModelPass,
    texts: Sequence[str],
    settings: ScoreSettings = ScoreSettings(),
    reference_ppl: Sequence[float] | None = None,
) -> pd.DataFrame:
    """One row per canary, one column per score (input order)."""
    rows = []
    for i, (seq, text) in enumerate(zip(target.scores, texts, strict=True)):
        rows.append(sequence_scores(
            seq, text, settings,
            lowercase=target.lowercase[i] if target.lowercase is not None else None,
            reference_ppl=float(reference_ppl[i]) if reference_ppl is not None else None,
        ))
    return pd.DataFrame(rows, columns=list(SCORES))


# --------------------------------------------------------------------------- metrics


def _labels(is_member: Sequence[bool] | np.ndarray) -> np.ndarray:
    y = np.asarray(is_member, dtype=bool)
    if y.all() or not y.any():
        raise ValueError("AUC needs both members and non-members")
    return y


def auc(scores: Sequence[float], is_member: Sequence[bool]) -> float:
    """ROC AUC with members positive and ``-score`` as the decision variable."""
    y = _labels(is_member)
    return float(roc_auc_score(y, -np.asarray(scores, dtype=np.float64)))


def _auc_statistic(members: np.ndarray, non_members: np.ndarray, axis: int = -1) -> np.ndarray:
    """P(member < non-member) + 0.5 P(tie), vectorized over leading axes."""
    m = np.moveaxis(members, axis, -1)[..., :, None]
    n = np.moveaxis(non_members, axis, -1)[..., None, :]
    return (m < n).mean(axis=(-2, -1)) + 0.5 * (m == n).mean(axis=(-2, -1))


def bootstrap_auc_ci(
    member_scores: Sequence[float],
    non_member_scores: Sequence[float],
    *,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    method: str = "percentile",
    random_state: int = 0,
) -> tuple[float, float]:
    """Bootstrap interval of the AUC: members and non-members resampled independently
    (``scipy.stats.bootstrap`` with two unpaired samples)."""
    m = np.asarray(member_scores, dtype=np.float64)
    n = np.asarray(non_member_scores, dtype=np.float64)
    if len(m) < 2 or len(n) < 2:
        return math.nan, math.nan
    res = stats.bootstrap(
        (m, n), _auc_statistic, n_resamples=n_resamples, confidence_level=confidence,
        method=method, vectorized=True, paired=False,
        rng=np.random.default_rng(random_state),
    )
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def tpr_at_fpr(
    scores: Sequence[float], is_member: Sequence[bool], fpr_target: float, *, warn: bool = True
) -> float:
    """Highest TPR at FPR <= ``fpr_target`` (members positive; ``-score`` decides).

    Warns when fewer than ``1 / fpr_target`` non-members make the operating point
    meaningless (one false positive already exceeds it).
    """
    y = _labels(is_member)
    n_non = int((~y).sum())
    if warn and n_non * fpr_target < 1:
        logger.warning(
            "TPR at %.3g%% FPR from %d non-members is not meaningful (needs >= %d)",
            100 * fpr_target, n_non, math.ceil(1 / fpr_target),
        )
    fpr, tpr, _ = roc_curve(y, -np.asarray(scores, dtype=np.float64))
    return float(tpr[fpr <= fpr_target + 1e-12].max())


def roc_points(scores: Sequence[float], is_member: Sequence[bool]) -> pd.DataFrame:
    """The ROC curve (members positive) as ``fpr, tpr, threshold`` rows."""
    y = _labels(is_member)
    fpr, tpr, thr = roc_curve(y, -np.asarray(scores, dtype=np.float64))
    return pd.DataFrame({"fpr": fpr, "tpr": tpr, "threshold": -thr})


def evaluate_scores(
    scores: Sequence[float],
    is_member: Sequence[bool],
    *,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    random_state: int = 0,
    warn: bool = True,
) -> dict[str, float]:
    """AUC, its bootstrap interval, TPR at 1 % / 10 % FPR and the set sizes."""
    s = np.asarray(scores, dtype=np.float64)
    y = _labels(is_member)
    low, high = bootstrap_auc_ci(s[y], s[~y], n_resamples=n_resamples,
                                 confidence=confidence, random_state=random_state)
    return {
        "auc": auc(s, y), "ci_low": low, "ci_high": high,
        "tpr_at_1": tpr_at_fpr(s, y, 0.01, warn=warn),
        "tpr_at_10": tpr_at_fpr(s, y, 0.10, warn=warn),
        "n_members": int(y.sum()), "n_non_members": int((~y).sum()),
    }
