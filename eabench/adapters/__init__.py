"""Adapters that plug eabench into the optimisers NAS and HPO researchers already use.

- :mod:`eabench.adapters.core`: the HPOBench-style objective every adapter shares,
  :class:`~eabench.adapters.core.ObjectiveFunction` (``objective_function(config, fidelity,
  seed)``), with explicit invalid-config and fidelity-rounding policies. numpy only.
- :mod:`eabench.adapters.optuna`: an Optuna problem (distributions, directions, objective) for
  any sampler, single- or multi-objective (``pip install 'eabench[adapters]'``).
- :mod:`eabench.adapters.smac`: a SMAC3 target function with multi-fidelity budgets.
- :mod:`eabench.adapters.syne_tune`: a syne-tune ``Blackbox``.

Each optimiser library is imported only inside its own adapter module (never by
``import eabench`` or by ``eabench.adapters``). See ``docs/optimizers.md``.
"""

from __future__ import annotations

from eabench.adapters.core import (
    FIDELITY_POLICIES,
    INVALID_POLICIES,
    Evaluation,
    ObjectiveFunction,
    resolve_fidelity,
)

__all__ = [
    "FIDELITY_POLICIES",
    "INVALID_POLICIES",
    "Evaluation",
    "ObjectiveFunction",
    "resolve_fidelity",
]
