"""The ``canaries`` pipeline."""

from kedro.pipeline import Node, Pipeline

from mosaic_kedro.pipelines.canaries import nodes


def create_pipeline(**kwargs) -> Pipeline:
    """Validate parameters, then sample members and non-members for every seed."""
    return Pipeline([
        Node(nodes.validate_params, ["params:canaries", "params:grid"], "canaries_config",
             name="validate_canaries_params"),
        Node(nodes.sample_canaries, ["generator_model", "base_model", "canaries_config"],
             "canaries", name="sample_canaries"),
    ])
