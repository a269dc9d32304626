"""Render one report document as Markdown (figures linked) and as HTML (figures embedded).

A document is a list of blocks, each a small dict with a ``type``:

- ``{"type": "h1" | "h2" | "h3", "text": str}``: headings;
- ``{"type": "p", "text": str}``: a paragraph; inline ``**bold**`` and ``code`` spans;
- ``{"type": "ul", "items": [str, ...]}``: a bullet list (same inline markup);
- ``{"type": "table", "frame": DataFrame}``: a table (an empty one says so);
- ``{"type": "code", "text": str, "lang": str}``: a preformatted block;
- ``{"type": "figure", "key": str, "title": str, "caption": str, "figure": Figure}``.

:func:`render_markdown` links each figure's PNG by a relative path (no ``data:``
image, so the text stays readable and GitHub renders it); :func:`render_html` embeds
every PNG as a data URI in one self-contained page that opens from disk.
:func:`figure_files` names the PNGs the Markdown links: ``<key>-<hash>.png``, the hash
of the image, so a report never shows another run's figure under the same name.

A pure library: no Kedro, no file I/O (the catalog saves the outputs).
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import re
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

Block = dict[str, Any]

#: Resolution of the PNGs embedded in the HTML and hashed for the file names.
EMBED_DPI = 100

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 1100px;
       margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.45; }
h1 { border-bottom: 2px solid #ccc; padding-bottom: .2em; }
h2 { border-bottom: 1px solid #ddd; padding-bottom: .15em; margin-top: 2em; }
table { border-collapse: collapse; margin: .8em 0; font-size: .85em; }
th, td { border: 1px solid #ccc; padding: .25em .55em; text-align: right; }
th { background: #f2f2f2; } td:first-child, th:first-child { text-align: left; }
figure { margin: 1.2em 0; } figure img { max-width: 100%; height: auto;
       border: 1px solid #eee; }
figcaption { font-size: .9em; color: #444; margin-top: .3em; }
figcaption b { color: #222; }
code { background: #f4f4f4; padding: 0 .2em; }
pre { background: #f7f7f7; padding: .8em; overflow-x: auto; font-size: .8em; }
"""


def figure_png(fig: Figure, dpi: int = EMBED_DPI) -> bytes:
    """The PNG bytes of ``fig``."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def _figures(blocks: list[Block]) -> list[Block]:
    return [b for b in blocks if b["type"] == "figure"]


def figure_files(blocks: list[Block]) -> dict[str, tuple[Figure, bytes]]:
    """File name (``<key>-<hash8>.png``) -> (figure, its PNG) of every figure block."""
    out = {}
    for block in _figures(blocks):
        png = figure_png(block["figure"])
        out[f"{block['key']}-{hashlib.sha1(png).hexdigest()[:8]}.png"] = (block["figure"], png)
    return out


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return "" if pd.isna(value) else f"{value:.4g}"
    return "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)


def _md_inline(text: str) -> str:
    return text.replace("\n", " ")


def _md_table(frame: pd.DataFrame) -> str:
    if frame.empty:
        return "_(empty)_\n"
    cols = [str(c) for c in frame.columns]
    lines = ["| " + " | ".join(cols) + " |", "| " + " | ".join("---" for _ in cols) + " |"]
    for row in frame.itertuples(index=False):
        lines.append("| " + " | ".join(_cell(v).replace("|", "\\|") for v in row) + " |")
    return "\n".join(lines) + "\n"


Files = dict[str, tuple[Figure, bytes]]


def render_markdown(blocks: list[Block], files: Files, figure_dir: str) -> str:
    """The document as Markdown; each figure links ``<figure_dir>/<file>`` (relative),
    its file named in ``files`` (from :func:`figure_files`)."""
    names = {id(fig): name for name, (fig, _) in files.items()}
    out = []
    for b in blocks:
        kind = b["type"]
        if kind in ("h1", "h2", "h3"):
            out.append("#" * int(kind[1]) + " " + b["text"] + "\n")
        elif kind == "p":
            out.append(_md_inline(b["text"]) + "\n")
        elif kind == "ul":
            out.append("\n".join(f"- {_md_inline(i)}" for i in b["items"]) + "\n")
        elif kind == "table":
            out.append(_md_table(b["frame"]))
        elif kind == "code":
            out.append(f"```{b.get('lang', '')}\n{b['text'].rstrip()}\n```\n")
        elif kind == "figure":
            path = f"{figure_dir.rstrip('/')}/{names[id(b['figure'])]}"
            out.append(f"![{b['title']}]({path})\n\n*{b['title']}.* "
                       f"{_md_inline(b['caption'])}\n")
        else:
            raise ValueError(f"unknown report block type {kind!r}")
    return "\n".join(out)


def _html_inline(text: str) -> str:
    escaped = html.escape(text, quote=False)
    escaped = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", escaped)
    escaped = re.sub(r"`([^`]+)`", r"<code>\1</code>", escaped)
    return re.sub(r"(?<![\w*])_([^_]+)_(?![\w*])", r"<em>\1</em>", escaped)


def _html_table(frame: pd.DataFrame) -> str:
    if frame.empty:
        return "<p><em>(empty)</em></p>"
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_cell(v))}</td>" for v in row) + "</tr>"
        for row in frame.itertuples(index=False))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def render_html(blocks: list[Block], files: Files, title: str) -> str:
    """The document as one self-contained HTML page (PNG data URIs from ``files``,
    inline CSS, no script, nothing fetched)."""
    pngs = {id(fig): png for fig, png in files.values()}
    body = []
    for b in blocks:
        kind = b["type"]
        if kind in ("h1", "h2", "h3"):
            body.append(f'<{kind} id="{_slug(b["text"])}">{_html_inline(b["text"])}</{kind}>')
        elif kind == "p":
            body.append(f"<p>{_html_inline(b['text'])}</p>")
        elif kind == "ul":
            items = "".join(f"<li>{_html_inline(i)}</li>" for i in b["items"])
            body.append(f"<ul>{items}</ul>")
        elif kind == "table":
            body.append(_html_table(b["frame"]))
        elif kind == "code":
            body.append(f"<pre><code>{html.escape(b['text'])}</code></pre>")
        elif kind == "figure":
            uri = "data:image/png;base64," + base64.b64encode(
                pngs[id(b["figure"])]).decode("ascii")
            body.append(
                f'<figure id="fig-{b["key"]}"><img src="{uri}" alt="{html.escape(b["title"])}">'
                f"<figcaption><b>{html.escape(b['title'])}.</b> "
                f"{_html_inline(b['caption'])}</figcaption></figure>")
        else:
            raise ValueError(f"unknown report block type {kind!r}")
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head>\n<body>\n"
        + "\n".join(body) + "\n</body></html>\n"
    )
