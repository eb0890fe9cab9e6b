"""Materialised head outputs of a 7V surrogate for every cell of the space (``space_outputs.npz``).

The 7V space is finite (423,624 cells, shipped in sorted-hash order in
``eabench/_data/nb101_space.npz``), so the export step evaluates the surrogate's heads
(:meth:`~eabench.surrogates.artifact.Nb101Surrogate.heads`, the same numpy code ``predict`` runs)
once for every cell and stores them; a query then reads its cell's row by space index and
assembles the curve (:meth:`~eabench.surrogates.artifact.Nb101Surrogate.assemble`) instead of
evaluating thousands of trees.

File format (an npz, deflate, written deterministically): ``outputs_f32_byteplanes`` uint8
``(4, 15, 423624)``: a float32 ``(423624, 15)`` table (columns
:data:`~eabench.surrogates.artifact.HEAD_COLUMNS`, rows in the space cache's sorted-hash order)
stored as its little-endian byte planes (byte k of every number together, as HDF5's shuffle
filter does: the sign/exponent planes then compress well, lossless; 16.7 MB for 0.3.0), and
``hashes_sha256`` (the space cache's check value, so that a table cannot be paired with another
space order). float32 keeps ~7 significant digits (relative rounding <= 6e-8), far below the
surrogate's held-out error (validation-accuracy MAE ~6e-3).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from eabench._decoded import decoded_arrays
from eabench.errors import ArtifactError

__all__ = ["SPACE_OUTPUTS_FILE", "read_space_outputs"]

SPACE_OUTPUTS_FILE = "space_outputs.npz"


def read_space_outputs(path: Path, n_columns: int, hashes_sha256: str | None = None) -> np.ndarray:
    """The ``(n, n_columns)`` float32 table (read-only); checks the space check value.

    Decoded once per machine and memory-mapped from the user cache afterwards
    (:func:`eabench._decoded.decoded_arrays`): a new process reads only the rows it asks for.

    Raises:
        ArtifactError: unreadable file, wrong shape or dtype, or another space order.
    """
    got = decoded_arrays(
        Path(path),
        "space-outputs",
        ("table", "hashes_sha256"),
        lambda: _decode(path, n_columns),
    )
    table, digest = got["table"], str(got["hashes_sha256"])
    if table.ndim != 2 or table.shape[1] != n_columns or table.dtype != np.dtype("<f4"):
        raise ArtifactError.for_field(
            SPACE_OUTPUTS_FILE, table.shape, f"must decode to a float32 (n, {n_columns}) table"
        )
    if hashes_sha256 is not None and digest != hashes_sha256:
        raise ArtifactError.for_field(
            "hashes_sha256", digest, f"must equal the space cache's {hashes_sha256}"
        )
    return table


def _decode(path: Path, n_columns: int) -> dict[str, np.ndarray]:
    """The float32 table and check value from the npz's byte planes (see the module docs)."""
    try:
        with np.load(path, allow_pickle=False) as z:
            planes = z["outputs_f32_byteplanes"]
            digest = z["hashes_sha256"]
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise ArtifactError.for_field(SPACE_OUTPUTS_FILE, str(path), f"unreadable ({exc})") from exc
    if planes.ndim != 3 or planes.shape[:2] != (4, n_columns) or planes.dtype != np.uint8:
        raise ArtifactError.for_field(
            SPACE_OUTPUTS_FILE,
            planes.shape,
            f"must hold uint8 (4, {n_columns}, n) float32 byte planes",
        )
    n = planes.shape[2]
    table = np.ascontiguousarray(planes.transpose(2, 1, 0)).view("<f4").reshape(n, -1)
    return {"table": table, "hashes_sha256": np.asarray(str(digest))}
