"""Surrogate artifacts: ``manifest.json`` + ``weights.npz`` (+ ``table.npz``); numpy inference.

Manifest (format version 1), JSON object with: ``format_version``, ``name``, ``version``,
``space_name``, ``kind`` (``"nb101-7v-bcs-gbdt"``), ``files`` ({name: sha256}), ``data_id``,
``split`` (the held-out sets in words and counts), ``metrics`` (held-out), ``meters`` ({meter id:
{"trained_on", "pue_removed"}}), ``max_epochs``, ``min_epochs``, ``heads``, ``table`` (array
descriptions), ``licence``, ``citation``, ``training`` (recipe, seconds, library versions).

:func:`load_artifact` checks every file's sha256 against the manifest before reading anything
(:class:`~eabench.errors.ChecksumMismatchError` otherwise) and returns a :class:`Nb101Surrogate`,
which implements :class:`~eabench.surrogates.base.Surrogate` with numpy only. ``energy_j_std``
combines the energy ensemble's spread with a residual term (log-residual sd of a member fitted on
the seed-42 train part and scored on its valid part, stored as ``energy.log_sigma``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from eabench.errors import ArtifactError, ChecksumMismatchError, FidelityError
from eabench.surrogates.base import CurvePrediction
from eabench.surrogates.bezier import BezierCurves
from eabench.surrogates.heads import test_head_from_arrays
from eabench.surrogates.nb101_features import cell_features
from eabench.surrogates.trees import TreeEnsemble

__all__ = ["FORMAT_VERSION", "Nb101Surrogate", "load_artifact", "sha256_file", "write_manifest"]

FORMAT_VERSION = 1
_WH_TO_J = 3600.0


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_manifest(directory: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    """Add sha256 of every other file in ``directory`` and write ``manifest.json``."""
    files = sorted(p for p in directory.iterdir() if p.is_file() and p.name != "manifest.json")
    manifest = {**manifest, "files": {p.name: sha256_file(p) for p in files}}
    (directory / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return manifest


class Nb101Surrogate:
    """The nb101-7v surrogate: BCS over budgets (val acc), test-acc, time and energy tree heads."""

    def __init__(self, manifest: Mapping[str, Any], weights: Mapping[str, np.ndarray]) -> None:
        self._manifest = manifest
        heads = manifest["heads"]
        self._bcs = [TreeEnsemble.from_arrays(dict(weights), f"bcs{k}") for k in range(5)]
        self._test = test_head_from_arrays(weights)
        self._time = TreeEnsemble.from_arrays(dict(weights), "time")
        self._energy = [
            TreeEnsemble.from_arrays(dict(weights), f"energy{k}")
            for k in range(int(heads["energy_members"]))
        ]
        self._pue = float(heads["energy_divide_by"])
        self._log_sigma = (
            float(weights["energy.log_sigma"][0]) if "energy.log_sigma" in weights else 0.0
        )

    @property
    def manifest(self) -> Mapping[str, Any]:
        return self._manifest

    @property
    def space_name(self) -> str:
        return str(self._manifest["space_name"])

    @property
    def meters(self) -> tuple[str, ...]:
        return tuple(self._manifest["meters"])

    @property
    def max_epochs(self) -> float:
        return float(self._manifest["max_epochs"])

    def predict(self, features: np.ndarray, epochs: np.ndarray) -> CurvePrediction:
        """Curves at ``epochs`` (each in [4, 108]) for ``features`` from ``NB101Space.encode``."""
        ep = np.asarray(epochs, dtype=np.float64).reshape(-1)
        lo = float(self._manifest["min_epochs"])
        if ep.size == 0 or np.any(ep < lo) or np.any(ep > self.max_epochs):
            raise FidelityError.for_field(
                "epochs", ep.tolist()[:8], f"must be in [{lo}, {self.max_epochs}] (7V budgets)"
            )
        x = cell_features(features)
        n = x.shape[0]
        ctrl = np.column_stack([m.predict(x) for m in self._bcs])
        curves = BezierCurves(
            y=ctrl[:, :4],
            gamma=np.exp(ctrl[:, 4]),
            t_first=lo,
            t_last=np.full(n, 108.0),
            axis="log",
        )
        raw_val = curves(ep)
        raw_test = raw_val + (self._test.predict(x) - ctrl[:, 3])[:, None]
        val = np.clip(raw_val, 0.0, 1.0)
        test = np.clip(raw_test, 0.0, 1.0)
        clipped = np.any(val != raw_val, axis=1) | np.any(test != raw_test, axis=1)
        time_per_epoch_s = np.exp(self._time.predict(x)) / 108.0
        log_e = np.stack([m.predict(x) for m in self._energy])  # log Wh per 4 epochs, with PUE
        per_epoch_j = np.exp(log_e) / 4.0 * _WH_TO_J / self._pue  # (members, n)
        cum = per_epoch_j[:, :, None] * ep[None, None, :]
        meter = self.meters[0]
        return CurvePrediction(
            epochs=ep,
            val_accuracy=val,
            test_accuracy=test,
            train_time_s=time_per_epoch_s[:, None] * ep[None, :],
            energy_j={meter: cum.mean(axis=0)},
            val_accuracy_std=None,
            energy_j_std={
                meter: np.sqrt(cum.var(axis=0) + (cum.mean(axis=0) * self._log_sigma) ** 2)
            },
            clipped=clipped,
        )


def load_artifact(path: str | Path) -> Nb101Surrogate:
    """Load an artifact directory after verifying the sha256 of every file in its manifest.

    Raises:
        ArtifactError: missing or malformed manifest, unknown format version or kind.
        ChecksumMismatchError: a file's sha256 differs from the manifest.
    """
    directory = Path(path)
    mpath = directory / "manifest.json"
    if not mpath.is_file():
        raise ArtifactError.for_field("manifest.json", str(mpath), "artifact needs a manifest")
    try:
        manifest = json.loads(mpath.read_text())
    except json.JSONDecodeError as exc:
        raise ArtifactError.for_field("manifest.json", str(exc), "must be valid JSON") from exc
    if manifest.get("format_version") != FORMAT_VERSION:
        raise ArtifactError.for_field(
            "format_version", manifest.get("format_version"), f"must be {FORMAT_VERSION}"
        )
    for name, digest in manifest.get("files", {}).items():
        fp = directory / name
        if not fp.is_file():
            raise ArtifactError.for_field("files", name, "listed in manifest but missing")
        got = sha256_file(fp)
        if got != digest:
            raise ChecksumMismatchError.for_field(
                name, got, f"sha256 must equal the manifest's {digest}"
            )
    if manifest.get("kind") != "nb101-7v-bcs-gbdt" or "weights.npz" not in manifest["files"]:
        raise ArtifactError.for_field("kind", manifest.get("kind"), "unknown artifact kind")
    with np.load(directory / "weights.npz", allow_pickle=False) as z:
        weights = {k: z[k] for k in z.files}
    return Nb101Surrogate(manifest, weights)
