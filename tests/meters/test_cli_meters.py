"""``eabench meters probe|validate``: unavailable without a GPU, end to end with the fake NVML."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eabench.cli import main
from eabench.meters.fakes import FakeClock, FakeGpu, FakeNvml, PowerTrace, square_wave
from eabench.meters.validate import run_validation


def test_probe_lists_all_meters(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["meters", "probe", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["meter"] for r in rows][:3] == ["gpu.nvml_counter", "gpu.nvml_power", "gpu.smi_poll"]
    assert all(r["available"] or r["reason"] for r in rows)
    assert main(["meters", "probe"]) == 0
    assert "gpu.nvml_counter" in capsys.readouterr().out


def test_validate_without_gpu_exits_with_unavailable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["meters", "validate", "--out", str(tmp_path / "v")]) == 2
    err = capsys.readouterr().err
    assert "MeterUnavailableError" in err
    assert "unavailable" in err
    assert not (tmp_path / "v" / "summary.json").exists()


def test_validate_bad_windows(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["meters", "validate", "--out", str(tmp_path), "--windows", "1,x"]) == 2
    assert "--windows" in capsys.readouterr().err


def test_validate_simulated_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "sim"
    args = [
        "meters",
        "validate",
        "--out",
        str(out),
        "--simulate",
        "--windows",
        "1,4",
        "--repeats",
        "1",
        "--idle-s",
        "2",
    ]
    assert main(args) == 0
    summary = json.loads((out / "summary.json").read_text())
    lines = (out / "readings.jsonl").read_text().splitlines()
    assert len(lines) == 2 * (1 + 2 * 2)  # two meters x (idle + 2 kinds x 2 lengths)
    assert summary["simulated"]
    assert summary["idle_power_w"] == pytest.approx(70.0, rel=0.02)
    assert summary["busy_power_w"]["steady"] == pytest.approx(300.0, rel=0.02)
    bursty = next(w for w in summary["windows"] if w["kind"] == "bursty" and w["window_s"] == 4.0)
    power = next(m for m in bursty["meters"] if m["meter"] == "gpu.nvml_power")
    counter = next(m for m in bursty["meters"] if m["meter"] == "gpu.nvml_counter")
    assert counter["energy_j"] == pytest.approx(bursty["true_energy_j"], rel=0.02)
    assert power["rel_diff_vs_counter"] > 0.3  # part-time sensor on a bursty load
    assert power["samples_expected"] == 40
    assert "PART_TIME_SENSOR" in power["flags"]
    assert "SIMULATED" in counter["flags"]
    assert "wrote" in capsys.readouterr().out


def test_run_validation_with_injected_fake(tmp_path: Path) -> None:
    clock = FakeClock()
    t0 = clock.now_s()
    gpu = FakeGpu(square_wave(100.0, 200.0, 1.0, 0.5, t0, t0 + 1000.0))
    summary = run_validation(
        tmp_path,
        nvml=FakeNvml(clock, [gpu]),
        clock=clock,
        workload=lambda _k, s: clock.sleep(s),
        windows_s=(2.0,),
        kinds=("steady",),
        repeats=2,
        idle_s=1.0,
        include_smi=False,
    )
    assert summary["counter_update_period_s"] == {gpu.name: pytest.approx(0.1)}
    assert len(summary["windows"]) == 3
    flat = FakeGpu(PowerTrace.constant(0.0))  # counter never moves: period unknown, no crash
    s2 = run_validation(
        tmp_path / "flat",
        nvml=FakeNvml(clock, [flat]),
        clock=clock,
        workload=lambda _k, s: clock.sleep(s),
        windows_s=(1.0,),
        kinds=("steady",),
        repeats=1,
        idle_s=1.0,
        include_smi=False,
    )
    assert s2["counter_update_period_s"] == {flat.name: None}
