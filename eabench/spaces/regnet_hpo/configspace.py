"""Optional ConfigSpace adapter (``pip install eabench[configspace]``; imported lazily).

The ConfigSpace form covers the grid only: depth integer 6..15; w0 and group width ordinal;
wa and wm log-scaled floats on their ranges (a value from an optimiser is snapped to the 0.1 /
0.001 grid by :func:`from_configspace`); learning rate and max epochs ordinal; optimizer,
LR policy and cutout categorical. The training constraints (two stages, the CIFAR-10 complexity
window) cannot be written as ConfigSpace conditions: :func:`from_configspace` validates against
the space and raises ``InvalidConfigError`` for an infeasible point, so an optimiser should treat
that as a failed (or re-sampled) trial.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from eabench.spaces.regnet_hpo.config import (
    CUTOUTS,
    DEPTHS,
    GROUP_WIDTHS,
    LEARNING_RATES,
    LR_POLICIES,
    MAX_EPOCHS,
    OPTIMIZERS,
    W0S,
    WA_TENTHS,
    RegNetHPOConfig,
    wm_thousandths,
)
from eabench.spaces.regnet_hpo.space import RegNetHPOSpace

__all__ = ["from_configspace", "to_configspace"]


def to_configspace(space: RegNetHPOSpace, seed: int | None = None) -> Any:
    """A ``ConfigSpace.ConfigurationSpace`` over the grid of ``space``'s dataset."""
    import ConfigSpace as CS

    lo, hi = wm_thousandths(space.dataset)
    cs = CS.ConfigurationSpace(name=f"{space.name}-{space.dataset}", seed=seed)
    cs.add(
        [
            CS.UniformIntegerHyperparameter("depth", DEPTHS[0], DEPTHS[-1]),
            CS.OrdinalHyperparameter("w0", list(W0S)),
            CS.UniformFloatHyperparameter("wa", WA_TENTHS[0] / 10, WA_TENTHS[1] / 10, log=True),
            CS.UniformFloatHyperparameter("wm", lo / 1000, hi / 1000, log=True),
            CS.OrdinalHyperparameter("group_width", list(GROUP_WIDTHS)),
            CS.OrdinalHyperparameter("learning_rate", list(LEARNING_RATES)),
            CS.OrdinalHyperparameter("max_epochs", list(MAX_EPOCHS)),
            CS.CategoricalHyperparameter("optimizer", list(OPTIMIZERS)),
            CS.CategoricalHyperparameter("lr_policy", list(LR_POLICIES)),
            CS.CategoricalHyperparameter("cutout", list(CUTOUTS)),
        ]
    )
    return cs


def from_configspace(space: RegNetHPOSpace, values: Mapping[str, Any]) -> RegNetHPOConfig:
    """Snap a ConfigSpace configuration (or its dict) to the grid and validate it.

    Raises:
        InvalidConfigError: if the snapped config is off the grid or violates the constraints.
    """
    data = dict(values)
    if "wa" in data and isinstance(data["wa"], float):
        data["wa"] = round(data["wa"] * 10) / 10
    if "wm" in data and isinstance(data["wm"], float):
        data["wm"] = round(data["wm"] * 1000) / 1000
    for key in ("depth", "w0", "group_width", "max_epochs", "cutout"):
        if key in data:
            data[key] = int(data[key])
    data["dataset"] = space.dataset
    return space.validate(data)
