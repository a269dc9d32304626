"""Benchmark: every MIA score of 1,000 x 100-token sequences, ours vs the straightforward way.

- ours: :mod:`mosaic_kedro.mia_scores`: one pass of the target over the tokens (with the
  Min-K%++ statistics), one over the lower-cased texts, one of the reference; batches of
  64 sorted by length; every score derived from those arrays.
- baseline (as the paper's code did): per score, per set (members / non-members), one
  padded batch of the whole set through the model(s) the score needs, recomputed for
  every score (loss, ratio, lowercase, zlib, min_k, min_k_frac, min_k_plus_plus: 8 target
  passes + 1 reference pass). The baseline is given the corrected target mask so both
  produce the same numbers (checked).

Same tiny model (the embedded default's GPT-2, 2 layers x 128, 8,192-token BPE), same
run, same process. Run: ``.venv/bin/python benchmarks/bench_mia_scoring.py``
(``--n 200`` for a quick check).
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
import torch

from mosaic_kedro import lm_training
from mosaic_kedro.books import load_package_books
from mosaic_kedro.mia_scores import (
    SCORES,
    ModelPass,
    ScoreSettings,
    encode_texts,
    reference_perplexities,
    score_table,
    target_pass,
)
from mosaic_kedro.models import LoadedModel, SequenceScores, perplexity


@torch.inference_mode()
def padded_set_pass(model, seqs, pad: int, stats: bool = False) -> list[SequenceScores]:
    """The whole set as one right-padded batch (the baseline's forward pass)."""
    width = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), width), pad, dtype=torch.long)
    mask = torch.zeros_like(ids)
    for i, s in enumerate(seqs):
        ids[i, : len(s)] = torch.tensor(s)
        mask[i, : len(s)] = 1
    logp = torch.log_softmax(model(input_ids=ids, attention_mask=mask).logits[:, :-1].float(), -1)
    tok = logp.gather(-1, ids[:, 1:, None]).squeeze(-1)
    keep = mask[:, 1:].bool()
    if stats:
        mu = (logp.exp() * logp).sum(-1)
        sd = ((logp.exp() * logp.square()).sum(-1) - mu.square()).clamp_min(0).sqrt()
    out = []
    for i in range(len(seqs)):
        k = keep[i]
        out.append(SequenceScores(tok[i][k].numpy(), mu[i][k].numpy() if stats else None,
                                  sd[i][k].numpy() if stats else None))
    return out


def baseline(target: LoadedModel, reference: LoadedModel, tokens, texts, settings):
    """Every score recomputed from its own passes, one padded batch per set."""
    pad = target.tokenizer.pad_token_id
    half = len(tokens) // 2
    sets = [(slice(0, half)), (slice(half, len(tokens)))]
    columns: dict[str, list[float]] = {name: [] for name in SCORES}
    for name in SCORES:
        for part in sets:
            toks, txts = tokens[part], texts[part]
            main = padded_set_pass(target.model, toks, pad, stats=name == "min_k_plus_plus")
            lower = ref = None
            if name == "lowercase":
                lower = padded_set_pass(target.model, encode_texts(
                    target.tokenizer, [t.lower() for t in txts]), pad)
            if name == "ratio":
                ref_scores = padded_set_pass(reference.model, encode_texts(
                    reference.tokenizer, txts), reference.tokenizer.pad_token_id)
                ref = [perplexity(s.logprobs) for s in ref_scores]
            table = score_table(ModelPass(main, lower), txts, settings, reference_ppl=ref)
            columns[name].extend(table[name])
    return {k: np.array(v) for k, v in columns.items()}


def ours(target: LoadedModel, reference: LoadedModel, tokens, texts, settings):
    """One pass per sequence per model; every score from those arrays."""
    passed = target_pass(target, tokens, texts, batch_size=64)
    ref = reference_perplexities(reference, texts, batch_size=64)
    table = score_table(passed, texts, settings, reference_ppl=ref)
    return {k: table[k].to_numpy() for k in SCORES}


def main() -> None:
    """Build the model and sequences, time both ways, print the ratio."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--length", type=int, default=100)
    args = parser.parse_args()
    torch.manual_seed(0)
    books = load_package_books()["text"].tolist()
    tok = lm_training.train_bpe_tokenizer(books[: len(books) // 2], 8192)
    make = lambda seed: lm_training.tiny_gpt2(  # noqa: E731
        tok, n_layer=2, n_embd=128, n_head=4, n_positions=512, seed=seed).eval()
    target, reference = LoadedModel(make(0), tok), LoadedModel(make(1), tok)
    stream = [t for ids in lm_training.encode_books(tok, books[len(books) // 2:]) for t in ids]
    starts = np.random.default_rng(0).choice(len(stream) - args.length, args.n, replace=False)
    tokens = [stream[s : s + args.length] for s in starts]
    texts = tok.batch_decode(tokens)
    settings = ScoreSettings()
    print(f"{args.n} sequences x {args.length} tokens, GPT-2 2x128, vocab {len(tok)}, "
          f"{torch.get_num_threads()} threads")

    t0 = time.perf_counter()
    fast = ours(target, reference, tokens, texts, settings)
    t_ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    slow = baseline(target, reference, tokens, texts, settings)
    t_base = time.perf_counter() - t0

    worst = max(float(np.max(np.abs(fast[k] - slow[k]) / np.maximum(np.abs(slow[k]), 1e-9)))
                for k in SCORES)
    assert math.isfinite(worst) and worst < 1e-3, f"scores differ (max rel {worst:.2e})"
    print(f"ours (3 passes, length-sorted batches of 64): {t_ours:7.2f} s")
    print(f"baseline (per score, one padded batch per set): {t_base:7.2f} s")
    print(f"speed-up: {t_base / t_ours:.2f}x  (max relative score difference {worst:.1e})")


if __name__ == "__main__":
    main()
