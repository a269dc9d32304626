"""A failed command ends with its cause: explained errors without a traceback."""

from __future__ import annotations

import io
import sys

import pytest

from mosaic_kedro import errors
from mosaic_kedro.hooks import MissingInputsError


def _raise_chained() -> None:
    try:
        raise MissingInputsError("books missing: run preparation")
    except MissingInputsError as exc:
        raise RuntimeError("node failed") from exc


@pytest.fixture
def hook(monkeypatch):
    seen = []
    monkeypatch.setattr(sys, "excepthook", lambda *a: seen.append(a))
    out = io.StringIO()
    errors.install_excepthook(stream=out)
    installed = sys.excepthook
    errors.install_excepthook(stream=out)  # a second install keeps the first
    assert sys.excepthook is installed
    return installed, seen, out


def _fire(installed, exc: BaseException) -> None:
    installed(type(exc), exc, exc.__traceback__)


def test_own_error_ends_with_message_and_no_traceback(hook, monkeypatch):
    monkeypatch.delenv("MOSAIC_TRACEBACK", raising=False)
    installed, seen, out = hook
    _fire(installed, MissingInputsError("books missing: run preparation"))
    lines = out.getvalue().strip().splitlines()
    assert seen == []  # the previous (traceback-printing) hook is not called
    assert lines[0] == "FAILED: MissingInputsError"
    assert lines[1] == "books missing: run preparation"
    assert "MOSAIC_TRACEBACK=1" in lines[2]


def test_own_error_under_a_library_error_is_found(hook, monkeypatch):
    monkeypatch.delenv("MOSAIC_TRACEBACK", raising=False)
    installed, seen, out = hook
    try:
        _raise_chained()
    except RuntimeError as exc:
        _fire(installed, exc)
    assert seen == []
    assert out.getvalue().split("\n")[1:3] == ["FAILED: MissingInputsError",
                                               "books missing: run preparation"]


def test_traceback_on_request_and_for_other_errors(hook, monkeypatch):
    installed, seen, out = hook
    monkeypatch.setenv("MOSAIC_TRACEBACK", "1")
    _fire(installed, MissingInputsError("x"))
    assert len(seen) == 1
    monkeypatch.delenv("MOSAIC_TRACEBACK")
    _fire(installed, KeyError("bug"))
    assert len(seen) == 2  # a bug keeps its traceback...
    assert out.getvalue().rstrip().endswith("FAILED: KeyError\n'bug'")  # ...and the tail
    assert errors.is_user_error(MissingInputsError("x"))
    assert not errors.is_user_error(ValueError("x"))
