"""Device-resident CIFAR-10 batches and batched augmentation (torch; imported by trainers only).

All split images live on the training device as uint8 NCHW tensors (CIFAR-10 is 184 MB decoded,
so it fits any GPU); batches are gathered, normalised and augmented there, with no data-loader
processes. Augmentation follows pycls' CIFAR pipeline (EA-HAS-Bench): per-channel normalisation,
random horizontal flip, random 32x32 crop of the image zero-padded by 4 pixels (zero in normalised
space, i.e. the mean colour), then Cutout when the config asks for it. Every random draw comes from
an explicit ``torch.Generator`` on the device, so a seed fixes the augmentation. On CPU the same
code runs (tiny sizes in tests).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch

    from eabench.collect.data import Splits

__all__ = [
    "CIFAR10_MEAN",
    "CIFAR10_STD",
    "DeviceSplits",
    "eval_batches",
    "steps_per_epoch",
    "train_batches",
]

# Per-channel mean and std of the CIFAR-10 training images (0-1 scale), as used by pycls.
CIFAR10_MEAN: tuple[float, float, float] = (0.4914, 0.4822, 0.4465)
CIFAR10_STD: tuple[float, float, float] = (0.2470, 0.2435, 0.2616)
CROP_PAD_PX = 4


@dataclass(frozen=True, slots=True)
class DeviceSplits:
    """uint8 NCHW images and int64 labels of each split, on one device."""

    train_x: torch.Tensor
    train_y: torch.Tensor
    val_x: torch.Tensor
    val_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor

    @classmethod
    def from_splits(cls, splits: Splits, device: torch.device) -> DeviceSplits:
        """Copy numpy HWC uint8 splits to ``device`` as NCHW uint8 tensors."""
        import torch

        def imgs(a: np.ndarray) -> torch.Tensor:
            return torch.from_numpy(np.ascontiguousarray(a.transpose(0, 3, 1, 2))).to(device)

        def labels(a: np.ndarray) -> torch.Tensor:
            return torch.from_numpy(np.asarray(a, dtype=np.int64)).to(device)

        return cls(
            train_x=imgs(splits.train_x),
            train_y=labels(splits.train_y),
            val_x=imgs(splits.val_x),
            val_y=labels(splits.val_y),
            test_x=imgs(splits.test_x),
            test_y=labels(splits.test_y),
        )


def _normalise(x_u8: torch.Tensor) -> torch.Tensor:
    import torch

    mean = torch.tensor(CIFAR10_MEAN, device=x_u8.device).view(1, 3, 1, 1)
    std = torch.tensor(CIFAR10_STD, device=x_u8.device).view(1, 3, 1, 1)
    return (x_u8.float().div_(255.0) - mean) / std


def _flip_crop(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Random horizontal flip and random crop with zero padding, batched (one draw per image)."""
    import torch
    import torch.nn.functional as F

    n, _, h, w = x.shape
    flip = torch.rand(n, device=x.device, generator=gen) < 0.5
    x = torch.where(flip.view(n, 1, 1, 1), x.flip(3), x)
    padded = F.pad(x, (CROP_PAD_PX,) * 4)
    oy = torch.randint(0, 2 * CROP_PAD_PX + 1, (n,), device=x.device, generator=gen)
    ox = torch.randint(0, 2 * CROP_PAD_PX + 1, (n,), device=x.device, generator=gen)
    rows = (oy.view(n, 1) + torch.arange(h, device=x.device)).view(n, 1, h, 1)
    cols = (ox.view(n, 1) + torch.arange(w, device=x.device)).view(n, 1, 1, w)
    batch = torch.arange(n, device=x.device).view(n, 1, 1, 1)
    chans = torch.arange(x.shape[1], device=x.device).view(1, -1, 1, 1)
    return padded[batch, chans, rows, cols]


Cutout = Callable[["torch.Tensor", "torch.Generator"], "torch.Tensor"]


def train_batches(
    x_u8: torch.Tensor,
    y: torch.Tensor,
    batch_size: int,
    gen: torch.Generator,
    cutout: Cutout | None = None,
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """One epoch of shuffled, augmented training batches; the last partial batch is dropped.

    When the split is smaller than ``batch_size`` (smoke runs) one batch of the whole split is
    used. ``cutout(x, gen)`` is applied to the normalised batch when given.
    """
    import torch

    n = int(y.shape[0])
    bs = min(batch_size, n)
    order = torch.randperm(n, device=x_u8.device, generator=gen)
    for start in range(0, n - bs + 1, bs):
        idx = order[start : start + bs]
        xb = _flip_crop(_normalise(x_u8[idx]), gen)
        if cutout is not None:
            xb = cutout(xb, gen)
        yield xb.contiguous(), y[idx]


def eval_batches(
    x_u8: torch.Tensor, y: torch.Tensor, batch_size: int
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Normalised, unaugmented batches in order, the last one possibly partial."""
    n = int(y.shape[0])
    for start in range(0, n, batch_size):
        yield _normalise(x_u8[start : start + batch_size]), y[start : start + batch_size]


def steps_per_epoch(n_train: int, batch_size: int) -> int:
    """Optimizer steps per epoch under :func:`train_batches` (drop-last, at least one)."""
    return max(1, n_train // min(batch_size, n_train)) if n_train else 0
