"""Optuna adapter: an eabench benchmark as an Optuna problem (``pip install 'eabench[adapters]'``).

::

    problem = OptunaProblem(eabench.load("nb101-7v"), objectives=("val_accuracy", "energy_j"))
    study = problem.create_study(sampler=optuna.samplers.NSGAIISampler(seed=0))
    study.optimize(problem, n_trials=100)

:class:`OptunaProblem` gives the search space as Optuna distributions
(:attr:`OptunaProblem.distributions`, from the space's ConfigSpace encoding), the
:attr:`OptunaProblem.directions` of the chosen objectives (from ``bench.metrics``) and the
objective itself (:meth:`OptunaProblem.evaluate`, also ``problem(trial)``), so it works with any
sampler, single- or multi-objective. Evaluations go through
:class:`~eabench.adapters.core.ObjectiveFunction` (fidelity policy, optional cost ledger).

Invalid configs (``invalid=``): ``"prune"`` (default) raises ``optuna.TrialPruned`` (the trial is
recorded as PRUNED with the reason in its ``invalid_reason`` user attribute; samplers such as
TPE and NSGA-II never take it as a good point); ``"penalty"`` returns the penalty values
(``ObjectiveFunction`` docs); ``"raise"`` lets ``InvalidConfigError`` through (``study.optimize``
stops unless given ``catch=(InvalidConfigError,)``, which records FAIL).

Multi-fidelity (single objective only): with ``report_epochs=(4, 12, 36)`` the objective reports
the validation accuracy at each of those epoch counts (``trial.report``, step = epochs) before
the final ``epochs`` and stops when the study's pruner says so (``optuna.pruners.HyperbandPruner``,
``MedianPruner``...). Each reported fidelity is an evaluation (charged through the ledger, if
one is given: a 7V schedule retrains per budget, a RegNet prefix resumes).

Every trial stores ``config_id``, ``epochs``, ``energy_j``, ``train_time_s``,
``cost_energy_j`` and ``valid`` as user attributes; :attr:`OptunaProblem.evaluations` keeps the
:class:`~eabench.adapters.core.Evaluation` s in order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import optuna
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

from eabench.adapters.core import OBJECTIVES, Evaluation, ObjectiveFunction
from eabench.errors import InvalidArgumentError, InvalidConfigError

__all__ = ["OptunaProblem", "energy_budget_callback", "to_optuna_distributions"]

_INVALID = ("prune", "penalty", "raise")


def to_optuna_distributions(configspace: Any) -> dict[str, BaseDistribution]:
    """Optuna distributions of a ``ConfigSpace.ConfigurationSpace`` without conditions.

    Categorical and ordinal hyperparameters become ``CategoricalDistribution`` (in their order),
    integers ``IntDistribution`` and floats ``FloatDistribution`` (``log`` kept).
    """
    import ConfigSpace as CS

    out: dict[str, BaseDistribution] = {}
    for hp in configspace.values():
        if isinstance(hp, CS.CategoricalHyperparameter):
            out[hp.name] = CategoricalDistribution(list(hp.choices))
        elif isinstance(hp, CS.OrdinalHyperparameter):
            out[hp.name] = CategoricalDistribution(list(hp.sequence))
        elif isinstance(hp, CS.UniformIntegerHyperparameter):
            out[hp.name] = IntDistribution(int(hp.lower), int(hp.upper), log=bool(hp.log))
        elif isinstance(hp, CS.UniformFloatHyperparameter):
            out[hp.name] = FloatDistribution(float(hp.lower), float(hp.upper), log=bool(hp.log))
        else:
            raise InvalidArgumentError.for_field(
                "hyperparameter", hp.name, f"type {type(hp).__name__} has no Optuna distribution"
            )
    return out


class OptunaProblem:
    """An eabench benchmark as an Optuna objective (module docs).

    Args:
        bench: a ``Benchmark``.
        objectives: objective names from ``bench.metrics`` (e.g. ``("val_accuracy",
            "energy_j")``); their directions come from the metrics.
        epochs: the fidelity of every evaluation (None = the largest allowed).
        invalid: ``"prune"``, ``"penalty"`` or ``"raise"`` (module docs).
        fidelity_policy: how ``epochs`` / ``report_epochs`` map to allowed epochs
            (:mod:`eabench.adapters.core`).
        penalty: penalty values for ``invalid="penalty"``.
        ledger: a ``CostLedger`` on ``bench`` that charges every evaluation (optional).
        report_epochs: single objective only: intermediate fidelities to report (module docs).
    """

    def __init__(
        self,
        bench: Any,
        objectives: Sequence[str] = ("val_accuracy",),
        *,
        epochs: float | int | None = None,
        invalid: str = "prune",
        fidelity_policy: str = "error",
        penalty: Mapping[str, float] | None = None,
        ledger: Any = None,
        report_epochs: Sequence[float | int] = (),
    ) -> None:
        if invalid not in _INVALID:
            raise InvalidArgumentError.for_field("invalid", invalid, f"must be one of {_INVALID}")
        names = tuple(objectives)
        if not names:
            raise InvalidArgumentError.for_field("objectives", names, "must name one or more")
        for name in names:
            if name not in OBJECTIVES or name not in bench.metrics:
                raise InvalidArgumentError.for_field(
                    "objectives",
                    name,
                    f"must be in {sorted(set(OBJECTIVES) & set(bench.metrics))}",
                )
        if report_epochs and len(names) > 1:
            raise InvalidArgumentError.for_field(
                "report_epochs", list(report_epochs), "needs a single objective (Optuna pruning)"
            )
        self.bench = bench
        self.objectives = names
        self.epochs = epochs
        self.invalid = invalid
        self.report_epochs = tuple(report_epochs)
        self.function = ObjectiveFunction(
            bench,
            invalid="penalty" if invalid == "penalty" else "raise",
            fidelity_policy=fidelity_policy,
            penalty=penalty,
            ledger=ledger,
        )
        self.distributions: dict[str, BaseDistribution] = to_optuna_distributions(
            self.function.configspace()
        )
        self.evaluations: list[Evaluation] = []

    @property
    def directions(self) -> list[Literal["minimize", "maximize"]]:
        """``"maximize"`` / ``"minimize"`` per objective (for ``optuna.create_study``)."""
        return [
            "maximize" if self.bench.metrics[n].direction == "maximize" else "minimize"
            for n in self.objectives
        ]

    def create_study(self, sampler: Any = None, **kwargs: Any) -> optuna.Study:
        """``optuna.create_study`` with this problem's directions (kwargs passed on)."""
        return optuna.create_study(directions=self.directions, sampler=sampler, **kwargs)

    def suggest(self, trial: optuna.Trial) -> dict[str, Any]:
        """Draw every hyperparameter of the space from ``trial`` (ConfigSpace encoding)."""
        params: dict[str, Any] = {}
        for name, dist in self.distributions.items():
            if isinstance(dist, CategoricalDistribution):
                params[name] = trial.suggest_categorical(name, dist.choices)
            elif isinstance(dist, IntDistribution):
                params[name] = trial.suggest_int(name, dist.low, dist.high, log=dist.log)
            elif isinstance(dist, FloatDistribution):
                params[name] = trial.suggest_float(name, dist.low, dist.high, log=dist.log)
        return params

    def evaluate(self, trial: optuna.Trial) -> float | tuple[float, ...]:
        """The objective values of the config ``trial`` suggests (module docs)."""
        params = self.suggest(trial)
        try:
            for t in self.report_epochs:
                ev = self.function.objective_function(params, t)
                self._record(trial, ev)
                if not ev.valid:
                    break
                trial.report(ev.value(self.objectives[0]), ev.epochs or 0)
                if trial.should_prune():
                    raise optuna.TrialPruned(f"pruned at {ev.epochs} epochs")
            ev = self.function.objective_function(params, self.epochs)
        except InvalidConfigError as exc:
            if self.invalid == "raise":
                raise
            trial.set_user_attr("valid", False)
            trial.set_user_attr("invalid_reason", str(exc))
            raise optuna.TrialPruned(f"invalid config: {exc}") from None
        self._record(trial, ev)
        values = tuple(ev.value(n) for n in self.objectives)
        return values[0] if len(values) == 1 else values

    __call__ = evaluate

    def _record(self, trial: optuna.Trial, ev: Evaluation) -> None:
        self.evaluations.append(ev)
        trial.set_user_attr("valid", ev.valid)
        trial.set_user_attr("config_id", ev.config_id)
        trial.set_user_attr("epochs", ev.epochs)
        trial.set_user_attr("energy_j", ev.energy_j)
        trial.set_user_attr("train_time_s", ev.train_time_s)
        trial.set_user_attr("cost_energy_j", ev.cost_energy_j)
        if ev.error is not None:
            trial.set_user_attr("invalid_reason", ev.error)


def energy_budget_callback(ledger: Any) -> Any:
    """An ``study.optimize`` callback that stops the study once ``ledger`` is exhausted.

    Use with a ``CostLedger(bench, energy_budget_j=...)`` passed to :class:`OptunaProblem`:
    ``study.optimize(problem, n_trials=10_000, callbacks=[energy_budget_callback(ledger)])``
    searches until the energy budget is spent.
    """

    def callback(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:  # noqa: ARG001
        if ledger.exhausted:
            study.stop()

    return callback
