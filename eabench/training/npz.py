"""Deterministic npz writing for artifacts (same arrays, same bytes, same sha256)."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np

__all__ = ["save_npz"]


def save_npz(path: Path, arrays: Mapping[str, np.ndarray]) -> None:
    """npz with members in sorted order and a fixed timestamp (byte-for-byte reproducible);
    arrays must not need pickling (object arrays are refused)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for key in sorted(arrays):
            buf = io.BytesIO()
            np.save(buf, np.asarray(arrays[key]), allow_pickle=False)
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, buf.getvalue())
