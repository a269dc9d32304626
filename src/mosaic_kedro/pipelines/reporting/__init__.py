"""The ``reporting`` pipeline: rho, the paper's figures and a Markdown report."""

from mosaic_kedro.pipelines.reporting.pipeline import create_pipeline

__all__ = ["create_pipeline"]
