"""Held-out metrics shared by every trainer: scalar regression and whole learning curves."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import stats

__all__ = ["CURVE_FRACTIONS", "curve_metrics", "regression_metrics"]

CURVE_FRACTIONS = (0.1, 0.25, 0.5, 1.0)
"""Relative positions t / L at which per-epoch R^2 is reported."""


def regression_metrics(pred: np.ndarray, true: np.ndarray) -> dict[str, float]:
    """Kendall tau, Spearman rho, R^2 and MAE of ``pred`` against ``true`` (``n`` too)."""
    pred = np.asarray(pred, np.float64)
    true = np.asarray(true, np.float64)
    res = pred - true
    sst = np.sum((true - true.mean()) ** 2)
    few = true.size < 3
    return {
        "kendall_tau": float("nan") if few else float(stats.kendalltau(pred, true)[0]),
        "spearman": float("nan") if few else float(stats.spearmanr(pred, true)[0]),
        "r2": float(1.0 - np.sum(res**2) / sst) if sst > 0 else float("nan"),
        "mae": float(np.mean(np.abs(res))),
        "n": int(true.size),
    }


def curve_metrics(pred: Sequence[np.ndarray], true: Sequence[np.ndarray]) -> dict[str, Any]:
    """Whole-curve metrics of predicted against observed curves (each a 1-D array, any length).

    ``whole_curve_r2`` = 1 - SSE / SST with SST around the per-epoch mean of the curves of the
    same length (as for fixed-length curves); ``final_epoch`` = regression metrics at each
    curve's last epoch (Kendall tau there ranks configs as a search would);
    ``per_epoch_r2`` = R^2 across curves at relative positions :data:`CURVE_FRACTIONS`; ``mae``
    over all points.
    """
    sse = sst = 0.0
    abs_sum = 0.0
    points = 0
    lengths = np.array([len(t) for t in true])
    for length in np.unique(lengths):
        idx = np.flatnonzero(lengths == length)
        p = np.stack([pred[i] for i in idx.tolist()])
        t = np.stack([true[i] for i in idx.tolist()])
        sse += float(np.sum((p - t) ** 2))
        sst += float(np.sum((t - t.mean(axis=0)) ** 2))
        abs_sum += float(np.sum(np.abs(p - t)))
        points += t.size
    per_epoch: dict[str, float] = {}
    for f in CURVE_FRACTIONS:
        at = [max(int(np.ceil(f * len(t))) - 1, 0) for t in true]
        pe = np.array([p[k] for p, k in zip(pred, at, strict=True)])
        te = np.array([t[k] for t, k in zip(true, at, strict=True)])
        per_epoch[f"{f:g}"] = regression_metrics(pe, te)["r2"]
    return {
        "whole_curve_r2": 1.0 - sse / sst if sst > 0 else float("nan"),
        "mae": abs_sum / max(points, 1),
        "final_epoch": regression_metrics(
            np.array([p[-1] for p in pred]), np.array([t[-1] for t in true])
        ),
        "per_epoch_r2": per_epoch,
        "n_curves": len(true),
        "n_points": points,
    }
