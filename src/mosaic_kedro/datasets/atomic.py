"""One atomic-write layer for every dataset the catalog writes.

A save writes to a temporary sibling (``.<name>.tmp-<host>-<pid>-<rand>``, same
directory, so the rename stays on one filesystem), flushes and fsyncs it (every file
of a directory), then renames it over the target (``os.replace``; a directory is
swapped with ``renameat2(RENAME_EXCHANGE)`` on Linux, else renamed aside then into
place) and fsyncs the parent directory. A failed or interrupted save (an exception,
Ctrl-C) leaves the old output and removes the temporary; SIGINT is deferred while
renaming and cleaning up. A hard kill (SIGKILL, power loss) can leave a stray
temporary: its name never matches a dataset's path or a version's glob, so loading
and ``exists`` ignore it, and the next save of that output on the same host removes
temporaries of dead processes.

Non-local fsspec filesystems (``s3://``, ``gs://``, ...) have no atomic rename: the
save writes the temporary object and then ``fs.mv`` s it (a copy then a delete on
object stores), so readers never see a partly uploaded object, but a crash during the
move can leave the temporary behind.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import hashlib
import inspect
import os
import posixpath
import shutil
import signal
import socket
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

from kedro.io.core import get_filepath_str

TMP_MARK = ".tmp-"
_HOST = hashlib.sha1(socket.gethostname().encode()).hexdigest()[:6]


def interruption_point(name: str) -> None:
    """Mark a point of a save (``before_commit``, ``after_commit``); tests patch it."""


def temp_name(name: str) -> str:
    """The temporary sibling name for the output ``name``."""
    return f".{name}{TMP_MARK}{_HOST}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def is_temp_name(name: str) -> bool:
    """Whether ``name`` is a temporary of this layer."""
    return name.startswith(".") and TMP_MARK in name


@contextlib.contextmanager
def deferred_interrupts() -> Iterator[None]:
    """Hold SIGINT until the block ends (main thread only; elsewhere a no-op)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[Any] = []
    old = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(frame))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)
        if caught:
            if callable(old):
                old(signal.SIGINT, caught[0])
            elif old == signal.SIG_DFL:
                os.kill(os.getpid(), signal.SIGINT)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(path: Path) -> None:
    """fsync a file, or every file and directory under a directory."""
    if path.is_dir():
        for root, _dirs, files in os.walk(path):
            for f in files:
                _fsync(Path(root) / f)
            _fsync(Path(root))
    else:
        _fsync(path)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux renameat2); False where unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def remove_stale_temps(final: Path) -> None:
    """Remove temporaries of ``final`` left by dead processes of this host."""
    prefix = f".{final.name}{TMP_MARK}{_HOST}-"
    with contextlib.suppress(OSError):
        for entry in final.parent.iterdir():
            if not entry.name.startswith(prefix):
                continue
            try:
                pid = int(entry.name[len(prefix):].split("-")[0])
                if pid == os.getpid():
                    continue
                os.kill(pid, 0)
            except ProcessLookupError:
                _remove(entry)
            except (ValueError, PermissionError):
                continue


def _commit_local(tmp: Path, final: Path) -> Path | None:
    """Move ``tmp`` to ``final``; return a path holding replaced content to delete."""
    if final.is_dir() and not final.is_symlink():
        if not tmp.is_dir():
            raise IsADirectoryError(f"cannot replace the directory {final} with a file")
        if _exchange(tmp, final):
            return tmp
        aside = final.parent / temp_name(final.name)
        os.rename(final, aside)
        os.rename(tmp, final)
        return aside
    os.replace(tmp, final)
    return None


@contextlib.contextmanager
def atomic_local_path(final: Path | str) -> Iterator[Path]:
    """Yield a temporary sibling of ``final`` to write (a file or a directory);
    on success fsync it and rename it over ``final``, else remove it."""
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(final)
    tmp = final.parent / temp_name(final.name)
    leftover: Path | None = None
    try:
        yield tmp
        if not tmp.exists():
            raise FileNotFoundError(f"the save wrote nothing to {tmp}")
        fsync_tree(tmp)
        interruption_point("before_commit")
        with deferred_interrupts():
            leftover = _commit_local(tmp, final)
            _fsync(final.parent)
        interruption_point("after_commit")
    finally:
        with deferred_interrupts():
            _remove(tmp)
            if leftover is not None:
                _remove(leftover)


@contextlib.contextmanager
def atomic_fs_path(fs: Any, final: str) -> Iterator[str]:
    """``atomic_local_path`` for a non-local fsspec filesystem: write, then ``fs.mv``."""
    parent, name = posixpath.split(final)
    tmp = posixpath.join(parent, temp_name(name))
    try:
        yield tmp
        interruption_point("before_commit")
        with deferred_interrupts():
            if fs.isdir(final) and fs.isdir(tmp):
                fs.rm(final, recursive=True)
            fs.mv(tmp, final, recursive=fs.isdir(tmp))
        interruption_point("after_commit")
    finally:
        with deferred_interrupts(), contextlib.suppress(FileNotFoundError):
            if fs.exists(tmp):
                fs.rm(tmp, recursive=True)


class AtomicWriteMixin:
    """Make a kedro-datasets file dataset's ``save`` atomic (see the module doc).

    The parent's own ``save`` writes to the temporary path (``_get_save_path`` returns
    it during the save); the mixin then commits it. Put it first in the bases.
    """

    _atomic_tmp: PurePosixPath | None = None

    def _get_save_path(self) -> PurePosixPath:
        if self._atomic_tmp is not None:
            return self._atomic_tmp
        return super()._get_save_path()  # type: ignore[misc]

    def save(self, data: Any) -> None:
        """Save through the parent class into a temporary, then rename it into place."""
        final = super()._get_save_path()  # type: ignore[misc]  # refuses an existing version
        inner = inspect.unwrap(super().save)  # type: ignore[misc]
        protocol = self._protocol  # type: ignore[attr-defined]
        if protocol == "file":
            ctx: Any = atomic_local_path(get_filepath_str(final, protocol))
        else:
            ctx = atomic_fs_path(self._fs, get_filepath_str(final, protocol))  # type: ignore[attr-defined]
        overwrite = getattr(self, "_overwrite", None)
        with ctx as tmp:
            self._atomic_tmp = PurePosixPath(str(tmp).split("://", 1)[-1])
            if overwrite is not None:
                self._overwrite = False  # the temporary is fresh; the swap replaces the old
            try:
                inner(self, data)
            finally:
                self._atomic_tmp = None
                if overwrite is not None:
                    self._overwrite = overwrite
        self._invalidate_cache()  # type: ignore[attr-defined]
