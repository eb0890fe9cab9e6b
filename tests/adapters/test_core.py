"""The HPOBench-style core: config forms, invalid-config and fidelity policies, cost."""

from __future__ import annotations

import math
from typing import Any

import pytest

from eabench.adapters import ObjectiveFunction, resolve_fidelity
from eabench.errors import FidelityError, InvalidArgumentError, InvalidConfigError
from eabench.ledger import CostLedger
from eabench.results import Fidelity
from eabench.spaces.nb101_configspace import EDGE_NAMES, OP_NAMES, configspace, from_cell

SCHEDULE = Fidelity("epochs", "schedule", 4, 108, (4, 12, 36, 108))
PREFIX = Fidelity("epochs", "prefix", 1, 200, (), "max_epochs")
HB_ETA2 = [6.75, 13.5, 27.0, 54.0, 108.0]


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        ("round", [7, 14, 27, 54, 108]),
        ("ceil", [7, 14, 27, 54, 108]),
        ("nearest_budget", [4, 12, 36, 36, 108]),
        ("ceil_budget", [12, 36, 36, 108, 108]),
    ],
)
def test_fidelity_policies_map_hyperband_eta2_budgets(policy: str, expected: list[int]) -> None:
    assert [resolve_fidelity(b, SCHEDULE, policy) for b in HB_ETA2] == expected


def test_fidelity_error_policy_names_the_fix() -> None:
    with pytest.raises(FidelityError, match="fidelity_policy") as info:
        resolve_fidelity(6.75, SCHEDULE, "error")
    assert info.value.field == "fidelity"
    assert info.value.value == 6.75
    assert resolve_fidelity(12.0 + 1e-12, SCHEDULE, "error") == 12
    assert resolve_fidelity(None, SCHEDULE) == 108


def test_fidelity_never_clips_out_of_range() -> None:
    for policy in ("round", "ceil", "nearest_budget"):
        with pytest.raises(FidelityError, match=r"outside \[4, 108\]"):
            resolve_fidelity(200, SCHEDULE, policy)
    with pytest.raises(FidelityError, match="outside"):
        resolve_fidelity(2.2, SCHEDULE, "round")
    with pytest.raises(FidelityError):
        resolve_fidelity(math.nan, SCHEDULE, "round")
    with pytest.raises(InvalidArgumentError, match="fidelity_policy"):
        resolve_fidelity(4, SCHEDULE, "floor")


def test_prefix_budget_policies_fall_back_to_integers() -> None:
    assert resolve_fidelity(6.5, PREFIX, "nearest_budget") == 7
    assert resolve_fidelity(6.2, PREFIX, "ceil_budget") == 7


def test_all_config_forms_give_the_same_answer(nb101: Any) -> None:
    f = ObjectiveFunction(nb101)
    cell = nb101.space.sample(seed=3)
    cs_config = from_cell(cell)
    answers = [
        f.objective_function(c, 36, seed=1)
        for c in (cell, cell.to_dict(), cs_config, dict(cs_config))
    ]
    assert len({a.config_id for a in answers}) == 1
    assert len({a.val_accuracy for a in answers}) == 1
    res = nb101.query(cell, 36)
    a = answers[0]
    assert (a.val_accuracy, a.energy_j, a.train_time_s) == (
        res.val_accuracy,
        res.energy_j,
        res.train_time_s,
    )
    assert (a.cost_energy_j, a.cost_time_s) == (res.energy_j, res.train_time_s)
    assert a.seed == 1
    assert a.to_dict()["function_value"] == a.val_accuracy


def _invalid_config() -> dict[str, Any]:
    values: dict[str, Any] = dict.fromkeys(EDGE_NAMES, 0)
    values.update(dict.fromkeys(OP_NAMES, "conv3x3-bn-relu"))
    return values  # no edge at all: no path from input to output


def test_invalid_raise_names_field_value_rule(nb101: Any) -> None:
    f = ObjectiveFunction(nb101, invalid="raise")
    with pytest.raises(InvalidConfigError) as info:
        f.objective_function(_invalid_config(), 108)
    assert info.value.rule is not None
    assert "not a valid 7V cell" in str(info.value)
    assert not f.is_valid(_invalid_config())


def test_invalid_penalty_returns_penalty_at_zero_cost(nb101: Any) -> None:
    f = ObjectiveFunction(nb101, invalid="penalty", penalty={"energy_j": 1e7})
    ev = f.objective_function(_invalid_config(), 108, seed=0)
    assert not ev.valid
    assert ev.config_id is None
    assert ev.val_accuracy == 0.0
    assert ev.energy_j == 1e7
    assert ev.train_time_s == math.inf
    assert (ev.cost_energy_j, ev.cost_time_s) == (0.0, 0.0)
    assert ev.error is not None
    assert "7V cell" in ev.error
    with pytest.raises(InvalidArgumentError, match="penalty"):
        ObjectiveFunction(nb101, invalid="penalty", penalty={"accuracy": 0.0})
    with pytest.raises(InvalidArgumentError, match="invalid"):
        ObjectiveFunction(nb101, invalid="skip")


def test_configspace_samples_are_often_invalid_and_is_valid_says_so(nb101: Any) -> None:
    f = ObjectiveFunction(nb101)
    cs = configspace(seed=0)
    flags = [f.is_valid(c) for c in cs.sample_configuration(100)]
    assert 0 < sum(flags) < 100


def test_fractional_fidelity_through_the_policy(nb101: Any) -> None:
    cell = nb101.space.sample(seed=0)
    with pytest.raises(FidelityError):
        ObjectiveFunction(nb101).objective_function(cell, 6.75)
    ev = ObjectiveFunction(nb101, fidelity_policy="nearest_budget").objective_function(cell, 6.75)
    assert ev.epochs == 4
    assert ev.fidelity == 6.75
    assert "FIDELITY_INTERPOLATED" not in ev.flags
    ev = ObjectiveFunction(nb101, fidelity_policy="round").objective_function(cell, 6.75)
    assert ev.epochs == 7
    assert "FIDELITY_INTERPOLATED" in ev.flags


def test_cost_through_a_ledger(nb101: Any) -> None:
    ledger = CostLedger(nb101, dedupe=True)
    f = ObjectiveFunction(nb101, ledger=ledger)
    cell = nb101.space.sample(seed=0)
    first = f.objective_function(cell, 12)
    again = f.objective_function(cell, 12)
    assert first.cost_energy_j == first.energy_j > 0
    assert (again.cost_energy_j, again.cost_time_s) == (0.0, 0.0)
    assert ledger.total_energy_j == first.energy_j
    with pytest.raises(InvalidArgumentError, match="ledger"):
        ObjectiveFunction(nb101, ledger=CostLedger(object()))


def test_regnet_prefix_space(regnet: Any) -> None:
    f = ObjectiveFunction(regnet, fidelity_policy="round")
    cs = f.configspace(seed=0)
    samples = cs.sample_configuration(600)  # ~2 % satisfy the training constraints
    valid = [c for c in samples if f.is_valid(c)]
    assert valid, "some ConfigSpace samples satisfy the training constraints"
    cfg = f.to_config(valid[0])
    run = cfg.max_epochs
    ev = f.objective_function(valid[0], None)
    assert ev.epochs == run  # None = the config's own run length
    assert f.objective_function(valid[0], 10.4).epochs == 10
    with pytest.raises(FidelityError, match="run of"):
        f.objective_function(valid[0], run + 1)
    clipped = ObjectiveFunction(regnet, fidelity_policy="round", clip_to_run=True)
    assert clipped.objective_function(valid[0], 200).epochs == run
    # resume semantics through the ledger: continuing pays only the new epochs
    ledger = CostLedger(regnet)
    g = ObjectiveFunction(regnet, ledger=ledger)
    a = g.objective_function(valid[0], 10)
    b = g.objective_function(valid[0], 20)
    assert b.cost_energy_j == pytest.approx(b.energy_j - a.energy_j)
    invalid = [c for c in samples if not f.is_valid(c)]
    if invalid:
        pen = ObjectiveFunction(regnet, invalid="penalty").objective_function(invalid[0], 10)
        assert not pen.valid
