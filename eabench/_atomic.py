"""Atomic file writes: one helper for every "temp file + fsync + rename" in eabench.

Every write goes to a **unique** temporary file in the target's folder (``tempfile.mkstemp``),
is fsynced, and then renamed over the target, so concurrent writers of one path never share a
temp name (the last rename wins, each reader sees one whole version) and a crash never leaves a
torn target. The folder is fsynced after the rename where the platform allows it.

The sha256 of a file is :func:`eabench.manifest.sha256_file` (re-exported here).
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from eabench.manifest import sha256_file

__all__ = ["atomic_path", "atomic_write_bytes", "atomic_write_text", "sha256_file"]


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _tmp_in(path: Path) -> tuple[int, Path]:
    """A unique temp file next to ``path`` with the mode a plain ``open`` would give it (mkstemp
    makes 0600; the target keeps its own mode if it exists, else 0666 minus the umask)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        mode = 0o666 & ~_umask()
    with contextlib.suppress(OSError):
        os.fchmod(fd, mode)
    return fd, Path(tmp)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (unique temp file, fsync, rename); returns the path."""
    return _atomic(Path(path), lambda fh: fh.write(data))


def atomic_write_text(path: str | os.PathLike[str], text: str, encoding: str = "utf-8") -> Path:
    """:func:`atomic_write_bytes` of ``text`` encoded with ``encoding``."""
    return atomic_write_bytes(path, text.encode(encoding))


def _atomic(path: Path, write: Callable[[IO[bytes]], object]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _tmp_in(path)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(path)
        _fsync_dir(path.parent)
    finally:
        tmp.unlink(missing_ok=True)
    return path


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """A unique temp path next to ``path`` for writers that need a file name (h5py, torch).

    The caller writes the file at the yielded path; on a clean exit it is fsynced and renamed
    onto ``path``; on an exception it is removed and ``path`` is left untouched.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _tmp_in(target)
    os.close(fd)
    try:
        yield tmp
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        tmp.replace(target)
        _fsync_dir(target.parent)
    finally:
        tmp.unlink(missing_ok=True)
