"""``ModelPresenceDataset``: whether a (versioned) model directory holds a model.

It lets a pipeline *check* for models without loading them: loading returns ``True``
when ``filepath`` holds a model (an unversioned model directory, or at least one
complete version beneath it) and ``False`` otherwise; saving writes nothing (the model
is saved by its :class:`~mosaic_kedro.datasets.HFModelDataset`). The ``training``
pipeline outputs ``<condition>.target_model_present`` next to each model, so in a run
that trains, the ``mia`` pipeline's check waits for training; in a ``mia``-only run it
reads what is on disk.

Example catalog entry::

    "{condition}.target_model_present":
      type: mosaic_kedro.datasets.ModelPresenceDataset
      filepath: ${globals:data_root}/06_models/{condition}/target_model
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kedro.io.core import AbstractDataset

from mosaic_kedro.models import REFERENCE_FILE


def holds_model(path: Path) -> bool:
    """A model directory, or a versioned one with at least one complete version."""
    if not path.is_dir():
        return False
    if (path / "config.json").is_file() or (path / REFERENCE_FILE).is_file():
        return True
    return any(v.is_dir() and not v.name.startswith(".") and holds_model(v)
               for v in path.iterdir())


class ModelPresenceDataset(AbstractDataset[Any, bool]):
    """``True`` when a model is saved at ``filepath``; saving is a no-op."""

    def __init__(self, *, filepath: str, metadata: dict[str, Any] | None = None) -> None:
        """Create the dataset for the model directory ``filepath``."""
        self._filepath = Path(filepath)
        self.metadata = metadata

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath)}

    def _load(self) -> bool:
        return holds_model(self._filepath)

    def _save(self, data: Any) -> None:
        return None

    def _exists(self) -> bool:
        return holds_model(self._filepath)
