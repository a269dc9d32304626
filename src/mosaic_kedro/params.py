"""Early validation of each pipeline's parameter block.

Every pipeline has one top-level parameter key (``canaries:``, ``mia:`` ...). Its first
node calls :func:`parse_params` with a pydantic model, so a bad value fails in the first
second, before any model loads, with a message naming the key, the value and what is
allowed.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

ModelT = TypeVar("ModelT", bound=BaseModel)


class ParameterError(ValueError):
    """A parameter block failed validation; the message names every bad key."""


class StrictParams(BaseModel):
    """Base class of parameter blocks: unknown keys are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def parse_params(model: type[ModelT], raw: Any, key: str) -> ModelT:
    """Validate ``raw`` (the block under ``key`` in ``parameters*.yml``) against ``model``.

    Raises:
        ParameterError: naming ``key.sub.key``, the offending value and the rule broken.
    """
    if isinstance(raw, model):
        return raw
    try:
        return model.model_validate(raw if raw is not None else {})
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            loc = ".".join(str(part) for part in (key, *err["loc"]))
            value = err.get("input")
            lines.append(f"  {loc} = {value!r}: {err['msg']}")
        raise ParameterError(
            f"invalid parameters under '{key}' (fix them in conf/base or conf/local):\n"
            + "\n".join(lines)
        ) from None
