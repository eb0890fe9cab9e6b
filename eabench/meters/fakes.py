"""Simulated hardware for running meters without a GPU or RAPL: clock, power traces, NVML, smi.

Everything here marks its readings ``simulated=True`` (flag SIMULATED, severity invalid) so that
simulated numbers can never enter published tables.

- :class:`FakeClock`: a discrete-event clock. The thread that created it (the "workload") moves
  time forward by sleeping; any other thread (a poller) that sleeps is parked until the workload
  has advanced past its wake-up time, and the workload waits for it to park again. Runs with
  pollers are therefore deterministic and take no real time.
- :class:`PowerTrace`: piecewise-constant ground-truth power P(t) with exact energy integrals.
- :class:`FakeNvml`: an :class:`~eabench.meters.nvml.NvmlSource` whose total-energy counter is
  the integral of P(t) published every ``counter_period_s``, and whose instantaneous power is a
  ``sensor_window_s`` boxcar published every ``sensor_period_s`` (Yang et al.: A100/H100 average
  25 ms of every 100 ms), with injectable errors and a counter reset (driver reload).
- :func:`fake_pynvml`: a ``pynvml`` module backed by a :class:`FakeNvml`, so the production
  nvidia-ml-py code path (:class:`~eabench.meters.nvml.PynvmlSource`) runs in CI.
- :func:`write_fake_smi`: a fake ``nvidia-smi`` executable (Python script) for PATH.
"""

from __future__ import annotations

import heapq
import itertools
import json
import math
import stat
import sys
import threading
import types
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from eabench.errors import InvalidArgumentError, InvalidLogError, MeterUnavailableError
from eabench.meters.nvml import GpuInfo, PowerSample

__all__ = [
    "FakeClock",
    "FakeGpu",
    "FakeNvml",
    "PowerTrace",
    "fake_pynvml",
    "load_trace_jsonl",
    "square_wave",
    "write_fake_smi",
]


class FakeClock:
    """Deterministic simulated clock (see module docstring). Times start at ``start_s``."""

    def __init__(self, start_s: float = 1000.0, wall_offset_s: float = 1.7e9) -> None:
        self._now_ns = int(start_s * 1e9)
        self._wall_offset_ns = int(wall_offset_s * 1e9)
        self._cv = threading.Condition()
        self._owner = threading.current_thread()
        self._parked: list[tuple[int, int, threading.Thread]] = []
        self._known: set[threading.Thread] = set()
        self._seq = itertools.count()

    def monotonic_ns(self) -> int:
        with self._cv:
            return self._now_ns

    def wall_ns(self) -> int:
        return self.monotonic_ns() + self._wall_offset_ns

    def now_s(self) -> float:
        """Current simulated time in seconds."""
        return self.monotonic_ns() / 1e9

    def sleep(self, seconds: float) -> None:
        """Owner thread: advance time. Other threads: park until time reaches the target."""
        me = threading.current_thread()
        if me is self._owner:
            self.advance(seconds)
            return
        with self._cv:
            self._known.add(me)
            if seconds <= 0:
                return
            target = self._now_ns + max(1, int(seconds * 1e9))
            heapq.heappush(self._parked, (target, next(self._seq), me))
            self._cv.notify_all()
            while self._now_ns < target or any(t is me for _, _, t in self._parked):
                self._cv.wait()

    def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds``, waking parked threads in time order."""
        if seconds < 0:
            raise InvalidArgumentError.for_field("seconds", seconds, "must be >= 0")
        with self._cv:
            self._wait_quiescent()
            target = self._now_ns + round(seconds * 1e9)
            while self._parked and self._parked[0][0] <= target:
                wake, _, _thread = heapq.heappop(self._parked)
                self._now_ns = max(self._now_ns, wake)
                self._cv.notify_all()
                self._wait_quiescent()
            self._now_ns = target
            self._cv.notify_all()

    def _wait_quiescent(self) -> None:
        # every known non-owner thread is parked or finished
        while True:
            parked = {t for _, _, t in self._parked}
            busy = [t for t in self._known if t.is_alive() and t not in parked]
            if not busy:
                return
            self._cv.wait(timeout=0.002)


@dataclass(frozen=True)
class PowerTrace:
    """Piecewise-constant power: ``watts[i]`` on ``[t_s[i], t_s[i+1])``; the last holds forever.

    Before ``t_s[0]`` power is ``watts[0]``. ``energy_j(a, b)`` is exact.
    """

    t_s: np.ndarray
    watts: np.ndarray
    _cum_j: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        t = np.asarray(self.t_s, dtype=np.float64)
        w = np.asarray(self.watts, dtype=np.float64)
        if t.ndim != 1 or t.shape != w.shape or t.size == 0:
            raise InvalidArgumentError.for_field("t_s", t.shape, "must be 1-D, same shape as watts")
        if np.any(np.diff(t) <= 0) or np.any(w < 0) or not np.all(np.isfinite(w)):
            raise InvalidArgumentError.for_field("trace", "t/w", "t increasing, watts finite >= 0")
        object.__setattr__(self, "t_s", t)
        object.__setattr__(self, "watts", w)
        cum = np.concatenate([[0.0], np.cumsum(w[:-1] * np.diff(t))])
        object.__setattr__(self, "_cum_j", cum)

    @classmethod
    def constant(cls, watts: float) -> PowerTrace:
        """Constant power for all time."""
        return cls(np.array([0.0]), np.array([float(watts)]))

    def _cum(self, t: float) -> float:
        if t <= self.t_s[0]:
            return float((t - self.t_s[0]) * self.watts[0])
        i = int(np.searchsorted(self.t_s, t, side="right")) - 1
        return float(self._cum_j[i] + (t - self.t_s[i]) * self.watts[i])

    def energy_j(self, a_s: float, b_s: float) -> float:
        """Energy in joules between times ``a_s`` and ``b_s``."""
        return self._cum(b_s) - self._cum(a_s)

    def splice(self, at_s: float, other: PowerTrace) -> PowerTrace:
        """This trace before ``at_s`` and ``other`` from ``at_s`` on (for simulated workloads)."""
        keep = self.t_s < at_s
        later = other.t_s > at_s
        t = np.concatenate([self.t_s[keep], [at_s], other.t_s[later]])
        w = np.concatenate([self.watts[keep], [other.power_w(at_s)], other.watts[later]])
        return PowerTrace(t, w)

    def power_w(self, t: float) -> float:
        """Power at time ``t``."""
        i = max(0, int(np.searchsorted(self.t_s, t, side="right")) - 1)
        return float(self.watts[i])


def load_trace_jsonl(path: Path) -> PowerTrace:
    """Replay a recorded power trace: JSONL lines ``{"t_s": float, "watts": float}``.

    Meters fed from a replayed trace (through :class:`FakeNvml`) are marked simulated."""
    t: list[float] = []
    w: list[float] = []
    for lineno, line in enumerate(Path(path).read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            t.append(float(row["t_s"]))
            w.append(float(row["watts"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidLogError.for_field(f"{path}:{lineno}", line[:80], "t_s, watts") from exc
    return PowerTrace(np.array(t), np.array(w))


def square_wave(
    low_w: float, high_w: float, period_s: float, duty: float, start_s: float, stop_s: float
) -> PowerTrace:
    """``high_w`` for the first ``duty`` fraction of every period from ``start_s``, else low."""
    n = math.ceil((stop_s - start_s) / period_s)
    t: list[float] = []
    w: list[float] = []
    for k in range(n):
        t += [start_s + k * period_s, start_s + (k + duty) * period_s]
        w += [high_w, low_w]
    t.append(start_s + n * period_s)
    w.append(low_w)
    return PowerTrace(np.array(t), np.array(w))


@dataclass
class FakeGpu:
    """One simulated GPU: identity, ground-truth trace and sensor/counter behaviour."""

    trace: PowerTrace
    name: str = "NVIDIA H100 80GB HBM3"
    arch: str = "hopper"
    uuid: str = "GPU-00000000-fake-0000-0000-000000000000"
    counter_period_s: float = 0.1
    counter_phase_s: float = 0.0
    sensor_period_s: float = 0.1
    sensor_window_s: float = 0.025
    sensor_phase_s: float = 0.0
    counter_offset_mj: int = 5_000_000
    reset_at_s: float | None = None
    supported_scopes: tuple[int, ...] = (0,)
    errors: dict[str, BaseException] = field(default_factory=dict)


class FakeNvml:
    """Pure-Python :class:`~eabench.meters.nvml.NvmlSource` driven by a :class:`FakeClock`."""

    simulated = True

    def __init__(self, clock: FakeClock, gpus: Sequence[FakeGpu]) -> None:
        self.clock = clock
        self.gpus = list(gpus)
        self.calls = 0

    def _gpu(self, i: int, call: str) -> FakeGpu:
        self.calls += 1
        if i < 0 or i >= len(self.gpus):
            raise MeterUnavailableError.for_field("nvml_index", i, "no such fake GPU")
        g = self.gpus[i]
        if call in g.errors:
            raise g.errors[call]
        return g

    def device_count(self) -> int:
        return len(self.gpus)

    def gpu_info(self, nvml_index: int) -> GpuInfo:
        g = self._gpu(nvml_index, "gpu_info")
        uuid = g.uuid if nvml_index == 0 else f"{g.uuid[:-4]}{nvml_index:04d}"
        return GpuInfo(
            nvml_index, nvml_index, g.name, uuid, f"00000000:{nvml_index:02X}:00.0", g.arch
        )

    @staticmethod
    def _published(t: float, period: float, phase: float) -> float:
        return phase + math.floor((t - phase) / period) * period

    def total_energy_mj(self, nvml_index: int) -> int:
        g = self._gpu(nvml_index, "total_energy_mj")
        t = self.clock.now_s()
        tp = self._published(t, g.counter_period_s, g.counter_phase_s)
        if g.reset_at_s is not None and t >= g.reset_at_s:
            return _to_mj(g.trace.energy_j(g.reset_at_s, max(tp, g.reset_at_s)))
        return g.counter_offset_mj + _to_mj(g.trace.energy_j(0.0, tp))

    def power(self, nvml_index: int, field: str, scope: int = 0) -> PowerSample:
        g = self._gpu(nvml_index, "power")
        if scope not in g.supported_scopes:
            raise MeterUnavailableError.for_field("scope", scope, "power scope not supported")
        t = self.clock.now_s()
        tp = self._published(t, g.sensor_period_s, g.sensor_phase_s)
        width = g.sensor_window_s if field == "instant" else 1.0
        watts = g.trace.energy_j(tp - width, tp) / width
        return PowerSample(round(watts * 1000), int(tp * 1e6))

    def versions(self) -> dict[str, str | None]:
        return {
            "backend_version": "fake",
            "driver_version": "fake",
            "nvml_version": "fake",
            "cuda_driver_version": None,
        }


def _to_mj(joules: float) -> int:
    # floor to whole mJ (the counter's resolution), tolerant to float round-off
    return math.floor(joules * 1000 + 1e-6)


_SMI_SCRIPT = '''#!{python}
"""Fake nvidia-smi for eabench tests: answers `-q -x` (XML) and --query-gpu power.draw."""
import sys, time
time.sleep({latency_s!r})
watts = {watts!r}
if "-q" in sys.argv and "-x" in sys.argv:
    gpus = "".join(
        f"<gpu id=\\"0000000{{i}}:00.0\\"><product_name>Fake H100</product_name>"
        f"<gpu_power_readings><power_draw>{{w:.2f}} W</power_draw></gpu_power_readings></gpu>"
        for i, w in enumerate(watts)
    )
    print(f"<?xml version=\\"1.0\\" ?><nvidia_smi_log>{{gpus}}</nvidia_smi_log>")
else:
    for w in watts:
        print(f"{{w:.2f}}")
'''


def write_fake_smi(directory: Path, watts: Sequence[float], latency_s: float = 0.05) -> Path:
    """Write an executable fake ``nvidia-smi`` into ``directory`` (prepend it to PATH).

    It sleeps ``latency_s`` (the query latency) and reports constant ``watts`` per GPU.
    """
    path = Path(directory) / "nvidia-smi"
    text = _SMI_SCRIPT.format(python=sys.executable, latency_s=latency_s, watts=list(watts))
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


def fake_pynvml(fake: FakeNvml) -> types.ModuleType:
    """A stand-in for the ``pynvml`` module (nvidia-ml-py) backed by ``fake``.

    Put it in ``sys.modules["pynvml"]`` to run :class:`~eabench.meters.nvml.PynvmlSource` (the
    production binding code) without a GPU. Error classes and constants are the real ones when
    nvidia-ml-py is installed. The module is marked so readings through it are simulated.
    """
    from eabench.meters.nvml import ARCH_ORDER

    err_base: type[Exception]
    no_perm: type[Exception]
    not_sup: type[Exception]
    try:
        import pynvml as real

        err_base = real.NVMLError
        no_perm = real.NVMLError_NoPermission
        not_sup = real.NVMLError_NotSupported
    except ImportError:  # pragma: no cover - nvidia-ml-py is a dev dependency
        err_base = type("NVMLError", (Exception,), {})
        no_perm = type("NVMLError_NoPermission", (err_base,), {})
        not_sup = type("NVMLError_NotSupported", (err_base,), {})

    mod = types.ModuleType("pynvml")
    mod.__dict__["__eabench_simulated__"] = True

    def wrap(fn: Any) -> Any:
        def call(*args: Any) -> Any:
            try:
                return fn(*args)
            except PermissionError as exc:
                raise no_perm() from exc
            except MeterUnavailableError as exc:
                raise not_sup() from exc

        return call

    def field_values(handle: int, fields: Sequence[tuple[int, int]]) -> list[Any]:
        out = []
        for fid, scope in fields:
            kind = {185: "average", 186: "instant"}[fid]
            s = fake.power(handle, kind, scope)
            out.append(
                types.SimpleNamespace(
                    nvmlReturn=0,
                    value=types.SimpleNamespace(uiVal=s.power_mw),
                    timestamp=s.sensor_ts_us,
                    latencyUsec=0,
                )
            )
        return out

    ns: dict[str, Any] = {
        "NVMLError": err_base,
        "NVMLError_NoPermission": no_perm,
        "NVMLError_NotSupported": not_sup,
        "NVML_SUCCESS": 0,
        "_nvmlGetFunctionPointer": lambda name: name,
        "nvmlInit": lambda: None,
        "nvmlShutdown": lambda: None,
        "nvmlDeviceGetCount": fake.device_count,
        "nvmlDeviceGetHandleByIndex": lambda i: i,
        "nvmlDeviceGetArchitecture": lambda h: ARCH_ORDER.index(fake.gpu_info(h).arch),
        "nvmlDeviceGetName": lambda h: fake.gpu_info(h).name,
        "nvmlDeviceGetUUID": lambda h: fake.gpu_info(h).uuid,
        "nvmlDeviceGetPciInfo": lambda h: types.SimpleNamespace(
            busId=fake.gpu_info(h).pci_bus_id.encode()
        ),
        "nvmlDeviceGetTotalEnergyConsumption": fake.total_energy_mj,
        "nvmlDeviceGetPowerUsage": lambda h: fake.power(h, "usage").power_mw,
        "nvmlDeviceGetFieldValues": field_values,
        "nvmlSystemGetDriverVersion": lambda: "fake-driver",
        "nvmlSystemGetNVMLVersion": lambda: "fake-nvml",
        "nvmlSystemGetCudaDriverVersion": lambda: 12080,
    }
    for name, fn in ns.items():
        is_callable_api = name.startswith("nvml") and callable(fn)
        setattr(mod, name, wrap(fn) if is_callable_api else fn)
    return mod
