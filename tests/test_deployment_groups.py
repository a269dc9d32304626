"""The tasks an engine makes of the pipelines (``kedro airflow create --group-by
namespace``: one task per namespace, one per node outside them) share data only
through persisted datasets, and depend on each other without a cycle, in every
committed environment. (Executing such a DAG: tests/test_smoke_env.py and the
slimpajama_dedup tests.)"""

from __future__ import annotations

import pytest
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
from kedro.io import MemoryDataset

from mosaic_kedro.pipeline_registry import register_pipelines

ENVS = ["base", "smoke", "test", "paper"]


@pytest.fixture(scope="module", params=ENVS)
def grouped(request, another_project):
    """(pipeline, its tasks, in-memory dataset names) of one environment."""
    project = another_project()
    bootstrap_project(project)
    with KedroSession.create(project_path=project, env=request.param) as session:
        catalog = session.load_context().catalog
        pipe = register_pipelines()["__default__"]  # built from this env's grid
    in_memory = {name for name in pipe.datasets()
                 if name not in catalog or isinstance(catalog.get(name), MemoryDataset)}
    return pipe, pipe.group_nodes_by(group_by="namespace"), in_memory


def test_no_memory_dataset_crosses_a_task(grouped):
    pipe, groups, in_memory = grouped
    task_of = {n: g.name for g in groups for n in g.nodes}
    producer = {out: n.name for n in pipe.nodes for out in n.outputs}
    crossing = set()
    for n in pipe.nodes:
        for name in n.inputs:
            if name in producer and name in in_memory and task_of[producer[name]] != task_of[n.name]:
                crossing.add(f"{name}: {task_of[producer[name]]} -> {task_of[n.name]}")
    assert not crossing, sorted(crossing)
    assert any(g.name == "reporting" and g.type == "namespace" for g in groups)


def test_tasks_depend_on_each_other_without_a_cycle(grouped):
    _, groups, _ = grouped
    deps = {g.name: set(g.dependencies) for g in groups}
    done: set[str] = set()
    while deps:  # Kahn: peel off the tasks whose dependencies are done
        ready = {name for name, d in deps.items() if d <= done}
        assert ready, f"a cycle among {sorted(deps)[:10]}"
        done |= ready
        deps = {name: d for name, d in deps.items() if name not in ready}
