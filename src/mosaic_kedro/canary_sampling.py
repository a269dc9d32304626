"""Sampling reference canaries from a causal LM (SPEC §1).

Samples are drawn unconditioned (BOS only) from the generator in batches, decoded,
re-encoded in the *target* tokenizer without special tokens and cut to ``length``.
A sample is rejected when it holds EOS (or any special token), is too short, fails the
whole-sequence round trip ``encode(decode(tokens)) == tokens``, or has a token-set
Jaccard similarity above the threshold with any accepted canary of its own set or of
the other set. Attempts are bounded; running out is a :class:`CanarySamplingError`.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

logger = logging.getLogger(__name__)


class CanarySamplingError(RuntimeError):
    """The rejection rules could not be met within the attempt bound."""


@dataclass
class SampledSet:
    """Accepted canaries of one set plus why the others were rejected."""

    tokens: list[list[int]] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    rejected: Counter = field(default_factory=Counter)


def jaccard(a: set[int], b: set[int]) -> float:
    """Jaccard similarity of two token sets (0 for two empty sets)."""
    union = len(a | b)
    return len(a & b) / union if union else 0.0


def _bos_id(tokenizer: Any) -> int:
    for candidate in (tokenizer.bos_token_id, tokenizer.eos_token_id):
        if candidate is not None:
            return int(candidate)
    raise CanarySamplingError("the generator's tokenizer has neither BOS nor EOS")


def check_candidate(
    generated: Sequence[int],
    generator_tokenizer: Any,
    target_tokenizer: Any,
    length: int,
) -> tuple[list[int] | None, str, str]:
    """Apply the per-sample rules; return ``(tokens, text, "")`` or ``(None, "", reason)``."""
    special = set(generator_tokenizer.all_special_ids)
    if any(t in special for t in generated):
        return None, "", "special_token"
    text = generator_tokenizer.decode(list(generated), skip_special_tokens=True)
    tokens = target_tokenizer(text, add_special_tokens=False)["input_ids"][:length]
    if len(tokens) < length:
        return None, "", "too_short"
    canary_text = target_tokenizer.decode(tokens)
    if target_tokenizer(canary_text, add_special_tokens=False)["input_ids"] != tokens:
        return None, "", "round_trip"
    return list(tokens), canary_text, ""


def sample_set(
    generator: Any,
    generator_tokenizer: Any,
    target_tokenizer: Any,
    *,
    num: int,
    length: int,
    temperature: float,
    batch_size: int,
    margin: int,
    max_attempts: int,
    jaccard_threshold: float,
    seed: int,
    avoid: Sequence[set[int]] = (),
    label: str = "canaries",
) -> SampledSet:
    """Sample ``num`` canaries; reject those too similar to each other or to ``avoid``."""
    torch.manual_seed(seed)
    device = next(generator.parameters()).device
    bos = _bos_id(generator_tokenizer)
    pad = generator_tokenizer.pad_token_id
    pad = pad if pad is not None else generator_tokenizer.eos_token_id
    out, accepted_sets, attempts = SampledSet(), [], 0
    while len(out.tokens) < num:
        if attempts >= max_attempts:
            raise CanarySamplingError(
                f"{label}: accepted only {len(out.tokens)} of {num} canaries in "
                f"{attempts} attempts (max_attempts); rejections: {dict(out.rejected)}. "
                "Raise max_attempts or jaccard_threshold, or lower length."
            )
        n = min(batch_size, max_attempts - attempts)
        prompt = torch.full((n, 1), bos, dtype=torch.long, device=device)
        with torch.inference_mode():
            generated = generator.generate(
                input_ids=prompt,
                attention_mask=torch.ones_like(prompt),
                do_sample=True,
                temperature=temperature,
                top_k=0,
                top_p=1.0,
                max_new_tokens=length + margin,
                pad_token_id=pad,
            )[:, 1:].tolist()
        attempts += n
        for sample in generated:
            if len(out.tokens) >= num:
                break
            tokens, text, reason = check_candidate(
                sample, generator_tokenizer, target_tokenizer, length
            )
            if tokens is not None:
                token_set = set(tokens)
                if any(jaccard(token_set, s) > jaccard_threshold for s in accepted_sets):
                    reason = "jaccard_same_set"
                elif any(jaccard(token_set, s) > jaccard_threshold for s in avoid):
                    reason = "jaccard_other_set"
            if reason:
                out.rejected[reason] += 1
                continue
            out.tokens.append(tokens)
            out.texts.append(text)
            accepted_sets.append(set(tokens))
        logger.info(
            "%s: %d/%d accepted after %d samples (rejected %s)",
            label, len(out.tokens), num, attempts, dict(out.rejected),
        )
    return out
