"""The kedro-datasets classes the catalog uses, with atomic saves (:mod:`.atomic`).

Same arguments and behaviour as their parents; only ``save`` changes: the output is
written under a temporary name in the same directory and renamed when complete. A
``MatplotlibDataset`` saving a list or dict of figures replaces its directory whole.
"""

from __future__ import annotations

from kedro_datasets.json import JSONDataset
from kedro_datasets.matplotlib import MatplotlibDataset
from kedro_datasets.pandas import CSVDataset, ParquetDataset
from kedro_datasets.pickle import PickleDataset
from kedro_datasets.text import TextDataset
from kedro_datasets.yaml import YAMLDataset

from mosaic_kedro.datasets.atomic import AtomicWriteMixin


class AtomicParquetDataset(AtomicWriteMixin, ParquetDataset):
    """``pandas.ParquetDataset`` with an atomic save."""


class AtomicCSVDataset(AtomicWriteMixin, CSVDataset):
    """``pandas.CSVDataset`` with an atomic save."""


class AtomicJSONDataset(AtomicWriteMixin, JSONDataset):
    """``json.JSONDataset`` with an atomic save."""


class AtomicYAMLDataset(AtomicWriteMixin, YAMLDataset):
    """``yaml.YAMLDataset`` with an atomic save."""


class AtomicPickleDataset(AtomicWriteMixin, PickleDataset):
    """``pickle.PickleDataset`` with an atomic save."""


class AtomicMatplotlibDataset(AtomicWriteMixin, MatplotlibDataset):
    """``matplotlib.MatplotlibDataset`` with an atomic save."""


class AtomicTextDataset(AtomicWriteMixin, TextDataset):
    """``text.TextDataset`` with an atomic save."""


class RunScopedPickleDataset(AtomicPickleDataset):
    """A value each run makes afresh (a pipeline's validated parameters), persisted
    only so that a later task of the same run in another process (an Airflow task)
    can load it.

    It never counts as existing: ``--only-missing-outputs`` reruns the cheap node that
    makes it rather than reuse one validated from other parameters (a ``MemoryDataset``
    behaves that way, but cannot cross processes). :meth:`was_saved` tells whether a
    run that does not make it (a task of a split run) has something to read.
    """

    def _exists(self) -> bool:
        return False

    def was_saved(self) -> bool:
        """Whether a value was saved (by any run)."""
        return super()._exists()
