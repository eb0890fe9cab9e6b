"""Offline calibration of off-socket power and holistic (wall) energy bounds for a window.

Kocher et al.: wall energy is not the sum of on-socket meters (GPU + CPU package + DRAM); the
uncaptured *off-socket* power (fans, PSU losses, board, disks, NICs) grows with load. An idle run
and busy runs (CPU load: :func:`prime_load`, a prime search on all cores, as the paper's 811 W
"prime" calibration) measured with an external wall meter next to the on-socket meters give
``P_off = P_wall - P_on`` at idle (lower bound) and busy (upper bound). For a window with
on-socket energy ``E_on`` over ``t`` seconds::

    lower = E_on (1 - delta) + P_off_lo t        upper = E_on (1 + delta) + P_off_hi t
    point = E_on + (P_off_lo + u (P_off_hi - P_off_lo)) t,
    u = clip((P_on - P_on_idle) / (P_on_busy - P_on_idle), 0, 1)

(energy-meters.md 5.4). The profile is versioned JSON tied to a host fingerprint; using it on a
different host/kernel/driver or after ``valid_until`` flags CALIBRATION_STALE, and a window whose
on-socket power lies outside the calibrated range flags CALIBRATION_EXTRAPOLATED.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Final

from eabench.errors import CalibrationError, InvalidArgumentError
from eabench.meters.host import host_fingerprint, prime_load
from eabench.meters.provenance import MeterReading
from eabench.meters.session import MeterSession

__all__ = [
    "FORMAT_VERSION",
    "ON_SOCKET_METERS",
    "CalibrationProfile",
    "CalibrationRun",
    "OffSocketBounds",
    "build_profile",
    "calibrate",
    "holistic_reading",
    "host_fingerprint",
    "prime_load",
    "run_from_readings",
]

FORMAT_VERSION: Final[int] = 1
#: meters whose (non-overlapping) readings sum to the on-socket energy
ON_SOCKET_METERS: Final[tuple[str, ...]] = ("gpu.nvml_counter", "cpu.rapl", "dram.rapl")


@dataclass(frozen=True, slots=True)
class CalibrationRun:
    """One calibration run: mean wall power and mean summed on-socket power (W)."""

    name: str
    duration_s: float
    p_wall_mean_w: float
    p_on_mean_w: float
    p_wall_std_w: float | None = None
    reading_ids: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for k in ("duration_s", "p_wall_mean_w", "p_on_mean_w"):
            v = getattr(self, k)
            if not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
                raise CalibrationError.for_field(f"runs[{self.name}].{k}", v, "finite and >= 0")
        if self.p_on_mean_w > self.p_wall_mean_w:
            raise CalibrationError.for_field(
                f"runs[{self.name}].p_on_mean_w",
                self.p_on_mean_w,
                f"on-socket power exceeds wall power {self.p_wall_mean_w} W",
            )

    @property
    def p_off_w(self) -> float:
        """Off-socket power: wall minus on-socket."""
        return self.p_wall_mean_w - self.p_on_mean_w


@dataclass(frozen=True, slots=True)
class OffSocketBounds:
    """Off-socket power bounds from the idle run (lo) and one busy run (hi), and the on-socket
    powers of both runs (the calibrated range)."""

    name: str
    p_off_lo_w: float
    p_off_hi_w: float
    p_on_idle_w: float
    p_on_busy_w: float


@dataclass(frozen=True, slots=True)
class CalibrationProfile:
    """A versioned calibration of one host (see module docstring)."""

    calibration_id: str
    host_fingerprint: str
    created_at: str
    valid_until: str
    runs: tuple[CalibrationRun, ...]
    bounds: tuple[OffSocketBounds, ...]
    kernel_release: str | None = None
    driver_version: str | None = None
    external_meter: dict[str, Any] = field(default_factory=dict)
    validation: dict[str, Any] | None = None
    format_version: int = FORMAT_VERSION

    def bound(self, name: str) -> OffSocketBounds:
        """The bounds called ``name`` (e.g. ``prime``)."""
        for b in self.bounds:
            if b.name == name:
                return b
        raise CalibrationError.for_field("bounds", name, f"not in {[b.name for b in self.bounds]}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        d = asdict(self)
        d["runs"] = [asdict(r) for r in self.runs]
        d["bounds"] = [asdict(b) for b in self.bounds]
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CalibrationProfile:
        """Inverse of :meth:`to_dict`; raises :class:`CalibrationError` on bad input."""
        if data.get("format_version") != FORMAT_VERSION:
            raise CalibrationError.for_field(
                "format_version", data.get("format_version"), f"must be {FORMAT_VERSION}"
            )
        try:
            runs = tuple(
                CalibrationRun(**{**r, "reading_ids": tuple(r.get("reading_ids", ()))})
                for r in data["runs"]
            )
            bounds = tuple(OffSocketBounds(**b) for b in data["bounds"])
            return cls(**{**data, "runs": runs, "bounds": bounds})
        except (KeyError, TypeError) as exc:
            raise CalibrationError.for_field("profile", str(exc), "malformed profile") from exc

    def save(self, path: Path) -> None:
        """Write the profile as JSON (temp file + rename)."""
        tmp = Path(path).with_suffix(".tmp")
        tmp.write_text(json.dumps(self.to_dict(), indent=2, sort_keys=True))
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> CalibrationProfile:
        """Read a profile written by :meth:`save`."""
        try:
            data = json.loads(Path(path).read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise CalibrationError.for_field("path", str(path), f"unreadable: {exc}") from exc
        return cls.from_dict(data)


def run_from_readings(
    name: str, readings: Sequence[MeterReading], wall_meter: str = "node.external"
) -> CalibrationRun:
    """A :class:`CalibrationRun` from one window's readings (e.g. ``MeterSession.end()``):
    wall power from ``wall_meter``, on-socket power summed over :data:`ON_SOCKET_METERS`
    (non-overlapping zones). Null on-socket or wall readings raise :class:`CalibrationError`."""
    wall = [r for r in readings if r.meter == wall_meter]
    on = [r for r in readings if r.meter in ON_SOCKET_METERS]
    if len(wall) != 1 or wall[0].mean_power_w is None or wall[0].duration_s is None:
        raise CalibrationError.for_field(wall_meter, len(wall), "need one non-null wall reading")
    if not on:
        raise CalibrationError.for_field("on_socket", 0, f"no readings of {ON_SOCKET_METERS}")
    nulls = [r.reading_id for r in on if r.mean_power_w is None]
    if nulls:
        raise CalibrationError.for_field("on_socket", nulls, "null readings; cannot calibrate")
    return CalibrationRun(
        name=name,
        duration_s=wall[0].duration_s,
        p_wall_mean_w=wall[0].mean_power_w,
        p_on_mean_w=sum(r.mean_power_w or 0.0 for r in on),
        reading_ids=tuple(r.reading_id for r in (*wall, *on)),
    )


def build_profile(
    idle: CalibrationRun,
    busy: Sequence[CalibrationRun],
    fingerprint: str,
    *,
    valid_days: float = 90.0,
    created_at: datetime | None = None,
    kernel_release: str | None = None,
    driver_version: str | None = None,
    external_meter: dict[str, Any] | None = None,
) -> CalibrationProfile:
    """A profile with one :class:`OffSocketBounds` per busy run (named after the run)."""
    if not busy:
        raise CalibrationError.for_field("busy", busy, "at least one busy run is needed")
    created = created_at or datetime.now(timezone.utc)
    bounds = []
    for b in busy:
        if b.p_on_mean_w <= idle.p_on_mean_w:
            raise CalibrationError.for_field(
                f"runs[{b.name}].p_on_mean_w",
                b.p_on_mean_w,
                f"busy on-socket power must exceed idle ({idle.p_on_mean_w} W)",
            )
        bounds.append(
            OffSocketBounds(b.name, idle.p_off_w, b.p_off_w, idle.p_on_mean_w, b.p_on_mean_w)
        )
    cid = hashlib.sha256(
        json.dumps(
            [fingerprint, created.isoformat(), [asdict(r) for r in (idle, *busy)]], sort_keys=True
        ).encode()
    ).hexdigest()[:12]
    return CalibrationProfile(
        calibration_id=f"cal-{cid}",
        host_fingerprint=fingerprint,
        created_at=created.isoformat(),
        valid_until=(created + timedelta(days=valid_days)).isoformat(),
        runs=(idle, *busy),
        bounds=tuple(bounds),
        kernel_release=kernel_release,
        driver_version=driver_version,
        external_meter=dict(external_meter or {}),
    )


def _stale_reasons(
    profile: CalibrationProfile,
    fingerprint: str,
    now: datetime,
    kernel: str | None,
    driver: str | None,
) -> list[str]:
    out = []
    if fingerprint != profile.host_fingerprint:
        out.append(f"host {fingerprint} != calibrated {profile.host_fingerprint}")
    if kernel is not None and profile.kernel_release and kernel != profile.kernel_release:
        out.append(f"kernel {kernel} != {profile.kernel_release}")
    if driver is not None and profile.driver_version and driver != profile.driver_version:
        out.append(f"driver {driver} != {profile.driver_version}")
    if now > datetime.fromisoformat(profile.valid_until):
        out.append(f"expired {profile.valid_until}")
    return out


def holistic_reading(
    on_socket: Sequence[MeterReading],
    profile: CalibrationProfile,
    *,
    fingerprint: str,
    bounds: str = "prime",
    now: datetime | None = None,
    kernel: str | None = None,
    driver: str | None = None,
    delta_on: float = 0.0,
) -> MeterReading:
    """Holistic energy of one window as a ``node.holistic`` reading (``method="model"``).

    ``energy_j`` is the point estimate; ``model.params`` holds ``lower_j``/``upper_j``, the
    bounds used, the raw load fraction and any stale reasons, so the flags
    (CALIBRATION_APPLIED/_STALE/_EXTRAPOLATED) are recomputable. If any on-socket reading is
    null, no bound is computed (``energy_j=None`` with the reason), never a model substitute.
    """
    if not on_socket:
        raise CalibrationError.for_field("on_socket", 0, "need at least one on-socket reading")
    if not 0 <= delta_on < 1:
        raise InvalidArgumentError.for_field("delta_on", delta_on, "0 <= delta_on < 1")
    first = on_socket[0]
    if any(r.window_start_mono_ns != first.window_start_mono_ns for r in on_socket):
        raise CalibrationError.for_field("on_socket", "windows", "readings of different windows")
    b = profile.bound(bounds)
    t = first.duration_s or 0.0
    stale = _stale_reasons(profile, fingerprint, now or datetime.now(timezone.utc), kernel, driver)
    nulls = [r.reading_id for r in on_socket if r.energy_j is None]
    params: dict[str, Any] = {
        "calibration_id": profile.calibration_id,
        "bounds": bounds,
        "p_off_lo_w": b.p_off_lo_w,
        "p_off_hi_w": b.p_off_hi_w,
        "on_socket_reading_ids": [r.reading_id for r in on_socket],
        "delta_on": delta_on,
        "stale_reasons": stale,
        "lower_j": None,
        "upper_j": None,
        "on_socket_j": None,
        "load_fraction_raw": None,
    }
    energy = None
    error = None
    if nulls:
        error = f"on-socket readings are null: {nulls}"
    elif t <= 0:
        error = "window has zero duration"
    else:
        e_on = sum(r.energy_j or 0.0 for r in on_socket)
        u_raw = (e_on / t - b.p_on_idle_w) / (b.p_on_busy_w - b.p_on_idle_w)
        u = min(1.0, max(0.0, u_raw))
        energy = e_on + (b.p_off_lo_w + u * (b.p_off_hi_w - b.p_off_lo_w)) * t
        params.update(
            on_socket_j=e_on,
            load_fraction_raw=u_raw,
            lower_j=e_on * (1 - delta_on) + b.p_off_lo_w * t,
            upper_j=e_on * (1 + delta_on) + b.p_off_hi_w * t,
        )
    return MeterReading(
        reading_id=f"{first.run_id}/{first.epoch}/{first.window_name}/node.holistic/{bounds}",
        run_id=first.run_id,
        epoch=first.epoch,
        window_name=first.window_name,
        meter="node.holistic",
        method="model",
        quantity="wall_energy_bounds",
        api_call="eabench.meters.calibration.holistic_reading",
        backend="eabench",
        scope="node_wall",
        window_start_mono_ns=first.window_start_mono_ns,
        window_end_mono_ns=first.window_end_mono_ns,
        window_start_wall_ns=first.window_start_wall_ns,
        integration="model",
        energy_j=energy,
        duration_s=t,
        mean_power_w=energy / t if energy is not None and t > 0 else None,
        model={"name": "calibration_bounds", "params": params},
        host_fingerprint=fingerprint,
        simulated=any(r.simulated for r in on_socket),
        error=error,
    )


def calibrate(
    session: MeterSession,
    fingerprint: str,
    *,
    idle_s: float = 300.0,
    busy_s: float = 300.0,
    busy_load: Callable[[float], object] = prime_load,
    idle_wait: Callable[[float], None] = time.sleep,
    **profile_kw: Any,
) -> CalibrationProfile:
    """Measure an idle run and a ``prime`` busy run with ``session`` (which must include
    ``node.external`` and on-socket meters) and build the profile. ``busy_load(seconds)`` runs the
    load (default :func:`prime_load` on all cores); ``idle_wait(seconds)`` idles."""
    runs = []
    for epoch, (name, seconds) in enumerate((("idle", idle_s), ("prime", busy_s))):
        session.begin(epoch, f"calibration-{name}")
        if name == "idle":
            idle_wait(seconds)
        else:
            busy_load(seconds)
        runs.append(run_from_readings(name, session.end().readings))
    return build_profile(runs[0], runs[1:], fingerprint, **profile_kw)
