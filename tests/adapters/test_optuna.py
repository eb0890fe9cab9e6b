"""The Optuna adapter against real Optuna samplers (TPE, NSGA-II) on the embedded nb101-7v."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

optuna = pytest.importorskip("optuna", reason="Optuna is in the 'adapters' and 'dev' extras")

from eabench.adapters.optuna import OptunaProblem, energy_budget_callback  # noqa: E402
from eabench.errors import InvalidArgumentError  # noqa: E402
from eabench.ledger import CostLedger  # noqa: E402
from eabench.pareto import hypervolume_2d  # noqa: E402

optuna.logging.set_verbosity(optuna.logging.WARNING)


def test_distributions_and_directions(nb101: Any) -> None:
    problem = OptunaProblem(nb101, ("val_accuracy", "energy_j"))
    assert problem.directions == ["maximize", "minimize"]
    assert len(problem.distributions) == 26
    assert problem.distributions["op_1"].choices == (
        "conv3x3-bn-relu",
        "conv1x1-bn-relu",
        "maxpool3x3",
    )
    with pytest.raises(InvalidArgumentError, match="objectives"):
        OptunaProblem(nb101, ("accuracy",))
    with pytest.raises(InvalidArgumentError, match="report_epochs"):
        OptunaProblem(nb101, ("val_accuracy", "energy_j"), report_epochs=(4,))


def test_tpe_single_objective_is_seeded_and_prunes_invalid_cells(nb101: Any) -> None:
    def run() -> Any:
        problem = OptunaProblem(nb101, ("val_accuracy",), epochs=108)
        study = problem.create_study(sampler=optuna.samplers.TPESampler(seed=0))
        study.optimize(problem, n_trials=60)
        return problem, study

    problem, study = run()
    states = [t.state for t in study.trials]
    pruned = [t for t in study.trials if t.state == optuna.trial.TrialState.PRUNED]
    assert states.count(optuna.trial.TrialState.COMPLETE) == len(problem.evaluations)
    assert pruned, "the 26-parameter encoding proposes invalid cells"
    assert "7V cell" in pruned[0].user_attrs["invalid_reason"]
    assert 0.85 < study.best_value <= 1.0
    best = study.best_trial
    res = nb101.query(problem.function.to_config(best.params), 108)
    assert res.val_accuracy == study.best_value
    assert best.user_attrs["config_id"] == res.config_id
    assert run()[1].best_value == study.best_value  # seeded: the same search again


def test_nsga2_multi_objective_front(nb101: Any) -> None:
    problem = OptunaProblem(nb101, ("val_accuracy", "energy_j"), epochs=36)
    sampler = optuna.samplers.NSGAIISampler(seed=0, population_size=16)
    study = problem.create_study(sampler=sampler)
    study.optimize(problem, n_trials=64)
    front = np.array([t.values for t in study.best_trials])
    assert len(front) >= 2
    hv = hypervolume_2d(front, (0.0, 2e6), maximize=[True, False])
    assert hv > 0
    # every front point is non-dominated among all completed trials
    done = np.array([t.values for t in study.trials if t.values is not None])
    for acc, energy in front:
        assert not np.any((done[:, 0] > acc) & (done[:, 1] < energy))


def test_mo_tpe_and_penalty_policy(nb101: Any) -> None:
    problem = OptunaProblem(
        nb101,
        ("val_accuracy", "energy_j"),
        epochs=12,
        invalid="penalty",
        penalty={"energy_j": 1e7},
    )
    study = problem.create_study(sampler=optuna.samplers.TPESampler(seed=1))
    study.optimize(problem, n_trials=30)
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials)
    penalised = [t for t in study.trials if not t.user_attrs["valid"]]
    assert all(t.values == [0.0, 1e7] for t in penalised)


def test_multi_fidelity_with_hyperband_pruner(nb101: Any) -> None:
    problem = OptunaProblem(nb101, epochs=108, report_epochs=(4, 12, 36))
    study = problem.create_study(
        sampler=optuna.samplers.TPESampler(seed=0),
        pruner=optuna.pruners.HyperbandPruner(min_resource=4, max_resource=108, reduction_factor=3),
    )
    study.optimize(problem, n_trials=40)
    epochs = {e.epochs for e in problem.evaluations}
    assert epochs <= {4, 12, 36, 108}
    assert study.best_value > 0.8


def test_energy_budget_stops_the_study(nb101: Any) -> None:
    budget_j = 5e6
    ledger = CostLedger(nb101, dedupe=True, energy_budget_j=budget_j)
    problem = OptunaProblem(nb101, ("val_accuracy",), epochs=36, ledger=ledger)
    study = problem.create_study(sampler=optuna.samplers.TPESampler(seed=0))
    study.optimize(problem, n_trials=10_000, callbacks=[energy_budget_callback(ledger)])
    assert ledger.exhausted
    assert len(study.trials) < 10_000
    # the last charged evaluation crossed the budget; the one before did not
    recs = ledger.records
    assert recs[-1].total_energy_j >= budget_j > recs[-2].total_energy_j
