"""Project hooks.

``GridHooks`` remembers the active configuration loader when a context is created, so
that ``pipeline_registry`` can build the experiment grid's namespaces from the
parameters of the environment actually in use (``kedro run --env paper`` builds the
paper's grid), and, before a run, checks that the trained models and other persisted
datasets it reads but does not make exist (``kedro run --pipeline=mia`` after training;
``--pipelines=reporting`` before ``slimpajama_dedup`` ever ran). Unknown top-level
parameter keys (a misspelled ``reportng:``) stop the session before any node runs. Outside a session (e.g. ``kedro registry list``) the registry falls back
to reading ``conf/`` with ``KEDRO_ENV`` or ``local``.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import Any

from kedro.framework.hooks import hook_impl

_ACTIVE: dict[str, Any] = {}


class MissingTargetModelsError(RuntimeError):
    """A run reads trained target models (e.g. ``--pipeline=mia``) that do not exist."""


def check_trained_models(needed: list[str], exists: Any) -> None:
    """Stop a run at once when trained target models it reads are missing.

    ``needed`` are the ``<condition>.target_model`` datasets the run takes as inputs
    (not produced by it); ``exists(name)`` says whether one is saved.

    Raises:
        MissingTargetModelsError: naming the missing conditions and the commands that
            train them.
    """
    missing = sorted(n.removesuffix(".target_model") for n in needed if not exists(n))
    if missing:
        raise MissingTargetModelsError(
            f"the mia pipeline needs trained target models, and {len(missing)} of "
            f"{len(needed)} are missing: {', '.join(missing)}. Train them with "
            f"`kedro run --pipelines=training --namespaces={','.join(missing)}` (their "
            "injected corpora must exist), or from scratch with `kedro run "
            "--pipelines=preparation,canaries,perturbation,injection,training`, "
            "or run everything with `kedro run`."
        )


class MissingInputsError(RuntimeError):
    """A run reads persisted datasets that no earlier run made."""


def check_inputs_exist(needed: list[str], exists: Any, producers_of: Any) -> None:
    """Stop a run at once when datasets it reads but does not make are missing (rather
    than after its long nodes, when the first node that loads one fails).

    ``producers_of(names)`` maps each dataset to the registered pipelines that make it
    (called only when something is missing).

    Raises:
        MissingInputsError: naming each missing dataset and the pipeline to run first.
    """
    missing = [n for n in needed if not exists(n)]
    if not missing:
        return
    producers = producers_of(missing)
    lines = [f"  {n}: made by {', '.join(producers.get(n) or ['no registered pipeline'])}"
             for n in missing]
    first = sorted({p for n in missing for p in producers.get(n, [])[:1]})
    advice = (f"Run `kedro run --pipelines={','.join(first)}` first, or add it to this run."
              if first else "Check the catalog entry's filepath.")
    raise MissingInputsError(
        f"this run reads {len(missing)} dataset(s) that no earlier run made:\n"
        + "\n".join(lines) + f"\n{advice}")


KNOWN_PARAMETER_BLOCKS = frozenset({
    "preparation", "canaries", "grid", "perturbation", "injection", "training", "mia",
    "reporting", "slimpajama_dedup", "tracking",
})


class UnknownParameterKeyError(ValueError):
    """A top-level parameter key (e.g. a misspelled ``reportng:``) no pipeline reads."""


def check_parameter_keys(params: dict[str, Any]) -> None:
    """Refuse top-level parameter keys that are not a pipeline's block.

    Keys starting with ``_`` (YAML anchors) are allowed.

    Raises:
        UnknownParameterKeyError: naming each unknown key and the nearest known one.
    """
    unknown = sorted(k for k in params if not str(k).startswith("_")
                     and k not in KNOWN_PARAMETER_BLOCKS)
    if not unknown:
        return
    parts = []
    for key in unknown:
        near = difflib.get_close_matches(str(key), sorted(KNOWN_PARAMETER_BLOCKS), n=1)
        parts.append(f"'{key}'" + (f" (did you mean '{near[0]}'?)" if near else ""))
    raise UnknownParameterKeyError(
        f"unknown top-level parameter key{'s' if len(unknown) > 1 else ''} "
        f"{', '.join(parts)}; the known blocks are "
        f"{', '.join(sorted(KNOWN_PARAMETER_BLOCKS))}. Fix the spelling in conf/ "
        "(or --params): a misspelled block would be ignored silently."
    )


class GridHooks:
    """Keep a handle on the configuration of the running context."""

    @hook_impl
    def after_context_created(self, context: Any) -> None:
        """Store the context's config loader; refuse unknown top-level parameter keys."""
        _ACTIVE["config_loader"] = context.config_loader
        check_parameter_keys(dict(context.params))

    @hook_impl
    def before_pipeline_run(self, run_params: Any, pipeline: Any, catalog: Any) -> None:
        """Stop at once when the run's parameters are invalid or it reads trained
        models, or any other persisted dataset, that were never made; then give the run
        its identity (``run_info``, saved in ``run_records``: a run stopped here leaves
        no record)."""
        _validate_parameters_first(pipeline, catalog)
        free = sorted(n for n in pipeline.inputs()
                      if not n.startswith("params:") and n != "parameters" and n in catalog)
        models = [n for n in free if n.endswith(".target_model")]
        check_trained_models(models, catalog.exists)
        others = [n for n in free if n not in models and n not in _MADE_BY_HOOKS]
        check_inputs_exist(others, lambda n: _saved(catalog, n), _producers)
        _record_run(run_params, pipeline, catalog)


def _saved(catalog: Any, name: str) -> bool:
    """Whether ``name`` can be loaded: it exists, or it is a run-scoped value (validated
    parameters) that an earlier task of a split run saved."""
    was_saved = getattr(catalog.get(name), "was_saved", None)
    return catalog.exists(name) or (callable(was_saved) and was_saved())


#: Inputs the hooks themselves make (:func:`_record_run`), after the checks.
_MADE_BY_HOOKS = frozenset({"run_info", "run_records"})


def _validate_parameters_first(pipeline: Any, catalog: Any) -> None:
    """Run the pipelines' parameter checks (``validate_*`` nodes that read parameters
    only) now, so a bad value is reported before a missing input; the nodes run again
    in the pipeline, where their outputs are used."""
    for node in pipeline.nodes:
        if node.func.__name__.startswith("validate") and node.inputs and all(
                n.startswith("params:") or n == "parameters" for n in node.inputs):
            node.func(*[_peek(catalog, n) for n in node.inputs])


def _peek(catalog: Any, name: str) -> Any:
    """A parameter value, read from its dataset directly (no "Loading data" log line:
    this is configuration, not data)."""
    return catalog[name].load()


def _record_run(run_params: dict[str, Any], pipeline: Any, catalog: Any) -> None:  # noqa: ARG001
    """``run_info`` (a MemoryDataset the stamping nodes read) and its saved record."""
    from kedro.io import MemoryDataset

    from mosaic_kedro.provenance import run_record

    parameters = _peek(catalog, "parameters") if "parameters" in catalog else {}
    info = run_record(str(run_params.get("run_id")), run_params.get("env"), parameters,
                      run_params.get("pipeline_names"), run_params.get("namespaces"))
    catalog["run_info"] = MemoryDataset(info, copy_mode="assign")
    if "run_records" in catalog:  # every run, so a report can always name its own
        catalog.save("run_records", {info["run_id"]: info})


def _producers(names: list[str]) -> dict[str, list[str]]:
    """The project's pipelines that output each of ``names``. Each pipeline package is
    built here: a run's registry (and ``find_pipelines`` under ``--pipelines``) holds only
    the pipelines the run asked for."""
    import importlib
    import pkgutil

    from mosaic_kedro import pipelines as package

    out: dict[str, list[str]] = {}
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        outputs = module.create_pipeline().all_outputs()
        pipe_name = info.name
        for n in names:
            if n in outputs:
                out.setdefault(n, []).append(pipe_name)
    return out


def active_parameters() -> dict[str, Any] | None:
    """Return the parameters of the running context, or ``None`` outside one."""
    loader = _ACTIVE.get("config_loader")
    return None if loader is None else dict(loader["parameters"])


def run_parameters() -> dict[str, Any]:
    """The parameters of the running context, else of ``conf/`` (``KEDRO_ENV`` or local).

    What ``create_pipeline`` functions read to build one namespace per condition or
    per corpus part; outside a project (no ``conf/``) it is empty.
    """
    params = active_parameters()
    if params is not None:
        return params
    from kedro.config import OmegaConfigLoader
    from kedro.framework.project import settings

    conf = Path.cwd() / settings.CONF_SOURCE
    if not conf.is_dir():
        return {}
    loader = OmegaConfigLoader(
        conf_source=str(conf),
        env=os.environ.get("KEDRO_ENV", "local"),
        base_env="base",
        default_run_env="local",
        merge_strategy={"parameters": "soft"},
    )
    return dict(loader["parameters"])


def grid_parameters() -> dict[str, Any]:
    """The ``grid`` block of :func:`run_parameters`."""
    return dict(run_parameters().get("grid") or {})


class TrackingHooks:
    """With ``tracking.mlflow_uri`` set, log each condition's training-time metrics and
    final AUCs to MLflow as the nodes that make them finish (:mod:`mosaic_kedro.tracking`);
    whichever process runs a node (one ``kedro run``, a Slurm array task) logs it."""

    def __init__(self) -> None:
        self._tracker: Any = None

    @hook_impl
    def before_pipeline_run(self, run_params: Any, pipeline: Any, catalog: Any) -> None:  # noqa: ARG002
        """Validate ``tracking:`` once and connect (fails at once without MLflow)."""
        from mosaic_kedro.tracking import GridTracker, TrackingParams

        raw = _peek(catalog, "params:tracking") if "params:tracking" in catalog else {}
        params = TrackingParams.model_validate(raw or {})
        self._tracker = GridTracker(params) if params.mlflow_uri else None

    @hook_impl
    def after_node_run(self, node: Any, outputs: dict[str, Any]) -> None:  # noqa: ARG002
        """Log what the node made: ``<unit>.training_metrics`` or ``auc_table``."""
        if self._tracker is None:
            return
        for name, value in outputs.items():
            if name.endswith(".training_metrics"):
                self._tracker.log_training(value)
            elif name == "auc_table":
                self._tracker.log_final(value)
