"""The ``injection`` pipeline: one namespace per condition of the grid.

Per condition: ``<condition>.injected_corpus`` (what ``training`` trains on) and
``<condition>.injection_manifest``. Placements are seeded per (seed, book), so the
conditions of one seed share their word boundaries.
"""

from __future__ import annotations

from dataclasses import asdict

from kedro.pipeline import Node, Pipeline, pipeline

from mosaic_kedro.grid import Condition, bind, conditions
from mosaic_kedro.hooks import grid_parameters
from mosaic_kedro.pipelines.injection import nodes

OUTPUTS = ["injected_corpus", "injection_manifest"]




def _condition_pipeline(cond: Condition) -> Pipeline:
    meta = asdict(cond)
    if cond.is_exact:
        node = Node(bind(nodes.inject_exact, condition=meta),
                    ["canaries", "host_books", "params:injection"], OUTPUTS, name="inject")
    else:
        node = Node(bind(nodes.inject_copies, condition=meta),
                    ["canaries", "perturbed_copies", "host_books", "params:injection"],
                    OUTPUTS, name="inject")
    return pipeline([node], namespace=cond.name,
                    inputs={"canaries": "canaries", "host_books": "host_books"},
                    parameters={"params:injection": "params:injection"})


def build(grid: dict) -> Pipeline:
    """The pipeline for a given ``grid`` block (what ``create_pipeline`` uses)."""
    validate = Node(nodes.validate_params, "params:injection", "injection_config",
                    name="validate_injection_params")
    per_condition = [n for c in conditions(grid) for n in _condition_pipeline(c).nodes]
    return Pipeline([validate, *per_condition])  # one Pipeline: summing 100s is quadratic


def create_pipeline(**kwargs) -> Pipeline:
    """Build the namespaces of the grid of the running environment."""
    return build(grid_parameters())
