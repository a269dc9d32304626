"""``canaries``: sample member and non-member reference canaries per seed."""

from mosaic_kedro.pipelines.canaries.pipeline import create_pipeline

__all__ = ["create_pipeline"]
