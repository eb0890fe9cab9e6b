"""CostLedger: explicit de-duplication and the energy budget stopping rule."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from eabench.errors import BudgetExhaustedError, InvalidArgumentError
from eabench.ledger import CostLedger
from tests.conftest import LEDGER_CELL

CELL = LEDGER_CELL


def test_schedule_dedupe_charges_a_repeat_nothing(schedule_bench: Any) -> None:
    ledger = CostLedger(schedule_bench, dedupe=True)
    r12 = ledger.evaluate(CELL, 12)
    ledger.evaluate(CELL, 12)  # the same (config, epochs): looked up, not retrained
    r36 = ledger.evaluate(CELL, 36)  # another budget: a separate run, charged
    assert [r.duplicate for r in ledger.records] == [False, True, False]
    assert [r.charged_epochs for r in ledger.records] == [12, 0, 36]
    assert ledger.total_energy_j == pytest.approx(r12.energy_j + r36.energy_j)
    assert ledger.n_duplicates == 1
    assert ledger.summary()["n_duplicates"] == 1
    plain = CostLedger(schedule_bench)  # default: no de-duplication, a repeat retrains
    plain.evaluate(CELL, 12)
    plain.evaluate(CELL, 12)
    assert plain.total_energy_j == pytest.approx(2 * r12.energy_j)
    assert plain.n_duplicates == 0


def test_prefix_dedupe_with_retrain_semantics(prefix_bench: Any) -> None:
    cfg = {"width": 32, "max_epochs": 100}
    ledger = CostLedger(prefix_bench, dedupe=True)
    r10 = ledger.evaluate(cfg, 10, resume=False)
    ledger.evaluate(cfg, 10, resume=False)  # duplicate: free even without resume
    r20 = ledger.evaluate(cfg, 20, resume=False)  # retrain from scratch: full cost
    assert [r.duplicate for r in ledger.records] == [False, True, False]
    assert ledger.total_energy_j == pytest.approx(r10.energy_j + r20.energy_j)


def test_energy_budget_is_a_stopping_rule(schedule_bench: Any) -> None:
    one = CostLedger(schedule_bench).evaluate(CELL, 36).energy_j
    ledger = CostLedger(schedule_bench, energy_budget_j=2.5 * one)
    assert ledger.remaining_energy_j == pytest.approx(2.5 * one)
    for _ in range(3):
        assert not ledger.exhausted
        ledger.evaluate(CELL, 36)
    assert ledger.exhausted  # the third crossed the budget and was still charged
    assert ledger.total_energy_j == pytest.approx(3 * one)
    assert ledger.remaining_energy_j == pytest.approx(-0.5 * one)
    with pytest.raises(BudgetExhaustedError) as info:
        ledger.evaluate(CELL, 4)
    assert info.value.field == "energy_budget_j"
    assert ledger.n_evaluations == 3
    assert ledger.summary()["exhausted"] is True
    with pytest.raises(InvalidArgumentError, match="energy_budget_j"):
        CostLedger(schedule_bench, energy_budget_j=0)


def test_export_keeps_the_duplicate_column(schedule_bench: Any, tmp_path: Path) -> None:
    ledger = CostLedger(schedule_bench, dedupe=True)
    ledger.evaluate(CELL, 4)
    ledger.evaluate(CELL, 4)
    text = ledger.export(tmp_path / "l.csv").read_text()
    assert text.splitlines()[0].endswith(",duplicate")
    assert text.splitlines()[2].endswith(",True")
