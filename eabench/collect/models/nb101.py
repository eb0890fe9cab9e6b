"""The NAS-Bench-101 network in PyTorch, built from a 7V :class:`~eabench.spaces.nb101.Cell`.

Re-implements the network of NAS-Bench-101 (Ying et al., ICML 2019; ``model_builder.py`` and
``base_ops.py`` of google-research/nasbench, described in the paper's appendix):

- the cell is pruned first (vertices on no input-to-output path are dropped; that is the network
  NB101 built and counted);
- stem: 3x3 conv-BN-ReLU to 128 channels; 3 stacks of 3 cells; before stacks 2 and 3 a 2x2
  max-pool with stride 2 and the channel count doubles (128, 256, 512); global average pool and a
  linear layer with bias to 10 classes;
- inside a cell the output channels are split over the vertices that feed the output
  (``compute_vertex_channels``: equal shares, the remainder to the first ones; other vertices take
  the largest channel count of their successors); an edge from the cell input is a 1x1
  conv-BN-ReLU projection to the target vertex's channels, an edge between interior vertices
  truncates channels when needed; inputs of a vertex are summed; the output concatenates the
  vertices that feed it and adds a projection of the cell input if there is an input->output
  edge (or is only that projection when no interior vertex feeds the output);
- ops: conv3x3/conv1x1 = conv (no bias)-BN-ReLU keeping the vertex's channels; maxpool3x3 =
  3x3 max-pool, stride 1, same padding;
- BN as NB101's TensorFlow batch norm: momentum 0.997 (torch ``momentum=0.003``), eps 1e-5.

The trainable parameter count equals NB101's ``trainable_parameters`` (checked on 1,000 labelled
cells in ``tests/collect/test_models.py``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from eabench.spaces.nb101 import Cell

__all__ = ["NB101Cell", "NB101Network", "build_nb101", "compute_vertex_channels"]

_BN_MOMENTUM = 0.003
_BN_EPS = 1e-5


def compute_vertex_channels(in_channels: int, out_channels: int, matrix: np.ndarray) -> list[int]:
    """Channels of every vertex of a pruned cell (NB101's rule, see the module docstring)."""
    n = matrix.shape[0]
    channels = [0] * n
    channels[0] = in_channels
    channels[n - 1] = out_channels
    if n == 2:
        return channels
    in_degree = matrix[1:].sum(axis=0)
    interior = out_channels // int(in_degree[n - 1])
    correction = out_channels % int(in_degree[n - 1])
    for v in range(1, n - 1):
        if matrix[v, n - 1]:
            channels[v] = interior
            if correction:
                channels[v] += 1
                correction -= 1
    for v in range(n - 3, 0, -1):
        if not matrix[v, n - 1]:
            for dst in range(v + 1, n - 1):
                if matrix[v, dst]:
                    channels[v] = max(channels[v], channels[dst])
    return channels


class _ConvBnRelu(nn.Sequential):
    def __init__(self, c_in: int, c_out: int, k: int) -> None:
        super().__init__(
            nn.Conv2d(c_in, c_out, k, padding=k // 2, bias=False),
            nn.BatchNorm2d(c_out, momentum=_BN_MOMENTUM, eps=_BN_EPS),
            nn.ReLU(inplace=False),
        )


def _op(name: str, channels: int) -> nn.Module:
    if name == "conv3x3-bn-relu":
        return _ConvBnRelu(channels, channels, 3)
    if name == "conv1x1-bn-relu":
        return _ConvBnRelu(channels, channels, 1)
    return nn.MaxPool2d(3, stride=1, padding=1)


class NB101Cell(nn.Module):
    """One cell (module) of the network for a pruned ``(matrix, ops)``."""

    def __init__(
        self, matrix: np.ndarray, ops: tuple[str, ...], in_channels: int, out_channels: int
    ):
        super().__init__()
        self.matrix = matrix
        n = matrix.shape[0]
        self.channels = compute_vertex_channels(in_channels, out_channels, matrix)
        self.vertex_ops = nn.ModuleDict(
            {str(t): _op(ops[t], self.channels[t]) for t in range(1, n - 1)}
        )
        self.input_proj = nn.ModuleDict(
            {
                str(t): _ConvBnRelu(in_channels, self.channels[t], 1)
                for t in range(1, n)
                if matrix[0, t]
            }
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = self.matrix.shape[0]
        tensors: list[torch.Tensor] = [x]
        concat: list[torch.Tensor] = []
        for t in range(1, n - 1):
            c = self.channels[t]
            add_in = [tensors[s][:, :c] for s in range(1, t) if self.matrix[s, t]]
            if self.matrix[0, t]:
                add_in.append(self.input_proj[str(t)](x))
            v = add_in[0]
            for other in add_in[1:]:
                v = v + other
            tensors.append(self.vertex_ops[str(t)](v))
            if self.matrix[t, n - 1]:
                concat.append(tensors[t])
        if not concat:
            out: torch.Tensor = self.input_proj[str(n - 1)](x)
            return out
        out = concat[0] if len(concat) == 1 else torch.cat(concat, dim=1)
        if self.matrix[0, n - 1]:
            out = out + self.input_proj[str(n - 1)](x)
        return out


class NB101Network(nn.Module):
    """The NAS-Bench-101 CIFAR-10 network of one cell."""

    def __init__(
        self,
        cell: Cell,
        *,
        stem_channels: int = 128,
        num_stacks: int = 3,
        cells_per_stack: int = 3,
        num_classes: int = 10,
    ) -> None:
        super().__init__()
        pruned = cell.pruned()
        matrix = pruned.matrix_array().astype(np.int64)
        layers: list[nn.Module] = [_ConvBnRelu(3, stem_channels, 3)]
        channels = stem_channels
        for stack in range(num_stacks):
            c_in = channels
            if stack > 0:
                layers.append(nn.MaxPool2d(2, stride=2))
                channels *= 2
            for _ in range(cells_per_stack):
                layers.append(NB101Cell(matrix, pruned.ops, c_in, channels))
                c_in = channels
        self.features = nn.Sequential(*layers)
        self.avg_pool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(channels, num_classes, bias=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.fc(torch.flatten(self.avg_pool(self.features(x)), 1))
        return out


def build_nb101(cell: Cell | Any, **kwargs: Any) -> NB101Network:
    """The NB101 network of ``cell`` (a :class:`Cell` or a ``{"matrix", "ops"}`` dict)."""
    return NB101Network(Cell.coerce(cell), **kwargs)
