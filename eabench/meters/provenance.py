"""Per-meter provenance: the :class:`MeterReading` record and its quality :class:`Flag`.

One ``MeterReading`` describes how one meter measured one device or domain over one window (one
epoch's train or eval phase): the exact API it called, raw counter values in native units, the
sampling it achieved, how it integrated, and the flags that the quality policy derived. The field
names follow ``reference/energy-meters.md`` section 5.2. Meter ids use the eabench naming
(``gpu.nvml_counter``, ``gpu.nvml_power``, ``gpu.smi_poll``, ``cpu.rapl``, ``dram.rapl``,
``node.estimate``, ``node.external``, ``carbontracker``, ``codecarbon``).

Missing values are ``None`` (plus a flag that says why), never 0. Energies are joules, powers
watts, durations seconds, window edges monotonic-clock nanoseconds.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal, cast

from eabench.errors import InvalidReadingError

__all__ = [
    "INTEGRATIONS",
    "METHODS",
    "SEVERITIES",
    "Flag",
    "MeterReading",
    "Severity",
    "worst_severity",
]

Severity = Literal["info", "warn", "invalid"]
SEVERITIES: Final[tuple[str, ...]] = ("info", "warn", "invalid")
_SEVERITY_RANK: Final[dict[str, int]] = {s: i for i, s in enumerate(SEVERITIES)}

METHODS: Final[tuple[str, ...]] = ("counter", "polling", "model", "external")
INTEGRATIONS: Final[tuple[str, ...]] = (
    "counter_delta",
    "trapezoid",
    "rectangle_mean",
    "instant_x_duration",
    "model",
    "ingested",
)
POWER_SOURCE_KINDS: Final[tuple[str, ...]] = ("instant", "average_1s", "unknown")


@dataclass(frozen=True, slots=True)
class Flag:
    """One quality flag on a reading: a code from the policy, its severity and a detail text."""

    code: str
    severity: Severity
    detail: str = ""

    def __post_init__(self) -> None:
        if not self.code or not isinstance(self.code, str):
            raise InvalidReadingError.for_field("flag.code", self.code, "must be a non-empty str")
        if self.severity not in _SEVERITY_RANK:
            raise InvalidReadingError.for_field(
                "flag.severity", self.severity, f"must be one of {SEVERITIES}"
            )

    def to_dict(self) -> dict[str, str]:
        """Plain-dict form ``{code, severity, detail}``."""
        return {"code": self.code, "severity": self.severity, "detail": self.detail}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Flag:
        """Inverse of :meth:`to_dict`; raises ``InvalidReadingError`` on bad input."""
        if not isinstance(data, Mapping):
            raise InvalidReadingError.for_field("flag", data, "must be a mapping")
        unknown = set(data) - {"code", "severity", "detail"}
        if unknown:
            raise InvalidReadingError.for_field("flag", sorted(unknown), "unknown keys")
        detail = data.get("detail", "")
        if not isinstance(detail, str):
            raise InvalidReadingError.for_field("flag.detail", detail, "must be a str")
        return cls(
            code=cast(str, data.get("code")),
            severity=cast(Severity, data.get("severity")),
            detail=detail,
        )


def worst_severity(flags: tuple[Flag, ...] | frozenset[Flag]) -> Severity | None:
    """The most severe severity among ``flags`` (``invalid`` > ``warn`` > ``info``), or None."""
    if not flags:
        return None
    return max((f.severity for f in flags), key=_SEVERITY_RANK.__getitem__)


@dataclass(frozen=True, slots=True)
class MeterReading:
    """How one meter measured one device/domain over one window, and what it got.

    Identity: ``reading_id``, ``run_id``, ``epoch`` (0-based), ``window_name`` (``"train"`` or
    ``"eval"``). Source: ``meter`` (eabench meter id), ``method`` (one of :data:`METHODS`),
    ``quantity`` and ``api_call`` (the exact field, call or sysfs path), ``backend`` and versions,
    ``scope`` (gpu, module, memory, package, core, dram, psys, node_wall) and ``device``.
    Window: monotonic-ns edges, wall-clock start, and the sync barrier used. Counters: raw values
    in ``raw_unit`` (mJ, uJ), wrap handling, update period. Polling: requested/achieved rate,
    samples, gaps. Result: ``energy_j``, ``mean_power_w``, ``duration_s`` (None when invalid or
    unavailable; ``error`` then names the cause). Quality: ``flags`` and the ``policy_id`` that
    produced them.
    """

    # identity
    reading_id: str
    run_id: str
    epoch: int
    window_name: str
    # source
    meter: str
    method: str
    quantity: str
    api_call: str
    backend: str
    scope: str
    window_start_mono_ns: int
    window_end_mono_ns: int
    integration: str
    energy_j: float | None
    duration_s: float | None
    mean_power_w: float | None = None
    backend_version: str | None = None
    driver_version: str | None = None
    nvml_version: str | None = None
    cuda_driver_version: str | None = None
    kernel_release: str | None = None
    power_source_kind: str | None = None
    device: Mapping[str, Any] = field(default_factory=dict)
    window_start_wall_ns: int | None = None
    sync_barrier: str = "none"
    # counters
    raw_start: int | None = None
    raw_end: int | None = None
    raw_unit: str | None = None
    counter_max: int | None = None
    wraps_corrected: int = 0
    wrap_tracker: str = "none"
    update_period_s: float | None = None
    update_period_source: str = "unknown"
    sensor_window_s: float | None = None
    # polling
    requested_rate_hz: float | None = None
    achieved_rate_hz: float | None = None
    samples_expected: int | None = None
    samples_taken: int | None = None
    samples_unique: int | None = None
    poll_errors: int | None = None
    max_gap_s: float | None = None
    edge_gap_start_s: float | None = None
    edge_gap_end_s: float | None = None
    # result qualifiers
    uncertainty_rel: float | None = None
    model: Mapping[str, Any] | None = None
    pue_applied: float | None = None
    permissions: Mapping[str, Any] | None = None
    host_fingerprint: str | None = None
    simulated: bool = False
    error: str | None = None
    flags: tuple[Flag, ...] = ()
    policy_id: str | None = None

    def __post_init__(self) -> None:
        _validate(self)

    # ------------------------------------------------------------------ conversion
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict with the field names of energy-meters.md section 5.2."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name == "flags":
                value = [fl.to_dict() for fl in value]
            elif isinstance(value, Mapping):
                value = dict(value)
            out[f.name] = value
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MeterReading:
        """Inverse of :meth:`to_dict`; unknown or missing required keys raise an error."""
        if not isinstance(data, Mapping):
            raise InvalidReadingError.for_field("reading", type(data).__name__, "must be a mapping")
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise InvalidReadingError.for_field("reading", unknown, "unknown keys")
        required = [
            f.name
            for f in dataclasses.fields(cls)
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        ]
        missing = [k for k in required if k not in data]
        if missing:
            raise InvalidReadingError.for_field("reading", missing, "missing required keys")
        kwargs = dict(data)
        raw_flags = kwargs.get("flags", ())
        if not isinstance(raw_flags, (list, tuple)):
            raise InvalidReadingError.for_field("flags", raw_flags, "must be a list of flags")
        kwargs["flags"] = tuple(Flag.from_dict(f) for f in raw_flags)
        return cls(**kwargs)

    def with_flags(self, flags: tuple[Flag, ...], policy_id: str) -> MeterReading:
        """A copy carrying ``flags`` derived under ``policy_id``."""
        return dataclasses.replace(self, flags=tuple(flags), policy_id=policy_id)

    @property
    def flag_codes(self) -> frozenset[str]:
        """The set of flag codes on this reading."""
        return frozenset(f.code for f in self.flags)


# ---------------------------------------------------------------------- validation
_INT_FIELDS = (
    "epoch",
    "window_start_mono_ns",
    "window_end_mono_ns",
    "window_start_wall_ns",
    "raw_start",
    "raw_end",
    "counter_max",
    "wraps_corrected",
    "samples_expected",
    "samples_taken",
    "samples_unique",
    "poll_errors",
)
_NONNEG_FLOAT_FIELDS = (
    "energy_j",
    "duration_s",
    "mean_power_w",
    "update_period_s",
    "sensor_window_s",
    "requested_rate_hz",
    "achieved_rate_hz",
    "max_gap_s",
    "edge_gap_start_s",
    "edge_gap_end_s",
    "uncertainty_rel",
    "pue_applied",
)
_STR_FIELDS = (
    "reading_id",
    "run_id",
    "window_name",
    "meter",
    "method",
    "quantity",
    "api_call",
    "backend",
    "scope",
    "integration",
)


def _validate(r: MeterReading) -> None:
    for name in _STR_FIELDS:
        v = getattr(r, name)
        if not isinstance(v, str) or not v:
            raise InvalidReadingError.for_field(name, v, "must be a non-empty str")
    for name in _INT_FIELDS:
        v = getattr(r, name)
        if v is None and name in ("epoch", "window_start_mono_ns", "window_end_mono_ns"):
            raise InvalidReadingError.for_field(name, v, "is required")
        if v is not None and (not isinstance(v, int) or isinstance(v, bool)):
            raise InvalidReadingError.for_field(name, v, "must be an int or null")
        if v is not None and v < 0 and name not in ("raw_start", "raw_end"):
            raise InvalidReadingError.for_field(name, v, "must be >= 0")
    for name in _NONNEG_FLOAT_FIELDS:
        v = getattr(r, name)
        if v is None:
            continue
        if not isinstance(v, (int, float)) or isinstance(v, bool):
            raise InvalidReadingError.for_field(name, v, "must be a number or null")
        if not math.isfinite(v) or v < 0:
            raise InvalidReadingError.for_field(
                name, v, "must be finite and >= 0 (use null for missing)"
            )
    if r.window_end_mono_ns < r.window_start_mono_ns:
        raise InvalidReadingError.for_field(
            "window_end_mono_ns",
            r.window_end_mono_ns,
            f"must be >= window_start_mono_ns ({r.window_start_mono_ns})",
        )
    if r.method not in METHODS:
        raise InvalidReadingError.for_field("method", r.method, f"must be one of {METHODS}")
    if r.integration not in INTEGRATIONS:
        raise InvalidReadingError.for_field(
            "integration", r.integration, f"must be one of {INTEGRATIONS}"
        )
    if r.power_source_kind is not None and r.power_source_kind not in POWER_SOURCE_KINDS:
        raise InvalidReadingError.for_field(
            "power_source_kind", r.power_source_kind, f"must be one of {POWER_SOURCE_KINDS}"
        )
    for name in ("device", "model", "permissions"):
        v = getattr(r, name)
        if v is not None and not isinstance(v, Mapping):
            raise InvalidReadingError.for_field(name, v, "must be a mapping or null")
    if r.error is not None and not isinstance(r.error, str):
        raise InvalidReadingError.for_field("error", r.error, "must be a str or null")
    if not isinstance(r.simulated, bool):
        raise InvalidReadingError.for_field("simulated", r.simulated, "must be a bool")
    if not isinstance(r.flags, tuple) or not all(isinstance(f, Flag) for f in r.flags):
        raise InvalidReadingError.for_field("flags", r.flags, "must be a tuple of Flag")
    if (
        r.permissions is not None
        and r.permissions.get("readable") is False
        and r.energy_j is not None
    ):
        raise InvalidReadingError.for_field(
            "energy_j", r.energy_j, "must be null when permissions.readable is false"
        )
