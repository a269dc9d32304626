"""Project pipelines."""

from __future__ import annotations

from kedro.framework.project import find_pipelines
from kedro.pipeline import Pipeline


def register_pipelines() -> dict[str, Pipeline]:
    """Register every pipeline under ``pipelines/``.

    ``__default__`` runs them all; ``experiment`` is everything but ``preparation``
    (``make run`` prepares once with ``--only-missing-outputs``, then runs it).
    """
    pipelines = find_pipelines(raise_errors=True)
    pipelines["__default__"] = sum(pipelines.values(), Pipeline([]))
    pipelines["experiment"] = sum(
        (p for name, p in pipelines.items() if name not in ("preparation", "__default__")),
        Pipeline([]),
    )
    return pipelines
