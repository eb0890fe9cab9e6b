"""syne-tune adapter: an eabench benchmark as a syne-tune ``Blackbox``.

Needs ``pip install 'eabench[adapters]'``.

::

    blackbox = to_blackbox(eabench.load("nb101-7v"))
    blackbox.objective_function(config, fidelity=36)   # {"val_accuracy": ..., "energy_j": ...}
    backend = UserBlackboxBackend(blackbox, elapsed_time_attr="train_time_s")

:class:`EabenchBlackbox` has the syne-tune (HPOBench-compatible) attributes:
``configuration_space`` (syne-tune domains from the space's ConfigSpace encoding:
categorical -> ``choice``, ordinal -> ``ordinal``, integers -> ``randint``/``lograndint``,
floats -> ``uniform``/``loguniform``), ``fidelity_space`` (``{"epochs": randint(min, max)}``),
``objectives_names`` (``val_accuracy``, ``energy_j``, ``train_time_s`` and ``test_accuracy``
where the benchmark has it) and ``_objective_function``.

Fidelities: ``fidelity_values`` are the measured budgets for schedule fidelities (7V: 4, 12, 36,
108; each a separate training run) and every epoch ``1..max_epochs`` for prefix fidelities
(RegNet x HPO: pass ``max_resource_attr="max_epochs"`` to the simulator backend so that a config
is not read past its own run; those rows are NaN). A fractional fidelity maps to an allowed one
by ``fidelity_policy`` (:mod:`eabench.adapters.core`). Without a fidelity,
``objective_function`` returns the ``(num_fidelities, num_objectives)`` array syne-tune's
simulator reads, from one curve query.

Invalid configs get the penalty values (syne-tune has no crashed state for blackboxes): by
default accuracy 0.0, energy and time ``+inf``; set ``penalty=`` to finite values for
schedulers that average metrics.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from syne_tune import config_space as sp
from syne_tune.blackbox_repository.blackbox import Blackbox

from eabench.adapters.core import OBJECTIVES, ObjectiveFunction
from eabench.errors import InvalidArgumentError, InvalidConfigError

__all__ = ["EabenchBlackbox", "to_blackbox", "to_syne_tune_space"]

FIDELITY_NAME = "epochs"


def to_syne_tune_space(configspace: Any) -> dict[str, Any]:
    """syne-tune domains of a ``ConfigSpace.ConfigurationSpace`` without conditions."""
    import ConfigSpace as CS

    out: dict[str, Any] = {}
    for hp in configspace.values():
        if isinstance(hp, CS.CategoricalHyperparameter):
            out[hp.name] = sp.choice(list(hp.choices))
        elif isinstance(hp, CS.OrdinalHyperparameter):
            out[hp.name] = sp.ordinal(list(hp.sequence))
        elif isinstance(hp, CS.UniformIntegerHyperparameter):
            make = sp.lograndint if hp.log else sp.randint
            out[hp.name] = make(int(hp.lower), int(hp.upper))
        elif isinstance(hp, CS.UniformFloatHyperparameter):
            makef = sp.loguniform if hp.log else sp.uniform
            out[hp.name] = makef(float(hp.lower), float(hp.upper))
        else:
            raise InvalidArgumentError.for_field(
                "hyperparameter", hp.name, f"type {type(hp).__name__} has no syne-tune domain"
            )
    return out


class EabenchBlackbox(Blackbox):  # type: ignore[misc]
    """A syne-tune ``Blackbox`` over an eabench benchmark (module docs).

    Args:
        bench: a ``Benchmark``.
        fidelity_policy: how fractional fidelities map to epochs (default ``"round"``).
        penalty: objective values of invalid configs.
    """

    def __init__(
        self,
        bench: Any,
        *,
        fidelity_policy: str = "round",
        penalty: Mapping[str, float] | None = None,
    ) -> None:
        self.bench = bench
        self.function = ObjectiveFunction(
            bench, invalid="penalty", fidelity_policy=fidelity_policy, penalty=penalty
        )
        fid = bench.fidelity
        order = ("val_accuracy", "energy_j", "train_time_s", "test_accuracy")
        names = [n for n in order if n in bench.metrics and n in OBJECTIVES]
        super().__init__(
            configuration_space=to_syne_tune_space(self.function.configspace()),
            fidelity_space={FIDELITY_NAME: sp.randint(fid.min_epochs, fid.max_epochs)},
            objectives_names=names,
        )
        if fid.semantics == "schedule" and fid.budgets:
            self._fidelities = np.asarray(fid.budgets, dtype=np.float64)
        else:
            self._fidelities = np.arange(fid.min_epochs, fid.max_epochs + 1, dtype=np.float64)

    @property
    def fidelity_values(self) -> np.ndarray:
        """The fidelities of the ``fidelity=None`` answer (epochs, ascending)."""
        return self._fidelities

    def _objective_function(
        self,
        configuration: dict[str, Any],
        fidelity: dict[str, Any] | None = None,
        seed: int | None = None,
    ) -> dict[str, float] | np.ndarray:
        if fidelity is not None:
            ev = self.function.objective_function(configuration, fidelity[FIDELITY_NAME], seed)
            out: dict[str, float] = {}
            for n in self.objectives_names:
                got = getattr(ev, n)
                out[n] = float("nan") if got is None else float(got)
            return out
        return self._all_fidelities(configuration)

    def _all_fidelities(self, configuration: dict[str, Any]) -> np.ndarray:
        names = list(self.objectives_names)
        grid = self._fidelities
        values = np.full((len(grid), len(names)), np.nan)
        try:
            cfg = self.function.to_config(configuration)
        except InvalidConfigError:
            for j, n in enumerate(names):
                values[:, j] = self.function.penalty[n]
            return values
        t = self.function.resolve_fidelity(None, cfg)
        curve = self.bench.query(cfg, t).curve
        cols = {
            "val_accuracy": curve.val_accuracy,
            "energy_j": curve.energy_j,
            "train_time_s": curve.train_time_s,
            "test_accuracy": curve.test_accuracy,
        }
        rows = np.searchsorted(grid, np.asarray(curve.epochs, dtype=np.float64))
        for j, n in enumerate(names):
            col = cols[n]
            if col is not None:
                values[rows, j] = np.asarray(col, dtype=np.float64)
        return values


def to_blackbox(
    bench: Any, *, fidelity_policy: str = "round", penalty: Mapping[str, float] | None = None
) -> EabenchBlackbox:
    """:class:`EabenchBlackbox` of ``bench``."""
    return EabenchBlackbox(bench, fidelity_policy=fidelity_policy, penalty=penalty)
