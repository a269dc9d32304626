"""The ``slimpajama_dedup`` pipeline: one namespace per part and stage.

``part_XX`` builds the suffix array and the self-similar clusters of part XX,
``count_part_XX`` counts the queries in it, ``scan_part_XX`` scans it (scanned parts
only): three fan-outs, each namespace contiguous, so one cluster task per namespace.

The number of parts, the scanned parts and whether the tokenizer comes from
``base_model`` are read from the active parameters when the pipeline is created (like
the experiment grid), so ``kedro airflow create --group-by namespace`` turns each part
into one cluster task and ``ParallelRunner`` runs parts side by side.
"""

from __future__ import annotations

from typing import Any

from kedro.pipeline import Node, Pipeline

from mosaic_kedro.grid import bind
from mosaic_kedro.hooks import run_parameters
from mosaic_kedro.pipelines.slimpajama_dedup import nodes

P = "params:slimpajama_dedup"


def dedup_parameters() -> dict[str, Any]:
    """The ``slimpajama_dedup`` block of the running context, else of ``conf/``."""
    return dict(run_parameters().get("slimpajama_dedup") or {})



def create_pipeline(**kwargs: Any) -> Pipeline:
    """Sample -> tokenize -> per part (SA, self-similar, count, scan) -> targets -> gather."""
    cfg = dedup_parameters()
    parts = int(cfg.get("parts", 2))
    scan_parts = [int(p) for p in cfg.get("scan_parts", [0])]
    external = bool(cfg.get("corpus_path"))
    model = [] if cfg.get("tokenizer") else ["base_model"]
    names = [f"part_{i:02d}" for i in range(parts)]

    # an external corpus is tokenized first (every document read before anything of an
    # earlier run is replaced); its sample manifest follows from the corpus manifest
    head = [
        Node(nodes.tokenize_external_corpus, [P, *model], "slimpajama_corpus_manifest",
             name="tokenize_corpus"),
        Node(nodes.external_corpus, "slimpajama_corpus_manifest", "slimpajama_sample_manifest",
             name="external_corpus"),
    ] if external else [
        Node(nodes.make_sample_corpus, ["host_books", "heldout_books", P, *model],
             "slimpajama_sample_manifest", name="make_sample_corpus"),
        Node(nodes.tokenize_corpus, ["slimpajama_sample_manifest", P, *model],
             "slimpajama_corpus_manifest", name="tokenize_corpus"),
    ]
    per_part = []
    for i, ns in enumerate(names):
        per_part += [
            Node(bind(nodes.build_suffix_array, part=i), ["slimpajama_corpus_manifest", P],
                 f"{ns}.sa_manifest", name="build_suffix_array", namespace=ns),
            Node(nodes.self_similar, [f"{ns}.sa_manifest", P], f"{ns}.selfsim_manifest",
                 name="self_similar", namespace=ns),
            Node(nodes.count_queries, ["slimpajama_queries_manifest", f"{ns}.sa_manifest", P],
                 f"count_{ns}.count_manifest", name="count_queries", namespace=f"count_{ns}"),
        ]
        if i in scan_parts:
            per_part.append(Node(bind(nodes.scan_part, part=i),
                                 ["slimpajama_targets_manifest", "slimpajama_corpus_manifest", P],
                                 f"scan_{ns}.scan_manifest", name="scan_part", namespace=f"scan_{ns}"))
    # a scan part outside 0..parts-1 gets no dataset here; the first node's parameter
    # check names it (DedupParams)
    scans = [f"scan_part_{i:02d}.scan_manifest" for i in scan_parts if 0 <= i < parts]
    tail = [
        Node(nodes.propose_queries, ["slimpajama_corpus_manifest", "part_00.selfsim_manifest", P],
             "slimpajama_queries_manifest", name="propose_queries"),
        Node(nodes.select_targets, ["slimpajama_queries_manifest", "slimpajama_corpus_manifest", P,
                                    *[f"count_{ns}.count_manifest" for ns in names]],
             "slimpajama_targets_manifest", name="select_targets"),
        Node(nodes.gather, ["slimpajama_targets_manifest", "slimpajama_corpus_manifest",
                            "slimpajama_sample_manifest", P, *scans],
             ["slimpajama_near_duplicates", "slimpajama_planted_check"], name="gather_near_duplicates"),
        Node(nodes.throughput, ["slimpajama_sample_manifest", "slimpajama_corpus_manifest",
                                *[f"{ns}.selfsim_manifest" for ns in names], *scans],
             "slimpajama_throughput", name="slimpajama_throughput"),
        Node(nodes.plot_figures, "slimpajama_near_duplicates",
             ["slimpajama_near_dups_vs_distance", "slimpajama_levenshtein_vs_hamming",
              "slimpajama_dedup_survivors"], name="plot_slimpajama_figures"),
    ]
    return Pipeline(head + per_part + tail)
