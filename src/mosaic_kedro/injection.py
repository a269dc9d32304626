"""Injecting canaries and their copies into host books (SPEC §3).

Member canary i and all of its pieces go into host book i. Pieces are inserted as text
followed by a space at distinct word boundaries (starts of words). Boundaries are drawn
from a generator seeded by ``(seed, book_id)`` only: the book's boundaries are put in
one seeded random order and piece j goes to the j-th of them, so every condition of a
seed uses the same boundaries for its first pieces (conditions differ only in what was
injected). Nothing here imports Kedro.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

_WORD_START = re.compile(r"(?:(?<=\s)|^)\S")


class InjectionError(ValueError):
    """Pieces cannot be placed as asked (too few word boundaries, ...)."""


@dataclass(frozen=True)
class Piece:
    """One text to inject, with what it is."""

    canary_id: str
    piece_kind: str  # "original" or "copy"
    copy_index: int
    text: str


@dataclass(frozen=True)
class Placement:
    """Where a piece landed in the injected text."""

    piece: Piece
    book_id: str
    char_offset: int


def word_boundaries(text: str) -> list[int]:
    """Character offsets where a word starts (after whitespace, or at the start)."""
    return [m.start() for m in _WORD_START.finditer(text)]


def placement_rng(seed: int, book_id: str) -> np.random.Generator:
    """The generator of one book's placements: depends on (seed, book) only."""
    return np.random.default_rng([int(seed), zlib.crc32(str(book_id).encode())])


def boundary_order(text: str, seed: int, book_id: str) -> list[int]:
    """The book's word boundaries in the seeded random order pieces take them."""
    bounds = np.asarray(word_boundaries(text))
    return [int(b) for b in placement_rng(seed, book_id).permutation(bounds)]


def inject_book(
    text: str, pieces: Sequence[Piece], *, seed: int, book_id: str, separator: str = " ",
) -> tuple[str, list[Placement]]:
    """Insert every piece (followed by ``separator``) at its seeded word boundary.

    Returns the new text and the placements with offsets in the new text.
    """
    order = boundary_order(text, seed, book_id)
    if len(pieces) > len(order):
        raise InjectionError(
            f"book {book_id} has {len(order)} word boundaries but {len(pieces)} pieces "
            "must go in; use longer host books (preparation.books.host_chars)"
        )
    chosen = sorted(zip(order[: len(pieces)], range(len(pieces)), strict=True))
    parts, placements, cursor, shift = [], [], 0, 0
    for boundary, j in chosen:
        parts.append(text[cursor:boundary])
        placements.append(Placement(pieces[j], book_id, boundary + shift))
        parts.append(pieces[j].text + separator)
        shift += len(pieces[j].text) + len(separator)
        cursor = boundary
    parts.append(text[cursor:])
    return "".join(parts), placements


def remove_pieces(text: str, placements: Sequence[Placement], separator: str = " ") -> str:
    """Undo :func:`inject_book` from its placements (what the tests check against)."""
    out, cursor = [], 0
    for p in sorted(placements, key=lambda p: p.char_offset):
        out.append(text[cursor:p.char_offset])
        cursor = p.char_offset + len(p.piece.text) + len(separator)
    out.append(text[cursor:])
    return "".join(out)
