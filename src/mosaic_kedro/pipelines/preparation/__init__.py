"""``preparation``: ready the books, the generator and the base target model."""

from mosaic_kedro.pipelines.preparation.pipeline import create_pipeline

__all__ = ["create_pipeline"]
