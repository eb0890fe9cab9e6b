"""Frozen records returned to users by the query API (``eabench.benchmark``).

Every record is a frozen, slotted dataclass; numpy arrays inside them are made read-only, so a
result cannot be changed after it was returned. Units are in the field names: ``_s`` seconds,
``_j`` joules; accuracies are fractions in [0, 1]. Cumulative quantities (``energy_j``,
``train_time_s``) are non-decreasing along a curve by construction (the surrogates predict
non-negative increments).

Quality flags are plain strings (codes); :data:`FLAG_DESCRIPTIONS` says what each code of the query
layer means. Flags that a meter's training data carried (``UNDER_SAMPLED``, ``PUE_APPLIED``, ...)
use the codes of ``eabench.meters`` (reference/energy-meters.md section 5.3).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Final, Literal

import numpy as np

__all__ = [
    "CLIPPED",
    "ENERGY_EXTRAPOLATED",
    "FIDELITY_EXTRAPOLATED",
    "FIDELITY_INTERPOLATED",
    "FLAG_DESCRIPTIONS",
    "HIGH_UNCERTAINTY",
    "HOLISTIC_CALIBRATED",
    "MEASURED",
    "OUTSIDE_TRAINING_SUPPORT",
    "SIMULATED",
    "BatchResult",
    "Curve",
    "EnergyEstimate",
    "Fidelity",
    "FrozenDict",
    "MeterProvenance",
    "MetricInfo",
    "Provenance",
    "QueryResult",
]

# ----------------------------------------------------------------------------- flag codes
OUTSIDE_TRAINING_SUPPORT: Final = "OUTSIDE_TRAINING_SUPPORT"
FIDELITY_INTERPOLATED: Final = "FIDELITY_INTERPOLATED"
FIDELITY_EXTRAPOLATED: Final = "FIDELITY_EXTRAPOLATED"
HIGH_UNCERTAINTY: Final = "HIGH_UNCERTAINTY"
CLIPPED: Final = "CLIPPED"
SIMULATED: Final = "SIMULATED"
MEASURED: Final = "MEASURED"
HOLISTIC_CALIBRATED: Final = "HOLISTIC_CALIBRATED"
ENERGY_EXTRAPOLATED: Final = "ENERGY_EXTRAPOLATED"

FLAG_DESCRIPTIONS: Final[Mapping[str, str]] = {
    OUTSIDE_TRAINING_SUPPORT: "the config's features lie outside the range the surrogate was "
    "trained on (per-feature [min, max] box from the manifest): the answer is an extrapolation",
    FIDELITY_INTERPOLATED: "the epoch count is not one the training data measured; the answer is "
    "read from the curve between measured fidelities (7V: between the 4/12/36/108 schedules)",
    FIDELITY_EXTRAPOLATED: "the epoch count lies outside the fidelities the training data measured",
    HIGH_UNCERTAINTY: "the surrogate's predictive std exceeds the threshold in its manifest",
    CLIPPED: "a raw model output was clipped into its valid range (e.g. accuracy into [0, 1])",
    SIMULATED: "the training data (or a meter's data) is simulated, not measured: not for papers",
    MEASURED: "table kind: the values are the measured ones of this config, not a prediction",
    HOLISTIC_CALIBRATED: "holistic [lower, upper] energy derived from a calibration profile",
    ENERGY_EXTRAPOLATED: "the meter's training data measured energy only at other epoch counts "
    "(MeterProvenance.measured_epochs); this energy is extrapolated from them (7V: the EC-NAS "
    "4-epoch energy scaled per epoch, as EC-NAS's own 12/36/108 tables are)",
}


class FrozenDict(dict[str, Any]):
    """A read-only ``dict``: the mapping fields of the frozen result records.

    Equal to (and JSON-serialised like) the plain dict it wraps, picklable, and every mutator
    (``[k] = v``, ``del``, ``clear``, ``update``, ``pop``, ...) raises ``TypeError``, so a cached
    answer cannot be changed by one caller for every later one.
    """

    __slots__ = ()

    def _readonly(self, *_args: Any, **_kwargs: Any) -> Any:
        raise TypeError("this mapping of a frozen result is read-only")

    __setitem__ = __delitem__ = _readonly
    clear = pop = popitem = setdefault = update = _readonly
    __ior__ = _readonly

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenDict, (dict(self),))

    def __copy__(self) -> FrozenDict:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> FrozenDict:
        import copy

        return FrozenDict(copy.deepcopy(dict(self), memo))

    def __repr__(self) -> str:
        return dict.__repr__(self)


def _freeze(record: Any, *names: str) -> None:
    """Replace the named mapping fields of a frozen dataclass by :class:`FrozenDict` copies."""
    for name in names:
        value = getattr(record, name)
        if not isinstance(value, FrozenDict):
            object.__setattr__(record, name, FrozenDict(value))


def _same(a: Any, b: Any) -> bool:
    """Equality that compares numpy arrays by value (shape and elements) and recurses into maps."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (
            isinstance(a, np.ndarray)
            and isinstance(b, np.ndarray)
            and a.shape == b.shape
            and bool(np.array_equal(a, b))
        )
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return bool(a == b)


def _records_equal(a: Any, b: Any) -> bool:
    if type(a) is not type(b):
        return False
    return all(_same(getattr(a, f), getattr(b, f)) for f in a.__dataclass_fields__)


# ----------------------------------------------------------------------------- metadata
@dataclass(frozen=True, slots=True)
class MetricInfo:
    """What one metric means: unit, optimisation direction, bounds and whether it accumulates.

    Attributes:
        name: field name on :class:`QueryResult` / :class:`BatchResult` (e.g. ``"energy_j"``).
        unit: ``"fraction"``, ``"J"`` or ``"s"``.
        direction: ``"maximize"`` or ``"minimize"``.
        lower: smallest valid value (inclusive).
        upper: largest valid value (inclusive); ``math.inf`` if unbounded.
        cumulative: True if the value accumulates over epochs (energy, time).
    """

    name: str
    unit: str
    direction: Literal["maximize", "minimize"]
    lower: float
    upper: float
    cumulative: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (``upper`` is ``None`` when unbounded)."""
        return {
            "name": self.name,
            "unit": self.unit,
            "direction": self.direction,
            "lower": self.lower,
            "upper": None if math.isinf(self.upper) else self.upper,
            "cumulative": self.cumulative,
        }


@dataclass(frozen=True, slots=True)
class Fidelity:
    """The fidelity axis (epochs) of a benchmark and what a value of it means.

    ``semantics="schedule"`` (NB101 7V): each measured budget is a separate training run with its
    own (cosine) schedule; a query at ``epochs=t`` is the result of a *t-epoch schedule*, and a
    curve over ``epochs`` is the curve over budgets. Going from 12 to 36 epochs means retraining.
    Epoch counts other than ``budgets`` are answered from the curve over budgets and flagged
    ``FIDELITY_INTERPOLATED``.

    ``semantics="prefix"`` (RegNet x HPO): a curve is the per-epoch record of *one* run of
    ``config[max_epochs_field]`` epochs; epoch ``t`` is a prefix of it and ``t`` greater than the
    config's own epoch count is a ``FidelityError``. Continuing a run pays only the new epochs.

    Attributes:
        name: always ``"epochs"``.
        semantics: ``"schedule"`` or ``"prefix"``.
        min_epochs: smallest epoch count that may be queried.
        max_epochs: largest epoch count that may be queried.
        budgets: for schedules, the measured budgets (ascending); for prefixes, empty.
        max_epochs_field: for prefixes, the config field holding the run's length, else None.
    """

    name: str
    semantics: Literal["schedule", "prefix"]
    min_epochs: int
    max_epochs: int
    budgets: tuple[int, ...] = ()
    max_epochs_field: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "name": self.name,
            "semantics": self.semantics,
            "min_epochs": self.min_epochs,
            "max_epochs": self.max_epochs,
            "budgets": list(self.budgets),
            "max_epochs_field": self.max_epochs_field,
        }


@dataclass(frozen=True, slots=True)
class MeterProvenance:
    """How the training data of one meter's energy head was measured.

    Attributes:
        meter: eabench meter id (``"carbontracker"``, ``"gpu.nvml_counter"``, ...).
        description: one line on what was measured, on which hardware.
        method: ``"counter"``, ``"polling"``, ``"model"`` or ``"external"`` (or ``"unknown"``).
        sample_period_s: polling period of the meter, if it polled, else None.
        pue_applied: PUE factor already multiplied into the training data, or None.
        simulated: True if the data are simulated.
        training_data_flags: quality-flag codes carried by the training data, summarised.
        flag_notes: code -> one line saying why the training data carry that flag.
        measured_epochs: ``(lo, hi)`` epoch counts at which the training data measured energy,
            or None if not stated; answers outside it carry ``ENERGY_EXTRAPOLATED``.
    """

    meter: str
    description: str = ""
    method: str = "unknown"
    sample_period_s: float | None = None
    pue_applied: float | None = None
    simulated: bool = False
    training_data_flags: frozenset[str] = frozenset()
    flag_notes: Mapping[str, str] = field(default_factory=dict)
    measured_epochs: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        _freeze(self, "flag_notes")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "meter": self.meter,
            "measured_epochs": None if self.measured_epochs is None else list(self.measured_epochs),
            "description": self.description,
            "method": self.method,
            "sample_period_s": self.sample_period_s,
            "pue_applied": self.pue_applied,
            "simulated": self.simulated,
            "training_data_flags": sorted(self.training_data_flags),
            "flag_notes": dict(self.flag_notes),
        }


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where an answer came from.

    Attributes:
        benchmark: benchmark name, e.g. ``"nb101-7v"``.
        kind: ``"surrogate"`` or ``"table"``.
        space: search-space name.
        dataset: dataset the configs were trained on, e.g. ``"cifar10"``.
        artifact_name: name of the surrogate artifact (manifest ``name``).
        artifact_version: its version (manifest ``version``).
        artifact_sha256: sha256 of the artifact's ``manifest.json`` (which pins every file).
        training_data_id: id of the consolidated dataset the artifact was fitted on.
        source: ``"embedded"`` (inside the wheel), ``"hub"`` or ``"path"``.
        hub_repo: Hugging Face repo id, if it came from the Hub.
        hub_revision: the pinned commit revision, if it came from the Hub.
        eabench_version: version of eabench that answered.
    """

    benchmark: str
    kind: str
    space: str
    dataset: str
    artifact_name: str
    artifact_version: str
    artifact_sha256: str
    training_data_id: str
    source: str
    hub_repo: str | None = None
    hub_revision: str | None = None
    eabench_version: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {f: getattr(self, f) for f in self.__dataclass_fields__}


# ----------------------------------------------------------------------------- answers
@dataclass(frozen=True, slots=True)
class Curve:
    """One config's curve up to the queried epoch count (all arrays shape ``(m,)``, read-only).

    For schedule fidelities the points are the measured budgets up to ``epochs`` plus ``epochs``
    itself; for prefix fidelities they are epochs ``1..epochs``.

    Attributes:
        epochs: epoch counts (ascending).
        val_accuracy: validation accuracy (fraction) at each point.
        test_accuracy: test accuracy (fraction), or None if the benchmark has no test metric.
        energy_j: cumulative training energy of the primary meter (J), non-decreasing.
        train_time_s: cumulative training time (s), non-decreasing.
    """

    epochs: np.ndarray
    val_accuracy: np.ndarray
    test_accuracy: np.ndarray | None
    energy_j: np.ndarray
    train_time_s: np.ndarray

    def __eq__(self, other: object) -> bool:
        return _records_equal(self, other)

    __hash__ = None  # type: ignore[assignment]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (lists of floats)."""
        return {
            "epochs": self.epochs.tolist(),
            "val_accuracy": self.val_accuracy.tolist(),
            "test_accuracy": None if self.test_accuracy is None else self.test_accuracy.tolist(),
            "energy_j": self.energy_j.tolist(),
            "train_time_s": self.train_time_s.tolist(),
        }


@dataclass(frozen=True, slots=True)
class EnergyEstimate:
    """Training energy by one meter for one config at the queried epoch count.

    Attributes:
        energy_j: cumulative training energy (J) up to the queried epoch count.
        per_epoch_j: mean energy per trained epoch (J): ``energy_j / epochs``.
        provenance: how this meter's training data were measured.
        flags: quality flags of this estimate (training-data flags of the meter plus the
            answer-level flags such as ``HIGH_UNCERTAINTY`` for this meter).
        std_j: predictive standard deviation (J), or None if the surrogate has none.
    """

    energy_j: float
    per_epoch_j: float
    provenance: MeterProvenance
    flags: frozenset[str]
    std_j: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "energy_j": self.energy_j,
            "per_epoch_j": self.per_epoch_j,
            "std_j": self.std_j,
            "flags": sorted(self.flags),
            "provenance": self.provenance.to_dict(),
        }


@dataclass(frozen=True, slots=True)
class QueryResult:
    """The answer to ``bench.query(config, epochs)``.

    Attributes:
        config_id: canonical id of the config (7V: NB101 module hash).
        epochs: the queried epoch count.
        val_accuracy: validation accuracy (fraction) at ``epochs``.
        test_accuracy: test accuracy (fraction) at ``epochs``, or None if not available.
        train_time_s: cumulative training time (s) to ``epochs``.
        energy_j: cumulative training energy (J) to ``epochs`` from the primary meter.
        primary_meter: the meter id that ``energy_j`` comes from.
        energy_by_meter: meter id -> :class:`EnergyEstimate`, one per meter with training data.
        holistic_energy_j: ``(lower, upper)`` wall-energy bounds (J) when a calibration exists.
        uncertainty: metric name -> predictive standard deviation (same unit as the metric).
        curve: the whole curve up to ``epochs``.
        flags: quality-flag codes of this answer.
        provenance: where the answer came from.
    """

    config_id: str
    epochs: int
    val_accuracy: float
    test_accuracy: float | None
    train_time_s: float
    energy_j: float
    primary_meter: str
    energy_by_meter: Mapping[str, EnergyEstimate]
    holistic_energy_j: tuple[float, float] | None
    uncertainty: Mapping[str, float]
    curve: Curve
    flags: frozenset[str]
    provenance: Provenance

    def __post_init__(self) -> None:
        _freeze(self, "energy_by_meter", "uncertainty")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (stable keys; used by ``eabench query --json``)."""
        return {
            "config_id": self.config_id,
            "epochs": self.epochs,
            "val_accuracy": self.val_accuracy,
            "test_accuracy": self.test_accuracy,
            "train_time_s": self.train_time_s,
            "energy_j": self.energy_j,
            "primary_meter": self.primary_meter,
            "energy_by_meter": {k: v.to_dict() for k, v in self.energy_by_meter.items()},
            "holistic_energy_j": None
            if self.holistic_energy_j is None
            else list(self.holistic_energy_j),
            "uncertainty": dict(self.uncertainty),
            "curve": self.curve.to_dict(),
            "flags": sorted(self.flags),
            "provenance": self.provenance.to_dict(),
        }


@dataclass(frozen=True, slots=True)
class BatchResult:
    """The answer to ``bench.query_batch(configs, epochs)``: a struct of arrays.

    Every array has shape ``(n_configs,)`` and is read-only; element ``i`` equals the field of
    ``bench.query(configs[i], epochs)``. Curves are not included (use ``query`` per config).

    Attributes:
        config_ids: canonical ids, one per config.
        epochs: the queried epoch count.
        val_accuracy: validation accuracy (fraction).
        test_accuracy: test accuracy (fraction), or None if the benchmark has no test metric.
        train_time_s: cumulative training time (s).
        energy_j: cumulative training energy (J) from the primary meter.
        primary_meter: the meter id of ``energy_j``.
        energy_j_by_meter: meter id -> cumulative energy (J) of that meter.
        holistic_lower_j: lower holistic bound (J), or None without a calibration.
        holistic_upper_j: upper holistic bound (J), or None without a calibration.
        uncertainty: metric name -> predictive standard deviation per config.
        flags: quality-flag codes per config.
        provenance: where the answers came from.
    """

    config_ids: tuple[str, ...]
    epochs: int
    val_accuracy: np.ndarray
    test_accuracy: np.ndarray | None
    train_time_s: np.ndarray
    energy_j: np.ndarray
    primary_meter: str
    energy_j_by_meter: Mapping[str, np.ndarray]
    holistic_lower_j: np.ndarray | None
    holistic_upper_j: np.ndarray | None
    uncertainty: Mapping[str, np.ndarray]
    flags: tuple[frozenset[str], ...]
    provenance: Provenance

    def __post_init__(self) -> None:
        _freeze(self, "energy_j_by_meter", "uncertainty")

    def __len__(self) -> int:
        return len(self.config_ids)

    def __eq__(self, other: object) -> bool:
        return _records_equal(self, other)

    __hash__ = None  # type: ignore[assignment]

    def to_pandas(self, *, flag_columns: bool = True) -> Any:
        """A ``pandas.DataFrame``, one row per config (needs pandas; see
        :func:`eabench.interop.batch_to_pandas` for the columns)."""
        from eabench.interop import batch_to_pandas

        return batch_to_pandas(self, flag_columns=flag_columns)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (lists per field)."""
        return {
            "config_ids": list(self.config_ids),
            "epochs": self.epochs,
            "val_accuracy": self.val_accuracy.tolist(),
            "test_accuracy": None if self.test_accuracy is None else self.test_accuracy.tolist(),
            "train_time_s": self.train_time_s.tolist(),
            "energy_j": self.energy_j.tolist(),
            "primary_meter": self.primary_meter,
            "energy_j_by_meter": {k: v.tolist() for k, v in self.energy_j_by_meter.items()},
            "holistic_lower_j": None
            if self.holistic_lower_j is None
            else self.holistic_lower_j.tolist(),
            "holistic_upper_j": None
            if self.holistic_upper_j is None
            else self.holistic_upper_j.tolist(),
            "uncertainty": {k: v.tolist() for k, v in self.uncertainty.items()},
            "flags": [sorted(f) for f in self.flags],
            "provenance": self.provenance.to_dict(),
        }


# ----------------------------------------------------------------------------- hot-path builders
# The single-query hot path builds three records per answer; a frozen dataclass's ``__init__``
# sets every field through ``object.__setattr__`` (about 90 ns each). These builders set the
# slots directly, in field order, with the same result (tested against the constructors).


def _slot_setters(cls: type) -> tuple[Callable[[Any, Any], None], ...]:
    return tuple(cls.__dict__[f.name].__set__ for f in fields(cls))


_new = object.__new__
_CURVE_SET = _slot_setters(Curve)
_ENERGY_SET = _slot_setters(EnergyEstimate)
_RESULT_SET = _slot_setters(QueryResult)


def _curve(
    epochs: np.ndarray,
    val_accuracy: np.ndarray,
    test_accuracy: np.ndarray | None,
    energy_j: np.ndarray,
    train_time_s: np.ndarray,
) -> Curve:
    """``Curve(...)`` (the arrays read-only already)."""
    obj = _new(Curve)
    s = _CURVE_SET
    s[0](obj, epochs)
    s[1](obj, val_accuracy)
    s[2](obj, test_accuracy)
    s[3](obj, energy_j)
    s[4](obj, train_time_s)
    return obj


def _energy_estimate(
    energy_j: float,
    per_epoch_j: float,
    provenance: MeterProvenance,
    flags: frozenset[str],
    std_j: float | None,
) -> EnergyEstimate:
    """``EnergyEstimate(...)``."""
    obj = _new(EnergyEstimate)
    s = _ENERGY_SET
    s[0](obj, energy_j)
    s[1](obj, per_epoch_j)
    s[2](obj, provenance)
    s[3](obj, flags)
    s[4](obj, std_j)
    return obj


def _query_result(
    config_id: str,
    epochs: int,
    val_accuracy: float,
    test_accuracy: float | None,
    train_time_s: float,
    energy_j: float,
    primary_meter: str,
    energy_by_meter: Mapping[str, EnergyEstimate],
    holistic_energy_j: tuple[float, float] | None,
    uncertainty: Mapping[str, float],
    curve: Curve,
    flags: frozenset[str],
    provenance: Provenance,
) -> QueryResult:
    """``QueryResult(...)``, its mappings frozen as ``__post_init__`` does."""
    if type(energy_by_meter) is not FrozenDict:
        energy_by_meter = FrozenDict(energy_by_meter)
    if type(uncertainty) is not FrozenDict:
        uncertainty = FrozenDict(uncertainty)
    obj = _new(QueryResult)
    s = _RESULT_SET
    s[0](obj, config_id)
    s[1](obj, epochs)
    s[2](obj, val_accuracy)
    s[3](obj, test_accuracy)
    s[4](obj, train_time_s)
    s[5](obj, energy_j)
    s[6](obj, primary_meter)
    s[7](obj, energy_by_meter)
    s[8](obj, holistic_energy_j)
    s[9](obj, uncertainty)
    s[10](obj, curve)
    s[11](obj, flags)
    s[12](obj, provenance)
    return obj
