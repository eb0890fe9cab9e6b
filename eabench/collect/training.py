"""Optimisers, LR schedules, label smoothing, Cutout and weight EMA of the RegNet x HPO protocol.

The settings are those EA-HAS-Bench fixed (``reference/ea-has-bench.md`` 1.2, pycls
``core/optimizer.py`` and ``core/net.py``), read from a
:class:`~eabench.spaces.regnet_hpo.TrainingProtocol`. Decisions where the original is silent or
broken (``docs/spaces/regnet-hpo.md`` lists them):

- **LR**: :func:`epoch_lr` is pycls' per-epoch rule (cos / lin to ``min_lr_ratio * base_lr``;
  exp ``base_lr * min_lr_ratio ** (e / T)``; times the linear warm-up factor ``0.1 -> 1`` over the
  first 5 epochs). It accepts a fractional epoch so a trainer may also update per iteration;
  pycls itself updates once per epoch (integer epochs).
- **Weight decay**: 5e-4 on every parameter except BatchNorm scale and shift (0); Adam gets it as
  coupled L2 (``torch.optim.Adam(weight_decay=...)``), AdamW decoupled, SGD as L2 with Nesterov
  momentum 0.9 (as pycls' ``construct_optimizer``).
- **Cutout** is missing from the public EA-HAS-Bench code (it cannot train with Cutout): we use
  DeVries and Taylor (2017): one square of side ``length`` per image, its centre uniform over
  all pixels, clipped at the borders, filled with 0 after normalisation (the dataset mean).
- **EMA**: pycls' rule: every ``ema_update_period_iters``-th iteration *within an epoch*
  (``iter % 32 == 0``), ``alpha = min(1, ema_alpha * batch_size / max_epochs * period)``,
  ``alpha = 1`` (plain copy) during the warm-up epochs; floating-point entries of the whole
  ``state_dict`` (BN running statistics included) are averaged, integer buffers copied.
"""

from __future__ import annotations

import copy
import math
from typing import TYPE_CHECKING

from eabench.errors import InvalidArgumentError
from eabench.spaces.regnet_hpo import (
    LR_POLICIES,
    OPTIMIZERS,
    RegNetHPOConfig,
    TrainingProtocol,
    training_protocol,
)

if TYPE_CHECKING:
    import torch
    from torch import nn

__all__ = [
    "ModelEMA",
    "build_loss",
    "build_optimizer",
    "cutout",
    "ema_alpha",
    "epoch_lr",
    "set_lr",
]


def epoch_lr(
    epoch: float,
    *,
    base_lr: float,
    policy: str,
    max_epochs: int,
    protocol: TrainingProtocol | None = None,
) -> float:
    """Learning rate at (possibly fractional) ``epoch`` in ``[0, max_epochs]``.

    Raises:
        InvalidArgumentError: for an unknown policy or an epoch outside ``[0, max_epochs]``.
    """
    proto = protocol or training_protocol()
    if policy not in LR_POLICIES:
        raise InvalidArgumentError.for_field("policy", policy, f"must be one of {LR_POLICIES}")
    if isinstance(max_epochs, bool) or not isinstance(max_epochs, int) or max_epochs < 1:
        raise InvalidArgumentError.for_field("max_epochs", max_epochs, "must be an int >= 1")
    if not (math.isfinite(epoch) and 0 <= epoch <= max_epochs):
        raise InvalidArgumentError.for_field("epoch", epoch, f"must be in [0, {max_epochs}]")
    m = proto.min_lr_ratio
    frac = epoch / max_epochs
    if policy == "cos":
        factor = (1.0 - m) * 0.5 * (1.0 + math.cos(math.pi * frac)) + m
    elif policy == "lin":
        factor = (1.0 - m) * (1.0 - frac) + m
    else:
        factor = m**frac
    lr = base_lr * factor
    if epoch < proto.warmup_epochs:
        alpha = epoch / proto.warmup_epochs
        lr *= proto.warmup_factor * (1.0 - alpha) + alpha
    return lr


def set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    """Set the learning rate of every parameter group."""
    for group in optimizer.param_groups:
        group["lr"] = lr


def build_optimizer(
    model: nn.Module, config: RegNetHPOConfig, protocol: TrainingProtocol | None = None
) -> torch.optim.Optimizer:
    """The optimiser of ``config`` with two groups: BatchNorm params (no decay) and the rest."""
    import torch
    from torch import nn

    proto = protocol or training_protocol(config.dataset)
    bn_ids = {
        id(p)
        for m in model.modules()
        if isinstance(m, nn.modules.batchnorm._BatchNorm)
        for p in m.parameters(recurse=False)
    }
    params = [p for p in model.parameters() if p.requires_grad]
    groups = [
        {"params": [p for p in params if id(p) in bn_ids], "weight_decay": proto.bn_weight_decay},
        {"params": [p for p in params if id(p) not in bn_ids], "weight_decay": proto.weight_decay},
    ]
    groups = [g for g in groups if g["params"]]
    lr = config.learning_rate
    if config.optimizer == "sgd":
        return torch.optim.SGD(
            groups, lr=lr, momentum=proto.sgd_momentum, nesterov=proto.sgd_nesterov, dampening=0.0
        )
    if config.optimizer == "adam":
        return torch.optim.Adam(groups, lr=lr, betas=proto.adam_betas)
    if config.optimizer == "adamw":
        return torch.optim.AdamW(groups, lr=lr, betas=proto.adam_betas)
    raise InvalidArgumentError.for_field("optimizer", config.optimizer, f"one of {OPTIMIZERS}")


def build_loss(protocol: TrainingProtocol | None = None) -> nn.CrossEntropyLoss:
    """Cross-entropy with the protocol's label smoothing (0.1)."""
    from torch import nn

    proto = protocol or training_protocol()
    return nn.CrossEntropyLoss(label_smoothing=proto.label_smoothing)


def cutout(images: torch.Tensor, length: int, generator: torch.Generator) -> torch.Tensor:
    """Cutout a ``length`` x ``length`` square per image of an ``(N, C, H, W)`` batch.

    Returns a new tensor (the input is not modified); ``length == 0`` returns the input. Square
    centres are drawn with ``generator`` (on the images' device), uniform over the H x W pixels.
    """
    import torch

    if isinstance(length, bool) or not isinstance(length, int) or length < 0:
        raise InvalidArgumentError.for_field("length", length, "must be an int >= 0")
    if images.ndim != 4:
        raise InvalidArgumentError.for_field("images.shape", tuple(images.shape), "must be NCHW")
    if length == 0:
        return images
    n, _, h, w = images.shape
    dev = images.device
    cy = torch.randint(0, h, (n,), generator=generator, device=dev)
    cx = torch.randint(0, w, (n,), generator=generator, device=dev)
    ys = torch.arange(h, device=dev)[None, :]
    xs = torch.arange(w, device=dev)[None, :]
    y0, x0 = (cy - length // 2)[:, None], (cx - length // 2)[:, None]
    in_y = (ys >= y0) & (ys < y0 + length)
    in_x = (xs >= x0) & (xs < x0 + length)
    mask = in_y[:, :, None] & in_x[:, None, :]
    return images.masked_fill(mask[:, None, :, :], 0.0)


def ema_alpha(max_epochs: int, protocol: TrainingProtocol | None = None) -> float:
    """pycls' EMA weight: ``min(1, ema_alpha * batch_size / max_epochs * period)``."""
    proto = protocol or training_protocol()
    adjust = proto.batch_size_train / max_epochs * proto.ema_update_period_iters
    return min(1.0, proto.ema_alpha * adjust)


class ModelEMA:
    """An exponential moving average of a model's weights, updated by pycls' rule.

    Args:
        model: the trained model; a deep copy becomes :attr:`ema_model` (in eval mode).
        max_epochs: the schedule length T, which sets alpha.
        protocol: the fixed settings (default CIFAR-10).
    """

    def __init__(
        self, model: nn.Module, max_epochs: int, protocol: TrainingProtocol | None = None
    ) -> None:
        self.protocol = protocol or training_protocol()
        self.max_epochs = max_epochs
        self.alpha = ema_alpha(max_epochs, self.protocol)
        self.ema_model = copy.deepcopy(model).eval()
        for p in self.ema_model.parameters():
            p.requires_grad_(False)

    def update(self, model: nn.Module, epoch: int, iteration: int) -> bool:
        """Fold ``model`` in after ``iteration`` (0-based, within ``epoch``); True if updated."""
        import torch

        period = self.protocol.ema_update_period_iters
        if period == 0 or iteration % period != 0:
            return False
        alpha = 1.0 if epoch < self.protocol.warmup_epochs else self.alpha
        src = model.state_dict()
        with torch.no_grad():
            for name, dst in self.ema_model.state_dict().items():
                value = src[name].detach()
                if dst.is_floating_point():
                    dst.mul_(1.0 - alpha).add_(value.to(dst.dtype), alpha=alpha)
                else:
                    dst.copy_(value)
        return True
