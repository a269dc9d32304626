"""The ``perturbation`` pipeline: one namespace per non-exact condition of the grid.

Shared nodes (outside the namespaces): parameter validation, one candidate set per
(strategy, top-k, seed) for ``clm`` / ``mlm`` (computed once, used by every R and copy,
persisted so ``kedro run --namespaces=<condition>`` can reuse it), and the summary.
Per condition: ``<condition>.perturbed_copies``. Exact conditions need no node here.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict

from kedro.pipeline import Node, Pipeline, pipeline

from mosaic_kedro.grid import Condition, bind, conditions
from mosaic_kedro.hooks import grid_parameters
from mosaic_kedro.pipelines.perturbation import nodes

SHARED = {"canaries": "canaries", "base_model": "base_model",
          "generator_model": "generator_model"}
PARAMS = {"params:perturbation": "params:perturbation"}




def _condition_pipeline(cond: Condition) -> Pipeline:
    meta = asdict(cond)
    strategy = cond.perturbation["strategy"]
    out = "perturbed_copies"
    if cond.candidate_key:
        cands = f"candidates_{cond.candidate_key}"
        node = Node(bind(nodes.make_candidate_copies, condition=meta),
                    ["canaries", cands, "base_model", "params:perturbation"], out,
                    name="make_copies")
        inputs = {**SHARED, cands: cands}
    elif strategy == "paraphrase":
        node = Node(bind(nodes.make_paraphrase_copies, condition=meta),
                    ["canaries", "base_model", "generator_model", "params:perturbation"], out,
                    name="make_copies")
        inputs = SHARED
    else:
        needs_mlm = ["mlm_model"] if strategy == "mlm_random" else []
        node = Node(bind(nodes.make_sampled_copies, condition=meta),
                    ["canaries", "base_model", "params:perturbation", *needs_mlm], out,
                    name="make_copies")
        inputs = {**SHARED, "mlm_model": "mlm_model"}
    used = {k: v for k, v in inputs.items() if k in node.inputs}
    return pipeline([node], namespace=cond.name, inputs=used, parameters=PARAMS)


def _candidate_node(cond: Condition, groups: list[int]) -> Node:
    strategy, top_k = cond.perturbation["strategy"], cond.perturbation["top_k"]
    out = f"candidates_{cond.candidate_key}"
    if strategy == "clm":
        return Node(bind(nodes.compute_clm_candidates, seed=cond.seed, top_k=top_k,
                         groups=groups),
                    ["canaries", "generator_model", "base_model", "perturbation_config"], out,
                    name=f"compute_{cond.candidate_key}_candidates")
    return Node(bind(nodes.compute_mlm_candidates, seed=cond.seed, top_k=top_k,
                     groups=groups),
                ["canaries", "base_model", "mlm_model", "perturbation_config"], out,
                name=f"compute_{cond.candidate_key}_candidates")


def build(grid: dict) -> Pipeline:
    """The pipeline for a given ``grid`` block (what ``create_pipeline`` uses)."""
    perturbed = [c for c in conditions(grid) if not c.is_exact]
    shared = [Node(nodes.validate_params,
                   ["params:perturbation", "params:grid", "params:canaries.length",
                    "params:preparation"],
                   "perturbation_config", name="validate_perturbation_params")]
    sharing: dict[str, list[Condition]] = {}  # candidate set -> the conditions using it
    for c in perturbed:
        if c.candidate_key:
            sharing.setdefault(c.candidate_key, []).append(c)
    shared += [_candidate_node(cs[0], sorted({c.group for c in cs})) for cs in sharing.values()]
    if perturbed:
        meta = [asdict(c) for c in perturbed]
        with warnings.catch_warnings():  # the namespaced names are meant to have dots
            warnings.simplefilter("ignore", UserWarning)
            shared.append(Node(bind(nodes.summarize, conditions_meta=meta),
                               [f"{c.name}.perturbed_copies" for c in perturbed],
                               "perturbation_summary", name="summarize_perturbations"))
    per_condition = [n for c in perturbed for n in _condition_pipeline(c).nodes]
    return Pipeline(shared + per_condition)  # one Pipeline: summing 100s is quadratic


def create_pipeline(**kwargs) -> Pipeline:
    """Build the namespaces of the grid of the running environment."""
    return build(grid_parameters())
