"""BCS per-epoch path on SIMULATED RegNet-like learning curves (never shipped, never real data)."""

from __future__ import annotations

import numpy as np
import pytest

from eabench.surrogates.lc_model import BezierCurveSurrogate, NumpyMLP, PerEpochGBDT, SVDRegressor

pytest.importorskip("torch")
pytest.importorskip("xgboost")

SIMULATED = True  # flag: these curves are generated, not measured


def _simulated_regnet(n: int, seed: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """Accuracy curves whose plateau and speed depend on 5 'architecture' features."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, size=(n, 5))
    lengths = rng.choice([50, 100, 200], size=n)
    curves = []
    for xi, t in zip(x, lengths, strict=True):
        ep = np.arange(1, t + 1)
        plateau = 0.6 + 0.3 * xi[0] - 0.1 * xi[1] * xi[2]
        speed = 3 + 20 * xi[3]
        curves.append(
            plateau * (1 - 0.9 * np.exp(-ep / speed * (200 / t))) + 0.005 * rng.normal(size=t)
        )
    return x, curves


def test_bcs_mlp_and_xgb_learn_simulated_curves_and_beat_the_mean():
    x, curves = _simulated_regnet(160, 0)
    xt, ct = _simulated_regnet(60, 1)
    t_last = np.array([len(c) for c in ct], dtype=float)
    truth50 = np.stack([c[:50] for c in ct])
    errs = {}
    for reg in ("mlp", "xgb"):
        model = BezierCurveSurrogate(
            degree=4,
            regressor=reg,
            members=2,
            seed=0,
            hidden=(32, 32),
            mlp={"max_epochs": 80, "patience": 10, "lr": 3e-3},
            xgb={"n_estimators": 30, "max_depth": 3},
        ).fit(x, curves)
        mean, std = model.predict(xt, np.arange(1.0, 51.0), t_last)
        assert mean.shape == std.shape == (60, 50)
        assert np.all(std >= 0)
        errs[reg] = np.mean((mean - truth50) ** 2)
    base = np.mean((truth50 - np.stack([c[:50] for c in curves]).mean(0)) ** 2)
    assert errs["mlp"] < 0.5 * base
    assert errs["xgb"] < 0.5 * base


def test_numpy_mlp_equals_torch_forward_within_1e6():
    import torch

    rng = np.random.default_rng(0)
    net = torch.nn.Sequential(
        torch.nn.Linear(5, 16, dtype=torch.float64),
        torch.nn.GELU(),
        torch.nn.Linear(16, 3, dtype=torch.float64),
    )
    lin = [m for m in net if isinstance(m, torch.nn.Linear)]
    mlp = NumpyMLP(
        tuple(m.weight.detach().numpy().T for m in lin), tuple(m.bias.detach().numpy() for m in lin)
    )
    xs = rng.normal(size=(40, 5))
    with torch.no_grad():
        ref = net(torch.tensor(xs)).numpy()
    np.testing.assert_allclose(mlp.predict(xs), ref, rtol=1e-6, atol=1e-9)


def test_training_is_deterministic_with_a_fixed_seed():
    x, curves = _simulated_regnet(80, 2)
    kw = {"degree": 3, "members": 1, "seed": 5, "hidden": (8,), "mlp": {"max_epochs": 15}}
    a = BezierCurveSurrogate(**kw).fit(x, curves).predict_labels(x[:5])
    b = BezierCurveSurrogate(**kw).fit(x, curves).predict_labels(x[:5])
    np.testing.assert_array_equal(a, b)


def test_baselines_on_fixed_length_curves():
    x, curves = _simulated_regnet(200, 3)
    keep = [i for i, c in enumerate(curves) if len(c) == 50]
    y = np.stack([curves[i] for i in keep])
    xs = x[keep]
    for model in (
        PerEpochGBDT(xgb={"n_estimators": 8}),
        SVDRegressor(rank=3, xgb={"n_estimators": 8}),
    ):
        pred = model.fit(xs, y).predict(xs)
        assert pred.shape == y.shape
        assert np.mean((pred - y) ** 2) < np.var(y)
