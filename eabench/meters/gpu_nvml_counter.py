"""``gpu.nvml_counter``: NVML total-energy counter read at window edges after a device sync.

Energy of a window = difference of two ``nvmlDeviceGetTotalEnergyConsumption`` reads (mJ since
the driver was loaded; Volta and newer). Both edges call ``sync`` first (e.g.
``torch.cuda.synchronize``) so the window holds all and only the GPU work issued inside it. A
counter that went backwards (driver reload) gives ``energy_j=None`` (flag COUNTER_RESET); a
counter that did not move over a long window is flagged ZERO_OR_STALE_COUNTER by the policy. The
counter's update period is a per-GPU-model property measured once by
:meth:`NvmlCounterMeter.measure_update_period` (Zeus-style inference) and recorded with each
reading.
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Callable, Sequence
from typing import Any

from eabench.errors import EabenchError, MeterUnavailableError
from eabench.meters.base import (
    Availability,
    Clock,
    SystemClock,
    Window,
    WindowEdges,
    failed_reading,
    kernel_release,
)
from eabench.meters.nvml import GpuInfo, NvmlGpuAccess, NvmlSource
from eabench.meters.provenance import MeterReading

__all__ = ["NvmlCounterMeter", "measure_update_period"]

METER_ID = "gpu.nvml_counter"


def measure_update_period(
    source: NvmlSource,
    nvml_index: int,
    clock: Clock,
    *,
    duration_s: float = 1.0,
    poll_s: float = 0.002,
) -> float | None:
    """Publication period of the energy counter in seconds: the median time between value
    changes while polling every ``poll_s`` for ``duration_s`` (None if it changed < 3 times).

    Only meaningful while the GPU draws power (run it under load)."""
    changes: list[int] = []
    last = source.total_energy_mj(nvml_index)
    end = clock.monotonic_ns() + int(duration_s * 1e9)
    while clock.monotonic_ns() < end:
        clock.sleep(poll_s)
        v = source.total_energy_mj(nvml_index)
        if v != last:
            changes.append(clock.monotonic_ns())
            last = v
    if len(changes) < 3:
        return None
    return float(statistics.median((b - a) / 1e9 for a, b in itertools.pairwise(changes)))


class NvmlCounterMeter(NvmlGpuAccess):
    """Meter ``gpu.nvml_counter`` over the chosen GPUs (CUDA-view indices; None = all).

    Args:
        source: an :class:`NvmlSource` (default: nvidia-ml-py, created on first use).
        clock: time source (default :class:`SystemClock`).
        devices: CUDA-view GPU indices, or None for all visible GPUs.
        sync: called at both edges before reading (e.g. ``torch.cuda.synchronize``).
        sync_name: recorded as ``sync_barrier`` (``none`` when ``sync`` is None).
        update_period_s: counter period if already known (recorded as ``measured``).
    """

    meter_id = METER_ID

    def __init__(
        self,
        source: NvmlSource | None = None,
        clock: Clock | None = None,
        devices: Sequence[int] | None = None,
        sync: Callable[[], None] | None = None,
        sync_name: str = "torch.cuda.synchronize",
        update_period_s: float | None = None,
    ) -> None:
        self._source = source
        self._clock = clock or SystemClock()
        self._devices = devices
        self._sync = sync
        self._sync_name = sync_name if sync is not None else "none"
        self._period: dict[str, float] = {}
        self._given_period = update_period_s
        self._gpus: list[GpuInfo] | None = None
        self._start: tuple[Window, int, int, dict[int, int | BaseException]] | None = None

    def availability(self) -> Availability:
        try:
            gpus = self.gpus()
            if not gpus:
                return Availability(METER_ID, False, "no visible NVIDIA GPU")
            for g in gpus:
                self.source.total_energy_mj(g.nvml_index)
        except PermissionError as exc:
            return Availability(METER_ID, True, f"no permission: {exc}")
        except Exception as exc:
            return Availability(METER_ID, False, _reason(exc))
        return Availability(METER_ID, True, "", tuple(f"{g.index}:{g.name}" for g in gpus))

    def measure_update_period(self, duration_s: float = 1.0) -> dict[str, float | None]:
        """Measure the counter period once per GPU model; later readings record it."""
        out: dict[str, float | None] = {}
        for g in self.gpus():
            if g.name not in self._period:
                p = measure_update_period(
                    self.source, g.nvml_index, self._clock, duration_s=duration_s
                )
                if p is not None:
                    self._period[g.name] = p
            out[g.name] = self._period.get(g.name)
        return out

    def _read_all(self) -> dict[int, int | BaseException]:
        if self._sync is not None:
            self._sync()
        out: dict[int, int | BaseException] = {}
        for g in self.gpus():
            try:
                out[g.index] = self.source.total_energy_mj(g.nvml_index)
            except Exception as exc:
                out[g.index] = exc
        return out

    def begin(self, window: Window) -> None:
        gpus = self.gpus()
        if not gpus:
            raise MeterUnavailableError.for_field("meter", METER_ID, "no visible NVIDIA GPU")
        raw = self._read_all()
        self._start = (window, self._clock.monotonic_ns(), self._clock.wall_ns(), raw)

    def end(self) -> tuple[MeterReading, ...]:
        if self._start is None:
            raise MeterUnavailableError.for_field("window", None, "end() without begin()")
        raw_end = self._read_all()
        end_ns = self._clock.monotonic_ns()
        window, start_ns, wall_ns, raw_start = self._start
        self._start = None
        edges = WindowEdges(window, start_ns, wall_ns, end_ns)
        versions = self.source.versions()
        out = []
        for g in self.gpus():
            rid = f"{window.run_id}/{window.epoch}/{window.window_name}/{METER_ID}/{g.index}"
            base = self._base(g, edges, versions)
            a, b = raw_start[g.index], raw_end[g.index]
            if isinstance(a, BaseException) or isinstance(b, BaseException):
                exc = a if isinstance(a, BaseException) else b
                assert isinstance(exc, BaseException)
                out.append(failed_reading(base, exc, reading_id=rid))
                continue
            energy = (b - a) / 1000.0 if b >= a else None
            dur = edges.duration_s
            out.append(
                MeterReading(
                    reading_id=rid,
                    **base,
                    raw_start=a,
                    raw_end=b,
                    energy_j=energy,
                    mean_power_w=energy / dur if energy is not None and dur > 0 else None,
                    error=None if b >= a else "counter went backwards (driver reload?)",
                )
            )
        return tuple(out)

    def _base(self, g: GpuInfo, edges: WindowEdges, versions: dict[str, Any]) -> dict[str, Any]:
        period = self._period.get(g.name, self._given_period)
        return {
            **edges.reading_fields(),
            "meter": METER_ID,
            "method": "counter",
            "quantity": "energy_counter",
            "api_call": "nvmlDeviceGetTotalEnergyConsumption",
            "backend": "nvidia-ml-py" if not self.source.simulated else "eabench.fakes.FakeNvml",
            "scope": "gpu",
            "integration": "counter_delta",
            "device": g.to_device(),
            "sync_barrier": self._sync_name,
            "raw_unit": "mJ",
            "update_period_s": period,
            "update_period_source": "measured" if period is not None else "unknown",
            "uncertainty_rel": 0.05,
            "kernel_release": kernel_release(),
            "simulated": self.source.simulated,
            **versions,
        }

    def close(self) -> None:
        close = getattr(self._source, "close", None)
        if callable(close):
            close()


def _reason(exc: BaseException) -> str:
    if isinstance(exc, EabenchError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"
