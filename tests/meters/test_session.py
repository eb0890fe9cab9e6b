"""MeterSession: meters side by side over the same windows, flags and roll-up per window."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eabench.errors import InvalidArgumentError
from eabench.meters import MeterReading
from eabench.meters.base import Availability, Window
from eabench.meters.fakes import FakeClock, FakeGpu, FakeNvml, square_wave
from eabench.meters.gpu_nvml_counter import NvmlCounterMeter
from eabench.meters.gpu_nvml_power import NvmlPowerMeter
from eabench.meters.rapl import RaplMeter, SysfsRaplSource
from eabench.meters.registry import METER_IDS, default_meters, probe
from eabench.meters.session import MeterSession


class BrokenMeter:
    """Available, but its end() raises: the session must carry on."""

    meter_id = "test.broken"

    def availability(self) -> Availability:
        return Availability(self.meter_id, True)

    def begin(self, window: Window) -> None:
        return None

    def end(self) -> tuple[MeterReading, ...]:
        raise RuntimeError("device fell off the bus")

    def close(self) -> None:
        return None


def test_session_runs_meters_side_by_side(tmp_path: Path) -> None:
    clock = FakeClock()
    t0 = clock.now_s()
    nvml = FakeNvml(
        clock, [FakeGpu(square_wave(100, 300, 0.1, 0.5, t0 - 1, t0 + 100), sensor_phase_s=0.05)]
    )
    meters = [
        NvmlCounterMeter(nvml, clock, sync=lambda: None),
        NvmlPowerMeter(nvml, clock, rate_hz=10.0),
        RaplMeter("package", SysfsRaplSource(tmp_path / "none"), clock),
        BrokenMeter(),
    ]
    session = MeterSession(meters, run_id="run-7")
    assert set(session.unavailable) == {"cpu.rapl"}
    results = []
    for epoch in range(2):
        with session.window(epoch) as out:
            clock.sleep(6.0)
        results.append(out[0])
    session.close()
    first, second = results
    assert first.window == Window("run-7", 0, "train")
    assert {r.meter for r in second.readings} == {"gpu.nvml_counter", "gpu.nvml_power"}
    assert "device fell off the bus" in second.errors["test.broken"]
    c, p = second.by_meter("gpu.nvml_counter")[0], second.by_meter("gpu.nvml_power")[0]
    assert c.window_start_mono_ns <= p.window_start_mono_ns <= p.window_end_mono_ns
    assert p.window_end_mono_ns <= c.window_end_mono_ns  # counter brackets the pollers
    assert "WARMUP" in first.readings[0].flag_codes
    assert "WARMUP" not in c.flag_codes
    assert "METER_DISAGREEMENT" in c.flag_codes  # the part-time sensor reads +50%
    assert second.severity == "invalid"  # SIMULATED
    assert all(r.policy_id == session.policy.policy_id for r in second.readings)
    for r in second.readings:  # the stored form round-trips through JSON
        assert MeterReading.from_dict(json.loads(json.dumps(r.to_dict()))) == r


def test_session_rejects_misuse() -> None:
    session = MeterSession([], run_id="r")
    with pytest.raises(InvalidArgumentError):
        session.end()
    session.begin(0)
    with pytest.raises(InvalidArgumentError):
        session.begin(1)
    assert session.end().readings == ()
    with pytest.raises(InvalidArgumentError):
        MeterSession([], run_id="")


def test_probe_lists_every_standard_meter_without_crashing(tmp_path: Path) -> None:
    rows = probe(default_meters(powercap_root=tmp_path, external_csv=tmp_path / "x.csv"))
    assert [a.meter for a in rows] == list(METER_IDS)
    for a in rows:
        assert a.available or a.reason
