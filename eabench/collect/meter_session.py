"""The meters of one run: the sweep's meter spec turned into a :class:`~eabench.meters.session.
MeterSession`, plus the calibration step. The trainer only calls ``begin``/``end`` per window.

Construction from ``[meters]``: one meter object per listed id (eabench.meters classes; one NVML
source shared by the NVML meters, one powercap source by the RAPL meters), on the CUDA device the
run trains on, with the spec's rates (``gpu.nvml_power``: poll rate; ``gpu.smi_poll``: the sleep
between ``nvidia-smi`` calls is ``1 / rate``, EA-HAS-Bench's 0.1 s by default). Meters that cannot
measure on this machine are dropped by the session and recorded in the run log with the reason
(``available: false``), so a CPU-only machine still collects with what it has.

``fake = true`` replaces NVML by :class:`eabench.meters.fakes.FakeNvml` (a constant 250 W
simulated GPU) driven by the real clock: the readings are marked simulated (flag SIMULATED,
severity invalid) and can never pass for measurements. Only the NVML meters have fakes.

With a calibration profile, every window also gets a ``node.holistic`` reading (on-socket meters
plus calibrated off-socket bounds, :func:`eabench.meters.calibration.holistic_reading`).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, cast

from eabench.collect.spec import MeterSpec, check_meter_names
from eabench.meters.base import Meter, SystemClock
from eabench.meters.provenance import MeterReading

if TYPE_CHECKING:
    import torch

    from eabench.meters.calibration import CalibrationProfile

__all__ = ["FAKE_GPU_POWER_W", "MeterWindows", "open_meters"]

FAKE_GPU_POWER_W = 250.0


class _RealTimeClock(SystemClock):
    """The system clock with ``now_s`` (what :class:`FakeNvml` reads to evaluate its trace)."""

    def now_s(self) -> float:
        return time.monotonic_ns() / 1e9


def _build(spec: MeterSpec, device: torch.device) -> list[Meter]:
    from eabench.meters.gpu_nvml_counter import NvmlCounterMeter
    from eabench.meters.gpu_nvml_power import NvmlPowerMeter
    from eabench.meters.gpu_smi_poll import SmiPollMeter
    from eabench.meters.node_estimate import NodeEstimateMeter
    from eabench.meters.nvml import PynvmlSource
    from eabench.meters.rapl import RaplMeter, SysfsRaplSource

    check_meter_names(spec)
    clock = _RealTimeClock()
    devices = [device.index or 0] if device.type == "cuda" else None
    sync: Callable[[], None] | None = None
    if device.type == "cuda":
        import torch

        sync = functools.partial(torch.cuda.synchronize, device)

    if spec.fake:
        from eabench.meters.fakes import FakeClock, FakeGpu, FakeNvml, PowerTrace

        gpu = FakeGpu(trace=PowerTrace.constant(FAKE_GPU_POWER_W))
        nvml: Any = FakeNvml(cast(FakeClock, clock), [gpu])
        devices = [0]
    else:
        nvml = PynvmlSource()
    rapl = SysfsRaplSource()
    meters: list[Meter] = []
    for name in spec.names:
        rate = spec.rates_hz.get(name, 10.0)
        if name == "gpu.nvml_counter":
            meters.append(NvmlCounterMeter(nvml, clock, devices, sync=sync))
        elif name == "gpu.nvml_power":
            meters.append(NvmlPowerMeter(nvml, clock, devices, rate_hz=rate))
        elif name == "gpu.smi_poll":
            meters.append(SmiPollMeter(clock, devices, sleep_s=1.0 / rate))
        elif name in ("cpu.rapl", "dram.rapl"):
            meters.append(RaplMeter("package" if name == "cpu.rapl" else "dram", rapl, clock))
        else:  # node.estimate
            meters.append(NodeEstimateMeter(("ram",), clock=clock))
    return meters


class MeterWindows:
    """The meters of one run over its windows (context manager; closes every meter on exit)."""

    def __init__(
        self,
        session: Any,
        spec: MeterSpec,
        profile: CalibrationProfile | None,
        profile_path: Path | None,
        device_type: str,
    ) -> None:
        self._device_type = device_type
        self._session = session
        self._spec = spec
        self._profile = profile
        self._profile_path = profile_path
        self._fingerprint: str | None = None
        #: meter id -> error message of the last window (meters that failed in it)
        self.last_errors: dict[str, str] = {}

    def settings(self) -> list[dict[str, Any]]:
        """One entry per requested meter for the run-log header (settings, availability)."""
        out: list[dict[str, Any]] = []
        for name in self._spec.names:
            av = self._session.availability.get(name)
            entry: dict[str, Any] = {
                "meter": name,
                "available": bool(av.available) if av is not None else False,
                "reason": av.reason if av is not None else "not constructed",
                "simulated": self._spec.fake,
            }
            if name in self._spec.rates_hz:
                entry["requested_rate_hz"] = self._spec.rates_hz[name]
            out.append(entry)
        if self._profile is not None:
            out.append(
                {
                    "meter": "node.holistic",
                    "calibration_id": self._profile.calibration_id,
                    "profile_path": str(self._profile_path),
                }
            )
        return out

    def begin(self, epoch: int, window_name: str) -> None:
        """Open window ``(epoch, window_name)`` on every available meter."""
        self._session.begin(epoch, window_name)

    def end(self) -> tuple[MeterReading, ...]:
        """Close the window; flagged readings (plus ``node.holistic`` with a profile)."""
        result = self._session.end()
        self.last_errors = dict(result.errors)
        readings = tuple(result.readings)
        if self._profile is None:
            return readings
        from eabench.collect.environment import hardware_info
        from eabench.meters.calibration import ON_SOCKET_METERS, holistic_reading
        from eabench.meters.flags import apply_policy

        on_socket = [r for r in readings if r.meter in ON_SOCKET_METERS]
        if not on_socket:
            return readings
        if self._fingerprint is None:
            self._fingerprint = str(hardware_info(self._device_type)["host_fingerprint"])
        holistic = holistic_reading(on_socket, self._profile, fingerprint=self._fingerprint)
        return readings + apply_policy([holistic])

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> MeterWindows:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def open_meters(
    spec: MeterSpec, profile_path: Path | None, device: torch.device, run_id: str
) -> MeterWindows:
    """Build the run's meters and session (see the module docstring)."""
    from eabench.meters.session import MeterSession

    profile = None
    if profile_path is not None:
        from eabench.meters.calibration import CalibrationProfile

        profile = CalibrationProfile.load(profile_path)
    session = MeterSession(_build(spec, device), run_id=run_id)
    if not spec.fake:
        for meter in session.meters:
            if meter.meter_id == "gpu.nvml_counter" and hasattr(meter, "measure_update_period"):
                meter.measure_update_period(1.0)
    return MeterWindows(session, spec, profile, profile_path, device.type)
