"""Slurm job scripts for a grid: set-up, one array task per training unit, reporting.

A pure library (the grid module and the standard library): it builds script text from
a ``grid`` block and the names of the shared nodes; :mod:`mosaic_kedro.cli` reads the
project's configuration and writes the files (``kedro mosaic slurm --env paper``).

Three jobs, chained by ``submit.sh`` with ``--dependency=afterok``:

1. ``setup.sbatch`` (one task): ``preparation`` (only missing outputs), ``canaries``,
   and the shared nodes the per-unit tasks read (parameter validation, the ``clm`` /
   ``mlm`` candidate sets, the reference model's scores).
2. ``units.sbatch`` (a job array): task ``i`` trains training unit ``i`` of
   :func:`mosaic_kedro.grid.training_units` (a condition in the isolated design, a
   seed in the pooled one) and scores the conditions on it:
   ``kedro run --pipelines=perturbation,injection,training,mia --namespaces=...``.
3. ``report.sbatch`` (one task): the gathering nodes (``mia_scores``, the AUC table,
   ``training_metrics``, ``extraction_scores``), ``slimpajama_dedup`` and ``reporting``.

Tasks share data only through the catalog on disk (``globals.data_root``), so that
directory (and the Hugging Face cache) must be on storage every node mounts.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from mosaic_kedro.grid import training_units

#: The pipelines that run per training unit (their namespaced nodes).
UNIT_PIPELINES = ("perturbation", "injection", "training", "mia")


@dataclass(frozen=True)
class SlurmOptions:
    """``#SBATCH`` settings. ``gpus`` and ``time`` apply to the array (one unit per
    task); set-up and reporting get one GPU and ``setup_time`` / ``report_time``."""

    env: str = "paper"
    partition: str | None = None
    account: str | None = None
    gpus: int = 1
    cpus: int = 8
    mem: str = "64G"
    time: str = "04:00:00"
    setup_time: str = "08:00:00"
    report_time: str = "01:00:00"
    max_parallel: int | None = None
    prelude: Sequence[str] = field(default=(
        "if [ -f .venv/bin/activate ]; then source .venv/bin/activate; fi",))


def unit_namespaces(grid: Any) -> list[list[str]]:
    """Per training unit, in grid order, the namespaces its array task runs: the unit
    (injection and training) and every condition scored on it (perturbation, mia)."""
    out = []
    for unit, conds in training_units(grid).items():
        names = [unit] + [c.name for c in conds if c.name != unit]
        out.append(names)
    return out


def _header(name: str, options: SlurmOptions, time: str, gpus: int,
            project_dir: str, output: str = "logs/%x-%j.out") -> list[str]:
    lines = ["#!/bin/bash", f"#SBATCH --job-name={name}", f"#SBATCH --time={time}",
             f"#SBATCH --cpus-per-task={options.cpus}", f"#SBATCH --mem={options.mem}",
             f"#SBATCH --chdir={project_dir}", f"#SBATCH --output={output}"]
    if gpus:
        lines.append(f"#SBATCH --gpus={gpus}")
    if options.partition:
        lines.append(f"#SBATCH --partition={options.partition}")
    if options.account:
        lines.append(f"#SBATCH --account={options.account}")
    return lines


def _body(project_dir: str, options: SlurmOptions) -> list[str]:
    return ["set -euo pipefail", f"cd {shlex.quote(project_dir)}", *options.prelude,
            "export KEDRO_DISABLE_TELEMETRY=true TOKENIZERS_PARALLELISM=false"]


def _kedro(options: SlurmOptions, *args: str) -> str:
    return " ".join(["kedro", "run", f"--env={shlex.quote(options.env)}", *args])


def setup_script(project_dir: str, options: SlurmOptions, setup_nodes: Sequence[str]) -> str:
    """Job 1: preparation, canaries and the shared nodes the array tasks read."""
    lines = [*_header(f"mosaic-{options.env}-setup", options, options.setup_time, options.gpus,
                     project_dir),
             "# Preparation (models, books) once, the canaries, and the shared nodes the",
             "# per-unit tasks read: parameter validation, candidate sets, reference scores.",
             *_body(project_dir, options),
             _kedro(options, "--pipelines=preparation", "--only-missing-outputs")]
    # --to-nodes: the shared nodes and what they need (the canaries, validation).
    to_nodes = [f"--to-nodes={','.join(setup_nodes)}"] if setup_nodes else []
    lines.append(_kedro(options, f"--pipelines=canaries,{','.join(UNIT_PIPELINES)}",
                        *to_nodes))
    return "\n".join(lines) + "\n"


def units_script(project_dir: str, options: SlurmOptions, grid: Any) -> str:
    """Job 2: a job array, one task per training unit (``$SLURM_ARRAY_TASK_ID``)."""
    units = unit_namespaces(grid)
    throttle = f"%{options.max_parallel}" if options.max_parallel else ""
    design = (grid or {}).get("design", "isolated")
    lines = [*_header(f"mosaic-{options.env}-units", options, options.time, options.gpus,
                     project_dir, output="logs/%x-%A_%a.out"),
             f"#SBATCH --array=0-{len(units) - 1}{throttle}",
             f"# {len(units)} training units (grid.design: {design}); task i trains unit i",
             "# and scores the conditions on it. Rerunning a task resumes from its last",
             "# checkpoint (training.save_steps).",
             *_body(project_dir, options),
             "UNITS=("]
    lines += [f"  {shlex.quote(','.join(ns))}  # {i}" for i, ns in enumerate(units)]
    lines += [")",
              'namespaces="${UNITS[$SLURM_ARRAY_TASK_ID]}"',
              'echo "array task $SLURM_ARRAY_TASK_ID: namespaces $namespaces"',
              _kedro(options, f"--pipelines={','.join(UNIT_PIPELINES)}",
                     '--namespaces="$namespaces"')]
    return "\n".join(lines) + "\n"


def report_script(project_dir: str, options: SlurmOptions, gather_nodes: Sequence[str]) -> str:
    """Job 3: gather every unit's outputs, SlimPajama, the report."""
    lines = [*_header(f"mosaic-{options.env}-report", options, options.report_time, 0,
                     project_dir),
             "# Gather every unit's outputs (mia_scores, the AUC table, training metrics,",
             "# extraction), then slimpajama_dedup and the report.",
             *_body(project_dir, options)]
    if gather_nodes:
        lines.append(_kedro(options, f"--pipelines={','.join(UNIT_PIPELINES)}",
                            f"--nodes={','.join(gather_nodes)}"))
    lines.append(_kedro(options, "--pipelines=slimpajama_dedup,reporting"))
    return "\n".join(lines) + "\n"


def submit_script(project_dir: str) -> str:
    """``submit.sh``: the three jobs, each after the previous one succeeded."""
    return "\n".join([
        "#!/bin/bash",
        "# Submit set-up, the per-unit array and reporting, each after the previous one",
        "# succeeded. Run from anywhere: bash submit.sh",
        "set -euo pipefail",
        'here="$(cd "$(dirname "$0")" && pwd)"',
        f"mkdir -p {shlex.quote(project_dir)}/logs  # the jobs' --output files",
        'setup=$(sbatch --parsable "$here/setup.sbatch")',
        'units=$(sbatch --parsable --dependency=afterok:"$setup" "$here/units.sbatch")',
        'report=$(sbatch --parsable --dependency=afterok:"$units" "$here/report.sbatch")',
        'echo "submitted: setup $setup, units $units, report $report"',
    ]) + "\n"


def split_shared_nodes(
    nodes: Sequence[tuple[str, str | None, Sequence[str], Sequence[str]]],
) -> tuple[list[str], list[str]]:
    """Split the shared (un-namespaced) nodes of the unit pipelines into those the
    array tasks need first and the gathering ones that need the tasks' outputs.

    ``nodes`` are ``(name, namespace, inputs, outputs)`` in topological order (as
    ``Pipeline.nodes`` gives them). A shared node is gathering when any input comes,
    directly or through other shared nodes, from a namespaced node. Parameter
    validation (``validate_*``, output kept in memory) goes in both lists."""
    downstream: set[str] = set()  # datasets that depend on a namespaced node
    setup, gather = [], []
    for name, namespace, inputs, outputs in nodes:
        if namespace:
            downstream.update(outputs)
        elif downstream.intersection(inputs):
            gather.append(name)
            downstream.update(outputs)
        else:
            setup.append(name)
    validators = [n for n in setup if n.startswith("validate_")]
    return setup, validators + gather
