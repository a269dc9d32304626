"""Fuzzy duplicates and other perturbations of token sequences (SPEC §2).

Pure functions over token lists; models and tokenizers are passed in. Nothing here
imports Kedro.

Replacement strategies produce, for every (canary, position), a list of candidates;
a candidate is a list of *target* token ids (a candidate decoded by another tokenizer
may re-encode to several target tokens):

- ``clm`` (:func:`clm_candidates`, offline stand-in, not the paper's): the generator's
  top-k next-token predictions given the left context; one forward pass per canary
  gives every position, batched across canaries.
- ``mlm`` (:func:`mlm_candidates`, the paper's): a masked LM's top-k predictions for the
  position masked in the decoded text; all (canary, position) pairs batched together.
- ``mlm_random`` / ``random``: uniform draws from the MLM / target vocabulary
  (:class:`VocabSampler`), drawn per replacement.

Candidates are computed once per canary set and shared by every R and copy.
:func:`apply_replacements` applies edits from the highest position down (the paper's
code used a running offset in random order, which shifted later edits when a
candidate was several tokens long).
"""

from __future__ import annotations

import functools
import itertools
import logging
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np
import torch
from rapidfuzz.distance import Levenshtein as _rf_levenshtein

logger = logging.getLogger(__name__)

Tokens = list[int]
Candidates = list[list[Tokens]]  # position -> candidates -> target tokens

REPLACEMENT_STRATEGIES = ("mlm", "clm", "mlm_random", "random")


class PerturbationError(ValueError):
    """A perturbation cannot be made as asked (too many positions, unreachable tau, ...)."""


@dataclass
class PerturbedCopy:
    """One perturbed copy of a canary.

    ``levenshtein`` is the edit distance of ``tokens`` to the canary; ``tau`` the
    achieved normalized Kendall-tau distance of a ``shuffle`` copy (None otherwise).
    """

    tokens: Tokens
    replaced_positions: list[int] = field(default_factory=list)
    levenshtein: int = 0
    tau: float | None = None


# --------------------------------------------------------------------------- metrics


def levenshtein(a: Sequence[int], b: Sequence[int]) -> int:
    """Token-level edit distance (insertions, deletions, substitutions cost 1).

    A thin wrapper around ``rapidfuzz.distance.Levenshtein.distance``, which compares
    sequences of hashables element by element (token ids here).
    """
    return int(_rf_levenshtein.distance(list(a), list(b)))


def seen_distance(
    target_tokenizer: Any, original_tokens: Sequence[int], copy_tokens: Sequence[int],
) -> tuple[Tokens, int]:
    """The tokens the model sees for an injected copy, and their distance to the canary.

    A copy is injected as text, ``decode(copy_tokens)``, which the target tokenizer
    encodes again (without special tokens), not necessarily into ``copy_tokens``: an
    edited token list is often not the canonical tokenization of its own text. Returns
    ``(encode(decode(copy_tokens)), levenshtein(original_tokens, those tokens))``.
    """
    seen = _reencode(target_tokenizer, target_tokenizer.decode(list(copy_tokens)))
    return seen, levenshtein(original_tokens, seen)


def kendall_tau_distance(order: Sequence[int]) -> float:
    """Normalized Kendall-tau distance of a permutation of ``range(L)`` to the identity."""
    n = len(order)
    if n < 2:
        return 0.0
    arr = np.asarray(order)
    discordant = int(sum(int((arr[i + 1:] < arr[i]).sum()) for i in range(n - 1)))
    return discordant / (n * (n - 1) / 2)


# --------------------------------------------------------------------------- positions


def choose_positions(
    rng: np.random.Generator, length: int, replaced: int, *, uniform_spread: bool = False,
    allowed: Sequence[int] | None = None,
) -> list[int]:
    """``replaced`` distinct positions of ``range(length)``, sorted.

    ``uniform_spread`` draws one position per equal segment. ``allowed`` restricts the
    draw (positions that have candidates).
    """
    pool = list(range(length)) if allowed is None else sorted(set(allowed))
    if replaced > len(pool):
        raise PerturbationError(
            f"replaced_tokens = {replaced} exceeds the {len(pool)} replaceable positions "
            f"of a canary of {length} tokens; lower replaced_tokens"
        )
    if not uniform_spread:
        return sorted(int(p) for p in rng.choice(pool, size=replaced, replace=False))
    bounds = np.linspace(0, len(pool), replaced + 1).astype(int)
    return [int(pool[rng.integers(lo, hi)]) for lo, hi in itertools.pairwise(bounds)]


def apply_replacements(tokens: Sequence[int], replacements: dict[int, Sequence[int]]) -> Tokens:
    """Replace ``tokens[p]`` by the token list ``replacements[p]``, highest position first.

    Going from the highest position down keeps every lower position where it was drawn,
    whatever the length of the replacements above it.
    """
    out = list(tokens)
    for position in sorted(replacements, reverse=True):
        if not 0 <= position < len(tokens):
            raise PerturbationError(f"position {position} outside a canary of {len(tokens)}")
        out[position:position + 1] = list(replacements[position])
    return out


# --------------------------------------------------------------------------- candidates


def _target_offsets(target_tokenizer: Any, tokens: Sequence[int]) -> tuple[str, list[int]]:
    """The decoded text and the character start of every target token in it."""
    text = target_tokenizer.decode(list(tokens))
    starts, previous = [], 0
    for i in range(len(tokens)):
        starts.append(min(max(previous, starts[-1] if starts else 0), len(text)))
        previous = len(target_tokenizer.decode(list(tokens[: i + 1])))
    return text, starts


def _segments(target_tokenizer: Any, tokens: Sequence[int]) -> list[str]:
    text, starts = _target_offsets(target_tokenizer, tokens)
    ends = [*starts[1:], len(text)]
    return [text[s:e] for s, e in zip(starts, ends, strict=True)]


def _reencode(target_tokenizer: Any, text: str) -> Tokens:
    return list(target_tokenizer(text, add_special_tokens=False)["input_ids"])


def _bos(tokenizer: Any) -> int:
    for candidate in (tokenizer.bos_token_id, tokenizer.eos_token_id, tokenizer.pad_token_id):
        if candidate is not None:
            return int(candidate)
    return 0


class _Reencoder:
    """Memoized ``id -> (decoded text, target tokens)`` (the same ids recur a lot)."""

    def __init__(self, decode: Callable[[int], str], target_tokenizer: Any) -> None:
        self._decode, self._target, self._cache = decode, target_tokenizer, {}

    def __call__(self, token_id: int) -> tuple[str, Tokens]:
        hit = self._cache.get(token_id)
        if hit is None:
            text = self._decode(token_id)
            hit = (text, _reencode(self._target, text) if text.strip() else [])
            self._cache[token_id] = hit
        return hit


def _collect(
    ranked: Sequence[int], lookup: Callable[[int], tuple[str, Tokens]], original: str,
    top_k: int, special: set[int],
) -> list[Tokens]:
    """Keep the first ``top_k`` usable candidates (not special, not the original).

    A candidate must start with whitespace exactly when the original piece does, so a
    replaced word stays a separate word (and a word piece stays glued).
    """
    out, seen = [], {original}
    spaced = original[:1].isspace()
    for token_id in ranked:
        if token_id in special:
            continue
        text, encoded = lookup(token_id)
        if not encoded or text in seen or text[:1].isspace() != spaced:
            continue
        seen.add(text)
        out.append(encoded)
        if len(out) == top_k:
            break
    return out


@torch.inference_mode()
def clm_candidates(
    model: Any, generator_tokenizer: Any, target_tokenizer: Any,
    canaries: Sequence[Sequence[int]], *, top_k: int, batch_size: int = 16,
) -> list[Candidates]:
    """Top-k next-token candidates of a causal LM for every position of every canary.

    Each canary is decoded and cut at its target-token boundaries; each piece is encoded
    with the generator's tokenizer, so every target boundary is a generator boundary.
    One forward pass per canary (batched) then gives the prediction for every position;
    the original piece is excluded, each candidate is decoded by the generator tokenizer
    and re-encoded in the target tokenizer.
    """
    device = next(model.parameters()).device
    special = set(generator_tokenizer.all_special_ids)
    bos = _bos(generator_tokenizer)
    prepared = []
    for tokens in canaries:
        segments = _segments(target_tokenizer, tokens)
        ids, starts = [bos], []
        for piece in segments:
            starts.append(len(ids))
            ids.extend(generator_tokenizer(piece, add_special_tokens=False)["input_ids"])
        prepared.append((segments, ids, starts))
    fetch = min(top_k * 3 + 8, len(generator_tokenizer))
    lookup = _Reencoder(generator_tokenizer.decode, target_tokenizer)
    out: list[Candidates] = []
    for lo in range(0, len(prepared), batch_size):
        batch = prepared[lo:lo + batch_size]
        width = max(len(ids) for _, ids, _ in batch)
        ids = torch.full((len(batch), width), bos, dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for row, (_, seq, _) in enumerate(batch):
            ids[row, : len(seq)] = torch.as_tensor(seq)
            mask[row, : len(seq)] = 1
        logits = model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits
        ranked = logits.float().topk(fetch, dim=-1).indices.cpu()
        for row, (segments, _, starts) in enumerate(batch):
            out.append([
                _collect(ranked[row, start - 1].tolist(), lookup, piece, top_k, special)
                for piece, start in zip(segments, starts, strict=True)
            ])
    return out


@torch.inference_mode()
def mlm_candidates(
    model: Any, mlm_tokenizer: Any, target_tokenizer: Any,
    canaries: Sequence[Sequence[int]], *, top_k: int, batch_size: int = 64,
) -> list[Candidates]:
    """Top-k masked-LM candidates for every position of every canary (the paper's method).

    Position ``p`` is masked in the decoded text (``prefix + mask + suffix``); all
    (canary, position) pairs are batched together, one pass each.
    """
    if mlm_tokenizer.mask_token is None:
        raise PerturbationError("the masked LM's tokenizer has no mask token")
    device = next(model.parameters()).device
    special = set(mlm_tokenizer.all_special_ids)
    jobs = []  # (canary, position, original piece, mlm input ids)
    for c, tokens in enumerate(canaries):
        segments = _segments(target_tokenizer, tokens)
        for p, piece in enumerate(segments):
            prefix = "".join(segments[:p])
            suffix = "".join(segments[p + 1:])
            lead = piece[: len(piece) - len(piece.lstrip())]
            text = prefix + lead + mlm_tokenizer.mask_token + suffix
            jobs.append((c, p, piece, lead, mlm_tokenizer(text)["input_ids"]))
    out: list[Candidates] = [[[] for _ in tokens] for tokens in canaries]
    pad = mlm_tokenizer.pad_token_id if mlm_tokenizer.pad_token_id is not None else 0
    fetch = min(top_k * 3 + 8, len(mlm_tokenizer))

    def with_lead(lead: str) -> Callable[[int], str]:
        def decode(token_id: int) -> str:
            text = mlm_tokenizer.decode([token_id])
            return text if not lead or text.startswith(lead) else lead + text.lstrip()
        return decode

    lookups = {lead: _Reencoder(with_lead(lead), target_tokenizer)
               for lead in {job[3] for job in jobs}}
    for lo in range(0, len(jobs), batch_size):
        batch = jobs[lo:lo + batch_size]
        width = max(len(j[4]) for j in batch)
        ids = torch.full((len(batch), width), pad, dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for row, job in enumerate(batch):
            ids[row, : len(job[4])] = torch.as_tensor(job[4])
            mask[row, : len(job[4])] = 1
        logits = model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits
        where = (ids == mlm_tokenizer.mask_token_id).to(device)
        rows, cols = where.nonzero(as_tuple=True)
        ranked = logits[rows, cols].float().topk(fetch, dim=-1).indices.cpu()
        for k, row in enumerate(rows.tolist()):
            c, p, piece, lead, _ = batch[row]
            out[c][p] = _collect(ranked[k].tolist(), lookups[lead], piece, top_k, special)
    return out


@dataclass
class VocabSampler:
    """Uniform draws from a vocabulary (``random``: the target's; ``mlm_random``: the MLM's).

    With ``source_tokenizer`` set, a drawn id is decoded by it and re-encoded in the
    target tokenizer (possibly to several tokens).
    """

    target_tokenizer: Any
    source_tokenizer: Any | None = None

    def __post_init__(self) -> None:
        """Precompute the ids that may be drawn (not special)."""
        source = self.source_tokenizer or self.target_tokenizer
        special = set(source.all_special_ids)
        self._ids = np.array([i for i in range(len(source)) if i not in special])

    def draw(self, rng: np.random.Generator, original: Sequence[int]) -> Tokens:
        """One candidate different from ``original`` (a list of target tokens)."""
        for _ in range(100):
            token_id = int(rng.choice(self._ids))
            if self.source_tokenizer is None:
                candidate = [token_id]
            else:
                text = self.source_tokenizer.decode([token_id])
                candidate = _reencode(self.target_tokenizer, text) if text.strip() else []
            if candidate and candidate != list(original):
                return candidate
        raise PerturbationError("could not draw a usable random candidate in 100 tries")


# --------------------------------------------------------------------------- copies


def replacement_copies(
    tokens: Sequence[int], *, replaced_tokens: int, num_copies: int, rng: np.random.Generator,
    candidates: Candidates | None = None, sampler: VocabSampler | None = None,
    replace_same_indices: bool = False, uniform_spread: bool = False,
) -> list[PerturbedCopy]:
    """``num_copies`` copies with ``replaced_tokens`` positions replaced.

    Replacements come from ``candidates`` (uniform over each position's list) or from
    ``sampler``. Each copy draws fresh positions unless ``replace_same_indices``.
    """
    if (candidates is None) == (sampler is None):
        raise ValueError("pass exactly one of candidates and sampler")
    if replaced_tokens > len(tokens):
        raise PerturbationError(
            f"replaced_tokens = {replaced_tokens} is larger than the canary length "
            f"{len(tokens)}; lower replaced_tokens"
        )
    allowed = None if candidates is None else [p for p, c in enumerate(candidates) if c]
    fixed = None
    copies = []
    for _ in range(num_copies):
        if fixed is None or not replace_same_indices:
            fixed = choose_positions(rng, len(tokens), replaced_tokens,
                                     uniform_spread=uniform_spread, allowed=allowed)
        edits = {}
        for p in fixed:
            if candidates is not None:
                options = candidates[p]
                edits[p] = options[int(rng.integers(len(options)))]
            else:
                edits[p] = sampler.draw(rng, [tokens[p]])
        new = apply_replacements(tokens, edits)
        copies.append(PerturbedCopy(new, list(fixed), levenshtein(tokens, new)))
    return copies


def _distinct_random_tokens(rng: np.random.Generator, ids: np.ndarray, count: int) -> Tokens:
    return [int(t) for t in rng.choice(ids, size=count, replace=False)]


def insertion_copies(
    tokens: Sequence[int], *, ngram: int, inserted: int, num_copies: int,
    vocab_ids: Sequence[int], rng: np.random.Generator,
) -> list[PerturbedCopy]:
    """Copies with ``inserted`` distinct random tokens between consecutive n-grams.

    Length of each copy: ``L + inserted * (ceil(L / ngram) - 1)``.
    """
    ids = np.asarray(vocab_ids)
    grams = [list(tokens[i:i + ngram]) for i in range(0, len(tokens), ngram)]
    copies = []
    for _ in range(num_copies):
        out, positions = list(grams[0]), []
        for gram in grams[1:]:
            positions.extend(range(len(out), len(out) + inserted))
            out += _distinct_random_tokens(rng, ids, inserted) + gram
        copies.append(PerturbedCopy(out, positions, levenshtein(tokens, out)))
    expected = len(tokens) + inserted * (math.ceil(len(tokens) / ngram) - 1)
    assert all(len(c.tokens) == expected for c in copies)
    return copies


def scrambled_pieces(tokens: Sequence[int], *, ngram: int, num_copies: int) -> list[PerturbedCopy]:
    """``num_copies`` copies of each consecutive n-gram of the canary (each its own piece)."""
    grams = [list(tokens[i:i + ngram]) for i in range(0, len(tokens), ngram)]
    return [
        PerturbedCopy(gram, [], levenshtein(tokens, gram))
        for _ in range(num_copies) for gram in grams
    ]


def block_sizes(length: int, ngram: int) -> list[int]:
    """Sizes of the consecutive blocks a canary of ``length`` is cut into."""
    return [min(ngram, length - i) for i in range(0, length, ngram)]


def _block_structure(length: int, ngram: int) -> tuple[int, int]:
    """``(full, rest)``: the number of blocks of ``ngram`` tokens and the size of the
    shorter last block (0 when ``ngram`` divides ``length``)."""
    sizes = block_sizes(length, ngram)
    full = sum(1 for s in sizes if s == ngram)
    rest = next((s for s in sizes if s != ngram), 0)
    return full, rest


def _discordant(sizes: Sequence[int], order: Sequence[int]) -> int:
    total = 0
    for i, a in enumerate(order):
        for b in order[i + 1:]:
            if b < a:
                total += sizes[a] * sizes[b]
    return total


@functools.lru_cache(maxsize=256)
def _reachable_counts(length: int, ngram: int) -> tuple[int, ...]:
    """Every discordant-pair count a block permutation reaches, sorted.

    The f full blocks (size n) contribute n^2 per inversion among them, I in
    [0, C(f, 2)]; a shorter last block of size r contributes n * r per full block
    placed after it, k in [0, f].
    """
    full, rest = _block_structure(length, ngram)
    values = {
        inversions * ngram * ngram + k * ngram * rest
        for inversions in range(full * (full - 1) // 2 + 1)
        for k in range(full + 1 if rest else 1)
    }
    return tuple(sorted(values))


@functools.lru_cache(maxsize=256)
def reachable_taus(length: int, ngram: int) -> list[float]:
    """Every normalized Kendall-tau distance a block permutation can reach, sorted."""
    pairs = length * (length - 1) // 2
    if pairs == 0:
        return [0.0]
    return [d / pairs for d in _reachable_counts(length, ngram)]


def _band(length: int, tau: float, width: float) -> tuple[int, int]:
    """Discordant-pair counts ``[lo, hi]`` with ``tau <= count / C(L, 2) < tau + width``.

    Exact: ``tau`` and ``width`` are read as the decimals they print as (0.1 is 1/10).
    """
    if not 0 <= tau <= 1:
        raise PerturbationError(f"shuffle tau = {tau} must lie in [0, 1]")
    if not width > 0:
        raise PerturbationError(f"shuffle width = {width} must be positive")
    pairs = length * (length - 1) // 2
    low = Fraction(str(float(tau)))
    return math.ceil(low * pairs), math.ceil((low + Fraction(str(float(width)))) * pairs) - 1


@functools.lru_cache(maxsize=64)
def _mahonian(m: int) -> tuple[int, ...]:
    """Number of permutations of ``m`` items with I inversions, for every I."""
    row = [1]
    for k in range(2, m + 1):  # the k-th item adds 0 .. k-1 inversions
        prefix = [0, *itertools.accumulate(row)]
        row = [prefix[min(j + 1, len(row))] - prefix[max(0, j - k + 1)]
               for j in range(len(row) + k - 1)]
    return tuple(row)


@functools.lru_cache(maxsize=1024)
def orders_in_band(length: int, ngram: int, tau: float, width: float = 0.01) -> int:
    """Exact number of block orders whose Kendall-tau distance lies in ``[tau, tau + width)``.

    The full blocks' relative order with I inversions (Mahonian number M(f, I) of them)
    and the position of the short last block (k full blocks after it) fix the
    discordant count ``n^2 I + n r k``; every (order, position) pair is one block order.
    """
    lo, hi = _band(length, tau, width)
    full, rest = _block_structure(length, ngram)
    total = 0
    for inversions, count in enumerate(_mahonian(max(full, 1))):
        for k in range(full + 1 if rest else 1):
            if lo <= inversions * ngram * ngram + k * ngram * rest <= hi:
                total += count
    return total


def check_tau_reachable(length: int, ngram: int, tau: float, width: float = 0.01) -> list[float]:
    """The reachable Kendall-tau distances in ``[tau, tau + width)``, sorted.

    Raises:
        PerturbationError: when no permutation of blocks of ``ngram`` tokens lands in
            the band (the message lists the closest reachable values).
    """
    lo, hi = _band(length, tau, width)
    counts = _reachable_counts(length, ngram)
    pairs = length * (length - 1) // 2
    inside = [d for d in counts if lo <= d <= hi]
    if not inside:
        closest = sorted(counts, key=lambda d: max(lo - d, d - hi))[:3]
        shown = sorted(round(d / pairs, 4) if pairs else 0.0 for d in closest)
        raise PerturbationError(
            f"shuffle tau = {tau} is not reachable with blocks of {ngram} tokens in a "
            f"canary of {length}: no block order has its Kendall-tau distance in "
            f"[{tau}, {tau} + {width}); the closest reachable values are {shown}"
        )
    return [d / pairs for d in inside] if pairs else [0.0]


_ENUMERATE_BELOW = 4096  # bands with at most this many orders may be listed exactly


@dataclass
class ShuffleResult:
    """The copies of one canary made by :func:`shuffle_copies`.

    ``distinct``: distinct block orders among ``copies``; ``available``: block orders
    whose Kendall-tau distance lies in the band (exact, :func:`orders_in_band`). When
    ``distinct < len(copies)`` some copies repeat an order: all ``available`` ones were
    used (``available < num_copies``) or, rarely, the search ran out of steps.
    """

    copies: list[PerturbedCopy]
    distinct: int
    available: int

    @property
    def all_distinct(self) -> bool:
        """Whether every copy is its own block order."""
        return self.distinct == len(self.copies)


@functools.lru_cache(maxsize=256)
def _warn_few_orders(length: int, ngram: int, tau: float, width: float, available: int,
                     num_copies: int) -> None:
    """Warn once per setting (every canary of a length would repeat it)."""
    logger.warning(
        "shuffle: only %d distinct block order(s) of %d-token blocks in a canary of %d "
        "tokens have tau in [%s, %s + %s); %d copies per canary repeat them",
        available, ngram, length, tau, tau, width, num_copies,
    )


@functools.lru_cache(maxsize=1024)
def _band_cells(length: int, ngram: int, lo: int, hi: int) -> tuple[tuple[int, int], ...]:
    """The (full-block inversions I, full blocks after the short one k) with count in band."""
    full, rest = _block_structure(length, ngram)
    return tuple(
        (inversions, k)
        for inversions in range(full * (full - 1) // 2 + 1)
        for k in range(full + 1 if rest else 1)
        if lo <= inversions * ngram * ngram + k * ngram * rest <= hi
    )


def _nearest_cell(
    order: Sequence[int], discordant: int, sizes: Sequence[int], lo: int, hi: int,
    rng: np.random.Generator,
) -> tuple[list[int], tuple[int, int]]:
    """The current (I, k) of ``order`` and the nearest in-band one (random tie-break)."""
    m, ngram, rest = len(order) - 1, sizes[0], sizes[-1]
    k = m - list(order).index(m)
    state = [(discordant - ngram * rest * k) // (ngram * ngram), k]
    cells = _band_cells(sum(sizes), ngram, lo, hi)
    target = min(cells, key=lambda c: (abs(c[0] - state[0]) + abs(c[1] - k), rng.random()))
    return state, target


def _walk_to_band(
    order: list[int], discordant: int, sizes: Sequence[int], lo: int, hi: int,
    rng: np.random.Generator, budget: int,
) -> tuple[int, int]:
    """Random adjacent block transpositions toward ``[lo, hi]``; mutates ``order``.

    Each step swaps a random adjacent pair that brings the discordant count closer to
    the band (random probes first, then a full scan). With a shorter last block, every
    move may overshoot (steps of n^2 and n r); the walk then heads for the nearest
    reachable (I, k) in the band (I: inversions among the full blocks, k: full blocks
    after the short one; each adjacent swap changes one of them by 1). Returns the
    discordant count and the steps used.
    """
    m = len(order) - 1
    ngram = sizes[0]
    short = m if m >= 0 and sizes[-1] != ngram else -1
    target: tuple[int, int] | None = None
    state = [0, 0]  # (I, k), tracked once heading for a target

    def sign(i: int) -> int:
        return 1 if order[i] < order[i + 1] else -1

    def band_gap(i: int | None) -> int:
        d = discordant
        if i is not None:
            a, b = order[i], order[i + 1]
            d += sign(i) * sizes[a] * sizes[b]
        return max(lo - d, d - hi, 0)

    def cell_gap(i: int | None) -> int:
        inv, k = state
        if i is not None:
            if short in (order[i], order[i + 1]):
                k += sign(i)
            else:
                inv += sign(i)
        return abs(inv - target[0]) + abs(k - target[1])

    steps = 0
    probes: list[int] = []
    while band_gap(None) and steps < budget and m > 0:
        steps += 1
        gap = band_gap if target is None else cell_gap
        now = gap(None)
        chosen = None
        for _ in range(2 * m):
            if not probes:
                probes = rng.integers(m, size=1024).tolist()
            i = probes.pop()
            if gap(i) < now:
                chosen = i
                break
        if chosen is None:
            better = [i for i in range(m) if gap(i) < now]
            if better:
                chosen = int(rng.choice(better))
            elif target is None and short >= 0:  # every move overshoots: aim at a cell
                state[:], target = _nearest_cell(order, discordant, sizes, lo, hi, rng)
                steps -= 1
                continue
            else:
                chosen = int(rng.integers(m))
        if target is not None:
            if short in (order[chosen], order[chosen + 1]):
                state[1] += sign(chosen)
            else:
                state[0] += sign(chosen)
        a, b = order[chosen], order[chosen + 1]
        discordant += sign(chosen) * sizes[a] * sizes[b]
        order[chosen], order[chosen + 1] = b, a
    return discordant, steps


def _band_orders(length: int, ngram: int, lo: int, hi: int) -> list[tuple[int, ...]]:
    """Every block order with its discordant count in ``[lo, hi]`` (small bands only).

    Full blocks ``0 .. f-1`` in an order with I inversions (from its Lehmer code), the
    short block ``f`` (if any) with k full blocks after it.
    """
    full, rest = _block_structure(length, ngram)

    def codes(i: int, left: int) -> Any:
        if i == full:
            if left == 0:
                yield []
            return
        room = full - 1 - i
        for c in range(min(room, left) + 1):
            if left - c <= (room * (room - 1)) // 2:
                for tail in codes(i + 1, left - c):
                    yield [c, *tail]

    out = []
    for inversions, k in _band_cells(length, ngram, lo, hi):
        for code in codes(0, inversions):
            pool = list(range(full))
            order = [pool.pop(c) for c in code]
            if rest:
                order.insert(full - k, full)
            out.append(tuple(order))
    return out


def shuffle_copies(
    tokens: Sequence[int], *, ngram: int, tau: float, num_copies: int,
    rng: np.random.Generator, width: float = 0.01, max_steps: int = 10_000,
) -> ShuffleResult:
    """Block permutations whose normalized Kendall-tau distance lies in ``[tau, tau + width)``.

    The canary is cut into consecutive blocks of ``ngram`` tokens (the last may be
    shorter) and the blocks are permuted; the distance is the number of discordant
    token pairs over ``L (L - 1) / 2`` (the paper: achieved tau in [tau, tau + 0.01)).
    Each copy searches by random adjacent block transpositions toward the band,
    from the identity (tau <= 0.5) or the reversed order, for at most ``max_steps``
    steps, and records its achieved ``tau``.

    Copies are distinct block orders where the band holds enough of them: a copy that
    lands on an order already used keeps walking (a random transposition, then back
    into the band) until it finds a new one, within ``max_steps``; in a band of at most
    4096 orders a copy that still finds none takes an unused order drawn uniformly
    from the exact list of the band's orders. When the band holds
    fewer orders than ``num_copies`` (e.g. blocks of 10 in 100 tokens at tau = 0.9:
    only the reversal), the copies cycle through all of them and a warning says so;
    :class:`ShuffleResult` carries ``distinct`` and ``available`` for the caller.

    Raises:
        PerturbationError: when no block order lands in the band
            (:func:`check_tau_reachable`), or the search for the first copy does not
            reach it within ``max_steps``.
    """
    length = len(tokens)
    check_tau_reachable(length, ngram, tau, width)
    lo, hi = _band(length, tau, width)
    available = orders_in_band(length, ngram, tau, width)
    sizes = block_sizes(length, ngram)
    starts = [0, *itertools.accumulate(sizes[:-1])]
    pairs = length * (length - 1) // 2
    start = list(range(len(sizes))) if tau <= 0.5 else list(range(len(sizes)))[::-1]
    start_discordant = _discordant(sizes, start)
    found: list[tuple[tuple[int, ...], int]] = []
    seen: set[tuple[int, ...]] = set()
    orders: list[tuple[tuple[int, ...], int]] = []
    for j in range(num_copies):
        if len(found) >= available:
            orders.append(found[j % len(found)])
            continue
        order = list(start)
        discordant, used = _walk_to_band(order, start_discordant, sizes, lo, hi, rng, max_steps)
        if not lo <= discordant <= hi:
            raise PerturbationError(
                f"shuffle search stopped at tau {discordant / pairs:.4f} (target "
                f"[{tau}, {tau} + {width}), blocks of {ngram}) after {max_steps} steps; "
                f"raise max_search_steps"
            )
        while tuple(order) in seen and used < max_steps:
            i = int(rng.integers(len(order) - 1))
            a, b = order[i], order[i + 1]
            discordant += sizes[a] * sizes[b] if a < b else -sizes[a] * sizes[b]
            order[i], order[i + 1] = b, a
            discordant, more = _walk_to_band(order, discordant, sizes, lo, hi, rng,
                                             max_steps - used - 1)
            used += 1 + more
        key = tuple(order)
        if lo <= discordant <= hi and key not in seen:
            seen.add(key)
            found.append((key, discordant))
            orders.append((key, discordant))
        elif available <= _ENUMERATE_BELOW:  # out of steps: draw an unused order exactly
            unused = [o for o in _band_orders(length, ngram, lo, hi) if o not in seen]
            key = unused[int(rng.integers(len(unused)))]
            discordant = _discordant(sizes, key)
            seen.add(key)
            found.append((key, discordant))
            orders.append((key, discordant))
        else:  # out of steps: repeat an order already found
            orders.append(found[j % len(found)])
    distinct = len({key for key, _ in orders})
    if distinct < num_copies:
        if available < num_copies:
            _warn_few_orders(length, ngram, float(tau), float(width), available, num_copies)
        else:
            logger.warning(
                "shuffle: %d distinct of %d copies (%d orders in the band; the search "
                "ran out of its %d steps); raise max_search_steps",
                distinct, num_copies, available, max_steps,
            )
    copies = []
    for key, discordant in orders:
        new_tokens = [t for b in key for t in tokens[starts[b]:starts[b] + sizes[b]]]
        copies.append(PerturbedCopy(new_tokens, [], levenshtein(tokens, new_tokens),
                                    tau=discordant / pairs if pairs else 0.0))
    return ShuffleResult(copies, distinct, available)


# --------------------------------------------------------------------------- paraphrase

PARAPHRASE_PROMPT = (
    "Paraphrase the following text. Keep its meaning and roughly its length. "
    "Answer with the paraphrase only.\n\nText: {text}"
)
_PREAMBLE = re.compile(r"^(sure[,!.]?|here('s| is)[^:\n]*:|paraphrase[^:\n]*:)\s*", re.I)


def clean_paraphrase(raw: str) -> str:
    """Strip preambles ("Here is the paraphrase:"), quotes and surrounding whitespace."""
    text = raw.strip()
    for _ in range(3):
        text = _PREAMBLE.sub("", text).strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        text = text[1:-1].strip()
    return " ".join(text.split())


@torch.inference_mode()
def paraphrase_texts(
    model: Any, tokenizer: Any, text: str, *, num_copies: int, max_new_tokens: int,
    temperature: float = 0.6, top_p: float = 0.9, min_chars: int = 20,
    max_attempts: int = 3, seed: int = 0, prompt: str = PARAPHRASE_PROMPT,
) -> list[str]:
    """``num_copies`` distinct paraphrases of ``text`` from an instruction-tuned LM.

    The prompt goes through the tokenizer's chat template; each round samples the
    missing number of answers, cleans them and keeps distinct ones of at least
    ``min_chars`` characters that differ from ``text``.

    Raises:
        PerturbationError: after ``max_attempts`` rounds, listing what was produced.
    """
    if getattr(tokenizer, "chat_template", None) is None:
        raise PerturbationError(
            "the paraphrase model's tokenizer has no chat template; use an "
            "instruction-tuned model (e.g. SmolLM2-135M-Instruct, Mistral-7B-Instruct)"
        )
    messages = [{"role": "user", "content": prompt.format(text=text)}]
    ids = tokenizer.apply_chat_template(messages, add_generation_prompt=True,
                                        return_tensors="pt", return_dict=True)["input_ids"]
    device = next(model.parameters()).device
    ids = ids.to(device)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    kept: list[str] = []
    produced: list[str] = []
    torch.manual_seed(seed)
    for _ in range(max_attempts):
        missing = num_copies - len(kept)
        if missing <= 0:
            break
        outputs = model.generate(
            input_ids=ids.expand(missing, -1), attention_mask=torch.ones_like(ids).expand(missing, -1),
            do_sample=True, temperature=temperature, top_p=top_p, top_k=0,
            max_new_tokens=max_new_tokens, pad_token_id=pad,
        )[:, ids.shape[1]:]
        for row in outputs.tolist():
            answer = clean_paraphrase(tokenizer.decode(row, skip_special_tokens=True))
            produced.append(answer)
            if len(answer) >= min_chars and answer != text.strip() and answer not in kept:
                kept.append(answer)
    if len(kept) < num_copies:
        shown = "; ".join(repr(p[:80]) for p in produced[:10])
        raise PerturbationError(
            f"paraphrase: got {len(kept)} usable of {num_copies} paraphrases in "
            f"{max_attempts} attempts; produced: {shown}"
        )
    return kept[:num_copies]


def paraphrase_copies(
    paraphrases: Sequence[str], tokens: Sequence[int], target_tokenizer: Any,
) -> list[PerturbedCopy]:
    """Paraphrase texts as copies in the target tokenizer (no special tokens)."""
    out = []
    for text in paraphrases:
        encoded = _reencode(target_tokenizer, text)
        out.append(PerturbedCopy(encoded, [], levenshtein(tokens, encoded)))
    return out
