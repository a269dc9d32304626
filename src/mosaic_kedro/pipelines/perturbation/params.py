"""The ``perturbation:`` parameter block."""

from __future__ import annotations

from typing import Any

from pydantic import Field, StrictBool, StrictInt, model_validator

from mosaic_kedro.models import ModelSpec
from mosaic_kedro.params import StrictParams


class ParaphraseParams(StrictParams):
    """Generation settings of the paraphrase model (the paper: T = 0.6, top-p = 0.9)."""

    temperature: float = Field(0.6, gt=0)
    top_p: float = Field(0.9, gt=0, le=1)
    max_new_tokens: int = Field(160, ge=1)
    min_chars: int = Field(20, ge=1)
    max_attempts: int = Field(3, ge=1)


class ShuffleParams(StrictParams):
    """Bounded Kendall-tau search: achieved tau in ``[tau, tau + width)`` (the paper)."""

    width: float = Field(0.01, gt=0, lt=1)
    max_search_steps: int = Field(10_000, ge=1)


class ConditionOverride(StrictParams):
    """Per-condition changes to how copies are made (``overrides.<condition>``)."""

    num_copies: StrictInt | None = Field(None, ge=1)
    replace_same_indices: StrictBool | None = None
    uniform_spread: StrictBool | None = None
    tau_width: float | None = Field(None, gt=0, lt=1)


class PerturbationParams(StrictParams):
    """``perturbation:``: models and settings shared by every condition."""

    batch_size: int = Field(16, ge=1)
    paraphrase_model: ModelSpec | None = None  # null: the generator model
    paraphrase: ParaphraseParams = ParaphraseParams()
    shuffle: ShuffleParams = ShuffleParams()
    overrides: dict[str, ConditionOverride] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _mlm_model_moved(cls, data: Any) -> Any:
        if isinstance(data, dict) and "mlm_model" in data:
            raise ValueError(
                "perturbation.mlm_model moved to preparation.mlm_model (the masked LM is "
                "prepared once and read through the catalog as `mlm_model`); move the "
                "block there, e.g. preparation: {mlm_model: {name_or_path: roberta-base}}")
        return data

    def settings_for(self, name: str, perturbation: dict[str, Any]) -> dict[str, Any]:
        """The condition's perturbation settings with its override applied."""
        override = self.overrides.get(name)
        extra = override.model_dump(exclude_none=True) if override else {}
        return {**perturbation, **extra}
