"""Nodes of the ``injection`` pipeline (SPEC §3)."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd
from pydantic import Field

from mosaic_kedro import injection as inj
from mosaic_kedro.grid import group_members
from mosaic_kedro.params import StrictParams, parse_params

logger = logging.getLogger(__name__)

MANIFEST_COLUMNS = ["canary_id", "piece_kind", "char_offset", "book_id", "copy_index",
                    "char_length"]


class InjectionParams(StrictParams):
    """``injection:``: how pieces are joined to the host text."""

    separator: str = Field(" ", min_length=1, pattern=r"^\s+$")


def validate_params(params: dict[str, Any]) -> dict[str, Any]:
    """Check the ``injection`` block before anything runs; return it normalized."""
    return parse_params(InjectionParams, params, "injection").model_dump()


def _inject(
    pieces: list[list[inj.Piece]], host_books: pd.DataFrame, seed: int, separator: str,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    if len(pieces) > len(host_books):
        raise ValueError(f"{len(pieces)} member canaries to inject (each into its own host "
                         f"book) but only {len(host_books)} host books; raise "
                         "preparation.books.num_hosts (the pooled design needs "
                         "num_canaries x conditions per seed)")
    texts, manifest = [], []
    for i, (book_id, text) in enumerate(zip(host_books["book_id"], host_books["text"],
                                            strict=True)):
        if i >= len(pieces):
            texts.append(text)
            continue
        new, placements = inj.inject_book(text, pieces[i], seed=seed, book_id=str(book_id),
                                          separator=separator)
        texts.append(new)
        manifest += [(p.piece.canary_id, p.piece.piece_kind, p.char_offset, book_id,
                      p.piece.copy_index, len(p.piece.text)) for p in placements]
    corpus = pd.DataFrame({"book_id": list(host_books["book_id"]), "text": texts})
    return corpus, pd.DataFrame(manifest, columns=MANIFEST_COLUMNS)


def _pieces(canaries: pd.DataFrame, condition: dict[str, Any],
            perturbed_copies: pd.DataFrame | None) -> list[list[inj.Piece]]:
    """Per member canary of the condition, what goes into its host book: nu exact
    copies, or the original plus every perturbed copy."""
    members = group_members(canaries, condition)
    if perturbed_copies is None:
        return [[inj.Piece(cid, "original", j, text) for j in range(condition["num_copies"])]
                for cid, text in zip(members["canary_id"], members["text"], strict=True)]
    by_canary = {cid: group.sort_values("copy_index")
                 for cid, group in perturbed_copies.groupby("canary_id")}
    pieces = []
    for cid, text in zip(members["canary_id"], members["text"], strict=True):
        copies = by_canary.get(cid)
        if copies is None:
            raise ValueError(f"{condition['name']}: no perturbed copies of canary {cid}")
        pieces.append([inj.Piece(cid, "original", -1, text)] + [
            inj.Piece(cid, "copy", int(j), t)
            for j, t in zip(copies["copy_index"], copies["text"], strict=True)])
    return pieces


def inject_unit(
    canaries: pd.DataFrame, host_books: pd.DataFrame, params: dict[str, Any],
    *perturbed_copies: pd.DataFrame, conditions_meta: list[dict[str, Any]],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One training unit's corpus: every member canary of its conditions (one condition
    in the isolated design; every condition of the seed in the pooled one) into its own
    host book, in condition order. ``perturbed_copies`` are those of the non-exact
    conditions, in order; placements are seeded per (seed, book)."""
    p = parse_params(InjectionParams, params, "injection")
    copies = iter(perturbed_copies)
    pieces = [piece for cond in conditions_meta
              for piece in _pieces(canaries, cond, None if cond["kind"] == "exact" else next(copies))]
    return _inject(pieces, host_books, conditions_meta[0]["seed"], p.separator)
