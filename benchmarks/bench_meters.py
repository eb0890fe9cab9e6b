"""Meter overhead: reads per second per meter, and the cost of a polling thread per epoch.

Run from the repository root: ``python benchmarks/bench_meters.py``. Writes
``benchmarks/results/meters.json`` and prints the same numbers.

1. Reads/s: the raw source read and a whole window (``begin`` + ``end`` -> validated
   MeterReading) for the fake NVML counter and power fields, a powercap tree in a temp dir, the
   real powercap tree and real NVML where this machine has them, and ``nvidia-smi`` (the fake
   executable: one Python process per query, like the EA-HAS-Bench tracer's subprocess).
2. Polling cost: a GIL-bound simulated epoch (pure-Python work of fixed size, the worst case for
   a Python thread next to it) timed without a poller and with ``gpu.nvml_power`` polling the
   fake NVML at 10/100/1000 Hz and ``gpu.smi_poll`` with the fake ``nvidia-smi``. Reported: the
   poller thread's CPU time as % of the epoch (robust; plus the CPU time of ``nvidia-smi`` child
   processes for ``gpu.smi_poll``), the epoch's wall-time increase (best of
   repeats; noisy on a shared machine) and the polling rate the thread achieved next to the
   GIL-bound epoch.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from eabench.meters.base import SystemClock, Window
from eabench.meters.fakes import FakeClock, FakeGpu, FakeNvml, PowerTrace, write_fake_smi
from eabench.meters.flags import evaluate
from eabench.meters.gpu_nvml_counter import NvmlCounterMeter
from eabench.meters.gpu_nvml_power import NvmlPowerMeter
from eabench.meters.gpu_smi_poll import SmiPollMeter
from eabench.meters.nvml import PynvmlSource
from eabench.meters.rapl import RaplMeter, SysfsRaplSource

OUT = Path(__file__).resolve().parent / "results" / "meters.json"


def rate(fn: Callable[[], object], min_s: float = 0.5) -> float:
    """Calls per second of ``fn`` over at least ``min_s`` seconds."""
    n, t0 = 0, time.perf_counter()
    while True:
        fn()
        n += 1
        dt = time.perf_counter() - t0
        if dt >= min_s:
            return n / dt


def window_rate(meter: Any) -> float:
    w = Window("bench", 1)

    def one() -> None:
        meter.begin(w)
        meter.end()

    return rate(one)


def reads_per_second(tmp: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    clock = FakeClock()
    nvml = FakeNvml(clock, [FakeGpu(PowerTrace.constant(200.0))])
    out["fake_nvml.total_energy_mj"] = rate(lambda: nvml.total_energy_mj(0))
    out["fake_nvml.power_instant"] = rate(lambda: nvml.power(0, "instant"))
    out["gpu.nvml_counter window (fake)"] = window_rate(NvmlCounterMeter(nvml, clock))

    root = tmp / "powercap"
    for zone, name in (("intel-rapl:0", "package-0"), ("intel-rapl:1", "package-1")):
        d = root / zone
        d.mkdir(parents=True)
        (d / "name").write_text(name)
        (d / "energy_uj").write_text("123456789")
        (d / "max_energy_range_uj").write_text("262143328850")
    src = SysfsRaplSource(root)
    z = src.zones()[0]
    out["sysfs_tmp.read_energy_uj"] = rate(lambda: src.read_energy_uj(z))
    out["cpu.rapl window, 2 packages (tmp sysfs)"] = window_rate(RaplMeter("package", src))

    real = RaplMeter("package")
    av = real.availability()
    if av.available and "permission" not in av.reason:
        rz = real.zones()[0]
        real_src = SysfsRaplSource()
        out["real_rapl.read_energy_uj"] = rate(lambda: real_src.read_energy_uj(rz))
        out["cpu.rapl window (real)"] = window_rate(real)
    else:
        out["real_rapl"] = f"unavailable: {av.reason}"

    pn = NvmlCounterMeter(PynvmlSource())
    pav = pn.availability()
    if pav.available:
        out["real_nvml.total_energy_mj"] = rate(lambda: pn.source.total_energy_mj(0))
        out["real_nvml.power_instant"] = rate(lambda: pn.source.power(0, "instant"))
        out["gpu.nvml_counter window (real)"] = window_rate(pn)
    else:
        out["real_nvml"] = f"unavailable: {pav.reason}"

    smi_dir = tmp / "bin"
    smi_dir.mkdir()
    write_fake_smi(smi_dir, [200.0], latency_s=0.0)
    smi = SmiPollMeter(executable=str(smi_dir / "nvidia-smi"))
    out["fake nvidia-smi -q -x query (subprocess)"] = rate(smi._query, min_s=1.0)

    clock2 = FakeClock()
    nvml2 = FakeNvml(clock2, [FakeGpu(PowerTrace.constant(200.0))])
    pm = NvmlPowerMeter(nvml2, clock2, rate_hz=10.0)
    pm.begin(Window("bench", 1))
    clock2.sleep(11.8)
    (reading,) = pm.end()
    out["flags.evaluate (polled reading)"] = rate(lambda: evaluate(reading))
    return {k: round(v, 1) if isinstance(v, float) else v for k, v in out.items()}


def epoch_work(n: int) -> int:
    """GIL-bound work of fixed size (a simulated training epoch's Python side)."""
    acc = 0
    for i in range(n):
        acc = (acc + i * i) % 1_000_003
    return acc


def polling_cost(tmp: Path, repeats: int = 7) -> dict[str, Any]:
    n = 20_000_000
    clock = SystemClock()
    fake_clock = FakeClock()  # the fake NVML's own time; the poller runs on the real clock
    nvml = FakeNvml(fake_clock, [FakeGpu(PowerTrace.constant(200.0))])
    smi_dir = tmp / "bin2"
    smi_dir.mkdir()
    write_fake_smi(smi_dir, [200.0], latency_s=0.0)
    configs: dict[str, Callable[[], Any] | None] = {
        "none": None,
        "gpu.nvml_power 10 Hz": lambda: NvmlPowerMeter(nvml, clock, rate_hz=10.0),
        "gpu.nvml_power 100 Hz": lambda: NvmlPowerMeter(nvml, clock, rate_hz=100.0),
        "gpu.nvml_power 1000 Hz": lambda: NvmlPowerMeter(nvml, clock, rate_hz=1000.0),
        "gpu.smi_poll (fake smi, 0.1 s sleep)": lambda: SmiPollMeter(
            clock, executable=str(smi_dir / "nvidia-smi"), query="csv"
        ),
    }
    times: dict[str, list[float]] = {k: [] for k in configs}
    cpu: dict[str, list[float]] = {k: [] for k in configs}
    samples: dict[str, list[int]] = {k: [] for k in configs}
    achieved: dict[str, list[float]] = {k: [] for k in configs}
    child: dict[str, list[float]] = {k: [] for k in configs}
    for _ in range(repeats):  # interleave configs so drift hits all alike
        for name, make in configs.items():
            meter = make() if make else None
            if meter is not None:
                meter.begin(Window("bench", 1))
            ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            epoch_work(n)
            dt = time.perf_counter() - t0
            if meter is not None:
                (r, *_) = meter.end()
                cpu[name].append(meter._poller.thread_cpu_s / dt)
                samples[name].append(r.samples_taken or 0)
                achieved[name].append(r.achieved_rate_hz or 0.0)
                ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
                child[name].append((ru1.ru_utime + ru1.ru_stime - ru0.ru_utime - ru0.ru_stime) / dt)
            times[name].append(dt)
    base = min(times["none"])
    result: dict[str, Any] = {"epoch_s_without_poller_best": round(base, 3), "repeats": repeats}
    for name in configs:
        if name == "none":
            continue
        best = min(times[name])
        result[name] = {
            "epoch_wall_increase_pct": round(100 * (best - base) / base, 2),
            "achieved_rate_hz_median": round(statistics.median(achieved[name]), 1),
            "poller_thread_cpu_pct_of_epoch": round(100 * statistics.median(cpu[name]), 2),
            "child_process_cpu_pct_of_epoch": round(100 * statistics.median(child[name]), 2) + 0.0,
            "samples_per_epoch_median": statistics.median(samples[name]),
        }
    return result


def main() -> None:
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        results = {
            "machine": {
                "platform": platform.platform(),
                "python": platform.python_version(),
                "cpus": os.cpu_count(),
                "load_avg_1min_at_start": os.getloadavg()[0],
                "note": "shared machine: other jobs run concurrently. Rates and the wall-time "
                "increase are noisy (best of repeats); the poller's CPU time is the robust "
                "cost measure",
            },
            "reads_per_second": reads_per_second(tmp),
            "polling_cost": polling_cost(tmp),
        }
    results["machine"]["load_avg_1min_at_end"] = os.getloadavg()[0]
    text = json.dumps(results, indent=2)
    print(text)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(text + "\n")


if __name__ == "__main__":
    main()
