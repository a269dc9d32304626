"""``HFModelDataset``: a (versioned) Hugging Face model directory with its tokenizer.

Saves a :class:`~mosaic_kedro.models.LoadedModel` as ``save_pretrained`` safetensors
plus its tokenizer, written under a temporary name, fsynced and renamed (an existing directory is
swapped atomically, :mod:`mosaic_kedro.datasets.atomic`) when complete, so a crash
never leaves a half-written model where a reader would find it. Saving a
:class:`ModelReference` instead writes only ``model_reference.json``: a hub model the
project uses unchanged (e.g. ``EleutherAI/gpt-neo-1.3B`` as the generator) is
resolved by name, not copied. Loading returns a ``LoadedModel`` either way.

Example catalog entry::

    target_model:
      type: mosaic_kedro.datasets.HFModelDataset
      filepath: ${globals:data_root}/06_models/target
      model_type: causal_lm
      versioned: true
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from kedro.io.core import AbstractVersionedDataset, DatasetError, Version

from mosaic_kedro.datasets.atomic import atomic_local_path
from mosaic_kedro.models import (
    REFERENCE_FILE,
    LoadedModel,
    ModelSpec,
    load_causal_lm,
    load_masked_lm,
)


@dataclass(frozen=True)
class ModelReference:
    """A model used unchanged, saved as its name rather than its weights."""

    spec: ModelSpec


class HFModelDataset(AbstractVersionedDataset[Any, LoadedModel]):
    """A model directory (weights + tokenizer) or a reference to a hub model."""

    def __init__(
        self,
        *,
        filepath: str,
        model_type: Literal["causal_lm", "masked_lm"] = "causal_lm",
        load_args: dict[str, Any] | None = None,
        version: Version | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """Create the dataset.

        Args:
            filepath: local directory of the model (versions go beneath it).
            model_type: which Auto class loads it.
            load_args: ``ModelSpec`` fields applied on load (``device``, ``dtype``).
            version: Kedro version to load/save.
            metadata: free-form metadata (kedro-viz layer, ...).
        """
        if model_type not in ("causal_lm", "masked_lm"):
            raise DatasetError(f"model_type must be causal_lm or masked_lm, not {model_type}")
        self._model_type = model_type
        self._load_args = dict(load_args or {})
        self.metadata = metadata
        super().__init__(
            filepath=PurePosixPath(Path(filepath).as_posix()),
            version=version,
        )

    def _describe(self) -> dict[str, Any]:
        return {
            "filepath": str(self._filepath),
            "model_type": self._model_type,
            "version": self._version,
        }

    def _load(self) -> LoadedModel:
        path = Path(self._get_load_path())
        if not path.is_dir():
            raise DatasetError(
                f"no model at {path}; run the pipeline that makes it first"
            )
        reference = path / REFERENCE_FILE
        if reference.is_file():
            spec = ModelSpec.model_validate(
                {**json.loads(reference.read_text()), **self._load_args}
            )
        else:
            spec = ModelSpec(name_or_path=str(path), **self._load_args)
        loader = load_causal_lm if self._model_type == "causal_lm" else load_masked_lm
        return loader(spec)

    def _save(self, data: LoadedModel | ModelReference) -> None:
        path = Path(self._get_save_path())
        with atomic_local_path(path) as tmp:  # a temporary directory, fsynced, swapped in
            tmp.mkdir()
            if isinstance(data, ModelReference):
                (tmp / REFERENCE_FILE).write_text(
                    json.dumps(data.spec.model_dump(exclude_defaults=True), indent=2)
                )
            elif isinstance(data, LoadedModel):
                data.model.save_pretrained(tmp, safe_serialization=True)
                data.tokenizer.save_pretrained(tmp)
            else:
                raise DatasetError(
                    f"HFModelDataset saves LoadedModel or ModelReference, not {type(data)}"
                )

    def _exists(self) -> bool:
        try:
            return Path(self._get_load_path()).is_dir()
        except DatasetError:
            return False
