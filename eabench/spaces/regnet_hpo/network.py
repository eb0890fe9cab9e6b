"""The network a RegNet x HPO config trains, derived with numpy only (pycls rules, vectorised).

From (d, w0, wa, wm, g) to a network (``reference/ea-has-bench.md`` 1.3, pycls ``generate_regnet``,
``adjust_block_compatibility`` and the ``complexity`` methods of ``AnyNet``):

1. continuous per-block widths ``u_j = w0 + wa * j`` for ``j = 0 .. d-1``;
2. ``s_j = round(log(u_j / w0) / log(wm))``; quantised width ``w_j = round(w0 * wm**s_j / 8) * 8``;
3. stages are the runs of equal ``w_j``; the number of stages is the number of distinct widths,
   and the "total" stage count is ``max(s_j) + 1`` (a stage is missing when the two differ);
4. per stage the group width is ``min(g, w)`` and the width is rounded to a multiple of it
   (``max(g, round(w / g) * g)``; bottleneck multiplier 1, so inner width = stage width);
5. every stage starts with a stride-2 residual bottleneck block (1x1, grouped 3x3, SE, 1x1), the
   SE width is ``round(0.25 * w_in)`` of the block's input width; a 3x3 stride-1 stem of width 16
   (CIFAR-10) or 32 (TinyImageNet); head = global average pool + linear with bias.

Complexity follows pycls: ``flops`` counts multiply-adds of convs and linears plus one add per
bias element, ``params`` counts conv/linear weights and biases and BN scale+shift (2 per channel),
``acts`` is the total size of conv/linear outputs; all for one 32x32 image. Rounding is numpy's
round-half-to-even, like Python's ``round`` used by pycls.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np

from eabench.spaces.regnet_hpo.config import RegNetHPOConfig, training_protocol

__all__ = [
    "MAX_DEPTH",
    "Complexity",
    "NetworkArrays",
    "RegNetNetwork",
    "Stage",
    "block_complexity",
    "derive_arrays",
    "derive_network",
    "quantised_block_widths",
]

MAX_DEPTH: Final[int] = 15
_Q: Final[int] = 8


@dataclass(frozen=True, slots=True)
class Stage:
    """One stage: ``depth`` blocks of ``width`` channels, grouped 3x3 convs of ``group_width``."""

    width: int
    depth: int
    group_width: int
    stride: int = 2

    @property
    def groups(self) -> int:
        """Number of groups of the 3x3 convs (``width // group_width``)."""
        return self.width // self.group_width


@dataclass(frozen=True, slots=True)
class Complexity:
    """pycls complexity of a network on one 32x32 image.

    Attributes:
        flops: multiply-adds of convs and linears plus bias adds.
        params: trainable parameters (conv/linear weights and biases, BN scale and shift).
        acts: number of conv/linear output elements.
    """

    flops: int
    params: int
    acts: int


@dataclass(frozen=True, slots=True)
class RegNetNetwork:
    """The network behind a config, with the intermediate quantities of the derivation.

    Attributes:
        widths_continuous: ``u_j`` per block (channels, float).
        block_stage_index: ``s_j`` per block (the quantisation exponent).
        widths_quantised: ``w_j`` per block before group-width rounding (channels).
        stages: the stages after group-width rounding.
        total_stages: ``max(s_j) + 1``; equal to ``len(stages)`` unless a stage is missing.
        stem_width: stem output channels; num_classes: classifier outputs.
        complexity: analytic FLOPs, params and activations at 32x32.
    """

    widths_continuous: tuple[float, ...]
    block_stage_index: tuple[int, ...]
    widths_quantised: tuple[int, ...]
    stages: tuple[Stage, ...]
    total_stages: int
    stem_width: int
    num_classes: int
    complexity: Complexity

    @property
    def num_stages(self) -> int:
        """Number of stages (distinct quantised widths)."""
        return len(self.stages)

    def key(self) -> tuple[tuple[int, int, int], ...]:
        """The trained network as ``((width, depth, group_width), ...)`` per stage."""
        return tuple((s.width, s.depth, s.group_width) for s in self.stages)


@dataclass(frozen=True, slots=True)
class NetworkArrays:
    """Struct of arrays for ``n`` derived networks; stage arrays are zero-padded to MAX_DEPTH.

    Attributes:
        num_stages, total_stages: ``(n,)`` int64.
        stage_widths, stage_depths, stage_group_widths: ``(n, MAX_DEPTH)`` int64.
        flops, params, acts: ``(n,)`` int64 (see :class:`Complexity`).
    """

    num_stages: np.ndarray
    total_stages: np.ndarray
    stage_widths: np.ndarray
    stage_depths: np.ndarray
    stage_group_widths: np.ndarray
    flops: np.ndarray
    params: np.ndarray
    acts: np.ndarray


def quantised_block_widths(
    depth: np.ndarray, w0: np.ndarray, wa: np.ndarray, wm: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Steps 1-2 for ``n`` configs: ``(u, s, w, valid)``, each ``(n, MAX_DEPTH)``.

    ``valid[i, j]`` is ``j < depth[i]``; ``w`` is 0 where not valid. Same float operations, in
    the same order, as pycls ``generate_regnet``.
    """
    d = np.asarray(depth, dtype=np.int64).reshape(-1)
    w0a = np.asarray(w0, dtype=np.int64).reshape(-1)
    waa = np.asarray(wa, dtype=np.float64).reshape(-1)
    wma = np.asarray(wm, dtype=np.float64).reshape(-1)
    j = np.arange(MAX_DEPTH)
    valid = j[None, :] < d[:, None]
    u = j[None, :] * waa[:, None] + w0a[:, None]
    ks = np.round(np.log(u / w0a[:, None]) / np.log(wma[:, None]))
    w = np.round(np.divide(w0a[:, None] * np.power(wma[:, None], ks), _Q)).astype(np.int64) * _Q
    return u, ks.astype(np.int64), np.where(valid, w, 0), valid


def block_complexity(
    w_in: np.ndarray,
    w_out: np.ndarray,
    group_width: np.ndarray,
    stride: np.ndarray,
    h_in: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """pycls ``ResBottleneckBlock.complexity`` (bottleneck 1, SE 0.25), elementwise.

    Returns ``(flops, params, acts, h_out)`` as int64 arrays.
    """
    h_out = (h_in - 1) // stride + 1
    hw_in, hw_out = h_in * h_in, h_out * h_out
    wb = w_out
    w_se = np.round(w_in * 0.25).astype(np.int64)
    groups = wb // group_width
    proj = (w_in != w_out) | (stride != 1)
    flops = (
        proj * (w_in * w_out * hw_out)
        + w_in * wb * hw_in
        + (9 * wb * wb * hw_out) // groups
        + (wb * w_se + w_se)
        + (w_se * wb + wb)
        + wb * w_out * hw_out
    )
    params = (
        proj * (w_in * w_out + 2 * w_out)
        + (w_in * wb + 2 * wb)
        + ((9 * wb * wb) // groups + 2 * wb)
        + (wb * w_se + w_se)
        + (w_se * wb + wb)
        + (wb * w_out + 2 * w_out)
    )
    acts = proj * (w_out * hw_out) + wb * hw_in + wb * hw_out + w_se + wb + w_out * hw_out
    return flops, params, acts, h_out


def derive_arrays(
    depth: np.ndarray,
    w0: np.ndarray,
    wa: np.ndarray,
    wm: np.ndarray,
    group_width: np.ndarray,
    *,
    stem_width: int,
    num_classes: int,
    input_size_px: int = 32,
) -> NetworkArrays:
    """Derive ``n`` networks at once (all inputs broadcast to shape ``(n,)``)."""
    d, w0a, waa, wma, ga = np.broadcast_arrays(
        np.asarray(depth), np.asarray(w0), np.asarray(wa), np.asarray(wm), np.asarray(group_width)
    )
    _, ks, wq, valid = quantised_block_widths(d, w0a, waa, wma)
    n = wq.shape[0]
    g = np.asarray(ga, dtype=np.int64).reshape(-1)
    rows = np.arange(n)
    first = np.zeros_like(valid)
    first[:, 0] = True
    new_stage = valid & (first | (wq != np.roll(wq, 1, axis=1)))
    stage_index = np.cumsum(new_stage, axis=1) - 1
    g_eff = np.minimum(g[:, None], np.maximum(wq, 1))
    w_adj = np.maximum(g_eff, np.round(wq / g_eff).astype(np.int64) * g_eff)

    stem = np.int64(stem_width)
    hw = input_size_px * input_size_px
    flops = np.full(n, 27 * stem * hw, dtype=np.int64)
    params = np.full(n, 27 * stem + 2 * stem, dtype=np.int64)
    acts = np.full(n, stem * hw, dtype=np.int64)
    w_in = np.full(n, stem, dtype=np.int64)
    h = np.full(n, input_size_px, dtype=np.int64)
    widths = np.zeros((n, MAX_DEPTH), dtype=np.int64)
    depths = np.zeros((n, MAX_DEPTH), dtype=np.int64)
    gws = np.zeros((n, MAX_DEPTH), dtype=np.int64)
    for j in range(MAX_DEPTH):
        m = valid[:, j]
        if not m.any():
            break
        stride = np.where(new_stage[:, j], 2, 1)
        f, p, a, h_out = block_complexity(w_in, w_adj[:, j], g_eff[:, j], stride, h)
        flops += np.where(m, f, 0)
        params += np.where(m, p, 0)
        acts += np.where(m, a, 0)
        h = np.where(m, h_out, h)
        w_in = np.where(m, w_adj[:, j], w_in)
        k = np.where(m, stage_index[:, j], 0)
        widths[rows, k] = np.where(m, w_adj[:, j], widths[rows, k])
        gws[rows, k] = np.where(m, g_eff[:, j], gws[rows, k])
        depths[rows, k] += m
    flops += w_in * num_classes + num_classes
    params += w_in * num_classes + num_classes
    acts += num_classes
    return NetworkArrays(
        num_stages=new_stage.sum(axis=1).astype(np.int64),
        total_stages=ks[rows, d.reshape(-1) - 1] + 1,
        stage_widths=widths,
        stage_depths=depths,
        stage_group_widths=gws,
        flops=flops,
        params=params,
        acts=acts,
    )


def derive_network(config: RegNetHPOConfig) -> RegNetNetwork:
    """The network that ``config`` trains (its dataset fixes stem width and class count)."""
    proto = training_protocol(config.dataset)
    arrays = derive_arrays(
        np.array([config.depth]),
        np.array([config.w0]),
        np.array([config.wa]),
        np.array([config.wm]),
        np.array([config.group_width]),
        stem_width=proto.stem_width,
        num_classes=proto.num_classes,
        input_size_px=proto.input_size_px,
    )
    u, ks, wq, _ = quantised_block_widths(
        np.array([config.depth]),
        np.array([config.w0]),
        np.array([config.wa]),
        np.array([config.wm]),
    )
    d = config.depth
    ns = int(arrays.num_stages[0])
    stages = tuple(
        Stage(
            width=int(arrays.stage_widths[0, k]),
            depth=int(arrays.stage_depths[0, k]),
            group_width=int(arrays.stage_group_widths[0, k]),
        )
        for k in range(ns)
    )
    return RegNetNetwork(
        widths_continuous=tuple(float(x) for x in u[0, :d]),
        block_stage_index=tuple(int(x) for x in ks[0, :d]),
        widths_quantised=tuple(int(x) for x in wq[0, :d]),
        stages=stages,
        total_stages=int(arrays.total_stages[0]),
        stem_width=proto.stem_width,
        num_classes=proto.num_classes,
        complexity=Complexity(
            flops=int(arrays.flops[0]), params=int(arrays.params[0]), acts=int(arrays.acts[0])
        ),
    )
