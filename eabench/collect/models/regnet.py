"""The EA-HAS-Bench RegNet in PyTorch (pycls ``AnyNet`` with ``res_bottleneck_block``).

Built from the stages that :func:`eabench.spaces.regnet_hpo.derive_network` derives, so the
module structure and the analytic complexity cannot drift apart:

- stem: 3x3 conv (stride 1, no bias) + BN + ReLU, width 16 (CIFAR-10) or 32 (TinyImageNet);
- per stage: ``depth`` residual bottleneck blocks; the first has stride 2 and a 1x1 strided
  projection + BN on the shortcut (pycls adds it whenever width or stride changes); each block is
  1x1 conv-BN-ReLU, 3x3 grouped conv (stride s, ``width // group_width`` groups)-BN-ReLU,
  squeeze-excitation (global pool, 1x1 conv with bias to ``round(0.25 * w_in)``, ReLU, 1x1 conv with
  bias back, sigmoid, channel scaling), 1x1 conv-BN, then residual add and ReLU;
- head: global average pool and a linear layer with bias.

Initialisation as pycls ``init_weights``: conv weights N(0, sqrt(2 / fan_out)) with
``fan_out = k * k * out_channels / groups``, BN scale 1 and shift 0, linear weights N(0, 0.01) and
bias 0. BN: eps 1e-5, momentum 0.1 (pycls defaults).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from eabench.spaces.regnet_hpo import RegNetHPOConfig, RegNetNetwork, derive_network

__all__ = ["RegNet", "ResBottleneckBlock", "build_regnet", "init_weights"]

_BN_EPS = 1e-5
_BN_MOMENTUM = 0.1


def _conv(w_in: int, w_out: int, k: int, *, stride: int = 1, groups: int = 1) -> nn.Conv2d:
    return nn.Conv2d(w_in, w_out, k, stride=stride, padding=(k - 1) // 2, groups=groups, bias=False)


def _bn(w: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(w, eps=_BN_EPS, momentum=_BN_MOMENTUM)


class SE(nn.Module):
    """Squeeze-and-excitation: ``x * sigmoid(W2 relu(W1 avgpool(x)))``."""

    def __init__(self, w_in: int, w_se: int) -> None:
        super().__init__()
        self.avg_pool = nn.AdaptiveAvgPool2d((1, 1))
        self.f_ex = nn.Sequential(
            nn.Conv2d(w_in, w_se, 1, bias=True),
            nn.ReLU(inplace=True),
            nn.Conv2d(w_se, w_in, 1, bias=True),
            nn.Sigmoid(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = x * self.f_ex(self.avg_pool(x))
        return out


class ResBottleneckBlock(nn.Module):
    """Residual bottleneck block with groups and SE (bottleneck multiplier 1)."""

    def __init__(self, w_in: int, w_out: int, stride: int, group_width: int, se_ratio: float):
        super().__init__()
        self.proj: nn.Module | None = None
        self.bn: nn.Module | None = None
        if w_in != w_out or stride != 1:
            self.proj = _conv(w_in, w_out, 1, stride=stride)
            self.bn = _bn(w_out)
        w_b = w_out
        w_se = round(w_in * se_ratio)
        self.a = _conv(w_in, w_b, 1)
        self.a_bn = _bn(w_b)
        self.a_af = nn.ReLU(inplace=True)
        self.b = _conv(w_b, w_b, 3, stride=stride, groups=w_b // group_width)
        self.b_bn = _bn(w_b)
        self.b_af = nn.ReLU(inplace=True)
        self.se = SE(w_b, w_se) if w_se else None
        self.c = _conv(w_b, w_out, 1)
        self.c_bn = _bn(w_out)
        self.af = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.b_af(self.b_bn(self.b(self.a_af(self.a_bn(self.a(x))))))
        if self.se is not None:
            f = self.se(f)
        f = self.c_bn(self.c(f))
        shortcut = x if self.proj is None or self.bn is None else self.bn(self.proj(x))
        out: torch.Tensor = self.af(shortcut + f)
        return out


class RegNet(nn.Module):
    """The network of a derived :class:`RegNetNetwork` (stem, stages, head)."""

    def __init__(self, network: RegNetNetwork, *, se_ratio: float = 0.25) -> None:
        super().__init__()
        self.network = network
        w = network.stem_width
        self.stem = nn.Sequential(_conv(3, w, 3), _bn(w), nn.ReLU(inplace=True))
        stages = []
        for stage in network.stages:
            blocks = []
            for i in range(stage.depth):
                stride = stage.stride if i == 0 else 1
                blocks.append(
                    ResBottleneckBlock(w, stage.width, stride, stage.group_width, se_ratio)
                )
                w = stage.width
            stages.append(nn.Sequential(*blocks))
        self.stages = nn.Sequential(*stages)
        self.avg_pool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(w, network.num_classes, bias=True)
        self.apply(init_weights)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.avg_pool(self.stages(self.stem(x)))
        out: torch.Tensor = self.fc(torch.flatten(x, 1))
        return out


def init_weights(m: nn.Module) -> None:
    """pycls initialisation (see the module docstring); a no-op on the ``meta`` device."""
    weight = getattr(m, "weight", None)
    if isinstance(weight, torch.Tensor) and weight.is_meta:
        return
    if isinstance(m, nn.Conv2d):
        k0, k1 = m.kernel_size
        fan_out = k0 * k1 * m.out_channels / m.groups
        m.weight.data.normal_(mean=0.0, std=math.sqrt(2.0 / fan_out))
        if m.bias is not None:
            m.bias.data.zero_()
    elif isinstance(m, nn.BatchNorm2d):
        m.weight.data.fill_(1.0)
        m.bias.data.zero_()
    elif isinstance(m, nn.Linear):
        m.weight.data.normal_(mean=0.0, std=0.01)
        m.bias.data.zero_()


def build_regnet(config: RegNetHPOConfig) -> RegNet:
    """The RegNet that ``config`` trains (stem width and classes from its dataset).

    Build under ``torch.device("meta")`` to inspect shapes or count parameters without memory.
    """
    return RegNet(derive_network(config))
