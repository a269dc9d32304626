"""The ``injection`` pipeline: one namespace per training unit of the grid.

Per unit (a condition in the isolated design, ``pooled_s<seed>`` in the pooled one):
``<unit>.injected_corpus`` (what ``training`` trains on) and
``<unit>.injection_manifest``. Placements are seeded per (seed, book), so the units of
one seed share their word boundaries.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict

from kedro.pipeline import Node, Pipeline

from mosaic_kedro.grid import Condition, bind, training_units
from mosaic_kedro.hooks import grid_parameters
from mosaic_kedro.pipelines.injection import nodes


def _unit_node(unit: str, conds: list[Condition]) -> Node:
    copies = [f"{c.name}.perturbed_copies" for c in conds if not c.is_exact]
    with warnings.catch_warnings():  # the namespaced names are meant to have dots
        warnings.simplefilter("ignore", UserWarning)
        return Node(bind(nodes.inject_unit, conditions_meta=[asdict(c) for c in conds]),
                    ["canaries", "host_books", "params:injection", *copies],
                    [f"{unit}.injected_corpus", f"{unit}.injection_manifest"],
                    name="inject", namespace=unit)


def build(grid: dict) -> Pipeline:
    """The pipeline for a given ``grid`` block (what ``create_pipeline`` uses)."""
    validate = Node(nodes.validate_params, "params:injection", "injection_config",
                    name="validate_injection_params")
    units = [_unit_node(u, cs) for u, cs in training_units(grid).items()]
    return Pipeline([validate, *units])  # one Pipeline: summing 100s is quadratic


def create_pipeline(**kwargs) -> Pipeline:
    """Build the namespaces of the grid of the running environment."""
    return build(grid_parameters())
