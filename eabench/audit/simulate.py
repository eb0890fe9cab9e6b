"""SIMULATED multi-meter run logs with planted properties, to test and benchmark the audit.

Every reading is marked ``simulated=True`` (so it carries the SIMULATED flag and can never be
published as a measurement). A node with one GPU, two RAPL domains and an external wall meter
trains ``n_runs`` runs of ``n_epochs`` epochs; six meters watch every epoch:

- ``gpu.nvml_counter`` (counter): the true GPU energy with 0.5 % noise;
- ``gpu.nvml_power`` (polling at 10 Hz, ~98 % of the expected samples, 1.5 % noise);
- ``gpu.smi_poll`` (polling at nominal 10 Hz), the **planted failure** of the seed paper: in a
  share ``smi_undersampled_share`` of epochs it takes only 2-10 samples and, as the paper's Fig. 3
  shows, those samples catch the GPU in a low-power state, so the epoch's energy reads low;
- ``cpu.rapl`` (package) and ``dram.rapl`` (dram) counters;
- ``node.external`` (node_wall, 10 Hz): GPU + CPU + DRAM + a **planted constant off-socket
  power** ``off_socket_w`` (with 1 % noise).

The GPU power per run is drawn from ``gpu_power_range_w``; epochs last 8-20 s (the paper's
average is 11.8 s). Flags come from :func:`eabench.meters.flags.apply_policy`, the project's
flag rules, so the audit sees them exactly as it would see collected data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eabench._rng import as_generator
from eabench.errors import InvalidArgumentError
from eabench.logs.schema import EpochRecord, RunHeader, RunLog
from eabench.meters.flags import apply_policy
from eabench.meters.provenance import MeterReading

__all__ = ["SimulationSpec", "simulate_run_logs"]


@dataclass(frozen=True, slots=True)
class SimulationSpec:
    """The planted properties of a simulated dataset (powers in W, durations in s)."""

    n_runs: int = 60
    n_epochs: int = 5
    gpu_power_range_w: tuple[float, float] = (140.0, 320.0)
    gpu_idle_w: float = 75.0
    gpu_max_w: float = 700.0
    smi_undersampled_share: float = 0.35
    smi_low_state_w: tuple[float, float] = (60.0, 110.0)
    off_socket_w: float = 120.0
    epoch_s: tuple[float, float] = (8.0, 20.0)
    poll_hz: float = 10.0

    def __post_init__(self) -> None:
        if self.n_runs < 1 or self.n_epochs < 1:
            raise InvalidArgumentError.for_field(
                "n_runs/n_epochs", (self.n_runs, self.n_epochs), "must be >= 1"
            )
        if not 0.0 <= self.smi_undersampled_share <= 1.0:
            raise InvalidArgumentError.for_field(
                "smi_undersampled_share", self.smi_undersampled_share, "must be in [0, 1]"
            )


_BASE = {
    "gpu.nvml_counter": ("counter", "gpu", "nvmlDeviceGetTotalEnergyConsumption", "counter_delta"),
    "gpu.nvml_power": ("polling", "gpu", "nvmlDeviceGetPowerUsage", "trapezoid"),
    "gpu.smi_poll": ("polling", "gpu", "nvidia-smi --query-gpu=power.draw", "rectangle_mean"),
    "cpu.rapl": (
        "counter",
        "package",
        "/sys/class/powercap/intel-rapl:0/energy_uj",
        "counter_delta",
    ),
    "dram.rapl": (
        "counter",
        "dram",
        "/sys/class/powercap/intel-rapl:0:0/energy_uj",
        "counter_delta",
    ),
    "node.external": ("external", "node_wall", "LMG450 CSV (simulated)", "trapezoid"),
}


def _reading(
    run_id: str, epoch: int, meter: str, energy_j: float, dur_s: float, t0_ns: int, **kw: object
) -> MeterReading:
    method, scope, api, integ = _BASE[meter]
    return MeterReading(
        reading_id=f"{run_id}/e{epoch}/{meter}",
        run_id=run_id,
        epoch=epoch,
        window_name="train",
        meter=meter,
        method=method,
        quantity="energy" if method == "counter" else "power",
        api_call=api,
        backend="eabench.audit.simulate",
        scope=scope,
        device={"index": 0} if scope == "gpu" else {},
        window_start_mono_ns=t0_ns,
        window_end_mono_ns=t0_ns + int(dur_s * 1e9),
        integration=integ,
        energy_j=float(energy_j),
        duration_s=float(dur_s),
        mean_power_w=float(energy_j / dur_s),
        sync_barrier="cuda_synchronize" if scope == "gpu" else "none",
        simulated=True,
        **kw,  # type: ignore[arg-type]
    )


def simulate_run_logs(spec: SimulationSpec, seed: int | np.random.Generator) -> list[RunLog]:
    """``spec.n_runs`` SIMULATED run logs (see the module docstring for what is planted)."""
    rng = as_generator(seed)
    out: list[RunLog] = []
    for i in range(spec.n_runs):
        run_id = f"sim-{i:05d}"
        p_gpu = rng.uniform(*spec.gpu_power_range_w)
        p_cpu = 60.0 + 0.1 * p_gpu
        t0 = 0
        records = []
        for e in range(spec.n_epochs):
            d = float(rng.uniform(*spec.epoch_s))
            g = p_gpu * (1 + rng.normal(0, 0.03)) * d
            c = p_cpu * (1 + rng.normal(0, 0.03)) * d
            m = 12.0 * (1 + rng.normal(0, 0.03)) * d
            off = spec.off_socket_w * (1 + rng.normal(0, 0.01)) * d
            expected = int(np.floor(d * spec.poll_hz))
            poll = {"requested_rate_hz": spec.poll_hz, "samples_expected": expected}
            nvml_taken = round(expected * rng.uniform(0.96, 1.0))
            if rng.random() < spec.smi_undersampled_share:
                smi_taken = int(rng.integers(2, 11))
                smi_e = rng.uniform(*spec.smi_low_state_w) * d
            else:
                smi_taken = round(expected * rng.uniform(0.9, 1.0))
                smi_e = g * (1 + rng.normal(0, 0.02))
            readings = (
                _reading(run_id, e, "gpu.nvml_counter", g * (1 + rng.normal(0, 0.005)), d, t0),
                _reading(
                    run_id,
                    e,
                    "gpu.nvml_power",
                    g * (1 + rng.normal(0, 0.015)),
                    d,
                    t0,
                    samples_taken=nvml_taken,
                    power_source_kind="instant",
                    **poll,
                ),
                _reading(
                    run_id,
                    e,
                    "gpu.smi_poll",
                    smi_e,
                    d,
                    t0,
                    samples_taken=smi_taken,
                    power_source_kind="average_1s",
                    **poll,
                ),
                _reading(run_id, e, "cpu.rapl", c, d, t0),
                _reading(run_id, e, "dram.rapl", m, d, t0),
                _reading(
                    run_id,
                    e,
                    "node.external",
                    g + c + m + off,
                    d,
                    t0,
                    samples_taken=round(expected * rng.uniform(0.98, 1.0)),
                    **poll,
                ),
            )
            records.append(
                EpochRecord(run_id=run_id, epoch=e, train_time_s=d, readings=apply_policy(readings))
            )
            t0 += int(d * 1e9) + 1
        header = RunHeader(
            run_id=run_id,
            space="simulated",
            dataset="simulated",
            source={"kind": "simulated", "generator": "eabench.audit.simulate"},
            max_epochs=spec.n_epochs,
            hardware={"gpu_name": "SIMULATED GPU", "power_limit_w": spec.gpu_max_w},
        )
        out.append(RunLog(header=header, epochs=tuple(records)))
    return out
