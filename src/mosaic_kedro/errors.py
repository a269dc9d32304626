"""What the last lines of a failed run say.

A run that stops on a problem the user can fix (a missing input, a bad parameter, a
broken model file: every exception class this package defines) ends with that
problem's message and advice, not under a long traceback; ``MOSAIC_TRACEBACK=1``
shows the traceback as well. Any other exception (a bug, a library error) keeps its
traceback and is summarised again in the last lines, so the cause is what a user
reads first at the bottom of the terminal or the log.
"""

from __future__ import annotations

import os
import sys
import traceback
from types import TracebackType
from typing import Any

PACKAGE = "mosaic_kedro"


def _own_error(exc: BaseException) -> BaseException | None:
    """The first of ``exc`` and the exceptions it was raised from that this package
    defines, or ``None``."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if type(current).__module__.split(".")[0] == PACKAGE:
            return current
        current = current.__cause__ or current.__context__
    return None


def is_user_error(exc: BaseException) -> bool:
    """Whether ``exc`` (or an exception it was raised from) is one of the package's
    own, explained errors."""
    return _own_error(exc) is not None


def failure_tail(exc: BaseException, *, traceback_shown: bool) -> str:
    """The closing block printed after a failed command."""
    own = _own_error(exc) or exc
    hint = ("" if traceback_shown else
            "\n(the traceback is hidden because this is an explained problem, not a bug; "
            "MOSAIC_TRACEBACK=1 shows it)")
    return f"\nFAILED: {type(own).__name__}\n{own}{hint}\n"


def install_excepthook(stream: Any = None) -> None:
    """Replace ``sys.excepthook`` (once) so a failed command ends with its cause."""
    previous = sys.excepthook
    if getattr(previous, "_mosaic", False):
        return

    def hook(kind: type[BaseException], exc: BaseException,
             tb: TracebackType | None) -> None:
        out = stream or sys.stderr
        if isinstance(exc, KeyboardInterrupt):
            previous(kind, exc, tb)
            return
        show = not is_user_error(exc) or os.environ.get("MOSAIC_TRACEBACK") == "1"
        if show:
            try:
                previous(kind, exc, tb)
            except Exception:  # a broken previous hook must not hide the cause
                traceback.print_exception(kind, exc, tb, file=out)
        print(failure_tail(exc, traceback_shown=show), file=out, flush=True)

    hook._mosaic = True  # type: ignore[attr-defined]
    sys.excepthook = hook
