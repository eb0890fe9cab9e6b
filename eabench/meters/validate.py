"""GPU meter validation: all GPU meters side by side over windows of several lengths.

Behind ``eabench meters validate --out DIR`` (issue "Real measurements on a GPU"). Sequence:
measure the NVML counter's update period under load; one idle window; then for every workload
kind (``steady`` matmuls, ``bursty`` 50 ms on / 50 ms off) and window length, ``repeats``
windows measured by ``gpu.nvml_counter``, ``gpu.nvml_power`` and ``gpu.smi_poll`` together.
Writes ``readings.jsonl`` (every flagged reading with its window label) and ``summary.json``
(per window: energy of each meter and its relative difference to the counter, samples taken vs
expected, achieved rate, flags; overall: idle and busy power, update period, unavailable meters).
Without a usable GPU it raises :class:`~eabench.errors.MeterUnavailableError`.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from eabench.errors import MeterUnavailableError
from eabench.meters.base import Clock, Meter, SystemClock
from eabench.meters.gpu_nvml_counter import NvmlCounterMeter
from eabench.meters.gpu_nvml_power import NvmlPowerMeter
from eabench.meters.gpu_smi_poll import SmiPollMeter
from eabench.meters.nvml import NvmlSource
from eabench.meters.session import MeterSession

__all__ = ["Workload", "run_validation", "torch_workload"]

#: ``workload(kind, seconds)`` keeps the GPU busy (``kind`` = steady | bursty) for ``seconds``.
Workload = Callable[[str, float], None]


def torch_workload(device: int = 0, size: int = 4096) -> tuple[Workload, Callable[[], None]]:
    """A CUDA matmul workload and its sync function (lazy torch import)."""
    try:
        import torch
    except ImportError as exc:
        raise MeterUnavailableError.for_field("torch", None, "not installed") from exc
    if not torch.cuda.is_available():
        raise MeterUnavailableError.for_field("torch.cuda", False, "no CUDA device available")
    dev = torch.device(f"cuda:{device}")
    a = torch.randn(size, size, device=dev, dtype=torch.float16)
    b = torch.randn(size, size, device=dev, dtype=torch.float16)

    def sync() -> None:
        torch.cuda.synchronize(dev)

    def run(kind: str, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            burst_end = time.monotonic() + 0.05
            while time.monotonic() < min(burst_end, end):
                a @ b
                sync()
            if kind == "bursty":
                time.sleep(max(0.0, min(0.05, end - time.monotonic())))

    return run, sync


def _rel(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or max(a, b) <= 0:
        return None
    return abs(a - b) / max(a, b)


def run_validation(
    out_dir: Path,
    *,
    nvml: NvmlSource | None = None,
    clock: Clock | None = None,
    workload: Workload | None = None,
    sync: Callable[[], None] | None = None,
    windows_s: Sequence[float] = (1.0, 4.0, 12.0),
    kinds: Sequence[str] = ("steady", "bursty"),
    repeats: int = 2,
    idle_s: float = 5.0,
    rate_hz: float = 10.0,
    device: int = 0,
    include_smi: bool = True,
    truth: Callable[[int, int], float] | None = None,
) -> dict[str, Any]:
    """Run the validation and write ``readings.jsonl`` and ``summary.json`` into ``out_dir``.

    ``truth(start_ns, end_ns)``, when given (simulations), adds the true energy per window.
    Returns the summary dict.
    """
    clock = clock or SystemClock()
    counter = NvmlCounterMeter(
        nvml, clock, [device], sync=sync, sync_name="torch.cuda.synchronize" if sync else "none"
    )
    av = counter.availability()
    if not av.available:
        raise MeterUnavailableError.for_field("gpu.nvml_counter", av.reason, "unavailable")
    if workload is None:
        workload, sync = torch_workload(device)
        counter = NvmlCounterMeter(counter.source, clock, [device], sync=sync)
    meters: list[Meter] = [counter, NvmlPowerMeter(counter.source, clock, [device], rate_hz)]
    if include_smi:
        meters.append(SmiPollMeter(clock, [device], query="csv"))
    session = MeterSession(meters, run_id=f"validate-{os.getpid()}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    if counter.source.simulated:
        periods = counter.measure_update_period(1.0)
    else:  # measure the period while the GPU is busy
        import threading

        bg = threading.Thread(target=workload, args=("steady", 2.0))
        bg.start()
        clock.sleep(0.3)
        periods = counter.measure_update_period(1.0)
        bg.join()

    windows: list[dict[str, Any]] = []
    epoch = 0
    plan = [("idle", idle_s)] + [(k, w) for k in kinds for w in windows_s for _ in range(repeats)]
    with open(out_dir / "readings.jsonl", "w") as fh:
        for kind, length in plan:
            session.begin(epoch, f"{kind}-{length:g}s")
            if kind == "idle":
                clock.sleep(length)
            else:
                workload(kind, length)
            res = session.end()
            for r in res.readings:
                fh.write(json.dumps({"kind": kind, "window_s": length, **r.to_dict()}) + "\n")
            windows.append(_window_summary(kind, length, res.readings, truth))
            epoch += 1
    session.close()

    idle = [w for w in windows if w["kind"] == "idle"]
    busy = [w for w in windows if w["kind"] != "idle"]

    def mean_power(ws: list[dict[str, Any]]) -> float | None:
        vals = [
            m["mean_power_w"]
            for w in ws
            for m in w["meters"]
            if m["meter"] == "gpu.nvml_counter" and m["mean_power_w"] is not None
        ]
        return sum(vals) / len(vals) if vals else None

    summary = {
        "device": counter.gpus()[0].to_device(),
        "versions": counter.source.versions(),
        "simulated": counter.source.simulated,
        "counter_update_period_s": periods,
        "poll_rate_hz": rate_hz,
        "unavailable": session.unavailable,
        "idle_power_w": mean_power(idle),
        "busy_power_w": {k: mean_power([w for w in busy if w["kind"] == k]) for k in kinds},
        "windows": windows,
    }
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2))
    return summary


def _window_summary(
    kind: str, length: float, readings: Sequence[Any], truth: Callable[[int, int], float] | None
) -> dict[str, Any]:
    ref = next((r for r in readings if r.meter == "gpu.nvml_counter"), None)
    ref_e = ref.energy_j if ref is not None else None
    out: dict[str, Any] = {"kind": kind, "window_s": length, "meters": []}
    if truth is not None and ref is not None:
        out["true_energy_j"] = truth(ref.window_start_mono_ns, ref.window_end_mono_ns)
    for r in readings:
        out["meters"].append(
            {
                "meter": r.meter,
                "energy_j": r.energy_j,
                "mean_power_w": r.mean_power_w,
                "rel_diff_vs_counter": _rel(r.energy_j, ref_e)
                if r.meter != "gpu.nvml_counter"
                else None,
                "samples_taken": r.samples_taken,
                "samples_expected": r.samples_expected,
                "achieved_rate_hz": r.achieved_rate_hz,
                "flags": sorted(r.flag_codes),
            }
        )
    return out
