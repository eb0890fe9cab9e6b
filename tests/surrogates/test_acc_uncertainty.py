"""Predictive sd of the 7V validation-accuracy curve: interpolation, calibration, OOF folds."""

from __future__ import annotations

import numpy as np
import pytest

from eabench.surrogates.acc_uncertainty import (
    BUDGETS,
    MIN_SD,
    interp_sd,
    oof_residuals,
    sd_from_heads,
    std_calibration,
)


def test_interp_sd_is_exact_on_budgets_and_linear_in_log_epochs_between():
    sd = np.array([[0.08, 0.04, 0.02, 0.01], [0.01, 0.01, 0.01, 0.01]])
    np.testing.assert_array_equal(interp_sd(sd, BUDGETS), sd)
    mid = np.sqrt(4.0 * 12.0)  # halfway between 4 and 12 on the log axis
    np.testing.assert_allclose(interp_sd(sd, np.array([mid]))[:, 0], [0.06, 0.01])
    between = interp_sd(sd, np.linspace(4.0, 108.0, 50))
    assert np.all(np.diff(between[0]) <= 1e-15)  # decreasing sd stays decreasing
    np.testing.assert_allclose(between[1], 0.01)


def test_std_calibration_counts_coverage_and_ranks_sd_against_error():
    true = np.zeros(4)
    pred = np.array([0.05, -0.15, 0.25, 0.7])
    sd = np.array([0.1, 0.1, 0.2, 0.3])
    cal = std_calibration(pred, sd, true)
    assert cal["within_1sd"] == 0.25
    assert cal["within_2sd"] == 0.75
    assert cal["spearman_sd_vs_abs_error"] == pytest.approx(
        np.corrcoef([1.5, 1.5, 3, 4], [1, 2, 3, 4])[0, 1]
    )
    assert cal["mean_abs_error"] == pytest.approx(0.2875)


def test_sd_heads_are_floored_and_scaled_from_mean_absolute_residual():
    class Const:
        def __init__(self, v: float) -> None:
            self.v = v

        def predict(self, x: np.ndarray) -> np.ndarray:
            return np.full(len(x), self.v)

    heads = (Const(0.01), Const(-1.0), Const(0.0), Const(0.02))
    sd = sd_from_heads(heads, np.zeros((3, 2)))  # type: ignore[arg-type]
    np.testing.assert_allclose(sd[:, 0], 0.01 * np.sqrt(np.pi / 2), rtol=5e-4)
    assert np.all(sd == sd.astype(np.float16))  # float16 precision, exactly
    assert np.all(sd[:, 1:3] == np.float16(MIN_SD))


def test_oof_residuals_give_every_row_one_held_out_residual():
    pytest.importorskip("xgboost")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 4))
    base = 0.5 + 0.1 * np.tanh(x[:, :1])
    val = np.clip(base + np.array([[-0.3, -0.1, 0.0, 0.02]]), 0.01, 0.99)
    params = {"n_estimators": 10, "max_depth": 2}
    r1 = oof_residuals(x, val, 3, params, folds=3)
    r2 = oof_residuals(x, val, 3, params, folds=3)
    assert r1.shape == (300, 4)
    assert np.all(np.isfinite(r1))
    np.testing.assert_array_equal(r1, r2)  # deterministic
    assert np.abs(r1).mean() < np.abs(val - val.mean(0)).mean()  # better than the mean curve
