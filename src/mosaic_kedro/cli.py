"""Project commands: ``kedro mosaic slurm`` (job scripts for a Slurm cluster).

Kedro adds the commands of this module's ``cli`` group to the project's ``kedro``
command. The script text comes from :mod:`mosaic_kedro.slurm`; this module reads the
environment's configuration and pipelines and writes the files.
"""

from __future__ import annotations

from pathlib import Path

import click

from mosaic_kedro import slurm
from mosaic_kedro.datasets.atomic import atomic_local_path


@click.group(name="mosaic_kedro")
def cli() -> None:
    """Project commands."""


@cli.group()
def mosaic() -> None:
    """mosaic_kedro's own commands."""


def _write_atomic(path: Path, text: str, executable: bool = False) -> None:
    with atomic_local_path(path) as tmp:  # the catalog datasets' atomic write
        tmp.write_text(text)
        tmp.chmod(0o755 if executable else 0o644)


def _unit_pipeline_nodes(env: str, project_dir: Path) -> tuple[dict, list]:
    """The environment's grid and the nodes of the per-unit pipelines, topologically."""
    from kedro.framework.project import pipelines
    from kedro.framework.session import KedroSession
    from kedro.pipeline import Pipeline

    with KedroSession.create(project_path=project_dir, env=env) as session:
        params = session.load_context().params  # the hooks now know this env's grid
        combined = sum((pipelines[name] for name in slurm.UNIT_PIPELINES), Pipeline([]))
    nodes = [(n.name, n.namespace, list(n.inputs), list(n.outputs)) for n in combined.nodes]
    return dict(params.get("grid") or {}), nodes


@mosaic.command(name="slurm")
@click.option("--env", "-e", default="paper", show_default=True,
              help="Kedro environment whose grid the jobs run.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Directory for the scripts [default: build/slurm/<env>].")
@click.option("--partition", default=None, help="#SBATCH --partition.")
@click.option("--account", default=None, help="#SBATCH --account.")
@click.option("--gpus", default=1, show_default=True, help="GPUs per array task.")
@click.option("--cpus", default=8, show_default=True, help="CPUs per task.")
@click.option("--mem", default="64G", show_default=True, help="Memory per task.")
@click.option("--time", "time_limit", default="04:00:00", show_default=True,
              help="Time limit of one array task (one training unit).")
@click.option("--max-parallel", type=int, default=None,
              help="At most this many array tasks at once (--array=0-N%K).")
def slurm_command(env: str, out: Path | None, partition: str | None, account: str | None,
                  gpus: int, cpus: int, mem: str, time_limit: str,
                  max_parallel: int | None) -> None:
    """Write Slurm job scripts for the grid of ENV: set-up, one array task per training
    unit (a condition in the isolated design, a seed in the pooled one), reporting,
    and submit.sh that chains them."""
    project_dir = Path.cwd().resolve()
    grid, nodes = _unit_pipeline_nodes(env, project_dir)
    units = slurm.unit_namespaces(grid)
    missing = sorted({ns for unit in units for ns in unit} - {n[1] for n in nodes})
    if missing:  # a grid the pipelines do not build: no script that would fail on a node
        raise click.ClickException(f"namespaces of the grid that no pipeline has: {missing}")
    setup_nodes, gather_nodes = slurm.split_shared_nodes(nodes)
    options = slurm.SlurmOptions(env=env, partition=partition, account=account, gpus=gpus,
                                 cpus=cpus, mem=mem, time=time_limit,
                                 max_parallel=max_parallel)
    where = str(project_dir)
    out = out or project_dir / "build" / "slurm" / env
    out.mkdir(parents=True, exist_ok=True)
    _write_atomic(out / "setup.sbatch", slurm.setup_script(where, options, setup_nodes))
    _write_atomic(out / "units.sbatch", slurm.units_script(where, options, grid))
    _write_atomic(out / "report.sbatch", slurm.report_script(where, options, gather_nodes))
    _write_atomic(out / "submit.sh", slurm.submit_script(where), executable=True)
    click.echo(f"{out}: setup.sbatch, units.sbatch ({len(units)} array tasks, "
               f"grid.design: {grid.get('design', 'isolated')}), report.sbatch; "
               f"submit with: bash {out / 'submit.sh'}")
