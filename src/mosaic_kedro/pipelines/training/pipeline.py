"""The ``training`` pipeline: one namespace per training unit of the grid.

Per unit (a condition in the isolated design, ``pooled_s<seed>`` in the pooled one):
``<unit>.target_model`` (the base target after training on ``<unit>.injected_corpus``)
and ``<unit>.training_metrics``; then every unit's metrics gathered into
``training_metrics``.
"""

from __future__ import annotations

from kedro.pipeline import Node, Pipeline, pipeline

from mosaic_kedro.grid import bind, training_units
from mosaic_kedro.hooks import grid_parameters
from mosaic_kedro.pipelines.training import nodes

SHARED = {"base_model": "base_model", "canaries": "canaries", "run_info": "run_info"}


def _unit_pipeline(unit: str, seed: int) -> Pipeline:
    train = bind(nodes.train_target_model, unit=unit, seed=seed)
    node = Node(train, ["base_model", "injected_corpus", "canaries", "params:training",
                        "run_info"],
                ["target_model", "training_metrics"],
                name="train_target_model")
    return pipeline([node], namespace=unit, inputs=SHARED,
                    parameters={"params:training": "params:training"})


def build(grid: dict) -> Pipeline:
    """The pipeline for a given ``grid`` block (what ``create_pipeline`` uses)."""
    units = training_units(grid)
    validate = Node(nodes.validate_params, "params:training", "training_config",
                    name="validate_training_params")
    gather = Node(nodes.gather_training_metrics, [f"{u}.training_metrics" for u in units],
                  "training_metrics", name="gather_training_metrics")
    return sum((_unit_pipeline(u, cs[0].seed) for u, cs in units.items()),
               Pipeline([validate, gather]))


def create_pipeline(**kwargs) -> Pipeline:
    """Build the namespaces of the grid of the running environment."""
    return build(grid_parameters())
