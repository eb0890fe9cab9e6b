"""SMAC3 adapter: an eabench benchmark as a SMAC target function.

Needs ``pip install 'eabench[adapters]'``.

::

    problem = SMACProblem(eabench.load("nb101-7v"), fidelity_policy="round")
    scenario = problem.scenario(n_trials=200, seed=0, output_directory=tmp)
    smac = HyperbandFacade(scenario, problem.train,
                           intensifier=HyperbandFacade.get_intensifier(scenario, eta=2))
    incumbent = smac.optimize()

SMAC minimises: :meth:`SMACProblem.train` returns, per objective, the value for ``minimize``
metrics and its negation for ``maximize`` ones (``-val_accuracy``); with several objectives a
``{name: cost}`` dict (pass ``objectives=problem.objectives`` to the scenario, as
:meth:`SMACProblem.scenario` does). :meth:`SMACProblem.value` turns a cost back into the metric.

Multi-fidelity: SMAC's successive halving / Hyperband hand ``budget`` as a float between the
scenario's ``min_budget`` and ``max_budget`` (``max_budget / eta**k``: with eta=2 over 4..108
epochs, 6.75, 13.5, 27, 54, 108). The budget is an epoch count mapped to an allowed one by the
``fidelity_policy`` (:mod:`eabench.adapters.core`; default ``"round"``: 7, 14, 27, 54, 108,
answered from the curve between the measured 4/12/36/108 budgets; ``"nearest_budget"`` uses
measured budgets only). :meth:`SMACProblem.scenario` sets the budgets to the benchmark's
``[min_epochs, max_epochs]``.

Invalid configs (``invalid=``): ``"crash"`` (default) raises ``InvalidConfigError``, which SMAC
records as CRASHED with the scenario's ``crash_cost`` (the search goes on; the message names the
broken rule); ``"penalty"`` returns the penalty values as costs (``ObjectiveFunction`` docs).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from eabench.adapters.core import OBJECTIVES, Evaluation, ObjectiveFunction
from eabench.errors import InvalidArgumentError

__all__ = ["SMACProblem"]

_INVALID = ("crash", "penalty")


class SMACProblem:
    """A SMAC3 target function over an eabench benchmark (module docs).

    Args:
        bench: a ``Benchmark``.
        objectives: objective names from ``bench.metrics``.
        epochs: the fidelity when SMAC passes no budget (None = the largest allowed).
        invalid: ``"crash"`` or ``"penalty"`` (module docs).
        fidelity_policy: how SMAC's float budgets map to epochs (default ``"round"``).
        penalty: penalty values for ``invalid="penalty"``.
        ledger: a ``CostLedger`` on ``bench`` that charges every evaluation (optional).
    """

    def __init__(
        self,
        bench: Any,
        objectives: Sequence[str] = ("val_accuracy",),
        *,
        epochs: float | int | None = None,
        invalid: str = "crash",
        fidelity_policy: str = "round",
        penalty: Mapping[str, float] | None = None,
        ledger: Any = None,
    ) -> None:
        if invalid not in _INVALID:
            raise InvalidArgumentError.for_field("invalid", invalid, f"must be one of {_INVALID}")
        names = tuple(objectives)
        if not names:
            raise InvalidArgumentError.for_field("objectives", names, "must name one or more")
        for name in names:
            if name not in OBJECTIVES or name not in bench.metrics:
                raise InvalidArgumentError.for_field(
                    "objectives", name, f"must be in {sorted(set(OBJECTIVES) & set(bench.metrics))}"
                )
        self.bench = bench
        self.objectives = names
        self.epochs = epochs
        self.function = ObjectiveFunction(
            bench,
            invalid="penalty" if invalid == "penalty" else "raise",
            fidelity_policy=fidelity_policy,
            penalty=penalty,
            ledger=ledger,
        )
        self.configspace = self.function.configspace()
        self.evaluations: list[Evaluation] = []
        self._sign = {
            n: -1.0 if bench.metrics[n].direction == "maximize" else 1.0 for n in self.objectives
        }

    def scenario(self, **kwargs: Any) -> Any:
        """A ``smac.Scenario`` on this space: deterministic, the objectives, budgets in epochs.

        ``kwargs`` (``n_trials``, ``seed``, ``output_directory``, ...) are passed on and
        override the defaults (``min_budget``/``max_budget``: the benchmark's epoch range).
        """
        from smac import Scenario

        fid = self.bench.fidelity
        args: dict[str, Any] = {
            "deterministic": True,
            "objectives": list(self.objectives) if len(self.objectives) > 1 else "cost",
            "min_budget": fid.min_epochs,
            "max_budget": fid.max_epochs,
        }
        args.update(kwargs)
        if "output_directory" in args:
            args["output_directory"] = Path(args["output_directory"])
        return Scenario(self.configspace, **args)

    def train(
        self, config: Any, seed: int = 0, budget: float | None = None
    ) -> float | dict[str, float]:
        """SMAC's target function: the cost(s) of ``config`` at ``budget`` epochs (module docs).

        Raises:
            InvalidConfigError: an invalid config under ``invalid="crash"`` (SMAC: CRASHED).
            FidelityError: a budget the fidelity policy does not allow.
        """
        ev = self.function.objective_function(
            config, self.epochs if budget is None else budget, seed
        )
        self.evaluations.append(ev)
        costs = {n: self._sign[n] * ev.value(n) for n in self.objectives}
        return costs[self.objectives[0]] if len(costs) == 1 else costs

    __call__ = train

    def value(self, name: str, cost: float) -> float:
        """The metric value of objective ``name`` from its SMAC cost."""
        return self._sign[name] * cost
