"""The simulated hardware: deterministic clock with threads, exact traces, fake NVML sensor."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eabench.errors import InvalidArgumentError, InvalidLogError
from eabench.meters.fakes import (
    FakeClock,
    FakeGpu,
    FakeNvml,
    PowerTrace,
    load_trace_jsonl,
    square_wave,
)


def test_fake_clock_wakes_threads_in_order_deterministically() -> None:
    clock = FakeClock(start_s=0.0)
    seen: list[int] = []
    stop = threading.Event()

    def worker() -> None:
        clock.sleep(0.0)
        ready.set()
        while not stop.is_set():
            seen.append(clock.monotonic_ns())
            clock.sleep(0.25)

    ready = threading.Event()
    t = threading.Thread(target=worker)
    t.start()
    ready.wait()
    clock.sleep(1.0)  # owner thread advances time
    stop.set()
    clock.sleep(0.25)
    t.join(timeout=5)
    assert not t.is_alive()
    assert seen[:5] == [0, 250_000_000, 500_000_000, 750_000_000, 1_000_000_000]
    with pytest.raises(InvalidArgumentError):
        clock.advance(-1.0)


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.floats(0, 500), min_size=1, max_size=20),
    st.floats(-5, 30),
    st.floats(0, 30),
    st.floats(0, 30),
)
def test_trace_energy_is_additive(watts: list[float], a: float, d1: float, d2: float) -> None:
    tr = PowerTrace(np.arange(len(watts), dtype=float), np.array(watts))
    whole = tr.energy_j(a, a + d1 + d2)
    parts = tr.energy_j(a, a + d1) + tr.energy_j(a + d1, a + d1 + d2)
    assert whole == pytest.approx(parts, rel=1e-9, abs=1e-6)
    assert whole >= -1e-9


def test_square_wave_and_splice() -> None:
    sq = square_wave(100.0, 300.0, 0.1, 0.25, 0.0, 10.0)
    assert sq.energy_j(0.0, 10.0) == pytest.approx(10 * 150.0)
    spliced = PowerTrace.constant(50.0).splice(2.0, sq).splice(4.0, PowerTrace.constant(50.0))
    assert spliced.energy_j(0.0, 6.0) == pytest.approx(50 * 4 + 2 * 150.0)
    with pytest.raises(InvalidArgumentError):
        PowerTrace(np.array([1.0, 0.0]), np.array([1.0, 1.0]))


def test_fake_nvml_counter_is_quantised_and_sensor_is_part_time() -> None:
    clock = FakeClock(start_s=0.0)
    trace = square_wave(100.0, 300.0, 0.1, 0.5, 0.0, 100.0)  # high in [0, 50) ms of each 100
    nvml = FakeNvml(clock, [FakeGpu(trace, counter_offset_mj=0, sensor_phase_s=0.05)])
    clock.sleep(2.04)
    assert nvml.total_energy_mj(0) == 400_000  # published at t = 2.0 s: 200 W x 2 s
    sample = nvml.power(0, "instant")
    assert sample.power_mw == 300_000  # boxcar [0.025, 0.05] of the period: always high
    assert sample.sensor_ts_us == 1_950_000
    assert nvml.power(0, "average").power_mw == 200_000  # 1-s boxcar sees the mean


def test_fake_nvml_reset_and_injected_errors() -> None:
    clock = FakeClock(start_s=0.0)
    gpu = FakeGpu(
        PowerTrace.constant(100.0),
        reset_at_s=5.0,
        errors={"power": PermissionError(13, "NoPermission")},
    )
    nvml = FakeNvml(clock, [gpu])
    clock.sleep(4.0)
    before = nvml.total_energy_mj(0)
    clock.sleep(2.0)
    assert nvml.total_energy_mj(0) < before
    with pytest.raises(PermissionError):
        nvml.power(0, "instant")


def test_replayed_trace_is_loaded(tmp_path: Path) -> None:
    path = tmp_path / "trace.jsonl"
    path.write_text('{"t_s": 0, "watts": 80}\n{"t_s": 1, "watts": 250}\n\n')
    tr = load_trace_jsonl(path)
    assert tr.energy_j(0.0, 2.0) == pytest.approx(330.0)
    path.write_text('{"t_s": 0}\n')
    with pytest.raises(InvalidLogError, match=r"trace\.jsonl:1"):
        load_trace_jsonl(path)
