"""Nodes of the ``injection`` pipeline (SPEC §3)."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd
from pydantic import Field

from mosaic_kedro import injection as inj
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


def _members(canaries: pd.DataFrame, seed: int) -> pd.DataFrame:
    members = canaries[(canaries["set"] == "member") & (canaries["seed"] == seed)]
    if members.empty:
        raise ValueError(f"no member canaries for seed {seed}; run the canaries pipeline")
    return members.sort_values("index").reset_index(drop=True)


def _inject(
    pieces: list[list[inj.Piece]], host_books: pd.DataFrame, seed: int, separator: str,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    if len(pieces) > len(host_books):
        raise ValueError(f"{len(pieces)} member canaries but only {len(host_books)} host "
                         "books; raise preparation.books.num_hosts")
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


def inject_exact(
    canaries: pd.DataFrame, host_books: pd.DataFrame, params: dict[str, Any], *,
    condition: dict[str, Any],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """nu exact copies of member canary i into host book i (nu = ``condition['value']``)."""
    p = parse_params(InjectionParams, params, "injection")
    members = _members(canaries, condition["seed"])
    pieces = [[inj.Piece(cid, "original", j, text) for j in range(condition["num_copies"])]
              for cid, text in zip(members["canary_id"], members["text"], strict=True)]
    return _inject(pieces, host_books, condition["seed"], p.separator)


def inject_copies(
    canaries: pd.DataFrame, perturbed_copies: pd.DataFrame, host_books: pd.DataFrame,
    params: dict[str, Any], *, condition: dict[str, Any],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The original plus every perturbed copy of member canary i into host book i."""
    p = parse_params(InjectionParams, params, "injection")
    members = _members(canaries, condition["seed"])
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
    return _inject(pieces, host_books, condition["seed"], p.separator)
