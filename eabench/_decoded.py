"""Decoded arrays of compressed files, kept as ``.npy`` in the user cache and memory-mapped.

The shipped 7V files are deflated npz archives (the space cache, 8 MB; the materialised head
outputs, 16.7 MB stored as byte planes): decoding them costs ~0.1 s and ~0.25 s, which a new
process would pay on its first query. :func:`decoded_arrays` decodes a file once per machine,
writes the arrays as plain ``.npy`` files under ``eabench.paths.user_cache_dir() / "decoded"``
(a folder per source file, named by its resolved path, size and modification time, as Python's
``.pyc`` files are; written to a temporary folder and renamed, so readers never see half of
one) and memory-maps them afterwards: a query then touches only the pages of its rows. If the
cache folder is not writable the decoded arrays are kept in memory (what happened before).
Answers never depend on it: the arrays are the same bytes either way.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np

from eabench.paths import user_cache_dir

__all__ = ["decoded_arrays", "page_in"]

_VERSION = 1
_MMAP_MIN_BYTES = 1 << 16  # smaller arrays are read whole


def _folder(source: Path, tag: str) -> Path:
    st = source.stat()
    ident = f"{_VERSION}|{source.resolve()}|{st.st_size}|{st.st_mtime_ns}".encode()
    return user_cache_dir() / "decoded" / f"{tag}-{hashlib.sha256(ident).hexdigest()[:20]}"


def _read(folder: Path, names: tuple[str, ...]) -> dict[str, np.ndarray] | None:
    out = {}
    try:
        for name in names:
            path = folder / f"{name}.npy"
            if path.stat().st_size >= _MMAP_MIN_BYTES:  # a plain ndarray view of the map:
                # indexing a np.memmap costs ~2 µs more (subclass bookkeeping)
                arr = np.asarray(np.load(path, mmap_mode="r", allow_pickle=False))
            else:
                arr = np.load(path, allow_pickle=False)
                arr.setflags(write=False)
            out[name] = arr
    except (OSError, ValueError):
        return None
    return out


def _write(folder: Path, arrays: Mapping[str, np.ndarray]) -> bool:
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=folder.name + ".tmp"))
    except OSError:
        return False
    try:
        for name, arr in arrays.items():
            with open(tmp / f"{name}.npy", "wb") as fh:
                np.save(fh, np.asarray(arr, order="C"), allow_pickle=False)  # keeps 0-d
                fh.flush()
                os.fsync(fh.fileno())
        tmp.replace(folder)  # atomic; fails if another process got there first
        return True
    except OSError:
        return False
    finally:
        with contextlib.suppress(OSError):
            shutil.rmtree(tmp)


def decoded_arrays(
    source: Path,
    tag: str,
    names: tuple[str, ...],
    decode: Callable[[], Mapping[str, np.ndarray]],
) -> dict[str, np.ndarray]:
    """The arrays ``decode()`` returns for ``source`` (keys ``names``), read-only.

    From the user cache when present (large arrays memory-mapped), else decoded now and
    written there for the next process. Errors of ``decode`` propagate unchanged.
    """
    try:
        folder: Path | None = _folder(source, tag)
    except OSError:
        folder = None
    if folder is not None and folder.is_dir():
        got = _read(folder, names)
        if got is not None:
            return got
        shutil.rmtree(folder, ignore_errors=True)  # unreadable: decode and write it again
    arrays = {name: np.asarray(arr) for name, arr in decode().items()}
    if folder is not None and _write(folder, arrays):
        got = _read(folder, names)
        if got is not None:
            return got
    for arr in arrays.values():
        arr.setflags(write=False)
    return arrays


def page_in(arr: np.ndarray) -> None:
    """Read one element per 4 KiB of ``arr``, so that the pages of a memory-mapped array are
    mapped now (a few ms for the 25 MB head-output table) rather than one page fault at a time
    in the first queries that touch them (``Benchmark.prepare``); for an array in memory it
    costs microseconds."""
    flat = arr.reshape(-1)
    if flat.size:
        flat[:: max(1, 4096 // flat.itemsize)].sum()
