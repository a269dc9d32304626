"""``mia``: membership inference on every condition's trained target model."""

from mosaic_kedro.pipelines.mia.pipeline import create_pipeline

__all__ = ["create_pipeline"]
