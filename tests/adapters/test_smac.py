"""SMAC3 Hyperband through the adapter: eta=2 and eta=3 both finish with an incumbent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

smac = pytest.importorskip("smac", reason="SMAC3 is in the 'adapters' and 'dev' extras")

from eabench.adapters.smac import SMACProblem  # noqa: E402


def _hyperband(problem: SMACProblem, eta: int, out: Path, n_trials: int = 60) -> Any:
    scenario = problem.scenario(n_trials=n_trials, seed=0, output_directory=out)
    facade = smac.HyperbandFacade(
        scenario,
        problem.train,
        intensifier=smac.HyperbandFacade.get_intensifier(scenario, eta=eta),
        overwrite=True,
        logging_level=40,
    )
    return facade, facade.optimize()


@pytest.mark.parametrize(
    ("eta", "policy", "epochs"),
    [
        (2, "round", {7, 14, 27, 54, 108}),
        (2, "nearest_budget", {4, 12, 36, 108}),
        (3, "round", {4, 12, 36, 108}),
    ],
)
def test_hyperband_finishes_with_an_incumbent(
    nb101: Any, tmp_path: Path, eta: int, policy: str, epochs: set[int]
) -> None:
    problem = SMACProblem(nb101, fidelity_policy=policy)
    facade, incumbent = _hyperband(problem, eta, tmp_path)
    assert incumbent is not None
    assert {e.epochs for e in problem.evaluations} <= epochs
    assert max(e.epochs or 0 for e in problem.evaluations) == 108
    cost = facade.runhistory.get_cost(incumbent)
    assert -1.0 <= cost < -0.8  # -val_accuracy of a good cell
    crashed = [v for v in facade.runhistory.values() if v.status.name == "CRASHED"]
    done = [v for v in facade.runhistory.values() if v.status.name == "SUCCESS"]
    assert len(done) > len(crashed)  # invalid cells crash; every budget is accepted


def test_multi_objective_costs_and_signs(nb101: Any) -> None:
    problem = SMACProblem(nb101, ("val_accuracy", "energy_j"), invalid="penalty")
    cell = nb101.space.sample(seed=0)
    from eabench.spaces.nb101_configspace import from_cell

    costs = problem.train(from_cell(cell, problem.configspace), seed=0, budget=36)
    assert isinstance(costs, dict)
    res = nb101.query(cell, 36)
    assert problem.value("val_accuracy", costs["val_accuracy"]) == res.val_accuracy
    assert costs["energy_j"] == res.energy_j
    scenario = problem.scenario(n_trials=5)
    assert list(scenario.objectives) == ["val_accuracy", "energy_j"]
