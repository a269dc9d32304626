"""The ``preparation`` pipeline."""

from kedro.pipeline import Node, Pipeline

from mosaic_kedro.pipelines.preparation import nodes


def create_pipeline(**kwargs) -> Pipeline:
    """Books -> hosts / held-out; generator; base target model."""
    return Pipeline([
        Node(nodes.validate_params, "params:preparation", "preparation_config",
             name="validate_preparation_params"),
        Node(nodes.load_books, "preparation_config", "raw_books", name="load_books"),
        Node(nodes.split_books, ["raw_books", "preparation_config"],
             ["host_books", "heldout_books"], name="split_books"),
        Node(nodes.prepare_generator, "preparation_config", "generator_model",
             name="prepare_generator"),
        Node(nodes.prepare_base_model, ["heldout_books", "preparation_config"], "base_model",
             name="prepare_base_model"),
    ])
