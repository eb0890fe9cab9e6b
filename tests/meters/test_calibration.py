"""Calibration on a synthetic node: off-socket bounds, holistic [lower, upper], staleness."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from eabench.errors import CalibrationError
from eabench.meters import MeterReading
from eabench.meters.calibration import (
    CalibrationProfile,
    CalibrationRun,
    build_profile,
    holistic_reading,
    host_fingerprint,
    run_from_readings,
)
from eabench.meters.flags import flags_for

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
FP = host_fingerprint("node1", "Xeon 8480", ["GPU-a"], "5.14", "550.54")


class SyntheticNode:
    """Wall = on-socket + off-socket, off-socket rising linearly with on-socket load
    (idle 783 W / prime 811 W as in Kocher et al.): P_off(P_on) = 500 + 0.1 (P_on - 300)."""

    def p_off(self, p_on: float) -> float:
        return 500.0 + 0.1 * (p_on - 300.0)

    def readings(
        self, p_on: dict[str, float], seconds: float, epoch: int = 1
    ) -> list[MeterReading]:
        out = []
        common: dict[str, Any] = {
            "run_id": "cal",
            "epoch": epoch,
            "window_name": "w",
            "window_start_mono_ns": 0,
            "window_end_mono_ns": int(seconds * 1e9),
            "duration_s": seconds,
            "backend": "synthetic",
            "quantity": "energy",
            "api_call": "synthetic",
            "integration": "counter_delta",
            "method": "counter",
        }
        for meter, watts in p_on.items():
            out.append(
                MeterReading(
                    reading_id=meter,
                    meter=meter,
                    scope="gpu",
                    energy_j=watts * seconds,
                    mean_power_w=watts,
                    **common,
                )
            )
        wall = sum(p_on.values()) + self.p_off(sum(p_on.values()))
        out.append(
            MeterReading(
                reading_id="wall",
                meter="node.external",
                scope="node_wall",
                energy_j=wall * seconds,
                mean_power_w=wall,
                **{**common, "method": "external", "integration": "trapezoid"},
            )
        )
        return out


def profile(node: SyntheticNode) -> CalibrationProfile:
    idle = run_from_readings("idle", node.readings({"gpu.nvml_counter": 200, "cpu.rapl": 100}, 60))
    busy = run_from_readings("prime", node.readings({"gpu.nvml_counter": 200, "cpu.rapl": 580}, 60))
    return build_profile(
        idle,
        [busy],
        FP,
        created_at=T0,
        kernel_release="5.14",
        driver_version="550.54",
        external_meter={"model": "LMG450"},
    )


def test_bounds_contain_true_wall_energy_inside_calibrated_range() -> None:
    node = SyntheticNode()
    prof = profile(node)
    b = prof.bound("prime")
    assert (b.p_off_lo_w, b.p_off_hi_w) == pytest.approx((500.0, 548.0))
    for cpu_w in (100.0, 250.0, 400.0, 580.0):
        window = node.readings({"gpu.nvml_counter": 200, "cpu.rapl": cpu_w}, 11.8)
        on = [r for r in window if r.meter != "node.external"]
        truth = next(r for r in window if r.meter == "node.external").energy_j
        h = holistic_reading(
            on, prof, fingerprint=FP, now=T0 + timedelta(days=1), kernel="5.14", driver="550.54"
        )
        params = h.model["params"]  # type: ignore[index]
        assert params["lower_j"] <= truth <= params["upper_j"]  # type: ignore[operator]
        assert h.energy_j == pytest.approx(truth)  # linear node: the point estimate is exact
        assert flags_for(h) == {"CALIBRATION_APPLIED", "ESTIMATED_COMPONENT"}


def test_extrapolated_and_stale_use_is_flagged() -> None:
    node = SyntheticNode()
    prof = profile(node)
    hot = [
        r
        for r in node.readings({"gpu.nvml_counter": 400, "cpu.rapl": 600}, 10)
        if r.meter != "node.external"
    ]
    h = holistic_reading(hot, prof, fingerprint=FP, now=T0)
    assert "CALIBRATION_EXTRAPOLATED" in flags_for(h)
    other = holistic_reading(
        hot[:1], prof, fingerprint="other", now=T0 + timedelta(days=91), kernel="6.1"
    )
    reasons = other.model["params"]["stale_reasons"]  # type: ignore[index]
    assert len(reasons) == 3
    assert "CALIBRATION_STALE" in flags_for(other)


def test_null_on_socket_reading_gives_no_bound() -> None:
    node = SyntheticNode()
    on = [
        r
        for r in node.readings({"gpu.nvml_counter": 200, "cpu.rapl": 100}, 5)
        if r.meter != "node.external"
    ]
    on[1] = replace(
        on[1], energy_j=None, mean_power_w=None, permissions={"readable": False, "errno": "EACCES"}
    )
    h = holistic_reading(on, profile(node), fingerprint=FP, now=T0)
    assert h.energy_j is None
    assert h.error
    assert "null" in h.error
    with pytest.raises(CalibrationError):
        run_from_readings("idle", [*on, node.readings({"cpu.rapl": 1}, 5)[-1]])


def test_profile_json_round_trip_and_validation(tmp_path: Path) -> None:
    prof = profile(SyntheticNode())
    path = tmp_path / "cal.json"
    prof.save(path)
    assert CalibrationProfile.load(path) == prof
    path.write_text('{"format_version": 99}')
    with pytest.raises(CalibrationError, match="format_version"):
        CalibrationProfile.load(path)
    with pytest.raises(CalibrationError):
        CalibrationRun("bad", 10.0, p_wall_mean_w=100.0, p_on_mean_w=200.0)
    idle = prof.runs[0]
    with pytest.raises(CalibrationError, match="exceed idle"):
        build_profile(idle, [idle], FP)
    with pytest.raises(CalibrationError):
        prof.bound("firestarter")


class SyntheticMeters:
    """Meters of the synthetic node: on-socket power follows the load that is running."""

    def __init__(self, node: SyntheticNode) -> None:
        self.node, self.cpu_w, self.seconds = node, 100.0, 0.0
        self.meter_id = "synthetic"

    def availability(self) -> Any:
        from eabench.meters.base import Availability

        return Availability(self.meter_id, True)

    def begin(self, window: Any) -> None:
        self.epoch = window.epoch

    def end(self) -> tuple[MeterReading, ...]:
        return tuple(
            self.node.readings(
                {"gpu.nvml_counter": 200, "cpu.rapl": self.cpu_w}, self.seconds, self.epoch
            )
        )

    def close(self) -> None:
        return None


def test_calibrate_runs_idle_then_prime_load() -> None:
    from eabench.meters.calibration import calibrate
    from eabench.meters.session import MeterSession

    meters = SyntheticMeters(SyntheticNode())

    def idle(seconds: float) -> None:
        meters.cpu_w, meters.seconds = 100.0, seconds

    def busy(seconds: float) -> int:
        meters.cpu_w, meters.seconds = 580.0, seconds
        return 1

    prof = calibrate(
        MeterSession([meters], "cal"),
        FP,
        idle_s=30,
        busy_s=30,
        busy_load=busy,
        idle_wait=idle,
        created_at=T0,
    )
    assert [r.name for r in prof.runs] == ["idle", "prime"]
    assert prof.bound("prime").p_off_hi_w == pytest.approx(548.0)
    assert prof.host_fingerprint == FP
    assert prof.valid_until.startswith("2026-04-01")
