"""The slimpajama_dedup pipeline on a small planted corpus, bad inputs, kedro-airflow."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from mosaic_kedro import rust_bridge

KEDRO = [sys.executable, "-m", "kedro"]
REPO = Path(__file__).resolve().parents[3]


def _env(**extra):
    env = dict(os.environ)
    env.setdefault("MOSAIC_RUST_BIN", str(rust_bridge.find_binary()))
    env.update(extra)
    return env


def _setup(project_copy, sample_texts, tiny_tokenizer, **overrides):
    data = project_copy / "data"
    if (project_copy / "src").is_symlink():  # the CLI resolves it outside the project root
        (project_copy / "src").unlink()
    if not (project_copy / "src").exists():
        shutil.copytree(REPO / "src", project_copy / "src", ignore=shutil.ignore_patterns("__pycache__"))
    (data / "03_primary").mkdir(parents=True)
    books = pd.DataFrame({"book_id": ["a", "b", "c"], "title": ["a", "b", "c"], "source": ["t"] * 3,
                          "text": [t[:200_000] for t in sample_texts]})
    books.iloc[:2].to_parquet(data / "03_primary" / "host_books.parquet")
    books.iloc[2:].to_parquet(data / "03_primary" / "heldout_books.parquet")
    tok_dir = project_copy / "tok"
    tiny_tokenizer.save_pretrained(tok_dir)
    block = {"parts": 2, "tokenizer": {"name_or_path": str(tok_dir)}, "length": 40, "min_distinct": 20,
             "buckets": [4, 8], "max_distance": 20, "threads": 2, "dedup_ns": [10, 20, 30, 40],
             "sample": {"max_chars": 400_000, "shards": 3, "targets_per_count": 2,
                        "fuzzy_distances": [1, 3, 8, 15]}}
    block.update(overrides)
    (project_copy / "conf" / "local" / "parameters.yml").write_text(yaml.safe_dump({"slimpajama_dedup": block}))
    (project_copy / "conf" / "local" / "globals.yml").write_text(f"data_root: {data}\n")
    return data


def _run(cwd, *extra, check=True, env=None):
    proc = subprocess.run([*KEDRO, "run", "--pipelines=slimpajama_dedup", *extra], cwd=cwd,
                          capture_output=True, text=True, timeout=240, env=env or _env(), check=False)
    if check and proc.returncode:
        raise AssertionError(proc.stdout[-4000:] + proc.stderr[-4000:])
    return proc


def test_pipeline_recovers_every_planted_copy(project_copy, sample_texts, tiny_tokenizer):
    data = _setup(project_copy, sample_texts, tiny_tokenizer)
    _run(project_copy, "--runner=ParallelRunner")
    sample = json.loads((data / "02_intermediate/slimpajama_sample/manifest.json").read_text())
    targets = json.loads((data / "05_model_input/slimpajama/targets_manifest.json").read_text())["targets"]
    # every planted target repeated in part 0 (the method's query source) is selected,
    # in its bucket, with its exact count
    in0_all = json.loads((data / "04_feature/slimpajama/corpus_manifest.json").read_text())["parts"][0]["planted_docs"]
    got = {tuple(t["tokens"]): (t["bucket"], t["count"]) for t in targets}
    repeated = [pt for pt in sample["targets"]
                if sum(f"{pt['id']}_exact_{j}" in in0_all for j in range(pt["count"])) >= 2]
    assert repeated
    for pt in repeated:
        assert got[tuple(pt["tokens"])] == (pt["count"], pt["count"])
    check = pd.read_csv(next((data / "08_reporting/slimpajama_planted_check.csv").rglob("*.csv")))
    row = check[check["kind"] == "all"].iloc[0]
    assert row["selected"] > 0 and row["found"] == row["selected"]
    table = pd.read_csv(next((data / "08_reporting/slimpajama_near_duplicates.csv").rglob("*.csv")))
    assert set(table["measure"]) == {"hamming", "levenshtein", "dedup_survivors"}
    # the scan result per planted target in the scanned part, exactly
    corpus_m = json.loads((data / "04_feature/slimpajama/corpus_manifest.json").read_text())
    in0 = corpus_m["parts"][0]["planted_docs"]
    for pt in repeated:
        tid = next(t["id"] for t in targets if t["tokens"] == pt["tokens"])
        sub = table[(table["target"] == tid) & (table["measure"] == "levenshtein")]
        exp0 = sum(1 for j in range(pt["count"]) if f"{pt['id']}_exact_{j}" in in0)
        lev = {f["id"]: f["levenshtein"] for f in pt["fuzzy"]}
        for d in (0, 3, 20):
            expect = exp0 + sum(1 for k, v in lev.items() if k in in0 and v <= d)
            assert int(sub[sub["x"] == d]["n"].iloc[0]) >= expect
    for name in ("slimpajama_near_dups_vs_distance", "slimpajama_levenshtein_vs_hamming", "slimpajama_dedup_survivors"):
        assert list((data / "08_reporting" / f"{name}.png").rglob("*.png"))


def test_missing_binary_names_the_build_command(project_copy, sample_texts, tiny_tokenizer, monkeypatch):
    missing = str(project_copy / "no-such-binary")
    _setup(project_copy, sample_texts, tiny_tokenizer)
    proc = _run(project_copy, check=False, env=_env(MOSAIC_RUST_BIN=missing))
    monkeypatch.setenv("MOSAIC_RUST_BIN", missing)
    with pytest.raises(rust_bridge.RustBinaryNotFoundError, match="cargo build --release"):
        rust_bridge.find_binary()
    assert proc.returncode != 0
    assert "cargo build --release" in proc.stdout + proc.stderr


def test_bad_parameters_fail_first(project_copy, sample_texts, tiny_tokenizer):
    _setup(project_copy, sample_texts, tiny_tokenizer, scan_parts=[5])
    proc = _run(project_copy, check=False)
    assert proc.returncode != 0 and "scan_parts" in proc.stdout + proc.stderr


def _results(data: Path) -> dict[str, pd.DataFrame]:
    """The near-duplicate counts and the planted-copy check, without run ids."""
    out = {}
    for name in ("slimpajama_near_duplicates", "slimpajama_planted_check"):
        (path,) = (data / "08_reporting" / f"{name}.csv").glob("*/*.csv")
        out[name] = pd.read_csv(path).drop(columns=["run_id"], errors="ignore")
    return out


@pytest.mark.slow
def test_airflow_runs_the_fan_out_like_kedro_run(project_copy, sample_texts, tiny_tokenizer,
                                                 airflow, another_project):
    """``kedro airflow create --group-by namespace`` for slimpajama_dedup, executed by
    Airflow (LocalExecutor: every task its own process), gives what ``kedro run`` gives."""
    data = _setup(project_copy, sample_texts, tiny_tokenizer)
    peer = another_project()
    shutil.copytree(project_copy / "src", peer / "src", dirs_exist_ok=True)
    shutil.copytree(project_copy / "tok", peer / "tok")
    shutil.copytree(project_copy / "conf" / "local", peer / "conf" / "local", dirs_exist_ok=True)
    shutil.copytree(data, peer / "data")  # the books, before anything ran
    (peer / "conf" / "local" / "globals.yml").write_text(f"data_root: {peer / 'data'}\n")
    _run(project_copy)

    engine = airflow(peer)
    dag = engine.create_dag("--pipelines=slimpajama_dedup", "--env", "local")
    for ns in ("part_00", "part_01", "count_part_00", "scan_part_00"):
        assert f'namespaces=["{ns}"]' in dag.read_text()
    tasks = engine.test_dag(dag, timeout=600)
    assert {t["task"] for t in tasks} >= {"part-00", "part-01", "count-part-00", "scan-part-00"}
    assert all(t["state"] == "success" for t in tasks), tasks
    assert len({t["pid"] for t in tasks}) == len(tasks)  # one process per task
    ours, theirs = _results(peer / "data"), _results(data)
    for name, table in theirs.items():
        pd.testing.assert_frame_equal(ours[name], table, obj=name)


def test_figures_log_axis_starts_at_the_data():
    """A band reaching zero (mean == se) no longer drags the log axis to 1e-9."""
    import pandas as pd

    from mosaic_kedro.pipelines.slimpajama_dedup.nodes import plot_figures

    rows = [{"bucket": "b", "measure": m, "x": x, "n_extrapolated": v}
            for m in ("levenshtein", "hamming", "dedup_survivors")
            for x, vals in ((1, (0.0, 200.0)), (5, (300.0, 500.0))) for v in vals]
    for fig in plot_figures(pd.DataFrame(rows)):
        ax = fig.axes[0]
        assert ax.get_yscale() == "log"
        assert ax.get_ylim()[0] == 50.0  # half the smallest positive mean (100)
