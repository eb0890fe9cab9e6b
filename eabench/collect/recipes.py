"""Training recipes: what the trainer needs from a space (model, optimizer, LR, loss, EMA, cutout).

A :class:`Recipe` bundles the torch objects of one run and exposes the few operations the
trainer's loop calls, so the loop is the same for both spaces. The models and training utilities
themselves live in :mod:`eabench.collect.models` and :mod:`eabench.collect.training`; this module
only assembles them per space and records the fixed settings in the run log.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

    from eabench.collect.plan import RunTask

__all__ = ["Recipe", "build_recipe"]


@dataclass
class Recipe:
    """The torch objects of one run and the hooks the trainer calls.

    Attributes:
        model: the network being trained.
        optimizer: its optimizer.
        lr_at: learning rate at a fractional epoch (``epoch + step / steps``).
        per_step_lr: set the LR before every step (else once per epoch, at the integer epoch).
        criterion: training loss ``criterion(logits, labels)``.
        cutout: batched Cutout ``cutout(x, generator)`` or None.
        ema: an EMA of the weights (with ``update(model, step)``, ``module``, state dicts) or None.
        settings: the fixed settings, JSON-ready, for the run log.
    """

    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    lr_at: Callable[[float], float]
    criterion: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
    cutout: Callable[[torch.Tensor, torch.Generator], torch.Tensor] | None = None
    ema: Any = None
    settings: dict[str, Any] = field(default_factory=dict)
    per_step_lr: bool = False
    _lr: float = 0.0

    def set_lr(self, epoch_float: float) -> None:
        """Set every parameter group's learning rate for this point of the schedule."""
        self._lr = float(self.lr_at(epoch_float))
        for group in self.optimizer.param_groups:
            group["lr"] = self._lr

    def current_lr(self) -> float:
        """The learning rate of the last step."""
        return self._lr

    def after_step(self, epoch: int, iteration: int) -> None:
        """Called after every optimizer step (``iteration`` 0-based within ``epoch``)."""
        if self.ema is not None:
            self.ema.update(self.model, epoch, iteration)

    def eval_models(self) -> dict[str, torch.nn.Module]:
        """The networks evaluated after each epoch: ``"model"`` (reported as ``val_*``/``test_*``)
        and, when there is an EMA of the weights, ``"ema"`` (reported in ``extra`` as
        ``ema_val_accuracy`` etc.; EA-HAS-Bench's curves are the EMA model's)."""
        out = {"model": self.model}
        if self.ema is not None:
            out["ema"] = self.ema.module
        return out

    def state_dict(self) -> dict[str, Any]:
        """Model, optimizer and EMA state (tensors and plain containers only)."""
        state: dict[str, Any] = {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
        }
        if self.ema is not None:
            state["ema"] = self.ema.state_dict()
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Inverse of :meth:`state_dict`."""
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        if self.ema is not None:
            self.ema.load_state_dict(state["ema"])


def build_recipe(task: RunTask, device: torch.device) -> Recipe:
    """The recipe of ``task``'s space, on ``device`` (call inside a seeded ``fork_rng``)."""
    if task.spec.space == "regnet-hpo":
        return _regnet_recipe(task, device)
    return _nb101_recipe(task, device)


def _regnet_recipe(task: RunTask, device: torch.device) -> Recipe:
    """EA-HAS-Bench's fixed settings (``eabench.collect.training``), with the sweep's batch sizes.

    The LR follows pycls: set once per epoch (:func:`~eabench.collect.training.epoch_lr` at the
    integer epoch, warm-up included). The EMA is pycls' (every 32nd iteration of an epoch).
    Precise BN (pycls recomputes BN statistics on 8,192 images each epoch) is not done: its
    passes were outside EA-HAS-Bench's energy windows anyway, and we report the plain model too.
    """
    import dataclasses

    from eabench.collect import training
    from eabench.collect.models.regnet import build_regnet
    from eabench.spaces.regnet_hpo import RegNetHPOConfig, training_protocol

    cfg = RegNetHPOConfig.from_dict(task.config)
    proto = task.spec.protocol
    fixed = dataclasses.replace(
        training_protocol(cfg.dataset),
        batch_size_train=proto.batch_size,
        batch_size_test=proto.eval_batch_size,
        mixed_precision=proto.amp and device.type == "cuda",
        seed=task.seed,
    )
    model = build_regnet(cfg).to(device)
    optimizer = training.build_optimizer(model, cfg, fixed)
    ema = _EmaAdapter(training.ModelEMA(model, cfg.max_epochs, fixed))
    length = cfg.cutout

    def lr_at(epoch: float) -> float:
        return training.epoch_lr(
            float(int(epoch)),
            base_lr=cfg.learning_rate,
            policy=cfg.lr_policy,
            max_epochs=cfg.max_epochs,
            protocol=fixed,
        )

    def cut(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        return training.cutout(x, length, gen)

    settings = {
        k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(fixed).items()
    }
    settings.update(lr_update="per_epoch", precise_bn=False, eval_models=["model", "ema"])
    return Recipe(
        model=model,
        optimizer=optimizer,
        lr_at=lr_at,
        criterion=training.build_loss(fixed),
        cutout=cut if length > 0 else None,
        ema=ema,
        settings=settings,
    )


class _EmaAdapter:
    """:class:`eabench.collect.training.ModelEMA` behind the recipe's EMA hooks."""

    def __init__(self, ema: Any) -> None:
        self._ema = ema
        self.module = ema.ema_model

    def update(self, model: torch.nn.Module, epoch: int, iteration: int) -> None:
        self._ema.update(model, epoch, iteration)

    def state_dict(self) -> dict[str, Any]:
        return dict(self.module.state_dict())

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.module.load_state_dict(state)


#: NAS-Bench-101's training settings (Ying et al. 2019, section 2.3 and its ``base_ops``/config):
#: RMSProp (decay 0.9, momentum 0.9, epsilon 1.0), base LR 0.2 with cosine decay to 0 over the
#: budget, per step; L2 weight decay 1e-4; batch 256; no label smoothing, no warm-up, no EMA.
NB101_SETTINGS: dict[str, Any] = {
    "optimizer": "rmsprop",
    "learning_rate": 0.2,
    "rmsprop_decay": 0.9,
    "momentum": 0.9,
    "epsilon": 1.0,
    "weight_decay": 1e-4,
    "lr_schedule": "cosine_per_step",
    "label_smoothing": 0.0,
}


def _nb101_recipe(task: RunTask, device: torch.device) -> Recipe:
    """The NB101 network of the cell (``eabench.collect.models.nb101``) and NB101's optimizer.

    ``torch.optim.RMSprop`` adds epsilon outside the square root where TensorFlow's RMSProp adds
    it inside; with NB101's large epsilon (1.0) the two differ slightly (documented deviation).
    """
    import torch

    from eabench.collect.models.nb101 import build_nb101

    model = build_nb101(task.config, **dict(task.spec.protocol.nb101_network)).to(device)
    s = NB101_SETTINGS
    optimizer = torch.optim.RMSprop(
        model.parameters(),
        lr=s["learning_rate"],
        alpha=s["rmsprop_decay"],
        eps=s["epsilon"],
        momentum=s["momentum"],
        weight_decay=s["weight_decay"],
    )
    total = task.schedule_epochs

    def lr_at(epoch: float) -> float:
        return float(
            s["learning_rate"] * 0.5 * (1.0 + math.cos(math.pi * min(epoch, total) / total))
        )

    settings = dict(s)
    settings["network"] = {
        "stem_channels": 128,
        "num_stacks": 3,
        "cells_per_stack": 3,
        **dict(task.spec.protocol.nb101_network),
    }
    settings.update(lr_update="per_step", eval_models=["model"])
    return Recipe(
        model=model,
        optimizer=optimizer,
        lr_at=lr_at,
        criterion=torch.nn.CrossEntropyLoss(),
        settings=settings,
        per_step_lr=True,
    )
