"""Exact size of the RegNet x HPO space and of its feasible (constrained) subsets.

Method (exhaustive, exact): for every (depth, w0) the 2-D grid of (wa, wm) values is derived at
once (:func:`quantised_block_widths`); the network depends on (wa, wm) only through the quantised
per-block widths and the largest quantisation index, so the rows are grouped by that key
(``numpy.unique``), and each distinct key is derived once per group width with
:func:`derive_arrays` and checked against the constraints. Counts are multiplicities of feasible
keys; the acceptance probability of the sampler is the prior mass of the feasible grid points
(exact prior masses from :func:`prior_probabilities`); distinct networks are distinct
(stage widths, depths, group widths) among feasible points. The HPO part (540 combinations) is
unconstrained and multiplies every count.

``tests/spaces/test_regnet_hpo_counting.py`` checks the method against a plain loop over every
config of a sub-grid, and the acceptance probability against Monte Carlo draws of the sampler.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np

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
    training_protocol,
    wm_thousandths,
)
from eabench.spaces.regnet_hpo.network import derive_arrays, quantised_block_widths
from eabench.spaces.regnet_hpo.sampling import Constraints, prior_probabilities

__all__ = ["COUNTS", "HPO_COMBINATIONS", "SpaceCounts", "count_space"]

HPO_COMBINATIONS = (
    len(LEARNING_RATES) * len(MAX_EPOCHS) * len(OPTIMIZERS) * len(LR_POLICIES) * len(CUTOUTS)
)

COUNTS: Final[dict[str, dict[str, float]]] = {
    "cifar10": {
        "grid_archs": 92_970_570,
        "grid_networks": 51_141,
        "two_stage_archs": 73_422_328,  # COUNT_CIFAR_2STAGE
        "two_stage_networks": 19_812,
        "two_stage_acceptance": 0.7923945444120234,
        "training_archs": 2_031_321,  # COUNT_CIFAR_CX (2 stages + complexity window)
        "training_networks": 334,
        "training_acceptance": 0.013986496731406419,
    },
    "tinyimagenet": {
        "grid_archs": 278_540_570,
        "grid_networks": 404_003,
        "two_stage_archs": 149_900_534,  # COUNT_TINY_2STAGE
        "two_stage_networks": 38_516,
        "two_stage_acceptance": 0.5163542428576878,
        "training_archs": 149_900_534,  # no complexity window for TinyImageNet
        "training_networks": 38_516,
        "training_acceptance": 0.5163542428576878,
    },
}
"""Exact counts over the full grids (architecture tuples; multiply by 540 for configs), as
computed by :func:`count_space` in ``benchmarks/bench_regnet_space.py`` and re-checked by a slow
test. ``*_acceptance`` is the exact acceptance rate of the constrained sampler."""


@dataclass(frozen=True, slots=True)
class SpaceCounts:
    """Counts over a (sub-)grid of architecture parameters (d, w0, wa, wm, g).

    Attributes:
        dataset: the dataset (fixes the wm range, stem width and classes).
        grid_archs: number of (d, w0, wa, wm, g) tuples in the grid.
        feasible_archs: tuples whose network satisfies the constraints.
        distinct_networks: distinct (stage widths, depths, group widths) among feasible tuples.
        feasible_prior_mass: prior probability that one sampler draw lands on a feasible tuple
            of this grid, i.e. the exact acceptance rate of the constrained sampler (full grid).
    """

    dataset: str
    grid_archs: int
    feasible_archs: int
    distinct_networks: int
    feasible_prior_mass: float

    @property
    def grid_configs(self) -> int:
        """Grid size including the 540 HPO combinations."""
        return self.grid_archs * HPO_COMBINATIONS

    @property
    def feasible_configs(self) -> int:
        """Feasible tuples times the 540 HPO combinations."""
        return self.feasible_archs * HPO_COMBINATIONS

    @property
    def distinct_trainings(self) -> int:
        """Distinct (network, HPO) trainings: distinct networks times 540."""
        return self.distinct_networks * HPO_COMBINATIONS


def _prob_lookup(values: np.ndarray, probs: np.ndarray, wanted: Sequence[int]) -> np.ndarray:
    table = dict(zip(values.tolist(), probs.tolist(), strict=True))
    return np.asarray([table[int(v)] for v in wanted], dtype=np.float64)


def count_space(
    dataset: str = "cifar10",
    constraints: Constraints | None = None,
    *,
    depths: Sequence[int] = DEPTHS,
    w0s: Sequence[int] = W0S,
    wa_tenths: Sequence[int] | None = None,
    wm_thousandths_values: Sequence[int] | None = None,
    group_widths: Sequence[int] = GROUP_WIDTHS,
) -> SpaceCounts:
    """Count the grid and its feasible part exactly (see the module docstring).

    Args:
        dataset: ``"cifar10"`` or ``"tinyimagenet"``.
        constraints: the feasibility rules; None means :meth:`Constraints.none`.
        depths, w0s, wa_tenths, wm_thousandths_values, group_widths: a sub-grid (default: the
            full grid of ``dataset``; wa in 0.1 steps, wm in 0.001 steps).
    """
    cons = Constraints.none() if constraints is None else constraints
    proto = training_protocol(dataset)
    lo, hi = wm_thousandths(dataset)
    wa_v = np.asarray(
        range(WA_TENTHS[0], WA_TENTHS[1] + 1) if wa_tenths is None else wa_tenths, dtype=np.int64
    )
    wm_v = np.asarray(
        range(lo, hi + 1) if wm_thousandths_values is None else wm_thousandths_values,
        dtype=np.int64,
    )
    prior = prior_probabilities(dataset)
    p_d = _prob_lookup(*prior["depth"], depths)
    p_w0 = _prob_lookup(*prior["w0"], w0s)
    p_wa = _prob_lookup(*prior["wa_tenths"], wa_v.tolist())
    p_wm = _prob_lookup(*prior["wm_thousandths"], wm_v.tolist())
    p_g = _prob_lookup(*prior["group_width"], group_widths)
    g_arr = np.asarray(group_widths, dtype=np.int64)

    wa_grid, wm_grid = (a.ravel() for a in np.meshgrid(wa_v, wm_v, indexing="ij"))
    p_plane = np.outer(p_wa, p_wm).ravel()
    feasible = 0
    mass = 0.0
    networks: set[bytes] = set()
    for di, d in enumerate(depths):
        for wi, w0 in enumerate(w0s):
            n = wa_grid.size
            _, ks, wq, _ = quantised_block_widths(
                np.full(n, d), np.full(n, w0), wa_grid / 10, wm_grid / 1000
            )
            key = np.column_stack([wq[:, :d], ks[:, d - 1]])
            _, first, inverse = np.unique(key, axis=0, return_index=True, return_inverse=True)
            inverse = inverse.reshape(-1)
            mult = np.bincount(inverse)
            weight = np.bincount(inverse, weights=p_plane) * p_d[di] * p_w0[wi]
            reps = np.repeat(first, g_arr.size)
            arrays = derive_arrays(
                np.full(reps.size, d),
                np.full(reps.size, w0),
                wa_grid[reps] / 10,
                wm_grid[reps] / 1000,
                np.tile(g_arr, first.size),
                stem_width=proto.stem_width,
                num_classes=proto.num_classes,
                input_size_px=proto.input_size_px,
            )
            ok = cons.feasible(arrays).reshape(first.size, g_arr.size)
            feasible += int((mult[:, None] * ok).sum())
            mass += float((weight[:, None] * p_g[None, :] * ok).sum())
            sig = np.column_stack(
                [arrays.stage_widths, arrays.stage_depths, arrays.stage_group_widths]
            )[ok.reshape(-1)]
            networks.update(row.tobytes() for row in sig)
    grid = len(depths) * len(w0s) * wa_v.size * wm_v.size * g_arr.size
    return SpaceCounts(
        dataset=dataset,
        grid_archs=int(grid),
        feasible_archs=feasible,
        distinct_networks=len(networks),
        feasible_prior_mass=mass,
    )
