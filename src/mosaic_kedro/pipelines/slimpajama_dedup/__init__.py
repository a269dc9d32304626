"""``slimpajama_dedup``: exact and fuzzy duplicates in a pretraining corpus (SPEC §7)."""

from mosaic_kedro.pipelines.slimpajama_dedup.pipeline import create_pipeline

__all__ = ["create_pipeline"]
