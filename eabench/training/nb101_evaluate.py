"""Recompute an nb101-7v artifact's held-out metrics from the dataset (numpy inference only).

Everything the card reports on held-out rows is recomputed from the artifact's ``predict``:
regression metrics, the energy sd's coverage and the validation-accuracy sd's calibration. The
test-accuracy numbers go through the query-time curve, which clips to [0, 1] (training scores the
raw head), so its R^2 and MAE can differ from the manifest in the 4th digit; Kendall tau is equal.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from eabench.surrogates.acc_uncertainty import calibration_by_budget
from eabench.surrogates.artifact import Nb101Surrogate
from eabench.training.metrics import regression_metrics
from eabench.training.nb101_data import Nb101Data
from eabench.training.nb101_fit import BUDGETS

__all__ = ["evaluate_nb101_7v"]


def evaluate_nb101_7v(model: Nb101Surrogate, data: Nb101Data) -> dict[str, Any]:
    """Held-out metrics of ``model`` on ``data`` (same keys as the training metrics it predicts)."""
    out: dict[str, Any] = {}
    test_rows = data.en_index[data.split["test"]]
    pred = model.predict(data.encoded[test_rows], np.array([4.0]))
    meter = model.meters[0]
    pue = float(model.manifest["heads"]["energy_divide_by"])
    e_wh = pred.energy_j[meter][:, 0] * pue / 3600.0
    true = data.energy_4ep_wh[data.split["test"]]
    sd_wh = pred.energy_j_std[meter][:, 0] * pue / 3600.0 if pred.energy_j_std else None
    out["energy_4ep_wh_seed42_test"] = regression_metrics(e_wh, true)
    if sd_wh is not None:
        err = np.abs(e_wh - true)
        out["energy_4ep_wh_seed42_test"]["calibration_within_1sd"] = float(np.mean(err <= sd_wh))
        out["energy_4ep_wh_seed42_test"]["calibration_within_2sd"] = float(
            np.mean(err <= 2 * sd_wh)
        )
    is_f = np.char.startswith(data.hashes.astype(str), "f")
    held = is_f.copy()
    held[test_rows] = True
    mb_f = held[data.mb_index]
    rows = data.mb_index[mb_f]
    p = model.predict(data.encoded[rows], BUDGETS)
    truth = data.val_acc[mb_f]
    res = p.val_accuracy - truth
    out["val_acc_bcs_gbdt_heldout_mb"] = {
        **{
            f"budget_{int(b)}": regression_metrics(p.val_accuracy[:, i], truth[:, i])
            for i, b in enumerate(BUDGETS)
        },
        "whole_curve_r2": float(1 - np.sum(res**2) / np.sum((truth - truth.mean(0)) ** 2)),
    }
    if p.val_accuracy_std is not None:
        out["val_acc_std_calibration_heldout_mb"] = calibration_by_budget(
            p.val_accuracy, p.val_accuracy_std, truth
        )
    out["time_108_s_heldout_mb"] = regression_metrics(p.train_time_s[:, -1], data.time_108_s[mb_f])
    f_rows = np.flatnonzero(is_f)
    t108 = np.concatenate(
        [
            model.predict(data.encoded[f_rows[i : i + 4096]], np.array([108.0])).test_accuracy[:, 0]  # type: ignore[index]
            for i in range(0, f_rows.size, 4096)
        ]
    )
    out["test_acc_108_f_cells"] = regression_metrics(t108, data.test_acc_108[is_f])
    return out
