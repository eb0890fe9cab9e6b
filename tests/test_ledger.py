"""CostLedger: charges honour prefix (resume) vs schedule (retrain) fidelity semantics."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from eabench.errors import InvalidArgumentError
from eabench.ledger import CostLedger
from tests.conftest import LEDGER_CELL

CELL = LEDGER_CELL


def test_schedule_pays_every_budget_in_full(schedule_bench: Any) -> None:
    ledger = CostLedger(schedule_bench)
    r12 = ledger.evaluate(CELL, 12)
    r36 = ledger.evaluate(CELL, 36)
    ledger.evaluate(CELL, 12)  # asking again retrains too (a separate schedule)
    assert ledger.total_energy_j == pytest.approx(2 * r12.energy_j + r36.energy_j)
    assert ledger.total_time_s == pytest.approx(2 * r12.train_time_s + r36.train_time_s)
    assert [r.charged_epochs for r in ledger.records] == [12, 36, 12]
    assert ledger.full_evaluation_equivalents == pytest.approx(60 / 108)


def test_prefix_resume_pays_only_new_epochs(prefix_bench: Any) -> None:
    cfg = {"width": 32, "max_epochs": 100}
    ledger = CostLedger(prefix_bench)
    r10 = ledger.evaluate(cfg, 10)
    r30 = ledger.evaluate(cfg, 30)
    ledger.evaluate(cfg, 20)  # already trained past 20: free
    assert ledger.total_energy_j == pytest.approx(r30.energy_j)
    assert ledger.total_time_s == pytest.approx(r30.train_time_s)
    recs = ledger.records
    assert [(r.resumed_from_epochs, r.charged_epochs) for r in recs] == [(0, 10), (10, 20), (30, 0)]
    assert recs[1].charged_energy_j == pytest.approx(r30.energy_j - r10.energy_j)
    other = CostLedger(prefix_bench)
    other.evaluate(cfg, 10)
    other.evaluate(cfg, 30, resume=False)
    assert other.total_energy_j == pytest.approx(r10.energy_j + r30.energy_j)


def test_summary_and_export(prefix_bench: Any, tmp_path: Path) -> None:
    ledger = CostLedger(prefix_bench)
    for w in (8, 16, 24):
        ledger.evaluate({"width": w, "max_epochs": 50}, 50)
    s = ledger.summary()
    assert s["n_evaluations"] == 3
    assert s["total_energy_kwh"] == pytest.approx(ledger.total_energy_j / 3.6e6)
    rows = [
        json.loads(line) for line in ledger.export(tmp_path / "l.jsonl").read_text().splitlines()
    ]
    assert [r["config_id"] for r in rows] == ["w8-e50", "w16-e50", "w24-e50"]
    with open(ledger.export(tmp_path / "l.csv"), newline="") as fh:
        assert float(list(csv.DictReader(fh))[-1]["total_energy_j"]) == pytest.approx(
            ledger.total_energy_j
        )
    with pytest.raises(InvalidArgumentError, match="jsonl"):
        ledger.export(tmp_path / "l.txt")
    assert CostLedger(prefix_bench).total_energy_j == 0.0
