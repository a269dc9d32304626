"""MIA scores on hand-checkable models, the padding fix, AUC / CI / TPR vs scikit-learn."""

from __future__ import annotations

import logging
import math
import zlib
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score, roc_curve

from mosaic_kedro import lm_training
from mosaic_kedro.mia_scores import (
    SCORES,
    ModelPass,
    ScoreSettings,
    auc,
    bootstrap_auc_ci,
    evaluate_scores,
    fraction_k,
    roc_points,
    score_table,
    sequence_scores,
    target_pass,
    tpr_at_fpr,
)
from mosaic_kedro.models import LoadedModel, score_sequences
from mosaic_kedro.training_callback import leakage_metrics

V = 7


class Bigram(torch.nn.Module):
    """log p(next | prev) = log_softmax(table[prev]): every log-prob is known in advance."""

    def __init__(self) -> None:
        super().__init__()
        gen = torch.Generator().manual_seed(0)
        self.table = torch.nn.Parameter(torch.randn(V, V, generator=gen))

    def forward(self, input_ids, attention_mask=None):
        return SimpleNamespace(logits=self.table[input_ids])


def _expected(table: np.ndarray, seq: list[int]) -> np.ndarray:
    logp = table - np.log(np.exp(table).sum(-1, keepdims=True))
    return np.array([logp[a, b] for a, b in zip(seq[:-1], seq[1:])])


def test_bigram_logprobs_and_scores_by_hand():
    model = Bigram()
    table = model.table.detach().numpy().astype(np.float64)
    seqs = [[1, 2, 3, 4, 5, 6], [0, 0, 3], [6, 5]]
    scored = score_sequences(model, seqs, batch_size=2, distribution_stats=True)
    for seq, s in zip(seqs, scored):
        want = _expected(table, seq)
        np.testing.assert_allclose(s.logprobs, want, rtol=1e-5)
        logp = table - np.log(np.exp(table).sum(-1, keepdims=True))
        p = np.exp(logp)
        mu = np.array([(p[a] * logp[a]).sum() for a in seq[:-1]])
        sd = np.array([math.sqrt((p[a] * logp[a] ** 2).sum() - mu[i] ** 2)
                       for i, a in enumerate(seq[:-1])])
        np.testing.assert_allclose(s.mean_logprob, mu, rtol=1e-5)
        np.testing.assert_allclose(s.std_logprob, sd, rtol=1e-4)

    seq, s = seqs[0], scored[0]
    lp = _expected(table, seq)
    text = "Hello World, hello world"
    out = sequence_scores(s, text, ScoreSettings(min_k_tokens=2, min_k_fraction=0.4),
                          lowercase=scored[1], reference_ppl=3.0)
    ppl = math.exp(-lp.mean())
    zr = len(zlib.compress(text.encode())) / len(text)
    assert out["loss"] == pytest.approx(ppl)
    assert out["ratio"] == pytest.approx(ppl / 3.0)
    assert out["lowercase"] == pytest.approx(ppl / math.exp(-_expected(table, seqs[1]).mean()))
    assert out["zlib"] == pytest.approx(math.log(ppl) / zr)
    assert out["min_k"] == pytest.approx(-np.sort(lp)[:2].mean())
    assert fraction_k(5, 0.4) == 2
    assert out["min_k_frac"] == pytest.approx(-np.sort(lp)[:2].mean())
    z = (lp - s.mean_logprob) / s.std_logprob
    assert out["min_k_plus_plus"] == pytest.approx(-np.sort(z)[:2].mean(), rel=1e-5)


@pytest.fixture(scope="module")
def tiny() -> LoadedModel:
    texts = ["The quick brown fox jumps over the lazy dog. " * 3,
             "A stitch in time saves nine; Many Hands make light work. " * 3] * 4
    tok = lm_training.train_bpe_tokenizer(texts, 300)
    model = lm_training.tiny_gpt2(tok, n_layer=1, n_embd=16, n_head=2, n_positions=64, seed=0)
    return LoadedModel(model.eval(), tok)


def test_zeroed_gpt2_gives_uniform_logprobs(tiny):
    model = lm_training.tiny_gpt2(tiny.tokenizer, n_layer=1, n_embd=16, n_head=2,
                                  n_positions=64, seed=0)
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
    loaded = LoadedModel(model.eval(), tiny.tokenizer)
    texts = ["The quick brown fox", "Many Hands make light work"]
    tokens = tiny.tokenizer(texts, add_special_tokens=False)["input_ids"]
    passed = target_pass(loaded, tokens, texts)
    vocab = model.config.vocab_size
    table = score_table(passed, texts, reference_ppl=[vocab / 2, vocab])
    np.testing.assert_allclose(table["loss"], vocab, rtol=1e-5)
    np.testing.assert_allclose(table["ratio"], [2.0, 1.0], rtol=1e-5)
    np.testing.assert_allclose(table["lowercase"], 1.0, rtol=1e-5)
    np.testing.assert_allclose(table["min_k"], math.log(vocab), rtol=1e-5)
    # sigma is ~0 up to float32 noise, so z ~ 0
    np.testing.assert_allclose(table["min_k_plus_plus"], 0.0, atol=1e-2)
    assert list(table.columns) == list(SCORES)


def test_padded_batch_equals_unpadded_singles(tiny):
    gen = np.random.default_rng(1)
    vocab = tiny.model.config.vocab_size
    seqs = [list(gen.integers(0, vocab, n)) for n in (5, 17, 2, 30, 11, 1)]
    batched = score_sequences(tiny.model, seqs, batch_size=6, pad_token_id=0,
                              distribution_stats=True)
    for seq, b in zip(seqs, batched):
        (single,) = score_sequences(tiny.model, [seq], batch_size=1, distribution_stats=True)
        assert len(b.logprobs) == max(len(seq) - 1, 0)  # no pad / after-the-end target
        np.testing.assert_allclose(b.logprobs, single.logprobs, atol=1e-5)
        np.testing.assert_allclose(b.mean_logprob, single.mean_logprob, atol=1e-5)
        np.testing.assert_allclose(b.std_logprob, single.std_logprob, atol=1e-5)


def test_auc_ci_tpr_against_sklearn(caplog):
    rng = np.random.default_rng(3)
    members = rng.normal(-0.6, 1, 80)
    non = np.concatenate([rng.normal(0, 1, 59), [members[0]]])  # one tie
    s = np.concatenate([members, non])
    y = np.arange(len(s)) < len(members)
    assert auc(s, y) == pytest.approx(roc_auc_score(y, -s))
    assert auc(s, y) > 0.5  # members positive: lower scores -> AUC above chance

    low, high = bootstrap_auc_ci(members, non, n_resamples=400, random_state=0)
    boot = []
    r = np.random.default_rng(11)
    for _ in range(400):
        m = r.choice(members, len(members))
        n = r.choice(non, len(non))
        boot.append(roc_auc_score(np.r_[np.ones(len(m)), np.zeros(len(n))], -np.r_[m, n]))
    assert low < auc(s, y) < high
    assert low == pytest.approx(np.quantile(boot, 0.025), abs=0.03)
    assert high == pytest.approx(np.quantile(boot, 0.975), abs=0.03)

    fpr, tpr, _ = roc_curve(y, -s)
    assert tpr_at_fpr(s, y, 0.10) == pytest.approx(tpr[fpr <= 0.10].max())
    curve = roc_points(s, y)
    np.testing.assert_allclose(curve["fpr"], fpr)

    with caplog.at_level(logging.WARNING, logger="mosaic_kedro.mia_scores"):
        out = evaluate_scores(s, y, n_resamples=100)
    assert "not meaningful" in caplog.text  # 60 non-members < 1 / 1 %
    assert out["n_members"] == 80 and out["n_non_members"] == 60
    assert out["ci_low"] <= out["auc"] <= out["ci_high"]


def test_leakage_metrics(tiny):
    vocab = tiny.model.config.vocab_size
    rng = np.random.default_rng(0)
    members = [list(rng.integers(0, vocab, 12)) for _ in range(4)]
    non = [list(rng.integers(0, vocab, 12)) for _ in range(4)]
    out = leakage_metrics(tiny.model, tiny.tokenizer, members, non)
    assert 0 <= out["auc_loss"] <= 1 and out["ppl_members"] > 1
    oracle = [np.exp(-np.mean(s.logprobs)) for s in score_sequences(tiny.model, members)]
    assert out["ppl_members_median"] == pytest.approx(np.median(oracle), rel=1e-5)
    assert out["ppl_members"] == pytest.approx(np.mean(oracle), rel=1e-5)


def test_score_table_without_optional_passes():
    lp = np.log(np.array([0.5, 0.25, 0.125]))
    from mosaic_kedro.models import SequenceScores

    table = score_table(ModelPass([SequenceScores(lp)]), ["abc"])
    assert math.isnan(table.loc[0, "ratio"]) and math.isnan(table.loc[0, "lowercase"])
    assert table.loc[0, "min_k"] == pytest.approx(-lp.mean())


def test_lowercase_is_exactly_one_without_capitals():
    model = Bigram()
    main, other = score_sequences(model, [[1, 2, 3, 4], [0, 5, 6]])
    assert sequence_scores(main, "no capitals here, 42.", lowercase=other)["lowercase"] == 1.0
    assert sequence_scores(main, "Some Capitals", lowercase=other)["lowercase"] != 1.0
    assert math.isnan(sequence_scores(main, "x", lowercase=None)["lowercase"])


def test_fraction_k_rounds_half_to_even_not_mimirs_floor():
    # (n, fraction, k here); MIMIR's int(n * fraction) would give 20, 2, 2, 0, 1
    for n, fraction, k in [(100, 0.2, 20), (12, 0.2, 2), (13, 0.2, 3), (5, 0.1, 1), (15, 0.1, 2)]:
        assert fraction_k(n, fraction) == k
