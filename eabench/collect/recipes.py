"""Training recipes: what the trainer needs from a space (model, optimizer, LR, loss, EMA, cutout).

A :class:`Recipe` bundles the torch objects of one run and exposes the few operations the
trainer's loop calls, so the loop is the same for both spaces. The models and training utilities
themselves live in :mod:`eabench.collect.models` and :mod:`eabench.collect.training`; this module
only assembles them per space and records the fixed settings in the run log.
"""

from __future__ import annotations

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
    _lr: float = 0.0

    def set_lr(self, epoch_float: float) -> None:
        """Set every parameter group's learning rate for this point of the schedule."""
        self._lr = float(self.lr_at(epoch_float))
        for group in self.optimizer.param_groups:
            group["lr"] = self._lr

    def current_lr(self) -> float:
        """The learning rate of the last step."""
        return self._lr

    def after_step(self, global_step: int) -> None:
        """Called after every optimizer step (1-based count): updates the EMA when there is one."""
        if self.ema is not None:
            self.ema.update(self.model, global_step)

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


def build_recipe(task: RunTask, steps_per_epoch: int, device: torch.device) -> Recipe:
    """The recipe of ``task``'s space, on ``device`` (call inside a seeded ``fork_rng``)."""
    if task.spec.space == "regnet-hpo":
        return _regnet_recipe(task, steps_per_epoch, device)
    return _nb101_recipe(task, steps_per_epoch, device)


def _regnet_recipe(task: RunTask, steps_per_epoch: int, device: torch.device) -> Recipe:
    raise NotImplementedError  # filled in against eabench.collect.training


def _nb101_recipe(task: RunTask, steps_per_epoch: int, device: torch.device) -> Recipe:
    raise NotImplementedError  # filled in against eabench.collect.models.nb101
