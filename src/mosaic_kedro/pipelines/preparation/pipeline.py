"""The ``preparation`` pipeline."""

from kedro.pipeline import Node, Pipeline

from mosaic_kedro.hooks import run_parameters
from mosaic_kedro.pipelines.preparation import nodes


def create_pipeline(**kwargs) -> Pipeline:
    """Books -> hosts / held-out; generator; base target model; and the masked LM
    (``mlm_model``) when ``preparation.mlm_model`` is set."""
    mlm = (run_parameters().get("preparation") or {}).get("mlm_model")
    return build(with_mlm=bool(mlm))


def build(*, with_mlm: bool = False) -> Pipeline:
    """The pipeline, with or without the masked-LM node."""
    extra = [Node(nodes.prepare_mlm_model, ["heldout_books", "preparation_config"],
                  "mlm_model", name="prepare_mlm_model")] if with_mlm else []
    return Pipeline(extra + [
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
