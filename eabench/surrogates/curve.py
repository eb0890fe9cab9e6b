"""The ``curve-bcs`` artifact kind: per-epoch learning curves, time and energy of any space.

Trained by :mod:`eabench.training.curve_fit` from the epoch tables of a consolidated dataset
(prefix fidelity: the curve of a config is the per-epoch record of one run of its own length T,
e.g. RegNet x HPO's ``max_epochs``). Files: ``weights.npz`` (:class:`LabelModel` arrays) and
``manifest.json``, whose ``heads`` say how to read them:

* ``bcs`` / ``test_bcs``: ``{degree, axis, regressor, members}``: features -> Bezier labels
  ``[y_0..y_n, log gamma]`` (:mod:`eabench.surrogates.bezier`); the curve of a config runs from
  epoch 1 to ``L = min(T, curve_epochs_cap)``, where ``T`` is feature column ``t_feature`` (or
  ``max_epochs`` when the space has no such column) and ``curve_epochs_cap`` is the longest run
  prefix in the training data. Beyond ``L`` the curve holds its last value (answers there carry
  ``FIDELITY_EXTRAPOLATED`` through the manifest's ``observed_epochs``).
* ``time``: features -> log seconds per training epoch; cumulative time = per-epoch x t.
* ``energy``: per meter ``{regressor, members, setup_j, log_sigma}``: features -> log joules per
  training epoch; cumulative energy = ``setup_j`` (median setup-window energy of the training
  runs) + per-epoch x t, non-decreasing by construction.
* ``val_resid_sd`` / ``test_resid_sd``: residual sd of the accuracy curves on validation runs in
  10 bins of relative position t / L, combined with the ensemble spread into the predictive sd.
"""

from __future__ import annotations

import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from eabench.errors import ArtifactError, FidelityError
from eabench.manifest import Manifest
from eabench.surrogates.base import CurvePrediction, ManifestFacts, NoSpaceOutputs
from eabench.surrogates.bezier import BezierCurves
from eabench.surrogates.label_model import LabelModel

__all__ = ["KIND", "RESID_BINS", "CurveSurrogate", "from_manifest"]

KIND = "curve-bcs"
RESID_BINS = 10
"""Bins of relative position t / L for the accuracy residual sd."""


def _head(heads: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    h = heads.get(key)
    if not isinstance(h, Mapping):
        raise ArtifactError.for_field(f"manifest.heads.{key}", h, "must be an object")
    return h


def _model(weights: dict[str, np.ndarray], prefix: str, head: Mapping[str, Any]) -> LabelModel:
    return LabelModel.from_arrays(
        weights, prefix, int(head.get("members", 1)), str(head.get("regressor", "xgb"))
    )


def _resid(raw: Any, name: str) -> np.ndarray:
    arr = np.asarray(raw if raw is not None else np.zeros(RESID_BINS), dtype=np.float64)
    if arr.shape != (RESID_BINS,) or not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ArtifactError.for_field(f"manifest.heads.{name}", raw, "must be 10 finite sd >= 0")
    return arr


class CurveSurrogate(ManifestFacts, NoSpaceOutputs):
    """Numpy inference of a ``curve-bcs`` artifact (see the module docstring)."""

    def __init__(self, manifest: Manifest, weights: dict[str, np.ndarray]) -> None:
        self._manifest = manifest
        heads = manifest.get("heads")
        if not isinstance(heads, Mapping):
            raise ArtifactError.for_field("manifest.heads", heads, "must be an object")
        bcs = _head(heads, "bcs")
        self._degree = int(bcs["degree"])
        self._axis = str(bcs.get("axis", "linear"))
        self._bcs = _model(weights, "bcs", bcs)
        test = heads.get("test_bcs")
        self._test = None if test is None else _model(weights, "test_bcs", _head(heads, "test_bcs"))
        self._time = _model(weights, "time", _head(heads, "time"))
        energy = _head(heads, "energy")
        meters = manifest.get("meters")
        if not isinstance(meters, list) or not meters or set(meters) != set(energy):
            raise ArtifactError.for_field("manifest.meters", meters, "must list the energy heads")
        self._meters = tuple(str(m) for m in meters)
        self._energy = {m: _model(weights, f"energy.{m}", _head(energy, m)) for m in self._meters}
        self._setup_j = {m: float(_head(energy, m).get("setup_j", 0.0)) for m in self._meters}
        self._log_sigma = {m: float(_head(energy, m).get("log_sigma", 0.0)) for m in self._meters}
        self._val_sd = _resid(heads.get("val_resid_sd"), "val_resid_sd")
        self._test_sd = _resid(heads.get("test_resid_sd"), "test_resid_sd")
        t_feature = heads.get("t_feature")
        self._t_feature = None if t_feature is None else int(t_feature)
        self._cap = float(heads["curve_epochs_cap"])
        self._max_epochs = float(manifest["max_epochs"])
        for name, value in (("setup_j", self._setup_j), ("log_sigma", self._log_sigma)):
            if not all(np.isfinite(v) and v >= 0 for v in value.values()):
                raise ArtifactError.for_field(
                    f"manifest.heads.energy.*.{name}", value, "finite >= 0"
                )
        if self._degree < 1 or not 1 <= self._cap <= self._max_epochs:
            raise ArtifactError.for_field("manifest.heads", dict(bcs), "bad degree or epoch cap")

    def curve_lengths(self, features: np.ndarray) -> np.ndarray:
        """``L`` per config: its run length T capped at the longest training prefix."""
        n = features.shape[0]
        if self._t_feature is None:
            t = np.full(n, self._max_epochs)
        else:
            t = np.asarray(features[:, self._t_feature], dtype=np.float64)
        out: np.ndarray = np.clip(t, 1.0, self._cap)
        return out

    def _accuracy(
        self, model: LabelModel, x: np.ndarray, ep: np.ndarray, length: np.ndarray, sd: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Raw mean, predictive sd and clipped values of one accuracy head at ``ep`` (n, m)."""
        lab = model.predict(x)
        vals = np.stack(
            [BezierCurves(m[:, :-1], np.exp(m[:, -1]), 1.0, length, self._axis)(ep) for m in lab]
        )
        mean = vals.mean(axis=0)
        rel = np.minimum(((ep / length[:, None]) * RESID_BINS).astype(np.intp), RESID_BINS - 1)
        std = np.sqrt(vals.var(axis=0) + sd[np.maximum(rel, 0)] ** 2)
        return mean, std, np.clip(mean, 0.0, 1.0)

    def predict(self, features: np.ndarray, epochs: np.ndarray) -> CurvePrediction:
        """Curves at ``epochs`` (each in [1, max_epochs]) for ``features`` from ``space.encode``."""
        x = np.asarray(features, dtype=np.float64)
        e = np.asarray(epochs, dtype=np.float64).reshape(-1)
        if e.size == 0 or np.any(e < 1.0) or np.any(e > self._max_epochs):
            raise FidelityError.for_field(
                "epochs", e.tolist()[:8], f"must be in [1, {self._max_epochs:g}]"
            )
        length = self.curve_lengths(x)
        ep = np.minimum(e[None, :], length[:, None])
        raw, std, val = self._accuracy(self._bcs, x, ep, length, self._val_sd)
        clipped = np.any(val != raw, axis=1)
        test = None
        if self._test is not None:
            raw_t, _std_t, test = self._accuracy(self._test, x, ep, length, self._test_sd)
            clipped |= np.any(test != raw_t, axis=1)
        per_epoch_s = np.exp(self._time.predict(x).mean(axis=0)[:, 0])
        grow = np.sqrt(np.maximum(1.0, e / self._cap))[None, :]  # extrapolation widens the sd
        energy: dict[str, np.ndarray] = {}
        energy_std: dict[str, np.ndarray] = {}
        for m in self._meters:
            logs = self._energy[m].predict(x)[:, :, 0]  # (members, n)
            per_epoch = np.exp(logs.mean(axis=0))
            cum = self._setup_j[m] + per_epoch[:, None] * e[None, :]
            rel = np.sqrt(logs.var(axis=0) + self._log_sigma[m] ** 2)[:, None] * grow
            energy[m] = cum
            energy_std[m] = per_epoch[:, None] * e[None, :] * rel
        return CurvePrediction(
            epochs=e,
            val_accuracy=val,
            test_accuracy=test,
            train_time_s=per_epoch_s[:, None] * e[None, :],
            energy_j=energy,
            val_accuracy_std=std,
            energy_j_std=energy_std,
            clipped=clipped,
        )


def from_manifest(folder: Path, manifest: Manifest) -> CurveSurrogate:
    """Load a ``curve-bcs`` artifact whose manifest was read and files verified.

    Raises:
        ArtifactError: unreadable weights, a missing or malformed head.
    """
    path = manifest.path_of(folder, "weights", "weights.npz")
    try:
        with np.load(path, allow_pickle=False) as z:
            weights = {k: z[k] for k in z.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise ArtifactError.for_field("weights", str(path), f"unreadable ({exc})") from exc
    for key, arr in weights.items():
        if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
            raise ArtifactError.for_field(f"weights[{key}]", "NaN/inf", "must be finite")
    try:
        return CurveSurrogate(manifest, weights)
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        if isinstance(exc, ArtifactError):
            raise
        raise ArtifactError.for_field(
            "artifact", str(folder), f"malformed curve-bcs artifact ({exc!r})"
        ) from exc
