"""Nodes of the ``slimpajama_dedup`` pipeline (SPEC §7).

Every node takes and returns paths or JSON manifests (never models or arrays across
processes), so ``--runner=ParallelRunner`` and kedro-airflow can split the per-part
nodes. The Rust tools run through :mod:`mosaic_kedro.rust_bridge` (argument lists,
stderr progress into the log, a non-zero exit raised with its message).
"""

from __future__ import annotations

import logging
import os
import random
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from mosaic_kedro import corpus, rust_bridge, token_files
from mosaic_kedro.models import LoadedModel, ModelSpec, load_tokenizer
from mosaic_kedro.params import StrictParams, parse_params

logger = logging.getLogger(__name__)


class SampleParams(StrictParams):
    """``slimpajama_dedup.sample``: the embedded planted sample made from the books."""

    max_chars: int = Field(3_000_000, ge=10_000)
    chunk_chars: int = Field(2000, ge=200)
    shards: int = Field(4, ge=1)
    exact_counts: list[int] | None = None  # default: the buckets
    targets_per_count: int = Field(3, ge=1)
    fuzzy_distances: list[int] = [1, 2, 5, 10, 20, 40]
    fuzzy_kinds: list[Literal["hamming", "levenshtein"]] = ["hamming", "levenshtein"]


class DedupParams(StrictParams):
    """``slimpajama_dedup:``: corpus, tokenizer, parts, targets and scan settings."""

    parts: int = Field(2, ge=1)
    corpus_path: str | None = None  # null: the planted sample made from the books
    tokenizer: dict[str, Any] | None = None  # null: base_model's tokenizer; else a ModelSpec
    token_width: Literal["auto", 2, 4] = "auto"
    batch_size: int = Field(256, ge=1)
    workers: int | None = Field(None, ge=1)
    on_invalid: Literal["skip", "error"] = "skip"
    threads: int | None = Field(None, ge=1)
    length: int = Field(100, ge=2)
    min_distinct: int = Field(50, ge=1)
    buckets: list[int] = [100, 1000, 10000]
    bucket_tolerance: float = Field(0.01, ge=0, lt=1)
    part0_window: tuple[float, float] = (0.25, 4.0)
    targets_per_bucket: int = Field(100, ge=1)
    max_candidates: int = Field(20000, ge=1)
    scan_parts: list[int] = [0]
    max_distance: int = Field(50, ge=0)
    select: Literal["levenshtein", "hamming"] = "levenshtein"
    dedup_ns: list[int] = list(range(10, 101, 10))
    seed: int = 0
    sample: SampleParams = SampleParams()
    sample_dir: str
    feature_dir: str

    @model_validator(mode="after")
    def _consistent(self) -> DedupParams:
        bad = [p for p in self.scan_parts if not 0 <= p < self.parts]
        if bad:
            raise ValueError(f"scan_parts {bad} are not parts of 0..{self.parts - 1}")
        if self.min_distinct > self.length:
            raise ValueError(f"min_distinct {self.min_distinct} exceeds length {self.length}")
        if self.max_distance >= self.length:
            raise ValueError(f"max_distance {self.max_distance} must be below length {self.length}")
        return self


def _cfg(raw: Any) -> DedupParams:
    return parse_params(DedupParams, raw, "slimpajama_dedup")


def _tokenizer(cfg: DedupParams, base_model: LoadedModel | None) -> tuple[Any, str]:
    if cfg.tokenizer is not None:
        spec = ModelSpec(**cfg.tokenizer)
        return load_tokenizer(spec), spec.name_or_path
    if base_model is None:
        raise ValueError("slimpajama_dedup.tokenizer is null but no base_model was given")
    return base_model.tokenizer, f"base_model ({base_model.spec.name_or_path})"


# ----------------------------------------------------------------------------- corpus


def make_sample_corpus(host_books: pd.DataFrame, heldout_books: pd.DataFrame, params: dict[str, Any],
                       base_model: LoadedModel | None = None) -> dict[str, Any]:
    """Write the embedded SlimPajama-format sample with planted copies.

    Inputs: the book tables (``text`` column), the ``slimpajama_dedup`` parameters and,
    when ``tokenizer`` is null, ``base_model`` (whose tokenizer plants the copies).
    Output: the sample manifest (shards, planted targets and fuzzy copies with their
    measured token distances).
    """
    cfg = _cfg(params)
    tok, _ = _tokenizer(cfg, base_model)
    texts, budget = [], cfg.sample.max_chars
    for t in list(host_books["text"]) + list(heldout_books["text"]):
        if budget <= 0:
            break
        texts.append(t[:budget])
        budget -= len(texts[-1])
    counts = cfg.sample.exact_counts or cfg.buckets
    return corpus.make_planted_sample(
        texts, cfg.sample_dir, tok, length=cfg.length, exact_counts=counts,
        targets_per_count=cfg.sample.targets_per_count, fuzzy_distances=cfg.sample.fuzzy_distances,
        fuzzy_kinds=cfg.sample.fuzzy_kinds, min_distinct=cfg.min_distinct,
        chunk_chars=cfg.sample.chunk_chars, shards=max(cfg.sample.shards, cfg.parts), seed=cfg.seed,
    )


def tokenize_corpus(sample_manifest: dict[str, Any], params: dict[str, Any],
                    base_model: LoadedModel | None = None) -> dict[str, Any]:
    """Tokenize the planted sample into ``parts`` token files.

    Output: the corpus manifest (per part: token file, tokens, documents, planted
    document indices; totals and tokens/s). See :func:`_tokenize_then_move`.
    """
    cfg = _cfg(params)
    tok, name = _tokenizer(cfg, base_model)
    return _tokenize_then_move(sample_manifest["root"], cfg, tok, name)


def tokenize_external_corpus(params: dict[str, Any],
                             base_model: LoadedModel | None = None) -> dict[str, Any]:
    """Tokenize the corpus at ``corpus_path`` into ``parts`` token files (the corpus
    manifest, as :func:`tokenize_corpus`); the first node of an external-corpus run,
    so an invalid document fails it before anything is written."""
    cfg = _cfg(params)
    tok, name = _tokenizer(cfg, base_model)
    return _tokenize_then_move(cfg.corpus_path, cfg, tok, name)


def _tokenize_then_move(root: str, cfg: DedupParams, tok: Any, name: str) -> dict[str, Any]:
    """Tokenize every document under ``root`` into a staging folder inside
    ``feature_dir``, then move the token files into place.

    Every document is read (and, with ``on_invalid: error``, validated) before any
    ``part_XX.tok`` of an earlier run is replaced: a failure leaves them as they were
    and removes the staging folder.
    """
    out = Path(cfg.feature_dir)
    out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".tokenize-staging-", dir=out))
    try:
        manifest = corpus.tokenize_corpus(
            root, staging, tok, cfg.parts, tokenizer_name=name, width=cfg.token_width,
            batch_size=cfg.batch_size, workers=cfg.workers, on_invalid=cfg.on_invalid)
        for part in manifest["parts"]:
            staged = Path(part["tokens"])
            for src in (staged, token_files.offsets_path(staged)):
                os.replace(src, out / Path(src).name)
            part["tokens"] = str(out / staged.name)
    except corpus.CorpusFormatError as exc:
        hint = (" Fix: repair or remove that line, or set slimpajama_dedup.on_invalid: skip "
                "to count and skip invalid lines." if cfg.on_invalid == "error" else "")
        raise corpus.CorpusFormatError(
            f"{exc} (no token file or manifest in {out} was replaced).{hint}") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return manifest


def external_corpus(corpus_manifest: dict[str, Any]) -> dict[str, Any]:
    """The sample manifest for a corpus given by ``corpus_path`` (nothing planted);
    made from the corpus manifest, so a corpus that fails to tokenize leaves it as it was."""
    return {"root": corpus_manifest["root"], "shards": [], "n_docs": None, "n_planted": 0,
            "targets": []}


# ----------------------------------------------------------------------------- per part


def _part(manifest: dict[str, Any], part: int) -> dict[str, Any]:
    return manifest["parts"][part]


def build_suffix_array(corpus_manifest: dict[str, Any], params: dict[str, Any], part: int) -> dict[str, Any]:
    """Suffix array of one part. Output: ``{part, tokens, sa, n_tokens, seconds, sa_bytes}``."""
    cfg = _cfg(params)
    p = _part(corpus_manifest, part)
    out = Path(p["tokens"]).with_suffix(".sa")
    t0 = time.perf_counter()
    rust_bridge.build_suffix_array(p["tokens"], out, threads=cfg.threads)
    secs = time.perf_counter() - t0
    return {"part": part, "tokens": p["tokens"], "sa": str(out), "n_tokens": p["n_tokens"], "seconds": secs,
            "sa_bytes": out.stat().st_size, "tokens_per_second": p["n_tokens"] / max(secs, 1e-9)}


def self_similar(sa_manifest: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """Repeated ``length``-token sequences of one part. Output: the clusters file and counts."""
    cfg = _cfg(params)
    out = Path(sa_manifest["sa"]).with_suffix(f".ss{cfg.length}")
    t0 = time.perf_counter()
    rust_bridge.self_similar(sa_manifest["tokens"], sa_manifest["sa"], out, length=cfg.length, threads=cfg.threads)
    secs = time.perf_counter() - t0
    ss = rust_bridge.read_self_similar(out)
    return {**sa_manifest, "self_similar": str(out), "n_clusters": len(ss.first),
            "ss_seconds": secs, "ss_tokens_per_second": sa_manifest["n_tokens"] / max(secs, 1e-9)}


def count_queries(queries_manifest: dict[str, Any], sa_manifest: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """Count every query in one part. Output: ``{part, counts, seconds}``."""
    cfg = _cfg(params)
    out = Path(sa_manifest["sa"]).with_suffix(".counts.jsonl")
    t0 = time.perf_counter()
    if queries_manifest["n_queries"]:
        rust_bridge.count_occurrences(sa_manifest["tokens"], sa_manifest["sa"], queries_manifest["queries"], out,
                                      threads=cfg.threads)
    secs = time.perf_counter() - t0
    return {"part": sa_manifest["part"], "counts": str(out) if queries_manifest["n_queries"] else None,
            "seconds": secs, "n_queries": queries_manifest["n_queries"]}


def scan_part(targets_manifest: dict[str, Any], corpus_manifest: dict[str, Any], params: dict[str, Any],
              part: int) -> dict[str, Any]:
    """Scan one part for near-duplicates of every target. Output: the scan file and timing."""
    cfg = _cfg(params)
    p = _part(corpus_manifest, part)
    out = Path(p["tokens"]).with_suffix(".scan.jsonl")
    t0 = time.perf_counter()
    if targets_manifest["targets"]:
        rust_bridge.scan(p["tokens"], targets_manifest["path"], out, max_distance=cfg.max_distance,
                         select=cfg.select, threads=cfg.threads)
    secs = time.perf_counter() - t0
    return {"part": part, "scan": str(out) if targets_manifest["targets"] else None, "n_tokens": p["n_tokens"],
            "seconds": secs, "tokens_per_second": p["n_tokens"] / max(secs, 1e-9)}


# ----------------------------------------------------------------------------- targets


def propose_queries(corpus_manifest: dict[str, Any], selfsim_manifest: dict[str, Any],
                    params: dict[str, Any]) -> dict[str, Any]:
    """Candidate queries: part-0 repeats whose count is near ``bucket / parts``.

    Keeps clusters whose part-0 count lies in ``part0_window`` times ``bucket / parts``
    for some bucket, with at least ``min_distinct`` distinct tokens, not starting within
    ``length`` tokens of the previous kept one (shifted windows of one long repeat),
    at most ``max_candidates`` (seeded sample). Output: the queries token file.
    """
    cfg = _cfg(params)
    ss = rust_bridge.read_self_similar(selfsim_manifest["self_similar"])
    tf = token_files.read_token_file(selfsim_manifest["tokens"])
    lo, hi = cfg.part0_window
    ok = np.zeros(len(ss.count), dtype=bool)
    for b in cfg.buckets:
        e = b / cfg.parts
        ok |= (ss.count >= max(2, np.floor(lo * e))) & (ss.count <= np.ceil(hi * e))
    chosen, last = [], -(10**18)
    for f in (int(x) for x in ss.first[ok]):
        if f - last < cfg.length:
            continue
        seq = np.asarray(tf.tokens[f:f + cfg.length])
        if len(np.unique(seq)) < cfg.min_distinct:
            continue
        chosen.append(f)
        last = f
    rng = random.Random(cfg.seed)
    if len(chosen) > cfg.max_candidates:
        chosen = sorted(rng.sample(chosen, cfg.max_candidates))
    out = Path(cfg.feature_dir) / "queries.tok"
    seqs = [np.asarray(tf.tokens[f:f + cfg.length]) for f in chosen]
    token_files.write_token_file(out, seqs, corpus_manifest["vocab_size"], corpus_manifest["token_width"])
    logger.info("queries: %d of %d part-0 clusters", len(chosen), len(ss.first))
    return {"queries": str(out), "n_queries": len(chosen), "part0_first": chosen}


def select_targets(queries_manifest: dict[str, Any], corpus_manifest: dict[str, Any], params: dict[str, Any],
                   *count_manifests: dict[str, Any]) -> dict[str, Any]:
    """Targets: queries whose total count over every part is within ``bucket_tolerance``
    of a bucket, up to ``targets_per_bucket`` per bucket (seeded). Output: the targets
    token file and, per target, bucket, exact count and tokens."""
    cfg = _cfg(params)
    n = queries_manifest["n_queries"]
    total = np.zeros(n, dtype=np.int64)
    for m in count_manifests:
        if m["counts"]:
            total += rust_bridge.read_counts(m["counts"]).counts
    q = token_files.read_token_file(queries_manifest["queries"]) if n else None
    qdocs = [np.asarray(d).tolist() for d in q.documents()] if q is not None else []
    rng = random.Random(cfg.seed)
    used: set[int] = set()
    targets = []
    for b in cfg.buckets:
        idx = [i for i in range(n) if abs(total[i] - b) <= cfg.bucket_tolerance * b and i not in used]
        rng.shuffle(idx)
        for i in sorted(idx[:cfg.targets_per_bucket]):
            used.add(i)
            targets.append({"id": len(targets), "bucket": b, "count": int(total[i]), "tokens": qdocs[i]})
    out = Path(cfg.feature_dir) / "targets.tok"
    token_files.write_token_file(out, [t["tokens"] for t in targets], corpus_manifest["vocab_size"],
                                 corpus_manifest["token_width"])
    logger.info("targets per bucket: %s", {b: sum(t["bucket"] == b for t in targets) for b in cfg.buckets})
    return {"path": str(out), "targets": targets}


# ----------------------------------------------------------------------------- gather


def gather(targets_manifest: dict[str, Any], corpus_manifest: dict[str, Any], sample_manifest: dict[str, Any],
           params: dict[str, Any], *scan_manifests: dict[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-target near-duplicate table and the planted-copies check.

    Outputs:
        near_duplicates: tidy rows (target, bucket, exact_count, measure, x, n,
            n_extrapolated); measure ``hamming``/``levenshtein`` with x = d counts matches
            within distance d, ``dedup_survivors`` with x = n counts matches (within
            ``max_distance``) sharing no n-token run with the target; n_extrapolated
            scales by total tokens / scanned tokens.
        planted_check: kind, distance, planted, found, recall (planted copies in the
            scanned parts; found = a scan match at that document with the planted
            Hamming and Levenshtein distances).
    """
    cfg = _cfg(params)
    scanned = sum(m["n_tokens"] for m in scan_manifests)
    factor = corpus_manifest["n_tokens"] / max(scanned, 1)
    targets = targets_manifest["targets"]
    matches: dict[int, list[tuple[int, int, int, int]]] = {t["id"]: [] for t in targets}  # part, doc, h, lev
    windows: dict[int, list[list[int]]] = {t["id"]: [] for t in targets}
    for m in scan_manifests:
        if not m["scan"]:
            continue
        tf = token_files.read_token_file(corpus_manifest["parts"][m["part"]]["tokens"])
        _, rows = rust_bridge.read_scan(m["scan"])
        for t, r in zip(targets, rows):
            for pos, doc, h, lev in zip(r["positions"], r["doc_ids"], r["hamming"], r["levenshtein"]):
                matches[t["id"]].append((m["part"], doc, h, lev))
                windows[t["id"]].append(np.asarray(tf.tokens[pos:pos + cfg.length]).tolist())
    rows_out = []
    for t in targets:
        ms = matches[t["id"]]
        h = np.array([x[2] for x in ms], dtype=np.int64)
        lev = np.array([x[3] for x in ms], dtype=np.int64)
        base = {"target": t["id"], "bucket": t["bucket"], "exact_count": t["count"]}
        for measure, arr in (("hamming", h), ("levenshtein", lev)):
            for d in range(cfg.max_distance + 1):
                k = int((arr <= d).sum())
                rows_out.append({**base, "measure": measure, "x": d, "n": k, "n_extrapolated": k * factor})
        runs = np.array([corpus.longest_common_run(t["tokens"], w) for w in windows[t["id"]]], dtype=np.int64)
        for n in cfg.dedup_ns:
            k = int((runs < n).sum())
            rows_out.append({**base, "measure": "dedup_survivors", "x": n, "n": k, "n_extrapolated": k * factor})
    table = pd.DataFrame(rows_out, columns=["target", "bucket", "exact_count", "measure", "x", "n", "n_extrapolated"])
    return table, _planted_check(targets, matches, corpus_manifest, sample_manifest, scan_manifests)


def _planted_check(targets: list[dict[str, Any]], matches: dict[int, list[tuple[int, int, int, int]]],
                   corpus_manifest: dict[str, Any], sample_manifest: dict[str, Any],
                   scan_manifests: tuple[dict[str, Any], ...]) -> pd.DataFrame:
    scanned_parts = {m["part"] for m in scan_manifests}
    where = {k: (p["part"], v) for p in corpus_manifest["parts"] if p["part"] in scanned_parts
             for k, v in p["planted_docs"].items()}
    by_tokens = {tuple(t["tokens"]): t["id"] for t in targets}
    rows = []
    for pt in sample_manifest.get("targets", []):
        tid = by_tokens.get(tuple(pt["tokens"]))
        found_at = {(x[0], x[1]): (x[2], x[3]) for x in matches.get(tid, [])} if tid is not None else {}
        copies = [(f"{pt['id']}_exact_{j}", "exact", 0, 0, 0) for j in range(pt["count"])]
        copies += [(f["id"], f["kind"], f["distance"], f["hamming"], f["levenshtein"]) for f in pt["fuzzy"]]
        for cid, kind, d, h, lev in copies:
            if cid not in where:
                continue
            rows.append({"kind": kind, "distance": d, "target_selected": tid is not None,
                         "found": found_at.get(where[cid]) == (h, lev)})
    df = pd.DataFrame(rows, columns=["kind", "distance", "target_selected", "found"])
    out = (df.groupby(["kind", "distance"], as_index=False)
           .agg(planted=("found", "size"), selected=("target_selected", "sum"), found=("found", "sum")))
    out["recall"] = out["found"] / out["planted"].where(out["planted"] > 0)
    total = pd.DataFrame([{"kind": "all", "distance": -1, "planted": int(out["planted"].sum()),
                           "selected": int(out["selected"].sum()), "found": int(out["found"].sum())}])
    total["recall"] = total["found"] / total["planted"].where(total["planted"] > 0)
    return pd.concat([out, total], ignore_index=True)


def throughput(sample_manifest: dict[str, Any], corpus_manifest: dict[str, Any],
               *manifests: dict[str, Any]) -> dict[str, Any]:
    """Tokens/s of each step and bytes per token of the suffix arrays (a JSON summary)."""
    steps: dict[str, list[float]] = {"tokenize": [corpus_manifest["tokens_per_second"]]}
    sa_bytes = []
    for m in manifests:
        if "ss_seconds" in m:
            steps.setdefault("build", []).append(m["tokens_per_second"])
            steps.setdefault("self_similar", []).append(m["ss_tokens_per_second"])
            sa_bytes.append(m["sa_bytes"] / max(m["n_tokens"], 1))
        elif "scan" in m:
            steps.setdefault("scan", []).append(m["tokens_per_second"])
    return {"n_tokens": corpus_manifest["n_tokens"], "n_parts": corpus_manifest["n_parts"],
            "token_width": corpus_manifest["token_width"],
            "tokens_per_second": {k: float(np.mean(v)) for k, v in steps.items()},
            "sa_bytes_per_token": float(np.mean(sa_bytes)) if sa_bytes else None,
            "n_planted": sample_manifest.get("n_planted", 0)}


# ----------------------------------------------------------------------------- figures


def _mean_se(table: pd.DataFrame, measure: str) -> pd.DataFrame:
    t = table[table["measure"] == measure]
    g = t.groupby(["bucket", "x"])["n_extrapolated"]
    out = g.agg(["mean", "std", "count"]).reset_index()
    out["se"] = out["std"].fillna(0) / np.sqrt(out["count"].clip(lower=1))
    return out


def plot_figures(near_duplicates: pd.DataFrame) -> tuple[Any, Any, Any]:
    """Figures: cumulative near-duplicates vs distance per bucket (Levenshtein, mean +/-
    SE, log y); Levenshtein vs Hamming; survivors of exact-substring dedup vs n."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figs = []
    for measures, xlabel, title in (
        (("levenshtein",), "edit distance d (tokens)", "Near-duplicates within distance d"),
        (("levenshtein", "hamming"), "distance d (tokens)", "Levenshtein (solid) vs Hamming (dashed)"),
        (("dedup_survivors",), "dedup substring length n (tokens)", "Near-duplicates surviving exact dedup at n"),
    ):
        fig, ax = plt.subplots(figsize=(6, 4))
        stats = {m: _mean_se(near_duplicates, m) for m in measures}
        means = pd.concat([st["mean"] for st in stats.values()])
        # log axis from the data: half the smallest positive mean (a band reaching 0 is
        # cut there, not at 1e-9, which squashed every curve into the top of the plot)
        floor = float(means[means > 0].min()) / 2 if (means > 0).any() else None
        for measure, st in stats.items():
            for i, (b, s) in enumerate(st.groupby("bucket")):
                ax.plot(s["x"], s["mean"], linestyle="--" if measure == "hamming" else "-", color=f"C{i}",
                        label=f"bucket {b}" if measure == measures[0] else None)
                low = s["mean"] - s["se"]
                ax.fill_between(s["x"], low.clip(lower=floor) if floor else low,
                                s["mean"] + s["se"], color=f"C{i}", alpha=0.2)
        if floor is not None:
            ax.set_yscale("log")
            ax.set_ylim(bottom=floor)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("copies (extrapolated to the corpus)")
        ax.set_title(title)
        if ax.get_legend_handles_labels()[0]:
            ax.legend()
        fig.tight_layout()
        figs.append(fig)
    return tuple(figs)
