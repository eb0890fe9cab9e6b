"""Power-meter CSV, CodeCarbon and Carbontracker outputs aligned to a run's epoch windows."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from eabench.errors import InvalidLogError
from eabench.logs import RunLog
from eabench.logs.adapters.meter_files import (
    align_carbontracker,
    align_codecarbon,
    align_power_trace,
    read_power_csv,
)
from tests.logs.helpers import header, record

T0 = dt.datetime(2026, 1, 1, 12, 0, 0, tzinfo=dt.timezone.utc)
T0_NS = int(T0.timestamp() * 1e9)


def _run(with_wall: bool = True) -> RunLog:
    """3 epochs; epoch e's train window is [10 e, 10 e + 9] s after T0."""
    recs = []
    for e in range(3):
        rec = record("run-1", e)
        r = rec.readings[0]
        wall = T0_NS + r.window_start_mono_ns if with_wall else None
        recs.append(
            dataclasses.replace(rec, readings=(dataclasses.replace(r, window_start_wall_ns=wall),))
        )
    return RunLog(header(max_epochs=3), tuple(recs))


def test_power_csv_trapezoid_and_sampling(tmp_path: Path) -> None:
    rows = ["timestamp,watts"]
    for k in range(31):  # 1 Hz, 300 W then 500 W from t = 20 s
        t = T0 + dt.timedelta(seconds=k)
        rows.append(f"{t.isoformat()},{300 if k < 20 else 500}")
    p = tmp_path / "meter.csv"
    p.write_text("\n".join(rows) + "\n")
    log = align_power_trace(_run(), read_power_csv(p))
    ext = [r for rec in log.epochs for r in rec.readings if r.meter == "node.external"]
    assert [r.epoch for r in ext] == [0, 1, 2]
    assert ext[0].energy_j == pytest.approx(300 * 9)
    assert ext[2].energy_j == pytest.approx(500 * 9)
    assert ext[0].samples_taken == 8  # strictly inside (0 s, 9 s)
    assert ext[0].requested_rate_hz == pytest.approx(1.0)
    assert "UNDER_SAMPLED" in ext[0].flag_codes  # 8 <= 10 samples


def test_power_csv_errors(tmp_path: Path) -> None:
    p = tmp_path / "m.csv"
    p.write_text("timestamp,watts\n1,100\n0,100\n")
    with pytest.raises(InvalidLogError, match="increase"):
        read_power_csv(p)
    p.write_text("time,volts\n1,2\n2,3\n")
    with pytest.raises(InvalidLogError, match="watts"):
        read_power_csv(p)
    p.write_text("timestamp,watts\n1,nan\n2,3\n")
    with pytest.raises(InvalidLogError, match="finite"):
        read_power_csv(p)
    p.write_text(f"timestamp,watts\n{T0_NS / 1e9},1\n{T0_NS / 1e9 + 30},1\n")
    with pytest.raises(InvalidLogError, match="wall-clock"):
        align_power_trace(_run(with_wall=False), read_power_csv(p))


def test_codecarbon_rows_to_epochs(tmp_path: Path) -> None:
    lines = [
        "timestamp,project_name,run_id,duration,emissions,cpu_energy,gpu_energy,ram_energy,"
        "energy_consumed,codecarbon_version,pue"
    ]
    for e in range(3):
        end = T0 + dt.timedelta(seconds=10 * e + 9)
        lines.append(f"{end.isoformat()},p,x,9.0,0.001,0.0001,0.0005,0.00002,0.00062,2.8.0,1.5")
    p = tmp_path / "emissions.csv"
    p.write_text("\n".join(lines) + "\n")
    log = align_codecarbon(_run(), p)
    cc = [r for r in log.epochs[1].readings if r.meter == "codecarbon"]
    assert {r.scope for r in cc} == {"gpu", "package", "memory"}
    gpu = next(r for r in cc if r.scope == "gpu")
    assert gpu.energy_j == pytest.approx(0.0005 * 3.6e6 / 1.5)
    assert gpu.pue_applied == 1.5
    ram = next(r for r in cc if r.scope == "memory")
    assert "ESTIMATED_COMPONENT" in ram.flag_codes
    cpu = next(r for r in cc if r.scope == "package")
    assert "METHOD_UNKNOWN" in cpu.flag_codes


def test_carbontracker_log(tmp_path: Path) -> None:
    text = """2026-01-01 12:00:00 - carbontracker version 1.1.6
2026-01-01 12:00:09 - Epoch 1:
2026-01-01 12:00:09 - Duration: 0:00:09.00
2026-01-01 12:00:09 - Average power usage (W) for gpu: [187.5]
2026-01-01 12:00:09 - Average power usage (W) for cpu: [55.0 70.0]
2026-01-01 12:00:19 - Epoch 2:
2026-01-01 12:00:19 - Duration: 0:02:00.50
2026-01-01 12:00:19 - Average power usage (W) for gpu: None
"""
    p = tmp_path / "123_carbontracker.log"
    p.write_text(text)
    log = align_carbontracker(_run(), p)
    ct0 = [r for r in log.epochs[0].readings if r.meter == "carbontracker"]
    assert len(ct0) == 3
    gpu = ct0[0]
    assert gpu.energy_j == pytest.approx(187.5 * 9)
    assert "UNDER_SAMPLED" in gpu.flag_codes
    ct1 = [r for r in log.epochs[1].readings if r.meter == "carbontracker"]
    assert ct1[0].energy_j is None
    assert "NO_READING" in ct1[0].flag_codes
    assert ct1[0].samples_expected == 12
    p.write_text(text.replace("Epoch 2:", "Epoch 9:"))
    with pytest.raises(InvalidLogError, match="no such epoch"):
        align_carbontracker(_run(), p)


def test_codecarbon_whole_run_row_becomes_a_run_window(tmp_path: Path) -> None:
    end = T0 + dt.timedelta(seconds=29)
    p = tmp_path / "emissions.csv"
    p.write_text(
        "timestamp,duration,cpu_energy,gpu_energy,ram_energy\n"
        f"{end.isoformat()},29.5,0.001,0.004,0.0001\n"
    )
    log = align_codecarbon(_run(), p)
    run_level = [r for r in log.epochs[-1].readings if r.window_name == "run"]
    assert len(run_level) == 3
    assert sum(r.energy_j for r in run_level) == pytest.approx(0.0051 * 3.6e6)
    assert all(r.meter != "codecarbon" for rec in log.epochs[:-1] for r in rec.readings)
