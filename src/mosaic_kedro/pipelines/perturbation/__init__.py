"""``perturbation``: fuzzy duplicates and other perturbed copies, one namespace per condition."""

from mosaic_kedro.pipelines.perturbation.pipeline import create_pipeline

__all__ = ["create_pipeline"]
