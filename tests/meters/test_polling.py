"""Sampling statistics and trapezoid integration (pure), and the poller thread."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eabench.errors import InvalidArgumentError
from eabench.meters.base import SystemClock
from eabench.meters.fakes import FakeClock
from eabench.meters.polling import Poller, sampling_stats, trapezoid_energy_j


def test_sampling_stats_of_a_stalled_poller() -> None:
    s = 10**9
    times = [int(0.05 * s), int(0.15 * s), int(1.35 * s), int(1.45 * s)]
    st_ = sampling_stats(times, 0, 2 * s, 10.0)
    assert st_.samples_expected == 20
    assert st_.samples_taken == 4
    assert st_.max_gap_s == pytest.approx(1.2)
    assert st_.edge_gap_start_s == pytest.approx(0.05)
    assert st_.edge_gap_end_s == pytest.approx(0.55)
    assert st_.achieved_rate_hz == pytest.approx(3 / 1.4)
    empty = sampling_stats([], 0, s, 10.0)
    assert empty.samples_taken == 0
    assert empty.max_gap_s is None
    assert trapezoid_energy_j([], [], 0, s) is None


@given(
    st.floats(0, 1000), st.lists(st.integers(1, 10**10 - 1), min_size=1, max_size=30, unique=True)
)
def test_trapezoid_of_constant_power_is_power_times_duration(
    watts: float, times: list[int]
) -> None:
    e = trapezoid_energy_j(times, [watts] * len(times), 0, 10**10)
    assert e == pytest.approx(watts * 10.0, rel=1e-9, abs=1e-9)


def test_trapezoid_holds_edges_and_interpolates_between() -> None:
    s = 10**9
    assert trapezoid_energy_j([1 * s, 3 * s], [100.0, 300.0], 0, 4 * s) == pytest.approx(
        100 + 400 + 300
    )


def test_poller_fixed_rate_with_simulated_clock_skips_missed_deadlines() -> None:
    clock = FakeClock(start_s=0.0)
    calls = []

    def slow_read() -> int:
        calls.append(clock.monotonic_ns())
        if len(calls) == 3:
            clock.sleep(0.35)  # a stall inside one read
        return len(calls)

    poller = Poller(slow_read, clock, 0.1, "fixed_rate")
    poller.start()
    clock.sleep(1.0)
    poller.stop()
    assert [t // 10**6 for t in calls[:5]] == [0, 100, 200, 600, 700]
    with pytest.raises(InvalidArgumentError):
        Poller(slow_read, clock, 0.0)
    with pytest.raises(InvalidArgumentError):
        Poller(slow_read, clock, 0.1, "sometimes")


def test_poller_real_clock_counts_errors_and_stops_promptly() -> None:
    def failing() -> int:
        raise OSError("gone")

    poller = Poller(failing, SystemClock(), 0.02)
    poller.start()
    SystemClock().sleep(0.1)
    poller.stop()
    assert poller.samples == []
    assert len(poller.errors) >= 2
