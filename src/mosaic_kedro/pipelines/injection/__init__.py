"""``injection``: canaries and their copies into host books, one namespace per condition."""

from mosaic_kedro.pipelines.injection.pipeline import create_pipeline

__all__ = ["create_pipeline"]
