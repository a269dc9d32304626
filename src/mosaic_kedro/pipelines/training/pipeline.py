"""The ``training`` pipeline: one namespace per condition of the grid.

Per condition: ``<condition>.target_model`` (the base target after one epoch on
``<condition>.injected_corpus``) and ``<condition>.training_metrics``; then every
condition's metrics gathered into ``training_metrics``.
"""

from __future__ import annotations

from dataclasses import asdict

from kedro.pipeline import Node, Pipeline, pipeline

from mosaic_kedro.grid import Condition, bind, conditions
from mosaic_kedro.hooks import grid_parameters
from mosaic_kedro.pipelines.training import nodes

SHARED = {"base_model": "base_model", "canaries": "canaries"}


def _condition_pipeline(cond: Condition) -> Pipeline:
    train = bind(nodes.train_target_model, condition=asdict(cond))
    node = Node(train, ["base_model", "injected_corpus", "canaries", "params:training"],
                ["target_model", "training_metrics"],
                name="train_target_model")
    return pipeline([node], namespace=cond.name, inputs=SHARED,
                    parameters={"params:training": "params:training"})


def build(grid: dict) -> Pipeline:
    """The pipeline for a given ``grid`` block (what ``create_pipeline`` uses)."""
    conds = conditions(grid)
    validate = Node(nodes.validate_params, "params:training", "training_config",
                    name="validate_training_params")
    gather = Node(nodes.gather_training_metrics, [f"{c.name}.training_metrics" for c in conds],
                  "training_metrics", name="gather_training_metrics")
    return sum((_condition_pipeline(c) for c in conds), Pipeline([validate, gather]))


def create_pipeline(**kwargs) -> Pipeline:
    """Build the namespaces of the grid of the running environment."""
    return build(grid_parameters())
