"""Learning-curve surrogates: BCS (config -> Bezier control points) and its baselines.

:class:`BezierCurveSurrogate` fits one Bezier curve per observed curve
(:func:`eabench.surrogates.bezier.fit_bezier`), takes ``[y_0..y_n, log gamma]`` as the regression
label (ordered x by construction, so the regressor cannot produce an invalid curve), standardises
the labels (EA-HAS-Bench regressed raw epochs and percent together, so x errors dominated), and
regresses them with either

* ``"mlp"``: a PyTorch MLP (GELU, Adam, MSE on standardised labels, shuffled mini-batches, early
  stopping on a validation part, best weights restored), exported to numpy weights; or
* ``"xgb"``: one XGBoost model per label, exported to
  :class:`~eabench.surrogates.trees.TreeEnsemble`.

``members`` models with seeds ``seed .. seed+members-1`` (MLP: different init, shuffling and
validation part) form an ensemble: the mean is the prediction, the spread the uncertainty. Curves of
several lengths T (RegNet 50/100/200) are supported: ``t_last`` is each config's T.

Baselines on the same split: :class:`PerEpochGBDT` (one GBDT per epoch of a fixed-length curve) and
:class:`SVDRegressor` (SVD of the training curves, GBDT per kept singular coordinate). Torch and
xgboost are imported inside ``fit`` only; prediction is numpy.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from eabench._rng import as_generator
from eabench.errors import InvalidArgumentError
from eabench.surrogates.bezier import BezierCurves, fit_bezier
from eabench.surrogates.trees import TreeEnsemble, arrays_from_xgboost_json

__all__ = [
    "BezierCurveSurrogate",
    "NumpyMLP",
    "PerEpochGBDT",
    "SVDRegressor",
    "fit_gbdt",
    "fit_mlp",
]


@dataclass(frozen=True, slots=True)
class NumpyMLP:
    """A GELU MLP as numpy arrays: ``weights[i]`` ``(d_in, d_out)``, ``biases[i]`` ``(d_out,)``."""

    weights: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray, ...]

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Forward pass in float64 (exact-erf GELU, as ``torch.nn.GELU()``)."""
        from scipy.special import erf

        h = np.asarray(x, dtype=np.float64)
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            h = h @ w + b
            if i < last:
                h = 0.5 * h * (1.0 + erf(h / np.sqrt(2.0)))
        return h


def fit_gbdt(x: np.ndarray, y: np.ndarray, seed: int, params: dict[str, Any]) -> TreeEnsemble:
    """Fit one XGBoost regressor (single thread unless ``n_jobs`` given) and export it."""
    import xgboost as xgb

    kw = {"n_jobs": 1, **params}
    model = xgb.XGBRegressor(random_state=seed, **kw)
    model.fit(np.asarray(x, np.float32), y)
    return arrays_from_xgboost_json(bytes(model.get_booster().save_raw("json")))


def fit_mlp(
    x: np.ndarray, y: np.ndarray, seed: int, hidden: tuple[int, ...], cfg: dict[str, Any]
) -> NumpyMLP:
    """Fit a GELU MLP ``x -> y`` (``(n, k)``; float64 torch, Adam, MSE, shuffled batches, early
    stopping on a seeded validation part, best weights restored) and export it to numpy."""
    import torch

    rng = as_generator(seed)
    n = x.shape[0]
    perm = rng.permutation(n)
    n_val = max(1, round(float(cfg.get("val_fraction", 0.1)) * n))
    val, tr = perm[:n_val], perm[n_val:]
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    sizes = [x.shape[1], *hidden, y.shape[1]]
    layers: list[torch.nn.Module] = []
    for i, (a, b) in enumerate(itertools.pairwise(sizes)):
        layers.append(torch.nn.Linear(a, b, dtype=torch.float64))
        if i < len(sizes) - 2:
            layers.append(torch.nn.GELU())
    net = torch.nn.Sequential(*layers)
    opt = torch.optim.Adam(net.parameters(), lr=float(cfg.get("lr", 1e-3)))
    xt = torch.tensor(x, dtype=torch.float64)
    yt = torch.tensor(y, dtype=torch.float64)
    batch = int(cfg.get("batch_size", 64))
    patience = int(cfg.get("patience", 20))
    best, best_state, since = np.inf, None, 0
    for _ in range(int(cfg.get("max_epochs", 200))):
        order = torch.from_numpy(tr)[torch.randperm(tr.size, generator=gen)]
        net.train()
        for i in range(0, order.numel(), batch):
            b = order[i : i + batch]
            opt.zero_grad()
            torch.nn.functional.mse_loss(net(xt[b]), yt[b]).backward()  # type: ignore[no-untyped-call]
            opt.step()
        with torch.no_grad():
            loss = float(torch.nn.functional.mse_loss(net(xt[val]), yt[val]))
        if loss < best - 1e-12:
            best, since = loss, 0
            best_state = {k: v.clone() for k, v in net.state_dict().items()}
        else:
            since += 1
            if since >= patience:
                break
    if best_state is not None:
        net.load_state_dict(best_state)
    lin = [m for m in net if isinstance(m, torch.nn.Linear)]
    return NumpyMLP(
        tuple(m.weight.detach().numpy().T.copy() for m in lin),
        tuple(m.bias.detach().numpy().copy() for m in lin),
    )


@dataclass
class BezierCurveSurrogate:
    """Config features -> Bezier control points -> curve (see the module docstring).

    Args:
        degree: Bezier degree (>= 2).
        axis: ``"linear"`` epochs or ``"log"`` epochs.
        regressor: ``"mlp"`` or ``"xgb"``.
        members: ensemble size.
        seed: base seed.
        hidden: MLP hidden widths.
        mlp: MLP settings (lr, batch_size, max_epochs, patience, val_fraction).
        xgb: XGBoost parameters.
    """

    degree: int = 4
    axis: str = "linear"
    regressor: str = "mlp"
    members: int = 3
    seed: int = 0
    hidden: tuple[int, ...] = (128, 128)
    mlp: dict[str, Any] = field(default_factory=dict)
    xgb: dict[str, Any] = field(default_factory=dict)

    def fit(
        self, x: np.ndarray, curves: list[np.ndarray], epochs: np.ndarray | None = None
    ) -> BezierCurveSurrogate:
        """Fit on features ``x`` ``(c, d)`` and one observed curve per config.

        Without ``epochs``, curve i is observed at epochs 1..T_i (curves of equal length are
        fitted together; ``t_last`` of each config is its length). With ``epochs`` (e.g. the 7V
        budgets 4/12/36/108 on a log axis) every curve is observed at those epochs.
        """
        if self.regressor not in ("mlp", "xgb"):
            raise InvalidArgumentError.for_field("regressor", self.regressor, "mlp or xgb")
        x = np.asarray(x, np.float64)
        lengths = np.array([len(c) for c in curves])
        labels = np.zeros((x.shape[0], self.degree + 2))
        self.t_first_ = 1.0 if epochs is None else float(epochs[0])
        if epochs is not None:
            fitted = fit_bezier(epochs, np.stack(curves), self.degree, axis=self.axis)
            labels[:] = np.column_stack([fitted.y, np.log(fitted.gamma)])
            lengths = lengths[:0]
        for t in np.unique(lengths):
            idx = np.flatnonzero(lengths == t)
            fitted = fit_bezier(
                np.arange(1, t + 1, dtype=np.float64),
                np.stack([curves[i] for i in idx]),
                self.degree,
                axis=self.axis,
            )
            labels[idx] = np.column_stack([fitted.y, np.log(fitted.gamma)])
        self.labels_ = labels
        self.x_mean_, self.x_std_ = x.mean(0), x.std(0) + 1e-12
        self.y_mean_, self.y_std_ = labels.mean(0), labels.std(0) + 1e-12
        xs = (x - self.x_mean_) / self.x_std_
        ys = (labels - self.y_mean_) / self.y_std_
        self.models_: list[NumpyMLP | list[TreeEnsemble]] = []
        for k in range(self.members):
            s = self.seed + k
            if self.regressor == "mlp":
                self.models_.append(fit_mlp(xs, ys, s, self.hidden, self.mlp))
            else:
                self.models_.append(
                    [fit_gbdt(xs, ys[:, j], s, self.xgb) for j in range(ys.shape[1])]
                )
        return self

    def predict_labels(self, x: np.ndarray) -> np.ndarray:
        """``(members, c, degree + 2)`` predicted labels (unscaled)."""
        xs = (np.asarray(x, np.float64) - self.x_mean_) / self.x_std_
        out = []
        for m in self.models_:
            raw = (
                m.predict(xs)
                if isinstance(m, NumpyMLP)
                else np.column_stack([t.predict(xs) for t in m])
            )
            out.append(raw * self.y_std_ + self.y_mean_)
        return np.stack(out)

    def predict(
        self, x: np.ndarray, epochs: np.ndarray, t_last: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Mean and ensemble std of the curves at ``epochs`` (each <= its config's ``t_last``)."""
        lab = self.predict_labels(x)
        t_last = np.asarray(t_last, np.float64)
        vals = np.stack(
            [
                BezierCurves(m[:, :-1], np.exp(m[:, -1]), self.t_first_, t_last, self.axis)(epochs)
                for m in lab
            ]
        )
        return vals.mean(0), vals.std(0)


@dataclass
class PerEpochGBDT:
    """Baseline: one GBDT per epoch column of fixed-length curves ``(c, T)``."""

    seed: int = 0
    xgb: dict[str, Any] = field(default_factory=dict)

    def fit(self, x: np.ndarray, y: np.ndarray) -> PerEpochGBDT:
        self.models_ = [fit_gbdt(x, y[:, j], self.seed, self.xgb) for j in range(y.shape[1])]
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        return np.column_stack([m.predict(x) for m in self.models_])


@dataclass
class SVDRegressor:
    """Baseline: SVD of training curves ``(c, T)``; GBDT per kept coordinate; reconstruct."""

    rank: int = 4
    seed: int = 0
    xgb: dict[str, Any] = field(default_factory=dict)

    def fit(self, x: np.ndarray, y: np.ndarray) -> SVDRegressor:
        self.mean_ = y.mean(0)
        _u, _s, vt = np.linalg.svd(y - self.mean_, full_matrices=False)
        self.components_ = vt[: self.rank]
        coords = (y - self.mean_) @ self.components_.T
        self.models_ = [fit_gbdt(x, coords[:, j], self.seed, self.xgb) for j in range(self.rank)]
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        coords = np.column_stack([m.predict(x) for m in self.models_])
        out: np.ndarray = self.mean_ + coords @ self.components_
        return out
