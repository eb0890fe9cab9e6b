"""gpu.nvml_counter and gpu.nvml_power against the fake NVML (nvidia-ml-py code paths)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from eabench.errors import InvalidArgumentError, MeterUnavailableError
from eabench.meters import MeterReading
from eabench.meters.base import Window
from eabench.meters.fakes import (
    FakeClock,
    FakeGpu,
    FakeNvml,
    PowerTrace,
    fake_pynvml,
    load_trace_jsonl,
    square_wave,
)
from eabench.meters.flags import apply_policy, flags_for
from eabench.meters.gpu_nvml_counter import NvmlCounterMeter
from eabench.meters.gpu_nvml_power import NvmlPowerMeter
from eabench.meters.nvml import PynvmlSource, power_source_kind, sensor_facts, visible_nvml_indices

W = Window("run-1", 3, "train")


def bursty(clock: FakeClock, **kw: object) -> tuple[FakeNvml, PowerTrace]:
    t0 = clock.now_s()
    trace = square_wave(100.0, 300.0, 0.1, 0.5, t0 - 10, t0 + 100)
    return FakeNvml(clock, [FakeGpu(trace, sensor_phase_s=0.05, **kw)]), trace  # type: ignore[arg-type]


def window(clock: FakeClock, meters: list[object], seconds: float) -> list[MeterReading]:
    for m in meters:
        m.begin(W)  # type: ignore[attr-defined]
    clock.sleep(seconds)
    out: list[MeterReading] = []
    for m in reversed(meters):
        out.extend(m.end())  # type: ignore[attr-defined]
    return out


def test_counter_matches_truth_within_quantisation() -> None:
    clock = FakeClock()
    nvml, trace = bursty(clock)
    meter = NvmlCounterMeter(nvml, clock, sync=lambda: None, sync_name="fake.sync")
    assert meter.measure_update_period(1.0) == {"NVIDIA H100 80GB HBM3": pytest.approx(0.1)}
    t0 = clock.now_s()
    (r,) = window(clock, [meter], 11.8)
    truth = trace.energy_j(t0, t0 + 11.8)
    assert r.energy_j is not None
    assert abs(r.energy_j - truth) <= 2 * 0.1 * 300.0  # at most one update period per edge
    assert r.raw_unit == "mJ"
    assert r.raw_end - r.raw_start == round(r.energy_j * 1000)
    assert r.update_period_s == pytest.approx(0.1)
    assert r.update_period_source == "measured"
    assert r.device["arch"] == "hopper"
    assert r.sync_barrier == "fake.sync"
    assert r.simulated
    assert flags_for(r) == {"SIMULATED"}
    assert MeterReading.from_dict(r.to_dict()) == r


def test_part_time_sensor_polling_error_against_counter() -> None:
    clock = FakeClock()
    nvml, trace = bursty(clock)
    counter = NvmlCounterMeter(nvml, clock, sync=lambda: None)
    power = NvmlPowerMeter(nvml, clock, rate_hz=10.0, field="instant")
    t0 = clock.now_s()
    readings = apply_policy(window(clock, [power, counter], 11.8))
    c = next(r for r in readings if r.meter == "gpu.nvml_counter")
    p = next(r for r in readings if r.meter == "gpu.nvml_power")
    truth = trace.energy_j(t0, t0 + 11.8)  # 200 W mean
    assert c.energy_j is not None
    assert p.energy_j is not None
    assert abs(c.energy_j - truth) / truth < 0.01
    # the 25-ms boxcar always lands on the high half: polled power reads 300 W, +50%
    assert p.energy_j / truth == pytest.approx(1.5, rel=0.01)
    assert p.samples_expected == 118
    assert p.samples_taken in (118, 119)
    assert p.achieved_rate_hz == pytest.approx(10.0)
    assert p.power_source_kind == "instant"
    assert p.sensor_window_s == 0.025
    assert {"PART_TIME_SENSOR", "POLLING_WHERE_COUNTER_AVAILABLE", "METER_DISAGREEMENT"} <= (
        p.flag_codes
    )
    assert "METER_DISAGREEMENT" in c.flag_codes


def test_average_field_agrees_with_counter_on_long_window() -> None:
    clock = FakeClock()
    nvml, trace = bursty(clock)
    power = NvmlPowerMeter(nvml, clock, rate_hz=20.0, field="average")
    t0 = clock.now_s()
    (p,) = window(clock, [power], 30.0)
    assert p.energy_j == pytest.approx(trace.energy_j(t0, t0 + 30.0), rel=0.01)
    assert p.power_source_kind == "average_1s"
    assert "AVERAGED_POWER_SOURCE" not in flags_for(p)  # >= 20 s
    assert p.samples_expected == 600


def test_counter_reset_and_stale_counter() -> None:
    clock = FakeClock()
    nvml = FakeNvml(clock, [FakeGpu(PowerTrace.constant(100.0), reset_at_s=clock.now_s() + 1)])
    meter = NvmlCounterMeter(nvml, clock, sync=lambda: None)
    (r,) = window(clock, [meter], 2.0)
    assert r.energy_j is None
    assert r.error
    assert "backwards" in r.error
    assert "COUNTER_RESET" in flags_for(r)

    stuck = FakeNvml(clock, [FakeGpu(PowerTrace.constant(100.0), counter_period_s=1e6)])
    (s,) = window(clock, [NvmlCounterMeter(stuck, clock, sync=lambda: None)], 1.0)
    assert s.energy_j == 0.0
    assert "ZERO_OR_STALE_COUNTER" in flags_for(s)


def test_permission_and_errors_become_null_readings() -> None:
    clock = FakeClock()
    gpu = FakeGpu(
        PowerTrace.constant(100.0),
        errors={
            "total_energy_mj": PermissionError(13, "NoPermission"),
            "power": RuntimeError("sporadic"),
        },
    )
    nvml = FakeNvml(clock, [gpu])
    counter = NvmlCounterMeter(nvml, clock)
    assert counter.availability().available  # meter works, readings will be null
    power = NvmlPowerMeter(nvml, clock)
    assert not power.availability().available
    readings = window(clock, [power, counter], 1.0)
    c = next(r for r in readings if r.meter == "gpu.nvml_counter")
    p = next(r for r in readings if r.meter == "gpu.nvml_power")
    assert c.energy_j is None
    assert c.permissions
    assert c.permissions["readable"] is False
    assert "NO_PERMISSION" in flags_for(c)
    assert p.energy_j is None
    assert p.poll_errors == p.samples_expected + 1
    assert "READ_FAILED" in flags_for(p)
    assert "UNDER_SAMPLED" in flags_for(p)


def test_unsupported_scope_is_unavailable_and_bad_args_raise() -> None:
    clock = FakeClock()
    nvml = FakeNvml(clock, [FakeGpu(PowerTrace.constant(100.0))])
    av = NvmlPowerMeter(nvml, clock, scope=1).availability()
    assert not av.available
    assert "scope" in av.reason
    with pytest.raises(InvalidArgumentError):
        NvmlPowerMeter(nvml, clock, field="bogus")
    with pytest.raises(InvalidArgumentError):
        NvmlPowerMeter(nvml, clock, rate_hz=0)
    with pytest.raises(MeterUnavailableError):
        NvmlCounterMeter(nvml, clock).end()


def test_replayed_trace_readings_are_simulated(tmp_path: Path) -> None:
    clock = FakeClock(start_s=0.0)
    path = tmp_path / "h.jsonl"
    path.write_text(
        "\n".join(f'{{"t_s": {i * 0.5}, "watts": {100 + 50 * (i % 2)}}}' for i in range(40))
    )
    nvml = FakeNvml(clock, [FakeGpu(load_trace_jsonl(path))])
    (r,) = window(clock, [NvmlCounterMeter(nvml, clock, sync=lambda: None)], 10.0)
    assert r.energy_j == pytest.approx(1250.0, abs=15.0)
    assert r.simulated
    assert "SIMULATED" in flags_for(r)


def test_pynvml_source_without_driver_reports_unavailable() -> None:
    # nvidia-ml-py is installed, the NVML library is not: a reason, never a crash
    av = NvmlCounterMeter(PynvmlSource()).availability()
    assert not av.available
    assert "NVML" in av.reason or "nvidia-ml-py" in av.reason


def test_sensor_table_and_visible_devices() -> None:
    assert power_source_kind("usage", "NVIDIA A100-SXM4-80GB", "ampere") == "instant"
    assert power_source_kind("usage", "NVIDIA H100", "hopper") == "average_1s"
    assert power_source_kind("usage", "Tesla V100", "volta") == "instant"
    assert sensor_facts("NVIDIA GH200", "hopper", "instant").sensor_window_s == 0.02
    assert sensor_facts("NVIDIA H200", "hopper", "instant").sensor_window_s is None
    assert visible_nvml_indices(4, ["GPU-a", "GPU-b", "GPU-c", "GPU-d"], None) == [0, 1, 2, 3]
    assert visible_nvml_indices(4, ["GPU-a", "GPU-b", "GPU-c", "GPU-d"], "2,GPU-a") == [2, 0]
    assert visible_nvml_indices(4, ["GPU-a"] * 4, "1,7,2") == [1]
    with pytest.raises(MeterUnavailableError, match="MIG"):
        visible_nvml_indices(1, ["GPU-a"], "MIG-abc")


def test_production_pynvml_code_path_against_fake_module(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeClock()
    t0 = clock.now_s()
    trace = square_wave(100.0, 300.0, 0.1, 0.5, t0 - 10, t0 + 100)
    fake = FakeNvml(
        clock,
        [
            FakeGpu(trace, sensor_phase_s=0.05),
            FakeGpu(
                PowerTrace.constant(50.0), errors={"total_energy_mj": PermissionError(13, "denied")}
            ),
        ],
    )
    monkeypatch.setitem(sys.modules, "pynvml", fake_pynvml(fake))
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "1,0")
    source = PynvmlSource()
    counter = NvmlCounterMeter(source, clock, sync=lambda: None)
    power = NvmlPowerMeter(source, clock, rate_hz=10.0, field="instant")
    assert [g.nvml_index for g in counter.gpus()] == [1, 0]
    readings = window(clock, [power, counter], 11.8)
    by = {(r.meter, r.device["index"]): r for r in readings}
    c0, c1 = by[("gpu.nvml_counter", 1)], by[("gpu.nvml_counter", 0)]
    assert c0.device["nvml_index"] == 0
    assert c0.energy_j == pytest.approx(trace.energy_j(t0, t0 + 11.8), rel=0.01)
    assert c0.driver_version == "fake-driver"
    assert c0.cuda_driver_version == "12080"
    assert c0.device["arch"] == "hopper"
    assert c0.device["pci_bus_id"] == "00000000:00:00.0"
    assert c1.energy_j is None
    assert "NO_PERMISSION" in flags_for(c1)
    p0 = by[("gpu.nvml_power", 1)]
    assert p0.energy_j is not None
    assert p0.energy_j / c0.energy_j == pytest.approx(1.5, rel=0.02)
    assert all(r.simulated and "SIMULATED" in flags_for(r) for r in readings)
    av = NvmlPowerMeter(source, clock, scope=1).availability()  # NVMLError_NotSupported
    assert not av.available
    assert "not supported" in av.reason


def test_power_permission_error_is_no_permission() -> None:
    clock = FakeClock()
    gpu = FakeGpu(PowerTrace.constant(100.0), errors={"power": PermissionError(13, "denied")})
    (p,) = window(clock, [NvmlPowerMeter(FakeNvml(clock, [gpu]), clock)], 2.0)
    assert p.energy_j is None
    assert p.permissions is not None
    assert p.permissions["errno"] == "EACCES"
    assert "NO_PERMISSION" in flags_for(p)
