"""The HPOBench-style objective that every optimiser adapter shares.

``ObjectiveFunction(bench).objective_function(config, fidelity, seed)`` evaluates one config of
either search space at one fidelity and returns an :class:`Evaluation`: the objectives
(validation accuracy, training energy, training time, test accuracy) plus the cost to charge
for having run it. numpy only; no optimiser library is imported here.

Config forms accepted (:meth:`ObjectiveFunction.to_config`): the space's own config object or
plain dict, or the space's ConfigSpace encoding (a ``ConfigSpace.Configuration`` or its dict:
``edge_i_j`` / ``op_k`` for NB101 7V, :mod:`eabench.spaces.regnet_hpo.configspace` for RegNet x
HPO, whose floats are snapped to the grid).

**Invalid-config policy** (``invalid=``, chosen explicitly):

- ``"raise"`` (default): ``InvalidConfigError`` naming the field, value and broken rule. For an
  optimiser that records exceptions as crashed trials.
- ``"penalty"``: an :class:`Evaluation` with ``valid=False``, the objectives set to the
  penalty values (default: accuracies 0.0, energy and time ``+inf``; override with
  ``penalty={"energy_j": 1e7, ...}``) and **zero** cost (an invalid config trains nothing).
  ``Evaluation.error`` holds the reason.

:meth:`ObjectiveFunction.is_valid` answers without raising; the ConfigSpace encodings cannot
express the 7V DAG rules nor the RegNet training constraints, so many raw samples are invalid
(for 7V, :func:`eabench.spaces.nb101_configspace.sample_cell` rejection-samples valid ones).

**Fidelity policy** (``fidelity_policy=``, for budgets an optimiser computes, e.g. Hyperband's
``max_budget / eta**k``): the fidelity is an epoch count. Allowed values are the integers in
``[bench.fidelity.min_epochs, bench.fidelity.max_epochs]``; for NB101 7V (``schedule``) the
measured budgets are 4/12/36/108 and other integers are answered from the curve over budgets
(flagged ``FIDELITY_INTERPOLATED``).

- ``"error"`` (default): a non-integer fidelity raises ``FidelityError``.
- ``"round"``: the nearest integer (halves up).
- ``"ceil"``: the smallest integer ``>=`` the fidelity (never trains less than asked).
- ``"nearest_budget"``: the nearest measured budget (ties up); no interpolation flag. For
  spaces without budgets (prefix fidelities) this equals ``"round"``.
- ``"ceil_budget"``: the smallest measured budget ``>=`` the fidelity (prefix: ``"ceil"``).

A value within ``1e-9`` of an integer counts as that integer under every policy. A fidelity outside
``[min_epochs, max_epochs]`` (for ``"round"``/``"ceil"``: after rounding) raises ``FidelityError``
under every policy (nothing is clipped silently). For prefix fidelities (RegNet x HPO: epoch ``t``
of one ``max_epochs``-long run), ``clip_to_run=True`` lowers a fidelity above the config's own
``max_epochs`` to it (``Evaluation.epochs`` says what was evaluated); the default raises
``FidelityError``. ``fidelity=None`` means the largest allowed fidelity (for prefix spaces: the
config's own run length).

**Seed**: adapters answer the mean prediction (optimisers compare configs, not runs), so ``seed``
does not change the answer; it is accepted for HPOBench compatibility and recorded in the
:class:`Evaluation`. For one run's worth of noise, call ``bench.query(config, epochs, seed=k)``
(``eabench.sampling``) directly.

**Cost**: with a :class:`~eabench.ledger.CostLedger` (``ledger=``) every valid evaluation goes
through ``ledger.evaluate`` and the cost is what the ledger charged (resume vs retrain per the
space's fidelity semantics, de-duplication if the ledger does it); without one, the cost is the
evaluation's full energy (J) and time (s), i.e. a training from scratch.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from eabench.errors import FidelityError, InvalidArgumentError, InvalidConfigError
from eabench.results import Fidelity

__all__ = [
    "DEFAULT_PENALTY",
    "FIDELITY_POLICIES",
    "INVALID_POLICIES",
    "OBJECTIVES",
    "Evaluation",
    "ObjectiveFunction",
    "resolve_fidelity",
]

INVALID_POLICIES: Final[tuple[str, ...]] = ("raise", "penalty")
FIDELITY_POLICIES: Final[tuple[str, ...]] = (
    "error",
    "round",
    "ceil",
    "nearest_budget",
    "ceil_budget",
)
OBJECTIVES: Final[tuple[str, ...]] = ("val_accuracy", "test_accuracy", "energy_j", "train_time_s")
"""Objective names an :class:`Evaluation` carries (the ``bench.metrics`` names)."""

DEFAULT_PENALTY: Final[Mapping[str, float]] = {
    "val_accuracy": 0.0,
    "test_accuracy": 0.0,
    "energy_j": math.inf,
    "train_time_s": math.inf,
}
_TOL = 1e-9


@dataclass(frozen=True, slots=True)
class Evaluation:
    """One ``objective_function`` answer.

    Attributes:
        valid: False when the config was invalid and the penalty policy answered.
        config_id: canonical config id (None for an invalid config).
        fidelity: the fidelity the optimiser asked for (epochs, possibly fractional; None = max).
        epochs: the epoch count evaluated after the fidelity policy (None if invalid).
        val_accuracy: validation accuracy (fraction in [0, 1]; penalty if invalid).
        test_accuracy: test accuracy (fraction), None if the benchmark has none.
        energy_j: cumulative training energy to ``epochs`` (J, primary meter).
        train_time_s: cumulative training time to ``epochs`` (s).
        cost_energy_j: energy to charge for this evaluation (J; 0 if invalid).
        cost_time_s: training time to charge for this evaluation (s; 0 if invalid).
        flags: quality flags of the answer.
        seed: the seed passed (does not change the answer).
        error: why the config was invalid (None if valid).
    """

    valid: bool
    config_id: str | None
    fidelity: float | None
    epochs: int | None
    val_accuracy: float
    test_accuracy: float | None
    energy_j: float
    train_time_s: float
    cost_energy_j: float
    cost_time_s: float
    flags: frozenset[str] = field(default_factory=frozenset)
    seed: int | None = None
    error: str | None = None

    def value(self, name: str) -> float:
        """Objective ``name``: one of :data:`OBJECTIVES`, ``cost_energy_j``, ``cost_time_s``."""
        if name not in (*OBJECTIVES, "cost_energy_j", "cost_time_s"):
            raise InvalidArgumentError.for_field(
                "objective", name, f"must be one of {[*OBJECTIVES, 'cost_energy_j', 'cost_time_s']}"
            )
        got = getattr(self, name)
        if got is None:
            raise InvalidArgumentError.for_field(name, None, "this benchmark has no such value")
        return float(got)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (``function_value`` / ``cost`` keys as in HPOBench, plus the rest)."""
        return {
            "function_value": self.val_accuracy,
            "cost": self.cost_time_s,
            "valid": self.valid,
            "config_id": self.config_id,
            "fidelity": self.fidelity,
            "epochs": self.epochs,
            "val_accuracy": self.val_accuracy,
            "test_accuracy": self.test_accuracy,
            "energy_j": self.energy_j,
            "train_time_s": self.train_time_s,
            "cost_energy_j": self.cost_energy_j,
            "cost_time_s": self.cost_time_s,
            "flags": sorted(self.flags),
            "seed": self.seed,
            "error": self.error,
        }


def _check_choice(name: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise InvalidArgumentError.for_field(name, value, f"must be one of {list(allowed)}")
    return value


def resolve_fidelity(
    fidelity: float | int | None, spec: Fidelity, policy: str = "error", *, limit: int | None = None
) -> int:
    """The epoch count to evaluate for ``fidelity`` under ``policy`` (module docs).

    Args:
        fidelity: epochs asked for (may be fractional); None = the largest allowed.
        spec: the benchmark's fidelity (``bench.fidelity``).
        policy: one of :data:`FIDELITY_POLICIES`.
        limit: for prefix fidelities, the config's own run length (epochs), if known.

    Raises:
        FidelityError: the fidelity is not a number, is fractional under ``"error"``, or lies
            outside ``[min_epochs, max_epochs]`` after rounding.
    """
    _check_choice("fidelity_policy", policy, FIDELITY_POLICIES)
    hi = spec.max_epochs if limit is None else min(spec.max_epochs, limit)
    if fidelity is None:
        return hi
    if isinstance(fidelity, bool) or not isinstance(fidelity, (int, float)):
        try:
            x = float(fidelity)
        except (TypeError, ValueError):
            raise FidelityError.for_field(
                "fidelity", fidelity, "must be a number of epochs"
            ) from None
    else:
        x = float(fidelity)
    if not math.isfinite(x):
        raise FidelityError.for_field("fidelity", fidelity, "must be a finite number of epochs")
    nearest = math.floor(x + 0.5)
    budgets = spec.budgets if spec.semantics == "schedule" else ()
    if (
        budgets
        and policy in ("nearest_budget", "ceil_budget")
        and not (spec.min_epochs - _TOL <= x <= spec.max_epochs + _TOL)
    ):
        raise FidelityError.for_field(
            "fidelity", fidelity, f"outside [{spec.min_epochs}, {spec.max_epochs}]"
        )
    if abs(x - nearest) <= _TOL:
        t = int(nearest)
    elif policy == "error":
        raise FidelityError.for_field(
            "fidelity",
            fidelity,
            "must be an integer epoch count (choose fidelity_policy='round', 'ceil', "
            "'nearest_budget' or 'ceil_budget' to map fractional budgets)",
        )
    elif policy == "round" or (policy == "nearest_budget" and not budgets):
        t = int(nearest)
    elif policy == "ceil" or (policy == "ceil_budget" and not budgets):
        t = math.ceil(x)
    elif policy == "nearest_budget":
        t = min(budgets, key=lambda b: (abs(b - x), -b))
    else:  # ceil_budget
        above = [b for b in budgets if b >= x - _TOL]
        if not above:
            raise FidelityError.for_field(
                "fidelity", fidelity, f"no measured budget >= it (budgets {list(budgets)})"
            )
        t = above[0]
    if budgets and policy in ("nearest_budget", "ceil_budget") and t not in budgets:
        # an integer fidelity between budgets: the budget policies still map it to a budget
        t = (
            min(budgets, key=lambda b: (abs(b - t), -b))
            if policy == "nearest_budget"
            else next((b for b in budgets if b >= t), t)
        )
    if not spec.min_epochs <= t <= spec.max_epochs:
        raise FidelityError.for_field(
            "fidelity",
            fidelity,
            f"maps to {t} epochs, outside [{spec.min_epochs}, {spec.max_epochs}]",
        )
    return t


class ObjectiveFunction:
    """``objective_function(config, fidelity, seed)`` for any eabench benchmark.

    Args:
        bench: a ``Benchmark`` (``eabench.load(...)``).
        invalid: invalid-config policy, ``"raise"`` or ``"penalty"`` (module docs).
        fidelity_policy: one of :data:`FIDELITY_POLICIES` (module docs).
        penalty: objective name -> value for invalid configs (merged over
            :data:`DEFAULT_PENALTY`).
        ledger: a :class:`~eabench.ledger.CostLedger` on ``bench`` to charge (optional).
        clip_to_run: prefix fidelities: lower a fidelity above the config's run length to it
            instead of raising ``FidelityError``.
    """

    def __init__(
        self,
        bench: Any,
        *,
        invalid: str = "raise",
        fidelity_policy: str = "error",
        penalty: Mapping[str, float] | None = None,
        ledger: Any = None,
        clip_to_run: bool = False,
    ) -> None:
        self.bench = bench
        self.invalid = _check_choice("invalid", invalid, INVALID_POLICIES)
        self.fidelity_policy = _check_choice("fidelity_policy", fidelity_policy, FIDELITY_POLICIES)
        unknown = sorted(set(penalty or {}) - set(OBJECTIVES))
        if unknown:
            raise InvalidArgumentError.for_field(
                "penalty", unknown, f"keys must be in {list(OBJECTIVES)}"
            )
        self.penalty: dict[str, float] = {**DEFAULT_PENALTY, **(penalty or {})}
        if ledger is not None and ledger.bench is not bench:
            raise InvalidArgumentError.for_field(
                "ledger", repr(ledger), "must be a CostLedger on the same benchmark"
            )
        self.ledger = ledger
        self.clip_to_run = clip_to_run
        self.space_kind = _space_kind(bench.space)

    def __repr__(self) -> str:
        return (
            f"ObjectiveFunction({self.bench.name!r}, invalid={self.invalid!r}, "
            f"fidelity_policy={self.fidelity_policy!r})"
        )

    # ------------------------------------------------------------------ spaces
    @property
    def fidelity(self) -> Fidelity:
        """The benchmark's fidelity axis (epochs)."""
        spec: Fidelity = self.bench.fidelity
        return spec

    def configspace(self, seed: int | None = None) -> Any:
        """The ``ConfigSpace.ConfigurationSpace`` of the benchmark's space (needs ConfigSpace)."""
        if self.space_kind == "nb101":
            from eabench.spaces.nb101_configspace import configspace

            return configspace(seed=seed)
        if self.space_kind == "regnet-hpo":
            from eabench.spaces.regnet_hpo.configspace import to_configspace

            return to_configspace(self.bench.space, seed=seed)
        raise InvalidArgumentError.for_field(
            "space", type(self.bench.space).__name__, "has no ConfigSpace encoding"
        )

    def to_config(self, config: Any) -> Any:
        """The validated space config of ``config`` (any accepted form; module docs).

        Raises:
            InvalidConfigError: the config is not in the space (field, value, rule named).
        """
        if _is_cs_config(config):
            config = dict(config)
        if isinstance(config, Mapping):
            if self.space_kind == "nb101" and ("edge_0_1" in config or "op_1" in config):
                from eabench.spaces.nb101_configspace import to_cell

                return self.bench.space.validate(to_cell(config))
            if self.space_kind == "regnet-hpo":
                from eabench.spaces.regnet_hpo.configspace import from_configspace

                return from_configspace(self.bench.space, config)
        return self.bench.space.validate(config)

    def is_valid(self, config: Any) -> bool:
        """Whether ``config`` (any accepted form) is a valid config of the space."""
        try:
            self.to_config(config)
        except InvalidConfigError:
            return False
        return True

    def resolve_fidelity(self, fidelity: float | int | None, config: Any = None) -> int:
        """The epoch count evaluated for ``fidelity`` (and, for prefixes, the validated config)."""
        limit = None
        spec = self.fidelity
        if spec.semantics == "prefix" and spec.max_epochs_field is not None and config is not None:
            limit = int(config.to_dict()[spec.max_epochs_field])
        if limit is None:
            return resolve_fidelity(fidelity, spec, self.fidelity_policy)
        if fidelity is None:
            return limit
        t = resolve_fidelity(fidelity, spec, self.fidelity_policy)
        if t > limit:
            if self.clip_to_run:
                return limit
            raise FidelityError.for_field(
                "fidelity",
                fidelity,
                f"maps to {t} epochs, beyond the config's run of {limit} epochs "
                f"({spec.max_epochs_field}={limit}; clip_to_run=True evaluates {limit})",
            )
        return t

    # ------------------------------------------------------------------ evaluation
    def objective_function(
        self, config: Any, fidelity: float | int | None = None, seed: int | None = None
    ) -> Evaluation:
        """Evaluate ``config`` at ``fidelity`` epochs (module docs for the policies).

        Raises:
            InvalidConfigError: invalid config under ``invalid="raise"``.
            FidelityError: the fidelity is not allowed under the fidelity policy.
        """
        fid = None if fidelity is None else float(fidelity)
        try:
            cfg = self.to_config(config)
        except InvalidConfigError as exc:
            if self.invalid == "raise":
                raise
            return self._penalised(fid, seed, str(exc))
        t = self.resolve_fidelity(fidelity, cfg)
        if self.ledger is not None:
            before_e, before_s = self.ledger.total_energy_j, self.ledger.total_time_s
            res = self.ledger.evaluate(cfg, t)
            cost_e = self.ledger.total_energy_j - before_e
            cost_s = self.ledger.total_time_s - before_s
        else:
            res = self.bench.query(cfg, t)
            cost_e, cost_s = res.energy_j, res.train_time_s
        return Evaluation(
            valid=True,
            config_id=res.config_id,
            fidelity=fid,
            epochs=res.epochs,
            val_accuracy=res.val_accuracy,
            test_accuracy=res.test_accuracy,
            energy_j=res.energy_j,
            train_time_s=res.train_time_s,
            cost_energy_j=cost_e,
            cost_time_s=cost_s,
            flags=res.flags,
            seed=seed,
        )

    __call__ = objective_function

    def _penalised(self, fid: float | None, seed: int | None, error: str) -> Evaluation:
        p = self.penalty
        return Evaluation(
            valid=False,
            config_id=None,
            fidelity=fid,
            epochs=None,
            val_accuracy=p["val_accuracy"],
            test_accuracy=p["test_accuracy"],
            energy_j=p["energy_j"],
            train_time_s=p["train_time_s"],
            cost_energy_j=0.0,
            cost_time_s=0.0,
            seed=seed,
            error=error,
        )


def _is_cs_config(config: Any) -> bool:
    """A ``ConfigSpace.Configuration`` (duck-typed: no ConfigSpace import)."""
    return type(config).__name__ == "Configuration" and hasattr(config, "config_space")


def _space_kind(space: Any) -> str:
    from eabench.spaces.nb101 import NB101Space
    from eabench.spaces.regnet_hpo import RegNetHPOSpace

    if isinstance(space, NB101Space):
        return "nb101"
    if isinstance(space, RegNetHPOSpace):
        return "regnet-hpo"
    return "other"
