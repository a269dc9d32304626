"""``training``: continued pretraining of the base target, one model per condition."""

from mosaic_kedro.pipelines.training.pipeline import create_pipeline

__all__ = ["create_pipeline"]
