"""The :class:`Meter` protocol, clocks and windows shared by every meter.

A meter measures one or more devices/domains over a *window* (one epoch's train or eval phase):
``begin(window)`` at the start edge, ``end()`` at the end edge, which returns one
:class:`~eabench.meters.provenance.MeterReading` per device or domain. Meters take an injectable
``clock`` (monotonic and wall-clock nanoseconds plus ``sleep``) and an injectable data source, so
the same code runs against hardware and against the fakes in :mod:`eabench.meters.fakes`.

A meter that cannot work on this machine says so through :meth:`Meter.availability` (with the
reason); it never crashes the caller. Failures during a window become readings whose
``energy_j`` is ``None`` with the cause in ``error``/``permissions`` (and a flag), never 0.
"""

from __future__ import annotations

import dataclasses
import errno
import os
import platform
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from eabench.errors import InvalidArgumentError, MeterUnavailableError
from eabench.meters.provenance import MeterReading

__all__ = [
    "Availability",
    "Clock",
    "Meter",
    "SystemClock",
    "Window",
    "WindowEdges",
    "failed_reading",
    "kernel_release",
    "permission_record",
    "require_available",
]


@runtime_checkable
class Clock(Protocol):
    """Time source: monotonic ns for durations, wall ns for alignment, and sleeping."""

    def monotonic_ns(self) -> int:
        """Monotonic clock in nanoseconds (durations)."""
        ...

    def wall_ns(self) -> int:
        """Wall clock (Unix epoch) in nanoseconds (alignment with external logs)."""
        ...

    def sleep(self, seconds: float) -> None:
        """Block the calling thread for ``seconds`` of this clock's time."""
        ...


class SystemClock:
    """The real clocks: :func:`time.monotonic_ns`, :func:`time.time_ns`, :func:`time.sleep`."""

    def monotonic_ns(self) -> int:
        return time.monotonic_ns()

    def wall_ns(self) -> int:
        return time.time_ns()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


@dataclass(frozen=True, slots=True)
class Window:
    """Identity of one measurement window: run, 0-based epoch and phase (``train``/``eval``)."""

    run_id: str
    epoch: int
    window_name: str = "train"

    def __post_init__(self) -> None:
        if not self.run_id:
            raise InvalidArgumentError.for_field("run_id", self.run_id, "must be non-empty")
        if isinstance(self.epoch, bool) or not isinstance(self.epoch, int) or self.epoch < 0:
            raise InvalidArgumentError.for_field("epoch", self.epoch, "must be an int >= 0")
        if not self.window_name:
            raise InvalidArgumentError.for_field("window_name", self.window_name, "non-empty")


@dataclass(frozen=True, slots=True)
class WindowEdges:
    """The clock readings at the edges of a window (monotonic ns, wall ns at the start)."""

    window: Window
    start_mono_ns: int
    start_wall_ns: int
    end_mono_ns: int

    @property
    def duration_s(self) -> float:
        """Window length in seconds (monotonic clock)."""
        return (self.end_mono_ns - self.start_mono_ns) / 1e9

    def reading_fields(self) -> dict[str, Any]:
        """Identity and window fields of a :class:`MeterReading` for this window."""
        return {
            "run_id": self.window.run_id,
            "epoch": self.window.epoch,
            "window_name": self.window.window_name,
            "window_start_mono_ns": self.start_mono_ns,
            "window_end_mono_ns": self.end_mono_ns,
            "window_start_wall_ns": self.start_wall_ns,
            "duration_s": self.duration_s,
        }


@dataclass(frozen=True, slots=True)
class Availability:
    """Whether a meter can measure here; ``reason`` says why not (or notes, when available)."""

    meter: str
    available: bool
    reason: str = ""
    devices: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form for ``eabench meters probe --json``."""
        return dataclasses.asdict(self)


@runtime_checkable
class Meter(Protocol):
    """One meter (e.g. ``gpu.nvml_counter``) over all its devices or domains.

    Lifecycle: ``availability()`` (cheap, never raises), then any number of
    ``begin(window)`` / ``end()`` pairs (not nested), then ``close()``. ``end()`` returns one
    unflagged reading per device or domain; flags are added by :mod:`eabench.meters.flags`.
    ``begin`` raises :class:`~eabench.errors.MeterUnavailableError` only when the meter is
    unavailable as a whole; per-device failures become null readings.
    """

    meter_id: str

    def availability(self) -> Availability: ...

    def begin(self, window: Window) -> None: ...

    def end(self) -> tuple[MeterReading, ...]: ...

    def close(self) -> None: ...


def require_available(meter: Meter) -> None:
    """Raise :class:`MeterUnavailableError` (with the reason) if ``meter`` cannot measure."""
    av = meter.availability()
    if not av.available:
        raise MeterUnavailableError.for_field("meter", meter.meter_id, f"unavailable: {av.reason}")


def kernel_release() -> str:
    """``uname -r`` of this machine (recorded in every reading)."""
    return platform.release()


def permission_record(exc: BaseException) -> dict[str, Any]:
    """The ``permissions`` field for a failed read: uid, readable=False and the errno name."""
    errno_name = "EACCES"
    if isinstance(exc, OSError) and exc.errno is not None:
        errno_name = errno.errorcode.get(exc.errno, str(exc.errno))
    uid = os.getuid() if hasattr(os, "getuid") else None
    return {"uid": uid, "readable": False, "errno": errno_name}


def failed_reading(base: Mapping[str, Any], exc: BaseException, *, reading_id: str) -> MeterReading:
    """A reading for a device whose read failed: ``energy_j=None`` plus the cause.

    ``PermissionError`` becomes ``permissions.readable = False`` (flag NO_PERMISSION); any other
    error is kept in ``error`` (flag READ_FAILED).
    """
    fields = dict(base)
    fields.update(reading_id=reading_id, energy_j=None, mean_power_w=None)
    if isinstance(exc, PermissionError):
        fields["permissions"] = permission_record(exc)
    fields["error"] = f"{type(exc).__name__}: {exc}"
    return MeterReading(**fields)
