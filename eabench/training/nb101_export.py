"""Export step of the nb101-7v artifact: materialise every 7V cell's head outputs.

Writes ``space_outputs.npz`` (format: :mod:`eabench.surrogates.space_outputs`) with the same numpy
code the query path runs (:meth:`~eabench.surrogates.artifact.Nb101Surrogate.heads`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from eabench.errors import ArtifactError
from eabench.manifest import Manifest, write_manifest
from eabench.spaces.nb101 import NB101Space
from eabench.surrogates.artifact import HEAD_COLUMNS, Nb101Surrogate
from eabench.surrogates.registry import load_artifact
from eabench.surrogates.space_outputs import SPACE_OUTPUTS_FILE
from eabench.training.npz import save_npz

__all__ = ["add_space_outputs", "compute_space_outputs", "write_space_outputs"]


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
    table = np.ascontiguousarray(outputs, dtype="<f4")
    planes = table.view(np.uint8).reshape(table.shape[0], table.shape[1], 4).transpose(2, 1, 0)
    save_npz(
        path,
        {
            "outputs_f32_byteplanes": np.ascontiguousarray(planes),
            "hashes_sha256": np.array(hashes_sha256),
        },
    )


def add_space_outputs(
    directory: Path, space: NB101Space | None = None, outputs: np.ndarray | None = None
) -> Manifest:
    """Compute and write ``space_outputs.npz`` into an nb101-7v artifact; rewrite its manifest.

    The models are not touched (``weights.npz``, the held-out metrics and the card stay as they
    are); only the new file, its sha256 and its description are added. Takes ~10 minutes of one
    CPU core for the 423,624 cells.
    """
    directory = Path(directory)
    space = NB101Space() if space is None else space
    surrogate = load_artifact(directory)
    if not isinstance(surrogate, Nb101Surrogate):
        raise ArtifactError.for_field("manifest.kind", surrogate.manifest.get("kind"), "not 7V")
    if outputs is None:
        outputs = compute_space_outputs(surrogate, space)
    digest = space.data.hashes_sha256
    write_space_outputs(directory / SPACE_OUTPUTS_FILE, outputs, digest)
    manifest = dict(surrogate.manifest.raw)
    manifest.pop("files", None)
    manifest["space_outputs"] = {
        "file": SPACE_OUTPUTS_FILE,
        "array": f"outputs_f32_byteplanes: uint8 (4, {len(HEAD_COLUMNS)}, {len(outputs)}), the "
        "little-endian byte planes of a float32 table with one row per 7V cell in the "
        "sorted-hash order of eabench/_data/nb101_space.npz and the columns below",
        "columns": list(HEAD_COLUMNS),
        "space_hashes_sha256": digest,
        "produced_by": "Nb101Surrogate.heads (the numpy inference of predict), "
        "eabench.training.nb101_export.add_space_outputs",
        "use": "Nb101Surrogate.predict_indices(rows, epochs); equal to predict(features, epochs) "
        "up to float32 storage (tests/surrogates/test_space_outputs.py)",
    }
    return write_manifest(directory, manifest)
