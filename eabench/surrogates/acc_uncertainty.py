"""The 7V validation-accuracy curve (BCS) and its predictive sd, per budget.

BCS: a cubic Bezier on the log-epoch axis through the measured validation accuracies at
4/12/36/108 epochs; one GBDT per label (4 control y's and ``log gamma``).

Uncertainty: the BCS is refitted in ``folds`` folds over its own training cells, giving every
training cell an out-of-fold residual at each budget; one GBDT per budget then learns the
conditional mean absolute residual from the cell features, and the predictive sd is that times
``sqrt(pi / 2)`` (the ratio of sd to mean absolute deviation of a normal), floored at 1e-4 and
rounded to float16 precision.
Between budgets the sd is interpolated linearly in log epochs. Calibration is reported on held-out
cells only (:func:`std_calibration`): the share of held-out cells within 1 and 2 predicted sd and
the Spearman correlation of the predicted sd with the absolute error.

Training functions import xgboost (through :func:`eabench.surrogates.trees.fit_xgb`); the
evaluation functions are numpy only.
"""

from __future__ import annotations

from math import pi, sqrt
from typing import Any

import numpy as np

from eabench.surrogates.bezier import BezierCurves, fit_bezier
from eabench.surrogates.trees import TreeEnsemble, fit_xgb

__all__ = [
    "BUDGETS",
    "MIN_SD",
    "bcs_curve",
    "calibration_by_budget",
    "fit_bcs",
    "fit_sd_heads",
    "interp_sd",
    "oof_residuals",
    "sd_from_heads",
    "std_calibration",
]

BUDGETS = np.array([4.0, 12.0, 36.0, 108.0])
MIN_SD = 1e-4
_SD_PER_MAD = sqrt(pi / 2.0)


def fit_bcs(
    x: np.ndarray, val_acc: np.ndarray, seed: int, params: dict[str, Any]
) -> tuple[TreeEnsemble, ...]:
    """Five GBDTs (4 control y's, log gamma) of the cubic through ``val_acc`` ``(n, 4)``."""
    curves = fit_bezier(BUDGETS, val_acc, 3, axis="log")
    labels = np.column_stack([curves.y, np.log(curves.gamma)])
    return tuple(fit_xgb(x, labels[:, k], seed + k, dict(params)) for k in range(5))


def bcs_curve(trees: tuple[TreeEnsemble, ...], x: np.ndarray) -> np.ndarray:
    """``(n, 4)`` raw (unclipped) validation accuracy of the predicted cubic at the budgets."""
    ctrl = np.column_stack([m.predict(x) for m in trees])
    out: np.ndarray = BezierCurves(
        ctrl[:, :4], np.exp(ctrl[:, 4]), 4.0, np.full(len(x), 108.0), "log"
    )(BUDGETS)
    return out


def oof_residuals(
    x: np.ndarray, val_acc: np.ndarray, seed: int, params: dict[str, Any], folds: int = 5
) -> np.ndarray:
    """``(n, 4)`` out-of-fold residuals (measured - predicted) of the BCS at the budgets.

    Folds: a permutation from ``numpy.random.default_rng(seed)`` cut into ``folds`` parts.
    """
    n = len(x)
    parts = np.array_split(np.random.default_rng(seed).permutation(n), folds)
    resid = np.empty((n, 4))
    for part in parts:
        fit = np.setdiff1d(np.arange(n), part)
        trees = fit_bcs(x[fit], val_acc[fit], seed, params)
        resid[part] = val_acc[part] - bcs_curve(trees, x[part])
    return resid


def fit_sd_heads(
    x: np.ndarray, resid: np.ndarray, seed: int, params: dict[str, Any]
) -> tuple[TreeEnsemble, ...]:
    """One GBDT per budget of the absolute out-of-fold residual."""
    return tuple(fit_xgb(x, np.abs(resid[:, b]), seed + b, dict(params)) for b in range(4))


def sd_from_heads(heads: tuple[TreeEnsemble, ...], x: np.ndarray) -> np.ndarray:
    """``(n, 4)`` predictive sd at the budgets: mean absolute residual x sqrt(pi/2), >= 1e-4,
    rounded to float16 precision (3 significant digits: an sd is not known better, and the
    rounded values compress ~4x better in ``space_outputs.npz``)."""
    mad = np.column_stack([h.predict(x) for h in heads])
    out: np.ndarray = np.maximum(mad * _SD_PER_MAD, MIN_SD).astype(np.float16).astype(np.float64)
    return out


def interp_sd(sd_budgets: np.ndarray, epochs: np.ndarray) -> np.ndarray:
    """``(n, len(epochs))`` sd at ``epochs`` in [4, 108], linear in log epochs between budgets."""
    log_b = np.log(BUDGETS)
    log_e = np.log(np.asarray(epochs, np.float64))
    hi = np.clip(np.searchsorted(log_b, log_e), 1, 3)
    w = (log_e - log_b[hi - 1]) / (log_b[hi] - log_b[hi - 1])
    out: np.ndarray = sd_budgets[:, hi - 1] * (1.0 - w) + sd_budgets[:, hi] * w
    return out


def std_calibration(pred: np.ndarray, sd: np.ndarray, true: np.ndarray) -> dict[str, float]:
    """Held-out calibration of a predictive sd: coverage of 1 and 2 sd, Spearman(sd, |error|)."""
    from scipy import stats

    err = np.abs(np.asarray(pred, np.float64) - np.asarray(true, np.float64))
    return {
        "within_1sd": float(np.mean(err <= sd)),
        "within_2sd": float(np.mean(err <= 2.0 * sd)),
        "spearman_sd_vs_abs_error": float(stats.spearmanr(sd, err)[0]),
        "mean_sd": float(np.mean(sd)),
        "mean_abs_error": float(np.mean(err)),
    }


def calibration_by_budget(pred: np.ndarray, sd: np.ndarray, true: np.ndarray) -> dict[str, float]:
    """:func:`std_calibration` of each budget column, keys ``budget_<epochs>_<metric>``."""
    return {
        f"budget_{int(b)}_{k}": v
        for i, b in enumerate(BUDGETS)
        for k, v in std_calibration(pred[:, i], sd[:, i], true[:, i]).items()
    }
