"""Quality flags: pure functions of a stored :class:`MeterReading` and a versioned policy.

:func:`evaluate` returns the full :class:`Flag` objects (code, severity, detail) for one reading;
:func:`flags_for` just their codes; :func:`apply_policy` returns the reading carrying them and
the ``policy_id``. :func:`disagreement_flags` is the cross-meter rule (METER_DISAGREEMENT, two
readings of the same device and scope), and :func:`rollup` the epoch-level worst severity.
Thresholds and their grounding are in ``reference/energy-meters.md`` section 5.3; changing any
threshold means a new ``policy_id`` so stored flags can be recomputed and compared.

Rules not decidable from a single stored reading are left to the caller: WARMUP covers the first
``warmup_epochs`` epochs only (idle-to-busy transitions are not in the record), IDLE_DOMINATED
and SHARED_DEVICE need data the reading does not hold. FALLBACK_USED is set by whoever falls back.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final

from eabench.errors import InvalidArgumentError
from eabench.meters.nvml import ARCH_ORDER
from eabench.meters.provenance import SEVERITIES, Flag, MeterReading, Severity, worst_severity

__all__ = [
    "DEFAULT_POLICY",
    "DEFAULT_SEVERITIES",
    "QualityPolicy",
    "apply_policy",
    "disagreement_flags",
    "evaluate",
    "flags_for",
    "rollup",
]

DEFAULT_SEVERITIES: Final[Mapping[str, Severity]] = MappingProxyType(
    {
        "UNDER_SAMPLED": "invalid",
        "LOW_SAMPLE_RATIO": "warn",
        "MAX_GAP_EXCEEDED": "warn",
        "EDGE_EXTRAPOLATED": "warn",
        "SMI_POLLING": "info",
        "POLLING_WHERE_COUNTER_AVAILABLE": "warn",
        "AVERAGED_POWER_SOURCE": "warn",
        "PART_TIME_SENSOR": "warn",
        "SHORT_WINDOW": "warn",
        "ZERO_OR_STALE_COUNTER": "invalid",
        "COUNTER_RESET": "invalid",
        "COUNTER_WRAPPED": "info",
        "WRAP_AMBIGUOUS": "invalid",
        "NO_PERMISSION": "invalid",
        "READ_FAILED": "invalid",
        "ESTIMATED_COMPONENT": "warn",
        "SCOPE_MODULE": "warn",
        "UNSYNCED_BOUNDARY": "warn",
        "METER_DISAGREEMENT": "warn",
        "WARMUP": "info",
        "PUE_APPLIED": "info",
        "CALIBRATION_APPLIED": "info",
        "CALIBRATION_STALE": "warn",
        "CALIBRATION_EXTRAPOLATED": "warn",
        "SIMULATED": "invalid",
    }
)


@dataclass(frozen=True, slots=True)
class QualityPolicy:
    """Versioned thresholds of the flag rules (defaults: energy-meters.md 5.3)."""

    policy_id: str = "eabench-quality-v1"
    under_sampled_max: int = 10
    low_sample_ratio: float = 0.5
    max_gap_factor: float = 3.0
    max_gap_floor_s: float = 0.5
    edge_gap_factor: float = 1.0
    averaged_source_max_duration_s: float = 20.0
    part_time_ratio: float = 0.25
    short_window_rel: float = 0.05
    nominal_counter_period_s: float = 0.1
    stale_factor: float = 2.0
    wrap_p_max_w: float = 1000.0
    disagreement_warn: float = 0.10
    disagreement_invalid: float = 0.5
    warmup_epochs: int = 1
    severities: Mapping[str, Severity] = field(
        default_factory=lambda: DEFAULT_SEVERITIES, hash=False
    )

    def __post_init__(self) -> None:
        for code, sev in self.severities.items():
            if sev not in SEVERITIES:
                raise InvalidArgumentError.for_field(f"severities[{code}]", sev, str(SEVERITIES))
        if not 0 < self.disagreement_warn <= self.disagreement_invalid:
            raise InvalidArgumentError.for_field(
                "disagreement_warn", self.disagreement_warn, "0 < warn <= invalid"
            )

    def flag(self, code: str, detail: str) -> Flag:
        """A :class:`Flag` with this policy's severity for ``code``."""
        return Flag(code, self.severities.get(code, "warn"), detail)


DEFAULT_POLICY: Final[QualityPolicy] = QualityPolicy()


def _arch_at_least(arch: object, ref: str) -> bool:
    return (
        isinstance(arch, str)
        and arch in ARCH_ORDER
        and (ARCH_ORDER.index(arch) >= ARCH_ORDER.index(ref))
    )


def _sampling_flags(r: MeterReading, p: QualityPolicy) -> list[Flag]:
    out: list[Flag] = []
    n, exp, rate = r.samples_taken, r.samples_expected, r.requested_rate_hz
    if n is not None and n <= p.under_sampled_max:
        out.append(p.flag("UNDER_SAMPLED", f"{n} samples <= {p.under_sampled_max}"))
    if n is not None and exp is not None and exp > 0 and n / exp < p.low_sample_ratio:
        out.append(p.flag("LOW_SAMPLE_RATIO", f"{n}/{exp} = {n / exp:.3f} < {p.low_sample_ratio}"))
    if rate:
        limit = max(p.max_gap_factor / rate, p.max_gap_floor_s)
        if r.max_gap_s is not None and r.max_gap_s > limit:
            out.append(p.flag("MAX_GAP_EXCEEDED", f"max gap {r.max_gap_s:.3f} s > {limit:.3f} s"))
        edges = [g for g in (r.edge_gap_start_s, r.edge_gap_end_s) if g is not None]
        edge_limit = p.edge_gap_factor / rate
        if edges and max(edges) > edge_limit:
            out.append(
                p.flag("EDGE_EXTRAPOLATED", f"edge gap {max(edges):.3f} s > {edge_limit:.3f} s")
            )
    return out


def _polling_flags(r: MeterReading, p: QualityPolicy) -> list[Flag]:
    out = _sampling_flags(r, p)
    arch = r.device.get("arch") if r.device else None
    if _arch_at_least(arch, "volta"):
        out.append(p.flag("POLLING_WHERE_COUNTER_AVAILABLE", f"{arch} GPU has an energy counter"))
    dur = r.duration_s
    if (
        r.power_source_kind == "average_1s"
        and dur is not None
        and dur < p.averaged_source_max_duration_s
    ):
        out.append(p.flag("AVERAGED_POWER_SOURCE", f"1-s average over a {dur:.2f} s window"))
    if (
        r.power_source_kind == "instant"
        and r.sensor_window_s is not None
        and r.update_period_s
        and r.sensor_window_s / r.update_period_s <= p.part_time_ratio
    ):
        frac = r.sensor_window_s / r.update_period_s
        out.append(p.flag("PART_TIME_SENSOR", f"sensor observes {frac:.0%} of the time"))
    return out


def _counter_flags(r: MeterReading, p: QualityPolicy) -> list[Flag]:
    out: list[Flag] = []
    dur = r.duration_s
    period = r.update_period_s if r.update_period_s else p.nominal_counter_period_s
    if dur is not None and dur > 0 and 2 * period / dur > p.short_window_rel:
        out.append(p.flag("SHORT_WINDOW", f"2 x {period:g} s / {dur:.3f} s > {p.short_window_rel}"))
    a, b = r.raw_start, r.raw_end
    if a is not None and b is not None:
        if b == a and dur is not None and dur > p.stale_factor * period:
            out.append(p.flag("ZERO_OR_STALE_COUNTER", f"counter stuck at {a} for {dur:.3f} s"))
        if b < a and r.raw_unit == "mJ":
            out.append(p.flag("COUNTER_RESET", f"counter went from {a} to {b}"))
    if r.wraps_corrected >= 1:
        out.append(p.flag("COUNTER_WRAPPED", f"{r.wraps_corrected} wrap(s) corrected"))
    if (
        r.wrap_tracker == "edge_compare"
        and r.counter_max
        and dur is not None
        and dur * p.wrap_p_max_w * 1e6 >= r.counter_max
    ):
        out.append(p.flag("WRAP_AMBIGUOUS", f"{dur:.0f} s x {p.wrap_p_max_w:g} W >= counter range"))
    return out


def evaluate(reading: MeterReading, policy: QualityPolicy = DEFAULT_POLICY) -> tuple[Flag, ...]:
    """All flags the single-reading rules of ``policy`` derive from ``reading`` (sorted by code)."""
    r, p = reading, policy
    out: list[Flag] = []
    if r.method == "polling":
        out += _polling_flags(r, p)
    elif r.method == "external":
        out += _sampling_flags(r, p)
    elif r.method == "counter":
        out += _counter_flags(r, p)
    elif r.method == "model":
        name = (r.model or {}).get("name", "unnamed model")
        out.append(p.flag("ESTIMATED_COMPONENT", f"model {name}"))
    if r.meter == "gpu.smi_poll":
        out.append(p.flag("SMI_POLLING", r.api_call))
    if r.scope == "module":
        out.append(p.flag("SCOPE_MODULE", "GPU module scope includes CPU and memory"))
    if r.meter.startswith("gpu.") and r.sync_barrier == "none" and r.method == "counter":
        out.append(p.flag("UNSYNCED_BOUNDARY", "no device sync at window edges"))
    if r.permissions is not None and r.permissions.get("readable") is False:
        out.append(p.flag("NO_PERMISSION", f"errno {r.permissions.get('errno')}"))
    elif r.energy_j is None and r.error is not None:
        out.append(p.flag("READ_FAILED", r.error))
    if r.epoch < p.warmup_epochs:
        out.append(p.flag("WARMUP", f"epoch {r.epoch} < {p.warmup_epochs}"))
    if r.pue_applied is not None:
        out.append(p.flag("PUE_APPLIED", f"PUE {r.pue_applied:g}"))
    out += _calibration_flags(r, p)
    if r.simulated:
        out.append(p.flag("SIMULATED", f"backend {r.backend}"))
    return tuple(sorted(out, key=lambda f: f.code))


def _calibration_flags(r: MeterReading, p: QualityPolicy) -> list[Flag]:
    model = r.model or {}
    if model.get("name") != "calibration_bounds":
        return []
    params = model.get("params", {})
    out = [
        p.flag(
            "CALIBRATION_APPLIED",
            f"{params.get('calibration_id')} off-socket [{params.get('p_off_lo_w')}, "
            f"{params.get('p_off_hi_w')}] W",
        )
    ]
    stale = params.get("stale_reasons") or []
    if stale:
        out.append(p.flag("CALIBRATION_STALE", "; ".join(str(s) for s in stale)))
    u = params.get("load_fraction_raw")
    if isinstance(u, (int, float)) and not 0.0 <= u <= 1.0:
        out.append(p.flag("CALIBRATION_EXTRAPOLATED", f"on-socket load fraction {u:.3f}"))
    return out


def flags_for(reading: MeterReading, policy: QualityPolicy = DEFAULT_POLICY) -> frozenset[str]:
    """The flag codes ``policy`` derives from ``reading`` (single-reading rules)."""
    return frozenset(f.code for f in evaluate(reading, policy))


def _device_key(r: MeterReading) -> tuple[str, str]:
    d = r.device or {}
    ident = d.get("uuid") or d.get("zone") or d.get("index")
    return (str(ident), r.scope)


def disagreement_flags(
    readings: Sequence[MeterReading], policy: QualityPolicy = DEFAULT_POLICY
) -> dict[str, tuple[Flag, ...]]:
    """METER_DISAGREEMENT per reading id: for every two readings of *different* meters on the
    same device and scope with energies, |Ea - Eb| / max(Ea, Eb) > warn threshold (severity
    ``invalid`` above the invalid threshold). Both readings get the flag."""
    out: dict[str, list[Flag]] = {}
    for i, a in enumerate(readings):
        for b in readings[i + 1 :]:
            if a.meter == b.meter or _device_key(a) != _device_key(b):
                continue
            if a.energy_j is None or b.energy_j is None:
                continue
            hi = max(a.energy_j, b.energy_j)
            if hi <= 0:
                continue
            rel = abs(a.energy_j - b.energy_j) / hi
            if rel > policy.disagreement_warn:
                sev: Severity = "invalid" if rel > policy.disagreement_invalid else "warn"
                for x, y in ((a, b), (b, a)):
                    detail = (
                        f"{x.meter} vs {y.meter}: {rel:.1%} "
                        f"({x.energy_j:.3f} J vs {y.energy_j:.3f} J)"
                    )
                    out.setdefault(x.reading_id, []).append(Flag("METER_DISAGREEMENT", sev, detail))
    return {k: tuple(v) for k, v in out.items()}


def apply_policy(
    readings: Sequence[MeterReading], policy: QualityPolicy = DEFAULT_POLICY
) -> tuple[MeterReading, ...]:
    """``readings`` (one window) with single-reading and cross-meter flags and ``policy_id``.

    Replaces any flags already on the readings, so it is safe to re-run under a new policy."""
    cross = disagreement_flags(readings, policy)
    return tuple(
        r.with_flags(evaluate(r, policy) + cross.get(r.reading_id, ()), policy.policy_id)
        for r in readings
    )


def rollup(readings: Iterable[MeterReading]) -> Severity | None:
    """Epoch roll-up: the worst severity over the flags of ``readings`` (None if no flags)."""
    flags = tuple(f for r in readings for f in r.flags)
    return worst_severity(flags)
