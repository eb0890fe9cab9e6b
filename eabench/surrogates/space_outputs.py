"""Materialised head outputs of a 7V surrogate for every cell of the space (``space_outputs.npz``).

The 7V space is finite (423,624 cells, shipped in sorted-hash order in
``eabench/_data/nb101_space.npz``), so the export step evaluates the surrogate's heads
(:meth:`~eabench.surrogates.artifact.Nb101Surrogate.heads`, the same numpy code ``predict`` runs)
once for every cell and stores them; a query then reads its cell's row by space index and
assembles the curve (:meth:`~eabench.surrogates.artifact.Nb101Surrogate.assemble`) instead of
evaluating thousands of trees.

File format (an npz, written deterministically): ``outputs`` float32 ``(423624, 11)`` with the
columns of :data:`~eabench.surrogates.artifact.HEAD_COLUMNS`, rows in the space cache's
sorted-hash order, and ``hashes_sha256`` (the space cache's check value, so that a table cannot
be paired with another space order). float32 keeps ~7 significant digits (relative rounding
<= 6e-8), far below the surrogate's held-out error (validation-accuracy MAE ~6e-3).
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

    save_npz(
        path,
        {
            "outputs": np.asarray(outputs, dtype=np.float32),
            "hashes_sha256": np.array(hashes_sha256),
        },
    )


def read_space_outputs(path: Path, hashes_sha256: str | None = None) -> np.ndarray:
    """The ``(n, 11)`` float32 table (read-only); checks the space check value when given.

    Raises:
        ArtifactError: unreadable file, wrong shape or dtype, or another space order.
    """
    from eabench.surrogates.artifact import HEAD_COLUMNS

    try:
        with np.load(path, allow_pickle=False) as z:
            table = z["outputs"]
            digest = str(z["hashes_sha256"])
    except (OSError, KeyError, ValueError) as exc:
        raise ArtifactError.for_field(SPACE_OUTPUTS_FILE, str(path), f"unreadable ({exc})") from exc
    if table.ndim != 2 or table.shape[1] != len(HEAD_COLUMNS) or table.dtype != np.float32:
        raise ArtifactError.for_field(
            SPACE_OUTPUTS_FILE, table.shape, f"must be float32 (n, {len(HEAD_COLUMNS)})"
        )
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
        "array": f"outputs: float32 ({len(outputs)}, {len(HEAD_COLUMNS)}), one row per 7V cell "
        "in the sorted-hash order of eabench/_data/nb101_space.npz",
        "columns": list(HEAD_COLUMNS),
        "space_hashes_sha256": digest,
        "produced_by": "Nb101Surrogate.heads (the numpy inference of predict), "
        "eabench.surrogates.space_outputs.add_space_outputs",
        "use": "Nb101Surrogate.predict_indices(rows, epochs); equal to predict(features, epochs) "
        "up to float32 storage (tests/surrogates/test_space_outputs.py)",
    }
    return write_manifest(directory, manifest)
