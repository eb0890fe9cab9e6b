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

from pathlib import Path
from typing import Any

import numpy as np

from eabench.errors import ArtifactError

__all__ = [
    "SPACE_OUTPUTS_FILE",
    "add_space_outputs",
    "compute_space_outputs",
    "read_space_outputs",
    "write_space_outputs",
]

SPACE_OUTPUTS_FILE = "space_outputs.npz"


def compute_space_outputs(surrogate: Any, space: Any, chunk: int = 2048) -> np.ndarray:
    """``surrogate.heads`` of every cell of ``space`` (an ``NB101Space``), float64, in chunks."""
    n = len(space)
    parts = []
    for start in range(0, n, chunk):
        idx = np.arange(start, min(start + chunk, n))
        parts.append(surrogate.heads(space.encode_indices(idx)))
    return np.concatenate(parts)


def write_space_outputs(path: Path, outputs: np.ndarray, hashes_sha256: str) -> None:
    """Write the float32 table (see module docs) to ``path``."""
    from eabench.surrogates.publish import save_npz

    table = np.ascontiguousarray(outputs, dtype="<f4")
    planes = table.view(np.uint8).reshape(table.shape[0], table.shape[1], 4).transpose(2, 1, 0)
    save_npz(
        path,
        {
            "outputs_f32_byteplanes": np.ascontiguousarray(planes),
            "hashes_sha256": np.array(hashes_sha256),
        },
    )


def read_space_outputs(path: Path, hashes_sha256: str | None = None) -> np.ndarray:
    """The ``(n, len(HEAD_COLUMNS))`` float32 table (read-only); checks the space check value.

    Raises:
        ArtifactError: unreadable file, wrong shape or dtype, or another space order.
    """
    from eabench.surrogates.artifact import HEAD_COLUMNS

    try:
        with np.load(path, allow_pickle=False) as z:
            planes = z["outputs_f32_byteplanes"]
            digest = str(z["hashes_sha256"])
    except (OSError, KeyError, ValueError) as exc:
        raise ArtifactError.for_field(SPACE_OUTPUTS_FILE, str(path), f"unreadable ({exc})") from exc
    if planes.ndim != 3 or planes.shape[:2] != (4, len(HEAD_COLUMNS)) or planes.dtype != np.uint8:
        raise ArtifactError.for_field(
            SPACE_OUTPUTS_FILE,
            planes.shape,
            f"must hold uint8 (4, {len(HEAD_COLUMNS)}, n) float32 byte planes",
        )
    n = planes.shape[2]
    table = np.ascontiguousarray(planes.transpose(2, 1, 0)).view("<f4").reshape(n, -1)
    if hashes_sha256 is not None and digest != hashes_sha256:
        raise ArtifactError.for_field(
            "hashes_sha256", digest, f"must equal the space cache's {hashes_sha256}"
        )
    table.setflags(write=False)
    return table


def add_space_outputs(
    directory: Path, space: Any = None, outputs: np.ndarray | None = None
) -> dict[str, Any]:
    """Compute and write ``space_outputs.npz`` into an nb101-7v artifact; rewrite its manifest.

    The models are not touched (``weights.npz``, the held-out metrics and the card stay as they
    are); only the new file, its sha256 and its description are added. Takes ~10 minutes of one
    CPU core for the 423,624 cells.
    """
    import json

    from eabench.spaces.nb101 import NB101Space
    from eabench.surrogates.artifact import HEAD_COLUMNS, load_artifact, write_manifest

    directory = Path(directory)
    space = NB101Space() if space is None else space
    surrogate = load_artifact(directory)
    if outputs is None:
        outputs = compute_space_outputs(surrogate, space)
    digest = space.data.hashes_sha256
    write_space_outputs(directory / SPACE_OUTPUTS_FILE, outputs, digest)
    manifest = json.loads((directory / "manifest.json").read_text())
    manifest.pop("files", None)
    manifest["space_outputs"] = {
        "file": SPACE_OUTPUTS_FILE,
        "array": f"outputs_f32_byteplanes: uint8 (4, {len(HEAD_COLUMNS)}, {len(outputs)}), the "
        "little-endian byte planes of a float32 table with one row per 7V cell in the "
        "sorted-hash order of eabench/_data/nb101_space.npz and the columns below",
        "columns": list(HEAD_COLUMNS),
        "space_hashes_sha256": digest,
        "produced_by": "Nb101Surrogate.heads (the numpy inference of predict), "
        "eabench.surrogates.space_outputs.add_space_outputs",
        "use": "Nb101Surrogate.predict_indices(rows, epochs); equal to predict(features, epochs) "
        "up to float32 storage (tests/surrogates/test_space_outputs.py)",
    }
    return write_manifest(directory, manifest)
