"""Custom Kedro datasets of mosaic_kedro; every save is atomic (see :mod:`.atomic`)."""

from mosaic_kedro.datasets.atomic_datasets import (
    AtomicCSVDataset,
    AtomicJSONDataset,
    AtomicMatplotlibDataset,
    AtomicParquetDataset,
    AtomicPickleDataset,
    AtomicTextDataset,
    AtomicYAMLDataset,
    RunScopedPickleDataset,
)
from mosaic_kedro.datasets.hf_model import HFModelDataset, ModelReference

__all__ = [
    "AtomicCSVDataset",
    "AtomicJSONDataset",
    "AtomicMatplotlibDataset",
    "AtomicParquetDataset",
    "AtomicPickleDataset",
    "AtomicTextDataset",
    "AtomicYAMLDataset",
    "RunScopedPickleDataset",
    "HFModelDataset",
    "ModelReference",
]
