"""The nb101-7v energy head: an additive work model times a GBDT residual, in numpy.

Training energy of a fixed-schedule run is close to a sum over the network's layers of what each
layer costs (its multiply-accumulates, the activation memory it reads and writes, a per-kernel
overhead). :func:`work_terms` computes those additive terms per stack of the NB101 network (3
stacks of 3 cells, resolutions 32/16/8); a non-negative least-squares fit of the measured energy on
``[1, work terms]`` (:func:`fit_additive`) is the physical part, and gradient-boosted trees on
``log(energy / additive)`` learn what it misses (kernel efficiency, channel alignment, fusion):

    E = additive(cell) * mean_k exp(tree_k(energy_features(cell)))

Chosen by 5-fold cross-validation on the 3,448 non-test seed-42 rows (never the test rows;
``benchmarks/select_energy_7v.py``, results in ``benchmarks/results/energy_selection_7v.json``).
Weights are stored under the ``energy`` prefix: ``energy.additive_scale``,
``energy.additive_coef`` and one tree ensemble ``energy{k}`` per member.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from eabench.errors import ArtifactError, DatasetError
from eabench.surrogates.nb101_features import (
    FEATURE_NAMES,
    cell_features,
    to_output_at_6,
    vertex_channels,
)
from eabench.surrogates.trees import TreeEnsemble

__all__ = [
    "ENERGY_FEATURE_NAMES",
    "WORK_TERM_NAMES",
    "EnergyHead",
    "energy_features",
    "fit_additive",
    "work_terms",
]

_PER_STACK = (
    "macs_conv3x3",
    "macs_conv1x1",
    "macs_proj",
    "act_interior",
    "act_maxpool",
    "act_sum_inputs",
    "act_concat",
    "n_conv3x3",
    "n_conv1x1",
    "n_proj",
    "n_maxpool",
    "n_sum_inputs",
    "n_unaligned_channels",
)
WORK_TERM_NAMES: tuple[str, ...] = tuple(f"stack{s}_{k}" for s in range(3) for k in _PER_STACK)
ENERGY_FEATURE_NAMES: tuple[str, ...] = (
    *FEATURE_NAMES,
    *(f"log1p_{k}" for k in WORK_TERM_NAMES),
)
_MIN_ADDITIVE_WH = 1e-6


def work_terms(encoded: np.ndarray) -> np.ndarray:
    """Additive work of the NB101 network per stack, ``(n, len(WORK_TERM_NAMES))`` float64.

    Per stack (3 cells at one resolution): multiply-accumulates of 3x3 convs, 1x1 convs and 1x1
    input projections on one 32x32 image; activation elements written by interior vertices,
    passing through max-pool vertices, summed at vertices with several inputs, and concatenated
    at the cell output (cells with several output inputs); counts of those layers; and the number
    of interior vertices whose channel count is not a multiple of 8 (tensor-core alignment).
    """
    a6, onehot = to_output_at_6(encoded)
    n = a6.shape[0]
    conv3, conv1, pool = onehot[:, 1:6, 0], onehot[:, 1:6, 1], onehot[:, 1:6, 2]
    multi_in = (a6[:, :6, 1:6].sum(axis=1) > 1).astype(np.float64)
    concat = (a6[:, 1:6, 6].sum(axis=1) > 1).astype(np.float64)
    a0 = a6[:, 0, 1:6]
    cols: list[np.ndarray] = []
    c_prev = 128
    for stack, c in enumerate((128, 256, 512)):
        hw = float((32 >> stack) ** 2)
        acc = np.zeros((n, len(_PER_STACK)))
        for cell in range(3):
            c_in = c_prev if cell == 0 else c
            ch = vertex_channels(a6, c_in, c).astype(np.float64)[:, 1:6]
            proj = (a0 * c_in * ch).sum(1) + a6[:, 0, 6] * c_in * c
            acc += np.column_stack(
                [
                    hw * 9 * (conv3 * ch**2).sum(1),
                    hw * (conv1 * ch**2).sum(1),
                    hw * proj,
                    hw * ch.sum(1),
                    hw * (pool * ch).sum(1),
                    hw * (multi_in * ch).sum(1),
                    hw * c * concat,
                    conv3.sum(1),
                    conv1.sum(1),
                    a0.sum(1) + a6[:, 0, 6],
                    pool.sum(1),
                    (multi_in * (conv3 + conv1 + pool)).sum(1),
                    ((ch % 8 != 0) & (ch > 0)).sum(1),
                ]
            )
        cols.append(acc)
        c_prev = c
    return np.concatenate(cols, axis=1)


def energy_features(
    encoded: np.ndarray, base: np.ndarray | None = None, work: np.ndarray | None = None
) -> np.ndarray:
    """``(n, len(ENERGY_FEATURE_NAMES))``: :func:`cell_features` plus ``log1p`` work terms.

    ``base`` / ``work``: the cells' :func:`cell_features` / :func:`work_terms`, when the caller
    has them already.
    """
    first = cell_features(encoded) if base is None else base
    second = work_terms(encoded) if work is None else work
    return np.concatenate([first, np.log1p(second)], axis=1)


def _design(work: np.ndarray) -> np.ndarray:
    return np.column_stack([np.ones(work.shape[0]), work])


def fit_additive(work: np.ndarray, energy_wh: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Non-negative least squares of ``energy_wh`` on ``[1, work]``: ``(scale, coef)``.

    Columns are divided by ``scale`` (their sd; 1 for the intercept) before the fit, so
    ``prediction = ([1, work] / scale) @ coef``; every coefficient is >= 0, so the additive part
    never decreases when a cell does more work.

    Raises:
        DatasetError: shapes disagree, or an energy is not finite and positive.
    """
    from scipy.optimize import nnls

    y = np.asarray(energy_wh, np.float64)
    work = np.asarray(work, np.float64)
    if work.ndim != 2 or work.shape[0] != y.size:
        raise DatasetError.for_field("work", work.shape, f"need ({y.size}, k) rows per energy")
    if not np.all(np.isfinite(work)):
        raise DatasetError.for_field("work", "values", "must be finite")
    if not np.all(np.isfinite(y) & (y > 0)):
        raise DatasetError.for_field("energy_wh", "values", "must be finite and > 0")
    design = _design(work)
    scale = design.std(axis=0)
    scale[0] = 1.0
    scale[scale == 0] = 1.0
    coef, _ = nnls(design / scale, y)
    return scale, coef


@dataclass(frozen=True, slots=True)
class EnergyHead:
    """Additive work model times the mean of ``exp`` of each residual tree ensemble."""

    additive_scale: np.ndarray
    additive_coef: np.ndarray
    residual: tuple[TreeEnsemble, ...]

    def additive_wh(self, work: np.ndarray) -> np.ndarray:
        """The additive part (Wh), floored at 1e-6 Wh."""
        out: np.ndarray = np.maximum(
            (_design(work) / self.additive_scale) @ self.additive_coef, _MIN_ADDITIVE_WH
        )
        return out

    def members_wh(self, encoded: np.ndarray, base: np.ndarray | None = None) -> np.ndarray:
        """``(members, n)`` predicted 4-epoch energy (Wh, as the training labels) per member.

        ``base``: the cells' :func:`cell_features`, when the caller has them already.
        """
        work = work_terms(encoded)
        x = energy_features(encoded, base=base, work=work)
        additive = self.additive_wh(work)
        return np.stack([additive * np.exp(m.predict(x)) for m in self.residual])

    def to_arrays(self) -> dict[str, np.ndarray]:
        out = {
            "energy.additive_scale": self.additive_scale,
            "energy.additive_coef": self.additive_coef,
        }
        for k, tree in enumerate(self.residual):
            out.update(tree.to_arrays(f"energy{k}"))
        return out

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], members: int) -> EnergyHead:
        """Rebuild from :meth:`to_arrays` output.

        Raises:
            ArtifactError: fewer than 1 member, the additive arrays are missing or do not match
                the work terms, or a tree splits on a feature beyond ``ENERGY_FEATURE_NAMES``.
        """
        if members < 1:
            raise ArtifactError.for_field("energy_members", members, "must be >= 1")
        want = len(WORK_TERM_NAMES) + 1
        scale = arrays.get("energy.additive_scale")
        coef = arrays.get("energy.additive_coef")
        if scale is None or coef is None or scale.shape != (want,) or coef.shape != (want,):
            raise ArtifactError.for_field(
                "energy.additive_coef",
                None if coef is None else coef.shape,
                f"need energy.additive_scale and energy.additive_coef of shape ({want},)",
            )
        trees = tuple(TreeEnsemble.from_arrays(dict(arrays), f"energy{k}") for k in range(members))
        for k, tree in enumerate(trees):
            top = int(tree.feature.max(initial=0))
            if top >= len(ENERGY_FEATURE_NAMES):
                raise ArtifactError.for_field(
                    f"energy{k}.feature",
                    top,
                    f"must index the {len(ENERGY_FEATURE_NAMES)} ENERGY_FEATURE_NAMES",
                )
        return cls(np.asarray(scale, np.float64), np.asarray(coef, np.float64), trees)
