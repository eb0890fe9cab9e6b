"""Optimisers, LR schedules, label smoothing, Cutout and EMA of the RegNet x HPO protocol."""

from __future__ import annotations

import itertools
import math

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from eabench.collect.training import (  # noqa: E402
    ModelEMA,
    build_loss,
    build_optimizer,
    cutout,
    ema_alpha,
    epoch_lr,
    set_lr,
)
from eabench.errors import InvalidArgumentError  # noqa: E402
from eabench.spaces.regnet_hpo import RegNetHPOConfig, training_protocol  # noqa: E402


def _cfg(optimizer: str = "sgd", lr: float = 0.1, policy: str = "cos") -> RegNetHPOConfig:
    return RegNetHPOConfig(
        depth=6,
        w0=48,
        wa=8.0,
        wm=2.5,
        group_width=8,
        learning_rate=lr,
        max_epochs=50,
        optimizer=optimizer,
        lr_policy=policy,
        cutout=16,
    )


def _tiny_model() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(3, 4, 3, bias=False), nn.BatchNorm2d(4), nn.Flatten(), nn.Linear(4 * 6 * 6, 3)
    )


@pytest.mark.parametrize("policy", ["cos", "exp", "lin"])
def test_warmup_starts_at_a_tenth_and_ends_at_epoch_5(policy: str) -> None:
    lr0 = epoch_lr(0, base_lr=0.5, policy=policy, max_epochs=100)
    assert lr0 == pytest.approx(0.05)
    no_warm = epoch_lr(5, base_lr=0.5, policy=policy, max_epochs=100)
    # inside the warm-up the factor is 0.1 (1 - e/5) + e/5 of the policy's value
    e = 2
    expected = (0.1 * (1 - e / 5) + e / 5) * epoch_lr(
        e, base_lr=0.5, policy=policy, max_epochs=100, protocol=_no_warmup()
    )
    assert epoch_lr(e, base_lr=0.5, policy=policy, max_epochs=100) == pytest.approx(expected)
    assert no_warm <= 0.5


def _no_warmup():
    import dataclasses

    return dataclasses.replace(training_protocol(), warmup_epochs=0)


def test_policies_follow_pycls_formulas() -> None:
    m = 1e-6
    t, e = 200, 120
    cos = epoch_lr(e, base_lr=1.0, policy="cos", max_epochs=t)
    lin = epoch_lr(e, base_lr=1.0, policy="lin", max_epochs=t)
    exp = epoch_lr(e, base_lr=1.0, policy="exp", max_epochs=t)
    assert cos == pytest.approx((1 - m) * 0.5 * (1 + math.cos(math.pi * e / t)) + m)
    assert lin == pytest.approx((1 - m) * (1 - e / t) + m)
    assert exp == pytest.approx(m ** (e / t))
    for policy in ("cos", "lin", "exp"):
        assert epoch_lr(t, base_lr=0.3, policy=policy, max_epochs=t) == pytest.approx(0.3 * m)
        values = [epoch_lr(k, base_lr=0.3, policy=policy, max_epochs=t) for k in range(5, t + 1)]
        assert all(a >= b for a, b in itertools.pairwise(values))


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"epoch": -1}, "epoch"),
        ({"epoch": 51}, "epoch"),
        ({"epoch": float("nan")}, "epoch"),
        ({"policy": "step"}, "policy"),
        ({"max_epochs": 0}, "max_epochs"),
    ],
)
def test_epoch_lr_rejects_bad_arguments(kwargs: dict[str, object], field: str) -> None:
    args: dict[str, object] = {"epoch": 1, "base_lr": 0.1, "policy": "cos", "max_epochs": 50}
    args.update(kwargs)
    with pytest.raises(InvalidArgumentError) as info:
        epoch_lr(**args)  # type: ignore[arg-type]
    assert info.value.field == field


def test_optimizers_and_weight_decay_groups() -> None:
    model = _tiny_model()
    sgd = build_optimizer(model, _cfg("sgd"))
    assert isinstance(sgd, torch.optim.SGD)
    bn_group, rest = sgd.param_groups
    assert bn_group["weight_decay"] == 0.0
    assert len(bn_group["params"]) == 2
    assert rest["weight_decay"] == 5e-4
    assert len(rest["params"]) == 3
    assert rest["nesterov"]
    assert rest["momentum"] == 0.9
    adam = build_optimizer(model, _cfg("adam", lr=0.001))
    adamw = build_optimizer(model, _cfg("adamw", lr=0.001))
    assert type(adam) is torch.optim.Adam
    assert type(adamw) is torch.optim.AdamW
    assert adam.param_groups[1]["betas"] == (0.9, 0.999)
    set_lr(adamw, 0.123)
    assert all(g["lr"] == 0.123 for g in adamw.param_groups)


def test_label_smoothing_loss() -> None:
    loss = build_loss()
    logits = torch.tensor([[10.0, 0.0, 0.0]])
    smoothed = loss(logits, torch.tensor([0]))
    plain = nn.functional.cross_entropy(logits, torch.tensor([0]))
    assert loss.label_smoothing == 0.1
    assert smoothed > plain


def test_cutout_zeroes_one_clipped_square_per_image() -> None:
    gen = torch.Generator().manual_seed(0)
    images = torch.ones(64, 3, 32, 32)
    out = cutout(images, 16, gen)
    assert torch.equal(images, torch.ones(64, 3, 32, 32))  # input untouched
    zeros = (out == 0).all(dim=1)  # same mask for every channel
    per_image = zeros.sum(dim=(1, 2))
    assert (per_image <= 256).all()
    assert (per_image >= 64).all()
    assert (per_image == 256).any()
    assert (per_image < 256).any()
    rows = zeros.any(dim=2).sum(dim=1)
    cols = zeros.any(dim=1).sum(dim=1)
    assert torch.equal(rows * cols, per_image)  # each hole is a rectangle
    again = cutout(images, 16, torch.Generator().manual_seed(0))
    assert torch.equal(out, again)
    assert cutout(images, 0, gen) is images
    with pytest.raises(InvalidArgumentError):
        cutout(images, -1, gen)
    with pytest.raises(InvalidArgumentError):
        cutout(images[0], 16, gen)


def test_ema_alpha_matches_the_spec() -> None:
    # reference/ea-has-bench.md 1.2: 0.164 for 50 epochs, 0.041 for 200
    assert round(ema_alpha(50), 3) == 0.164
    assert round(ema_alpha(200), 3) == 0.041


def test_model_ema_copies_in_warmup_then_averages_every_32_iterations() -> None:
    torch.manual_seed(0)
    model = _tiny_model()
    ema = ModelEMA(model, max_epochs=50)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(1.0)
    assert not ema.update(model, epoch=0, iteration=5)
    assert ema.update(model, epoch=0, iteration=32)  # warm-up: plain copy
    for a, b in zip(ema.ema_model.parameters(), model.parameters(), strict=True):
        assert torch.equal(a, b)
    before = [p.clone() for p in ema.ema_model.parameters()]
    with torch.no_grad():
        for p in model.parameters():
            p.add_(1.0)
    assert ema.update(model, epoch=5, iteration=0)
    for a, old, new in zip(ema.ema_model.parameters(), before, model.parameters(), strict=True):
        assert torch.allclose(a, (1 - ema.alpha) * old + ema.alpha * new)
    assert not any(p.requires_grad for p in ema.ema_model.parameters())


def test_one_training_step_reduces_the_loss() -> None:
    torch.manual_seed(0)
    model = _tiny_model()
    opt = build_optimizer(model, _cfg("sgd", lr=0.1))
    loss_fn = build_loss()
    x, y = torch.randn(16, 3, 8, 8), torch.randint(0, 3, (16,))
    set_lr(opt, epoch_lr(10, base_lr=0.1, policy="cos", max_epochs=50))
    first = loss_fn(model(x), y)
    for _ in range(20):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
    assert loss_fn(model(x), y) < first
