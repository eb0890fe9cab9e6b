"""The contract between a loaded surrogate artifact and the query API (``eabench.benchmark``).

A loaded artifact turns encoded configs and a grid of epochs into whole curves in one vectorised
call. ``Benchmark`` adds validation, flags, provenance and the result records on top; it never
needs to know which model family produced the numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol, runtime_checkable

import numpy as np

from eabench.errors import ArtifactError
from eabench.manifest import Manifest

__all__ = [
    "CurvePrediction",
    "CurveRow",
    "ManifestFacts",
    "NoSpaceOutputs",
    "RowSurrogate",
    "Surrogate",
]


@dataclass(frozen=True, slots=True)
class CurvePrediction:
    """Predicted curves for ``n`` configs at ``m`` epochs.

    Attributes:
        epochs: float64 ``(m,)``, the epochs asked for (ascending).
        val_accuracy: ``(n, m)`` fractions in [0, 1].
        test_accuracy: ``(n, m)`` fractions, or None if the surrogate has no test head.
        train_time_s: ``(n, m)`` cumulative training seconds, non-decreasing along epochs.
        energy_j: meter id -> ``(n, m)`` cumulative training joules, non-decreasing along epochs.
        val_accuracy_std: ``(n, m)`` predictive standard deviation (ensemble spread) or None.
        energy_j_std: meter id -> ``(n, m)`` standard deviation, possibly empty.
        clipped: ``(n,)`` bool, True where a raw model output was clipped into its valid range.
        high_uncertainty: ``(n,)`` bool, True where the surrogate's own rule says the answer at
            the last asked epoch is too uncertain to trust (flag ``HIGH_UNCERTAINTY``), or None.
    """

    epochs: np.ndarray
    val_accuracy: np.ndarray
    test_accuracy: np.ndarray | None
    train_time_s: np.ndarray
    energy_j: Mapping[str, np.ndarray]
    val_accuracy_std: np.ndarray | None = None
    energy_j_std: Mapping[str, np.ndarray] | None = None
    clipped: np.ndarray | None = None
    high_uncertainty: np.ndarray | None = None


class CurveRow(NamedTuple):
    """One config's :class:`CurvePrediction` as Python values: lists of ``m`` floats in place of
    ``(1, m)`` arrays, bools in place of ``(1,)`` arrays (what a single query needs, without the
    cost of numpy calls on one row). Same fields and meaning."""

    epochs: np.ndarray
    val_accuracy: list[float]
    test_accuracy: list[float] | None
    train_time_s: list[float]
    energy_j: Mapping[str, list[float]]
    val_accuracy_std: list[float] | None = None
    energy_j_std: Mapping[str, list[float]] | None = None
    clipped: bool = False
    high_uncertainty: bool | None = None


@runtime_checkable
class RowSurrogate(Protocol):
    """Optional capability of a surrogate with materialised outputs: one config by row as a
    :class:`CurveRow` (equal to row 0 of ``predict_indices([row], epochs)``)."""

    def predict_index(self, row: int, epochs: np.ndarray) -> CurveRow:
        """The curves of the config at accelerator row ``row``."""
        ...


@runtime_checkable
class Surrogate(Protocol):
    """A loaded, numpy-only surrogate artifact for one search space and dataset."""

    @property
    def manifest(self) -> Mapping[str, Any]:
        """The artifact's ``manifest.json`` (name, version, files with sha256, data id, split,
        held-out metrics, licence, citation, meters and their training-data flags)."""
        ...

    @property
    def space_name(self) -> str:
        """The search space the features come from, e.g. ``"nb101-7v"``."""
        ...

    @property
    def meters(self) -> tuple[str, ...]:
        """Meter ids with an energy head; the first is the primary meter."""
        ...

    @property
    def max_epochs(self) -> float:
        """The largest epoch the surrogate may be asked for."""
        ...

    def predict(self, features: np.ndarray, epochs: np.ndarray) -> CurvePrediction:
        """Curves for ``features`` ((n, d) float64 from the space's ``encode``) at ``epochs``."""
        ...

    @property
    def has_space_outputs(self) -> bool:
        """True when the artifact materialises its outputs for every config of a finite space
        (rows in the order of the space's accelerator): then :meth:`predict_indices` answers."""
        ...

    def load_space_outputs(self) -> object:
        """Read the materialised outputs now (else on first use); ``ArtifactError`` if none."""
        ...

    def predict_indices(self, rows: np.ndarray, epochs: np.ndarray) -> CurvePrediction:
        """Curves of configs given by accelerator row, from the materialised outputs (equal to
        :meth:`predict` on their features up to storage precision); ``ArtifactError`` if none."""
        ...


class ManifestFacts:
    """The ``manifest``, ``space_name``, ``meters`` and ``max_epochs`` members of the protocol,
    read from ``_manifest`` (an :class:`eabench.manifest.Manifest`), ``_meters`` and
    ``_max_epochs``, which the artifact kind's constructor sets after validating them."""

    _manifest: Manifest
    _meters: tuple[str, ...]
    _max_epochs: float

    @property
    def manifest(self) -> Manifest:
        return self._manifest

    @property
    def space_name(self) -> str:
        return self._manifest.space_name

    @property
    def meters(self) -> tuple[str, ...]:
        return self._meters

    @property
    def max_epochs(self) -> float:
        return self._max_epochs


class NoSpaceOutputs:
    """Mixin for surrogates without materialised outputs (the three protocol members above)."""

    __slots__ = ()

    @property
    def has_space_outputs(self) -> bool:
        return False

    def load_space_outputs(self) -> object:
        raise ArtifactError.for_field("space_outputs", None, "this artifact has none")

    def predict_indices(self, rows: np.ndarray, epochs: np.ndarray) -> CurvePrediction:
        del rows, epochs
        raise ArtifactError.for_field("space_outputs", None, "this artifact has none")
