"""EA-HAS-Bench / pycls adapter on fixtures written from the spec (tests/fixtures/pycls)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eabench.errors import InvalidLogError
from eabench.logs.adapters.pycls import parse_json_stats, read_pycls_log, read_pycls_sweep

FIX = Path(__file__).resolve().parents[2] / "fixtures" / "pycls"


def test_sweep_with_energy_rows() -> None:
    logs = read_pycls_sweep(FIX / "sweep.json")
    assert len(logs) == 2
    lg = logs[0]
    assert lg.header.space == "regnet-hpo"
    assert lg.header.config == {
        "depth": 12, "w0": 96, "wa": 19.5, "wm": 2.942, "group_width": 8,
        "learning_rate": 0.1, "max_epochs": 50, "optimizer": "sgd", "lr_policy": "cos",
        "cutout": 0, "dataset": "cifar10",
    }  # fmt: skip
    e0 = lg.epochs[0]
    assert e0.test_accuracy == pytest.approx(1 - 78.0 / 100)  # EMA curve
    assert e0.extra["model_test_accuracy"] == pytest.approx(1 - 75.0 / 100)
    assert e0.val_accuracy is None
    train, ev = e0.readings
    assert (train.window_name, ev.window_name) == ("train", "eval")
    assert train.energy_j == pytest.approx(0.4213 * 3600)  # Wh -> J
    assert train.mean_power_w == pytest.approx(0.4213 * 3600 / 8.698)
    assert {"SMI_POLLING", "SAMPLES_UNKNOWN"} <= train.flag_codes
    assert "JOINED_BY_POSITION" in {f.code for f in lg.header.flags}


def test_stdout_log_matches_the_sweep() -> None:
    lg = read_pycls_log(FIX / "stdout.log")
    sweep = read_pycls_sweep(FIX / "sweep.json")[0]
    assert [e.test_accuracy for e in lg.epochs] == [e.test_accuracy for e in sweep.epochs]
    assert lg.header.config is None
    assert {m["field"] for m in lg.header.missing} >= {"config", "readings"}


def test_bad_inputs(tmp_path: Path) -> None:
    with pytest.raises(InvalidLogError, match="json_stats"):
        parse_json_stats('x json_stats: {"_type": "train_epoch", bad')
    jobs = json.loads((FIX / "sweep.json").read_text())
    jobs[1]["train_epoch"]["top1_err"][1] = 130.0
    (tmp_path / "sweep.json").write_text(json.dumps(jobs))
    with pytest.raises(InvalidLogError, match=r"sweep.json\[1\]"):
        read_pycls_sweep(tmp_path / "sweep.json")
    energy = json.loads((FIX / "sweep_energy.json").read_text())
    (tmp_path / "sweep.json").write_text((FIX / "sweep.json").read_text())
    (tmp_path / "sweep_energy.json").write_text(json.dumps(energy[:1]))
    with pytest.raises(InvalidLogError, match="2 rows"):
        read_pycls_sweep(tmp_path / "sweep.json")
