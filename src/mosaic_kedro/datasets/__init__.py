"""Custom Kedro datasets of mosaic_kedro."""

from mosaic_kedro.datasets.hf_model import HFModelDataset, ModelReference

__all__ = ["HFModelDataset", "ModelReference"]
