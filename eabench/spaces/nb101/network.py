"""Analytic size and cost of the NAS-Bench-101 network built from a cell (numpy only).

The network (NB101 ``model_builder``; Ying et al., ICML 2019): a 3x3 conv-BN-ReLU stem with 128
channels on the 32x32x3 input; 3 stacks of 3 cells; before stacks 2 and 3 a 2x2 max-pool
(stride 2) halves the resolution and the cell output channels double (128, 256, 512); global
average pooling; a dense layer to 10 classes (with bias).

Inside a cell with ``C_in`` input and ``C`` output channels:

- vertex channels: the output concatenates the interior vertices that feed it, so ``C`` is split
  among them as evenly as possible (the first ``C mod k`` of the ``k`` feeders, in vertex order, get
  one extra channel); every other interior vertex gets the maximum over the interior vertices it
  feeds (computed backwards). Tensors between interior vertices are truncated to the receiving
  vertex's channel count (free); tensors out of the input vertex are always projected by a 1x1
  conv-BN-ReLU (``C_in -> vertex channels``); an input -> output edge is a 1x1 projection
  ``C_in -> C`` that is added to the concatenation;
- ops: ``conv3x3-bn-relu`` and ``conv1x1-bn-relu`` map the vertex channels to themselves (convs
  have no bias; batch norm has 2 trainable parameters per channel); ``maxpool3x3`` (stride 1)
  has no parameters.

Trainable parameters count conv weights, BN scale and shift, and the dense weights and bias: this
equals NB101's ``trainable_parameters`` (checked on all 30,001 labelled cells). FLOPs are
multiply-accumulates (MACs) of the convolutions and of the dense layer, for one 32x32 image
(batch norm, ReLU, pooling and additions excluded); ``batchnorm_outputs`` counts the outputs of all
batch-norm layers. The ``flops.npy`` of the NB101 label staging (MACs of a PyTorch NB101 network,
counted with thop-style rules that charge 2 operations per batch-norm output) equals
``flops + 2 * batchnorm_outputs`` (:attr:`NetworkCost.flops_with_batchnorm`) for every cell.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from eabench.spaces.nb101.cell import LABEL_OF_OP, Cell

__all__ = ["NetworkCost", "network_cost", "network_cost_padded", "vertex_channels_padded"]

_CONV3, _CONV1 = LABEL_OF_OP["conv3x3-bn-relu"], LABEL_OF_OP["conv1x1-bn-relu"]
_STEM_CHANNELS = 128
_NUM_STACKS = 3
_CELLS_PER_STACK = 3
_NUM_CLASSES = 10
_IMAGE_SIZE = 32
_IMAGE_CHANNELS = 3


@dataclass(frozen=True, slots=True)
class NetworkCost:
    """Size and cost of the NB101 network of one cell.

    Attributes:
        trainable_parameters: number of trainable parameters (as NB101's field of that name).
        flops: multiply-accumulates for one 32x32x3 image (convolutions and the dense layer).
        batchnorm_outputs: number of batch-norm output values for one image.
    """

    trainable_parameters: int
    flops: int
    batchnorm_outputs: int

    @property
    def flops_with_batchnorm(self) -> int:
        """``flops + 2 * batchnorm_outputs``: the convention of thop-style counters."""
        return self.flops + 2 * self.batchnorm_outputs


def vertex_channels_padded(matrices: np.ndarray, channels: int) -> np.ndarray:
    """Channels of the interior vertices of padded cells; ``(n, 7)`` int64, 0 elsewhere.

    Only the interior columns 1..5 are filled (input and output channels depend on the stack).
    """
    a = np.asarray(matrices).astype(bool)
    n, v = a.shape[0], a.shape[1]
    out = v - 1
    feeds = a[:, 1:out, out]
    k = feeds.sum(axis=1)
    safe_k = np.maximum(k, 1)
    base = channels // safe_k
    extra = channels % safe_k
    rank = np.cumsum(feeds, axis=1)  # 1-based position among the feeders
    vc = np.zeros((n, v), dtype=np.int64)
    vc[:, 1:out] = np.where(feeds, base[:, None] + (rank <= extra[:, None]), 0)
    for t in range(out - 1, 0, -1):
        succ = np.where(a[:, t, t + 1 : out], vc[:, t + 1 : out], 0)
        later = succ.max(axis=1) if succ.shape[1] else np.zeros(n, dtype=np.int64)
        vc[:, t] = np.where(feeds[:, t - 1], vc[:, t], later)
    return vc


def network_cost_padded(
    matrices: np.ndarray, labels: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vectorised cost of cells in padded form (``(n, 7, 7)``, ``(n, 7)``).

    Returns ``(trainable_parameters, flops, batchnorm_outputs)``, int64 arrays of shape ``(n,)``
    (see :class:`NetworkCost`). The vertex order matters for the parameter count (which output
    feeder gets the extra channel): use NB101's representative, i.e. the canonical padded form.
    """
    a = np.asarray(matrices).astype(bool)
    lab = np.asarray(labels)
    n, v = a.shape[0], a.shape[1]
    out = v - 1
    interior = slice(1, out)
    conv3 = lab[:, interior] == _CONV3
    conv1 = lab[:, interior] == _CONV1
    proj_in = a[:, 0, interior]
    direct = a[:, 0, out]
    stem_c = _STEM_CHANNELS
    params = np.full(n, 9 * _IMAGE_CHANNELS * stem_c + 2 * stem_c, dtype=np.int64)
    hw = _IMAGE_SIZE * _IMAGE_SIZE
    flops = np.full(n, hw * 9 * _IMAGE_CHANNELS * stem_c, dtype=np.int64)
    bn_outputs = np.full(n, hw * stem_c, dtype=np.int64)
    c_in = stem_c
    for stack in range(_NUM_STACKS):
        c = stem_c * 2**stack
        if stack > 0:
            hw //= 4
        vc_by_cin: dict[int, np.ndarray] = {}
        for _ in range(_CELLS_PER_STACK):
            if c not in vc_by_cin:
                vc_by_cin[c] = vertex_channels_padded(a, c)[:, interior]
            vc = vc_by_cin[c]
            op_w = np.where(conv3, 9 * vc * vc, 0) + np.where(conv1, vc * vc, 0)
            proj_w = np.where(proj_in, c_in * vc, 0)
            bn_channels = (vc * (conv3 | conv1) + vc * proj_in).sum(axis=1) + np.where(direct, c, 0)
            weights = (op_w + proj_w).sum(axis=1) + np.where(direct, c_in * c, 0)
            params += weights + 2 * bn_channels
            flops += hw * weights
            bn_outputs += hw * bn_channels
            c_in = c
    params += c_in * _NUM_CLASSES + _NUM_CLASSES
    flops += c_in * _NUM_CLASSES
    return params, flops, bn_outputs


def network_cost(config: Cell | Mapping[str, Any] | Sequence[Cell | Mapping[str, Any]]) -> Any:
    """:class:`NetworkCost` of one cell, or a list of them for a sequence of cells."""
    from eabench.spaces.nb101.space import padded_arrays

    cells: list[Cell | Mapping[str, Any]]
    if isinstance(config, (Cell, Mapping)):
        single, cells = True, [config]
    else:
        single, cells = False, list(config)
    mats, labs = padded_arrays(cells)
    params, flops, bn = network_cost_padded(mats, labs)
    costs = [
        NetworkCost(int(p), int(f), int(b))
        for p, f, b in zip(params.tolist(), flops.tolist(), bn.tolist(), strict=True)
    ]
    return costs[0] if single else costs
