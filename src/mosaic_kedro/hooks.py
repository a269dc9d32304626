"""Project hooks.

``GridHooks`` remembers the active configuration loader when a context is created, so
that ``pipeline_registry`` can build the experiment grid's namespaces from the
parameters of the environment actually in use (``kedro run --env paper`` builds the
paper's grid), and, before a run, checks that the trained models it reads but does not
make exist (``kedro run --pipeline=mia`` after training). Outside a session (e.g. ``kedro registry list``) the registry falls back
to reading ``conf/`` with ``KEDRO_ENV`` or ``local``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from kedro.framework.hooks import hook_impl

_ACTIVE: dict[str, Any] = {}


class GridHooks:
    """Keep a handle on the configuration of the running context."""

    @hook_impl
    def after_context_created(self, context: Any) -> None:
        """Store the context's config loader for the pipeline registry."""
        _ACTIVE["config_loader"] = context.config_loader

    @hook_impl
    def before_pipeline_run(self, run_params: Any, pipeline: Any, catalog: Any) -> None:
        """Stop at once when the run reads trained models that were never made."""
        from mosaic_kedro.pipelines.mia.nodes import check_trained_models

        needed = sorted(n for n in pipeline.inputs() if n.endswith(".target_model"))
        check_trained_models(needed, catalog.exists)


def active_parameters() -> dict[str, Any] | None:
    """Return the parameters of the running context, or ``None`` outside one."""
    loader = _ACTIVE.get("config_loader")
    return None if loader is None else dict(loader["parameters"])


def grid_parameters() -> dict[str, Any]:
    """The ``grid`` block of the running context, else of ``conf/`` (``KEDRO_ENV``/local).

    Used by ``create_pipeline`` functions that build one namespace per condition.
    """
    params = active_parameters()
    if params is None:
        from kedro.config import OmegaConfigLoader
        from kedro.framework.project import settings

        loader = OmegaConfigLoader(
            conf_source=str(Path.cwd() / settings.CONF_SOURCE),
            env=os.environ.get("KEDRO_ENV", "local"),
            base_env="base",
            default_run_env="local",
            merge_strategy={"parameters": "soft"},
        )
        params = dict(loader["parameters"])
    return dict(params.get("grid") or {})
