"""The EA-HAS-Bench sampler (pycls sweep samplers) and its constraints, with a numpy Generator.

Prior (``reference/ea-has-bench.md`` 1.1, pycls ``sweep/random.py``), each dimension independent:

- depth: uniform on [6, 16), floored -> 6..15;
- w0, wa, wm: log-uniform on ``(low - q*, high]`` with ``q* = min(q, low / 2)``, then ceiled to a
  multiple of q (q = 8, 0.1, 0.001), so e.g. w0 is log-uniform on (40, 128];
- group width: a power of two uniform in {1, 2, 4, 8, 16, 32}; if it is >= 8 it is re-drawn
  log-uniformly on (4, 32] and ceiled to a multiple of 8 (P = 1/6, 1/6, 1/6, .167, .167, .097, .069
  for 1, 2, 4, 8, 16, 24, 32);
- the five HPO dimensions: uniform over their value lists.

The distribution is that of pycls; the draws are not bit-identical to it (pycls uses numpy's
global legacy RNG, we never do). Constraints are options: :meth:`Constraints.training` gives the
ones the EA-HAS-Bench training sweeps applied (1.4), :meth:`Constraints.none` the raw prior.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from eabench.errors import InvalidArgumentError
from eabench.spaces.regnet_hpo.config import (
    CUTOUTS,
    DATASETS,
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
from eabench.spaces.regnet_hpo.network import NetworkArrays, RegNetNetwork

__all__ = [
    "Constraints",
    "SamplerStats",
    "configs_from_draws",
    "draw_prior",
    "prior_probabilities",
]


@dataclass(frozen=True, slots=True)
class Constraints:
    """Feasibility rules on the derived network (all bounds inclusive; None = no rule).

    Attributes:
        num_stages: allowed (min, max) number of stages.
        no_missing_stage: require ``num_stages == max(s_j) + 1`` (pycls' check).
        flops: allowed (min, max) pycls FLOPs at 32x32.
        max_params: largest allowed parameter count.
        max_acts: largest allowed activation count.
    """

    num_stages: tuple[int, int] | None = (2, 2)
    no_missing_stage: bool = True
    flops: tuple[float, float] | None = None
    max_params: float | None = None
    max_acts: float | None = None

    @classmethod
    def none(cls) -> Constraints:
        """No rule: every grid point is feasible."""
        return cls(num_stages=None, no_missing_stage=False)

    @classmethod
    def two_stage(cls) -> Constraints:
        """Exactly two stages, none missing (what both EA-HAS-Bench sweeps required)."""
        return cls()

    @classmethod
    def training(cls, dataset: str) -> Constraints:
        """The constraints of the EA-HAS-Bench training sweep of ``dataset``.

        Both datasets: exactly 2 stages, none missing. CIFAR-10 adds FLOPs in [0.12e9, 0.13e9],
        params <= 2e6 and activations <= 1e6 ("roughly R-56"); TinyImageNet has no window.
        """
        if dataset == "cifar10":
            return cls(flops=(0.12e9, 0.13e9), max_params=2.0e6, max_acts=1.0e6)
        if dataset == "tinyimagenet":
            return cls()
        raise InvalidArgumentError.for_field("dataset", dataset, f"must be one of {DATASETS}")

    def feasible(self, arrays: NetworkArrays) -> np.ndarray:
        """Boolean ``(n,)`` mask of the networks that satisfy every rule."""
        ok = np.ones(arrays.flops.shape, dtype=bool)
        if self.num_stages is not None:
            ok &= (arrays.num_stages >= self.num_stages[0]) & (
                arrays.num_stages <= self.num_stages[1]
            )
        if self.no_missing_stage:
            ok &= arrays.num_stages == arrays.total_stages
        if self.flops is not None:
            ok &= (arrays.flops >= self.flops[0]) & (arrays.flops <= self.flops[1])
        if self.max_params is not None:
            ok &= arrays.params <= self.max_params
        if self.max_acts is not None:
            ok &= arrays.acts <= self.max_acts
        return ok

    def violations(self, network: RegNetNetwork) -> list[tuple[str, Any, str]]:
        """Every broken rule of one network as ``(field, value, rule)`` (empty if feasible)."""
        out: list[tuple[str, Any, str]] = []
        cx = network.complexity
        if self.num_stages is not None and not (
            self.num_stages[0] <= network.num_stages <= self.num_stages[1]
        ):
            lo, hi = self.num_stages
            rule = f"must be {lo}" if lo == hi else f"must be in [{lo}, {hi}]"
            out.append(("num_stages", network.num_stages, rule))
        if self.no_missing_stage and network.num_stages != network.total_stages:
            out.append(
                (
                    "num_stages",
                    network.num_stages,
                    f"a stage is missing: max quantisation index + 1 = {network.total_stages}",
                )
            )
        if self.flops is not None and not self.flops[0] <= cx.flops <= self.flops[1]:
            out.append(("flops", cx.flops, f"must be in [{self.flops[0]:g}, {self.flops[1]:g}]"))
        if self.max_params is not None and cx.params > self.max_params:
            out.append(("params", cx.params, f"must be <= {self.max_params:g}"))
        if self.max_acts is not None and cx.acts > self.max_acts:
            out.append(("acts", cx.acts, f"must be <= {self.max_acts:g}"))
        return out


@dataclass(frozen=True, slots=True)
class SamplerStats:
    """Acceptance statistics of a constrained sampling run.

    Attributes:
        attempts: prior draws made.
        accepted: draws that satisfied the constraints (duplicates included).
        duplicates: accepted draws dropped because their config id was already taken.
    """

    attempts: int
    accepted: int
    duplicates: int = 0

    @property
    def acceptance_rate(self) -> float:
        """``accepted / attempts`` (a fraction); raises if there was no attempt."""
        if self.attempts <= 0:
            raise InvalidArgumentError.for_field("attempts", self.attempts, "must be > 0")
        return self.accepted / self.attempts


def _log_uniform_ceil(
    rng: np.random.Generator, n: int, low: float, high: float, q: float
) -> np.ndarray:
    """pycls ``log_uniform``: ``ceil(f / q)``, f log-uniform on ``(low - min(q, low/2), high]``."""
    f = np.exp(-rng.uniform(-np.log(high), -np.log(low - min(q, low / 2)), size=n))
    return np.ceil(f / q).astype(np.int64)


def draw_prior(n: int, rng: np.random.Generator, dataset: str = "cifar10") -> dict[str, np.ndarray]:
    """Draw ``n`` raw configs from the prior, as arrays (no constraint applied).

    Returns a dict with int64 arrays ``depth``, ``w0``, ``wa_tenths``, ``wm_thousandths``,
    ``group_width``, ``max_epochs``, ``cutout``, float ``learning_rate`` and str ``optimizer``,
    ``lr_policy``.
    """
    lo, hi = wm_thousandths(dataset)
    depth = np.floor(rng.uniform(DEPTHS[0], DEPTHS[-1] + 1, size=n)).astype(np.int64)
    w0 = _log_uniform_ceil(rng, n, W0S[0], W0S[-1], 8) * 8
    wa = _log_uniform_ceil(rng, n, WA_TENTHS[0] / 10, WA_TENTHS[1] / 10, 0.1)
    wm = _log_uniform_ceil(rng, n, lo / 1000, hi / 1000, 0.001)
    g = (2 ** np.floor(rng.uniform(0.0, 6.0, size=n))).astype(np.int64)
    redraw = _log_uniform_ceil(rng, n, 8, 32, 8) * 8
    g = np.where(g >= 8, redraw, g)
    return {
        "depth": depth,
        "w0": w0,
        "wa_tenths": np.clip(wa, *WA_TENTHS),
        "wm_thousandths": np.clip(wm, lo, hi),
        "group_width": g,
        "learning_rate": np.asarray(LEARNING_RATES)[rng.integers(0, len(LEARNING_RATES), n)],
        "max_epochs": np.asarray(MAX_EPOCHS)[rng.integers(0, len(MAX_EPOCHS), n)],
        "optimizer": np.asarray(OPTIMIZERS)[rng.integers(0, len(OPTIMIZERS), n)],
        "lr_policy": np.asarray(LR_POLICIES)[rng.integers(0, len(LR_POLICIES), n)],
        "cutout": np.asarray(CUTOUTS)[rng.integers(0, len(CUTOUTS), n)],
    }


def configs_from_draws(
    draws: dict[str, np.ndarray], dataset: str, index: np.ndarray
) -> list[RegNetHPOConfig]:
    """Build validated configs for the rows ``index`` of ``draws``."""
    return [
        RegNetHPOConfig(
            depth=int(draws["depth"][i]),
            w0=int(draws["w0"][i]),
            wa=int(draws["wa_tenths"][i]) / 10,
            wm=int(draws["wm_thousandths"][i]) / 1000,
            group_width=int(draws["group_width"][i]),
            learning_rate=float(draws["learning_rate"][i]),
            max_epochs=int(draws["max_epochs"][i]),
            optimizer=str(draws["optimizer"][i]),
            lr_policy=str(draws["lr_policy"][i]),
            cutout=int(draws["cutout"][i]),
            dataset=dataset,
        )
        for i in index
    ]


def prior_probabilities(dataset: str = "cifar10") -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Exact prior probability of every grid value, per architecture dimension.

    Returns ``{"depth": (values, probs), "w0": ..., "wa_tenths": ..., "wm_thousandths": ...,
    "group_width": ...}``; each ``probs`` sums to 1. A ceiled log-uniform on ``(a, b]`` gives grid
    value v (step q) the mass ``log(v / (v - q)) / log(b / a)`` (the lowest value's interval starts
    at a).
    """
    lo, hi = wm_thousandths(dataset)

    def ceil_log(values: np.ndarray, q: float, a: float, b: float) -> np.ndarray:
        left = np.maximum(values - q, a)
        return np.asarray(np.log(values / left) / np.log(b / a))

    depth = np.asarray(DEPTHS, dtype=np.int64)
    w0 = np.asarray(W0S, dtype=np.int64)
    wa = np.arange(WA_TENTHS[0], WA_TENTHS[1] + 1, dtype=np.int64)
    wm = np.arange(lo, hi + 1, dtype=np.int64)
    g = np.asarray(GROUP_WIDTHS, dtype=np.int64)
    g_big = ceil_log(g[3:].astype(np.float64), 8.0, 4.0, 32.0)
    g_p = np.concatenate([np.full(3, 1 / 6), 0.5 * g_big])
    return {
        "depth": (depth, np.full(depth.size, 1 / depth.size)),
        "w0": (w0, ceil_log(w0.astype(np.float64), 8.0, 40.0, 128.0)),
        "wa_tenths": (wa, ceil_log(wa.astype(np.float64), 1.0, WA_TENTHS[0] - 1.0, WA_TENTHS[1])),
        "wm_thousandths": (wm, ceil_log(wm.astype(np.float64), 1.0, lo - 1.0, float(hi))),
        "group_width": (g, g_p),
    }
