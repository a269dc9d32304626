"""Run identity carried with the data (which run, with which parameters, made a row).

Each ``kedro run`` gets a record (:func:`run_record`: the session id, the environment,
the pipelines and namespaces asked for, the parameters and their hash), saved by the
project hooks as ``run_records/<run_id>.yml``. Per-condition outputs (MIA scores,
extraction, training metrics) carry ``run_id`` and ``params_hash`` columns
(:func:`stamp`), so a report built from versions of several runs can say so, and show
the parameters that produced its data rather than those in force when it was written.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pandas as pd

RUN_COLUMNS = ["run_id", "params_hash"]
UNRECORDED = "unrecorded"  # rows made without a run record (direct node calls, old data)

#: Parameter blocks that do not change what the experiment computes: reporting only
#: redraws, so a report rerun with other reporting settings is still the same run's data.
_NOT_HASHED = frozenset({"reporting"})


def params_hash(parameters: dict[str, Any]) -> str:
    """A short hash of the parameters that determine the experiment's numbers."""
    kept = {k: v for k, v in parameters.items() if k not in _NOT_HASHED}
    canonical = json.dumps(kept, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]


def run_record(run_id: str, env: str | None, parameters: dict[str, Any],
               pipelines: list[str] | None, namespaces: list[str] | None) -> dict[str, Any]:
    """What identifies one run: saved once per run, looked up by ``run_id``."""
    return {"run_id": run_id, "env": env or "local", "pipelines": list(pipelines or []),
            "namespaces": list(namespaces or []), "params_hash": params_hash(parameters),
            "parameters": parameters}


def stamp(frame: pd.DataFrame, run_info: dict[str, Any] | None) -> pd.DataFrame:
    """``frame`` with the run's ``run_id`` and ``params_hash`` columns."""
    info = run_info or {}
    return frame.assign(run_id=str(info.get("run_id", UNRECORDED)),
                        params_hash=str(info.get("params_hash", UNRECORDED)))


def runs_of(*frames: pd.DataFrame) -> pd.DataFrame:
    """The distinct (run_id, params_hash) of the rows of ``frames``, with how many
    conditions each made (``conditions``); rows without the columns count as
    ``unrecorded``."""
    parts = []
    for frame in frames:
        if frame is None or len(frame) == 0 or "condition" not in frame.columns:
            continue
        f = frame.reindex(columns=["condition", *RUN_COLUMNS]).astype(object).fillna(UNRECORDED)
        parts.append(f.drop_duplicates())
    if not parts:
        return pd.DataFrame(columns=[*RUN_COLUMNS, "conditions"])
    rows = pd.concat(parts, ignore_index=True).drop_duplicates()
    return (rows.groupby(RUN_COLUMNS, sort=True)["condition"].nunique()
            .rename("conditions").reset_index())


def runs_by_input(frames: dict[str, pd.DataFrame | None]) -> pd.DataFrame:
    """:func:`runs_of` per named input (``{input name: frame}``): which run and
    parameter hash made the rows of each input a report read, and for how many
    conditions (columns ``input``, ``run_id``, ``params_hash``, ``conditions``)."""
    parts = [runs_of(frame).assign(input=name) for name, frame in frames.items()]
    parts = [part for part in parts if len(part)]
    if not parts:
        return pd.DataFrame(columns=["input", *RUN_COLUMNS, "conditions"])
    return pd.concat(parts, ignore_index=True)[["input", *RUN_COLUMNS, "conditions"]]

