"""node.estimate (models, PUE as a separate step) and node.external (CSV aligned by time)."""

from __future__ import annotations

from pathlib import Path

import pytest

from eabench.errors import InvalidArgumentError, InvalidLogError
from eabench.meters.base import Window, WindowEdges
from eabench.meters.fakes import FakeClock
from eabench.meters.flags import flags_for
from eabench.meters.node_estimate import (
    NodeEstimateMeter,
    apply_pue,
    codecarbon_ram_v2_w,
    codecarbon_ram_v3_w,
    estimate_dimm_count,
)
from eabench.meters.node_external import ExternalCsvMeter

W = Window("run", 1)


@pytest.mark.parametrize(
    ("gb", "dimms", "v3_w"),
    [(2, 1, 10.0), (16, 2, 10.0), (32, 4, 20.0), (128, 8, 38.0), (2000, 16, 70.0)],
)
def test_codecarbon_ram_models(gb: float, dimms: int, v3_w: float) -> None:
    assert estimate_dimm_count(gb) == dimms
    assert codecarbon_ram_v3_w(gb) == pytest.approx(v3_w)


def test_kocher_node_ram_v2_is_750_w() -> None:
    assert codecarbon_ram_v2_w(2000) == pytest.approx(750.0)  # 2 TB node, 3 W / 8 GB


def test_estimate_readings_are_flagged_and_pue_is_separate() -> None:
    clock = FakeClock()
    ticks = iter([(100, 1000), (100 + 450, 1000 + 900)])  # 50% load over the window
    meter = NodeEstimateMeter(
        ("ram", "cpu"), ram_gb=64.0, cpu_tdp_w=200.0, cpu_times=lambda: next(ticks), clock=clock
    )
    meter.begin(W)
    clock.sleep(10.0)
    ram, cpu = meter.end()
    assert ram.energy_j == pytest.approx(200.0)
    assert ram.model == {
        "name": "codecarbon_ram_v3",
        "params": {"ram_gb": 64.0, "dimms": 4, "w_per_dimm": 5.0},
    }
    assert cpu.mean_power_w == pytest.approx(200.0 * (0.1 + 0.9 * 0.125))
    assert "ESTIMATED_COMPONENT" in flags_for(ram)
    assert "ESTIMATED_COMPONENT" in flags_for(cpu)
    scaled = apply_pue(ram, 1.58)
    assert scaled.energy_j == pytest.approx(316.0)
    assert scaled.pue_applied == 1.58
    assert scaled.reading_id == ram.reading_id + "/pue"
    assert ram.pue_applied is None
    assert "PUE_APPLIED" in flags_for(scaled)
    with pytest.raises(InvalidArgumentError, match="twice"):
        apply_pue(scaled, 1.1)
    with pytest.raises(InvalidArgumentError):
        apply_pue(ram, 0.9)


def test_cpu_without_load_uses_constant_and_without_tdp_is_unavailable() -> None:
    clock = FakeClock()
    meter = NodeEstimateMeter(("cpu",), ram_gb=8.0, cpu_tdp_w=100.0, cpu_times=None, clock=clock)
    meter.begin(W)
    clock.sleep(1.0)
    (r,) = meter.end()
    assert r.model is not None
    assert r.model["name"] == "constant_half_tdp"
    assert r.energy_j == pytest.approx(50.0)
    av = NodeEstimateMeter(("cpu",), ram_gb=8.0).availability()
    assert not av.available
    assert "cpu_tdp_w" in av.reason


def write_csv(path: Path, rows: list[tuple[str, str]]) -> None:
    path.write_text("timestamp,power_w\n" + "".join(f"{t},{w}\n" for t, w in rows))


def test_external_csv_aligned_by_wall_clock(tmp_path: Path) -> None:
    clock = FakeClock(start_s=0.0, wall_offset_s=1_700_000_000.0)
    path = tmp_path / "lmg.csv"
    # 10 Hz meter from 1 s before to 1 s after; 800 W then 900 W after t=1_700_000_002
    rows = [(f"{1_699_999_999 + k / 10:.1f}", "800" if k < 30 else "900") for k in range(61)]
    write_csv(path, rows)
    meter = ExternalCsvMeter(path, rate_hz=10.0, clock=clock, meter_model="LMG450")
    meter.begin(W)
    clock.sleep(4.0)
    (r,) = meter.end()
    # 1.9 s at 800, 0.1 s ramp, 2 s at 900
    assert r.energy_j == pytest.approx(800 * 1.9 + 850 * 0.1 + 900 * 2.0, rel=1e-6)
    assert r.samples_taken == 41
    assert r.samples_expected == 40
    assert r.edge_gap_start_s == 0.0
    assert r.edge_gap_end_s == 0.0
    assert r.scope == "node_wall"
    assert r.method == "external"
    assert not flags_for(r) - {"WARMUP"}


def test_external_csv_with_clock_offset_iso_times_and_bad_rows(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    write_csv(path, [("2026-01-01T00:00:00+00:00", "100"), ("2026-01-01T00:00:10+00:00", "100")])
    meter = ExternalCsvMeter(path, rate_hz=1.0, clock_offset_s=0.0)
    start_ns = 1_767_225_600 * 10**9 + 2 * 10**9  # 2 s after the first sample
    edges = WindowEdges(W, 0, start_ns, 5 * 10**9)
    r = meter.reading_for(edges)
    assert r.energy_j == pytest.approx(500.0)  # interpolated across the window
    assert r.samples_taken == 0
    assert "UNDER_SAMPLED" in flags_for(r)
    write_csv(path, [("1.0", "abc")])
    with pytest.raises(InvalidLogError, match=r"m\.csv:2:power_w"):
        meter.reading_for(edges)
    write_csv(path, [("2026-01-01T00:00:00", "1")])
    with pytest.raises(InvalidLogError, match="UTC offset"):
        meter.reading_for(edges)
    assert not ExternalCsvMeter(tmp_path / "absent.csv", 1.0).availability().available
