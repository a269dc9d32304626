"""The ``mia`` pipeline: score every condition on the target model it was trained into
(``<unit>.target_model``: its own in the isolated design, its seed's ``pooled_s<seed>``
in the pooled one).

When a run reads ``<condition>.target_model`` datasets it does not make (``kedro run
--pipeline=mia`` on models trained earlier), the project's ``before_pipeline_run`` hook
checks they exist and stops at once, naming the missing conditions and the command that
trains them. The reference model (``mia.reference``: the generator, the base model, or
any model by name) scores the canaries once (``reference_scores``) for all conditions.
Per condition: ``<condition>.mia_scores`` and the extraction experiment
(``<condition>.extraction``: greedy continuation of each member canary's first half);
then ``mia_scores``, ``auc_table``, ``roc_curves`` and ``extraction_scores`` over the
grid.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from kedro.pipeline import Node, Pipeline, pipeline

from mosaic_kedro.grid import Condition, bind, conditions
from mosaic_kedro.hooks import grid_parameters, run_parameters
from mosaic_kedro.pipelines.mia import nodes

SHARED = {"canaries": "canaries", "reference_scores": "reference_scores",
          "run_info": "run_info"}
SHARED_PARAMS = {"params:mia": "params:mia",
                 "params:preparation.target": "params:preparation.target"}



def _condition_pipeline(cond: Condition) -> Pipeline:
    score = Node(bind(nodes.score_condition, condition=asdict(cond)),
                 ["target_model", "canaries", "reference_scores", "params:mia",
                  "params:preparation.target", "run_info"], "mia_scores",
                 name="score_condition")
    extract = Node(bind(nodes.extract_condition, condition=asdict(cond)),
                   ["target_model", "canaries", "params:mia", "params:preparation.target",
                    "run_info"], "extraction", name="extract_condition")
    inputs = {**SHARED, "target_model": f"{cond.unit}.target_model"}
    return pipeline([score, extract], namespace=cond.name, inputs=inputs,
                    parameters=SHARED_PARAMS)


def _reference_node(reference: Any) -> Node:
    if reference in (None, "generator", "base"):
        source = "base_model" if reference == "base" else "generator_model"
        return Node(nodes.score_reference, ["canaries", source, "mia_config"],
                    "reference_scores", name="score_reference")
    return Node(nodes.score_reference_by_name, ["canaries", "mia_config"],
                "reference_scores", name="score_reference")


def build(grid: dict, reference: Any = "generator") -> Pipeline:
    """The pipeline for a ``grid`` block and a ``mia.reference`` value."""
    conds = conditions(grid)
    names = [c.name for c in conds]
    shared = Pipeline([
        Node(nodes.validate_params, ["params:mia", "params:preparation.target"],
             "mia_config", name="validate_mia_params"),
        _reference_node(reference),
        Node(nodes.gather_scores, [f"{n}.mia_scores" for n in names], "mia_scores",
             name="gather_mia_scores"),
        Node(nodes.evaluate, ["mia_scores", "mia_config"], ["auc_table", "roc_curves"],
             name="evaluate_mia"),
        Node(nodes.gather_extraction, [f"{n}.extraction" for n in names],
             "extraction_scores", name="gather_extraction"),
    ])
    return sum((_condition_pipeline(c) for c in conds), shared)


def create_pipeline(**kwargs) -> Pipeline:
    """Build the namespaces of the grid and the reference of the running environment."""
    params = run_parameters()
    return build(grid_parameters(), (params.get("mia") or {}).get("reference", "generator"))
