"""NAS algorithms that search an eabench benchmark and pay for it through a ``CostLedger``.

Four searches over a search space with the eabench space API (``space.sample(seed)``,
``space.neighbours(cfg)``, ``space.mutate(cfg, seed)``):

- :func:`random_search`: uniform samples;
- :func:`regularized_evolution`: Real et al. (2019), aging evolution with tournament selection;
- :func:`local_search`: best-improvement hill climbing over the full neighbourhood with random
  restarts (White et al. 2021, "Local search is state of the art for NAS benchmarks");
- :func:`nsga2_search`: energy-aware multi-objective search, NSGA-II from pymoo minimising
  ``(-val_accuracy, training energy)``; mutation-only (no crossover: a 7V cell crossover
  rarely yields a valid cell), with eabench's ``mutate`` as the mutation operator.

Every algorithm evaluates through an :class:`Evaluator`: a query goes through the ledger (which
charges the training energy and time that evaluation would have cost), and a config already
evaluated is answered from the search's own record without being charged again (a researcher
keeps the results of trainings already done). ``n_evals`` counts distinct evaluated configs.
The single-objective searches maximise validation accuracy; test accuracy is only recorded.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "ALGORITHMS",
    "Evaluation",
    "Evaluator",
    "local_search",
    "nsga2_search",
    "random_search",
    "regularized_evolution",
]


@dataclass(frozen=True, slots=True)
class Evaluation:
    """One distinct evaluation: the config's scores and the search's energy bill after it."""

    index: int
    config_id: str
    val_accuracy: float
    test_accuracy: float
    energy_j: float
    spent_energy_j: float


@dataclass
class Evaluator:
    """Evaluates configs through ``ledger`` at ``epochs``, once per distinct config."""

    ledger: Any
    epochs: int
    n_evals: int
    history: list[Evaluation] = field(default_factory=list)
    _seen: dict[str, Evaluation] = field(default_factory=dict)

    @property
    def done(self) -> bool:
        """True once ``n_evals`` distinct configs have been evaluated."""
        return len(self.history) >= self.n_evals

    def __call__(self, config: Any) -> Evaluation:
        cid = _config_id(config)
        if cid in self._seen:
            return self._seen[cid]
        res = self.ledger.evaluate(config, self.epochs)
        ev = Evaluation(
            index=len(self.history),
            config_id=res.config_id,
            val_accuracy=float(res.val_accuracy),
            test_accuracy=float(res.test_accuracy),
            energy_j=float(res.energy_j),
            spent_energy_j=float(self.ledger.total_energy_j),
        )
        self._seen[cid] = ev
        self.history.append(ev)
        return ev


def _config_id(config: Any) -> str:
    cid = getattr(config, "config_id", None)
    if callable(cid):
        cid = cid()
    if cid is None:
        raise TypeError(f"config {config!r} has no config_id")
    return str(cid)


def random_search(space: Any, ev: Evaluator, rng: np.random.Generator) -> None:
    """Evaluate uniform samples until the budget is spent."""
    while not ev.done:
        ev(space.sample(rng))


def regularized_evolution(
    space: Any,
    ev: Evaluator,
    rng: np.random.Generator,
    *,
    population_size: int = 50,
    sample_size: int = 10,
) -> None:
    """Aging evolution: mutate the best of a random tournament, drop the oldest member."""
    population: deque[tuple[Any, float]] = deque()
    while len(population) < population_size and not ev.done:
        cfg = space.sample(rng)
        population.append((cfg, ev(cfg).val_accuracy))
    stall = 0
    while not ev.done and stall < 100 * population_size:
        idx = rng.choice(len(population), size=min(sample_size, len(population)), replace=False)
        parent = max((population[i] for i in idx), key=lambda p: p[1])[0]
        child = space.mutate(parent, rng)
        before = len(ev.history)
        population.append((child, ev(child).val_accuracy))
        population.popleft()
        stall = stall + 1 if len(ev.history) == before else 0


def local_search(space: Any, ev: Evaluator, rng: np.random.Generator) -> None:
    """Best-improvement hill climbing; restart from a random config at a local optimum."""
    while not ev.done:
        current = space.sample(rng)
        best = ev(current).val_accuracy
        improved = True
        while improved and not ev.done:
            improved = False
            nbrs = list(space.neighbours(current))
            for i in rng.permutation(len(nbrs)):
                if ev.done:
                    break
                acc = ev(nbrs[i]).val_accuracy
                if acc > best:
                    best, cand, improved = acc, nbrs[i], True
            if improved:
                current = cand


def nsga2_search(
    space: Any, ev: Evaluator, rng: np.random.Generator, *, pop_size: int = 20
) -> None:
    """NSGA-II (pymoo) on ``(-val_accuracy, energy_j)`` with eabench's mutation operator."""
    from pymoo.algorithms.moo.nsga2 import NSGA2
    from pymoo.core.crossover import Crossover
    from pymoo.core.duplicate import ElementwiseDuplicateElimination
    from pymoo.core.mutation import Mutation
    from pymoo.core.problem import ElementwiseProblem
    from pymoo.core.sampling import Sampling
    from pymoo.optimize import minimize

    class CellProblem(ElementwiseProblem):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__(n_var=1, n_obj=2, vtype=object)

        def _evaluate(self, x: Any, out: dict[str, Any], *args: Any, **kwargs: Any) -> None:
            e = ev(x[0])
            out["F"] = [-e.val_accuracy, e.energy_j]

    class CellSampling(Sampling):  # type: ignore[misc]
        def _do(self, problem: Any, n_samples: int, *args: Any, **kwargs: Any) -> np.ndarray:
            x = np.empty((n_samples, 1), dtype=object)
            for i in range(n_samples):
                x[i, 0] = space.sample(rng)
            return x

    class CellMutation(Mutation):  # type: ignore[misc]
        def _do(self, problem: Any, x: np.ndarray, *args: Any, **kwargs: Any) -> np.ndarray:
            for i in range(len(x)):
                x[i, 0] = space.mutate(x[i, 0], rng)
            return x

    class CopyParent(Crossover):  # type: ignore[misc]
        """No recombination: one parent, one fresh offspring (pymoo's NoCrossover hands back
        the parent individuals themselves, so mutating them would mutate the population)."""

        def __init__(self) -> None:
            super().__init__(n_parents=1, n_offsprings=1, prob=1.0)

        def _do(self, problem: Any, x: np.ndarray, *args: Any, **kwargs: Any) -> np.ndarray:
            return x.copy()

    class SameCell(ElementwiseDuplicateElimination):  # type: ignore[misc]
        def is_equal(self, a: Any, b: Any) -> bool:
            return bool(_config_id(a.X[0]) == _config_id(b.X[0]))

    algorithm = NSGA2(
        pop_size=pop_size,
        sampling=CellSampling(),
        crossover=CopyParent(),
        mutation=CellMutation(),
        eliminate_duplicates=SameCell(),
    )
    # pymoo counts every evaluation call; our evaluator only charges distinct configs, so run
    # generations until the evaluator's budget of distinct configs is spent.
    minimize(
        CellProblem(),
        algorithm,
        termination=_EvaluatorTermination(ev),
        seed=int(rng.integers(2**31 - 1)),
        verbose=False,
        copy_termination=False,
    )


def _evaluator_termination_class() -> Any:
    from pymoo.core.termination import Termination

    class EvaluatorTermination(Termination):  # type: ignore[misc]
        def __init__(self, ev: Evaluator) -> None:
            super().__init__()
            self.ev = ev

        def _update(self, algorithm: Any) -> float:
            return min(1.0, len(self.ev.history) / self.ev.n_evals)

    return EvaluatorTermination


def _EvaluatorTermination(ev: Evaluator) -> Any:
    return _evaluator_termination_class()(ev)


ALGORITHMS = {
    "random_search": random_search,
    "regularized_evolution": regularized_evolution,
    "local_search": local_search,
    "nsga2": nsga2_search,
}
