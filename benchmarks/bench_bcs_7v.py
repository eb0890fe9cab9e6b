"""BCS against its baselines on the nb101-7v validation-accuracy curves (same split).

Fit: multi-budget cells that are not held out; evaluate: the held-out multi-budget cells (the 862
seed-42 test cells; no multi-budget cell hash starts with "f"). Models: BCS with an MLP ensemble,
BCS with XGBoost, per-budget GBDT, SVD (rank 3) + GBDT. Writes benchmarks/results/bcs_7v.json.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
BUDGETS = np.array([4.0, 12.0, 36.0, 108.0])


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from eabench.surrogates.lc_model import BezierCurveSurrogate, PerEpochGBDT, SVDRegressor
    from eabench.surrogates.nb101_features import cell_features
    from eabench.training.metrics import regression_metrics
    from eabench.training.nb101_data import load_nb101_7v

    data = load_nb101_7v(ROOT / "data" / "eabench-data.h5")
    held = np.char.startswith(data.hashes.astype(str), "f")
    held[data.en_index[data.split["test"]]] = True
    fit = ~held[data.mb_index]
    x = cell_features(data.encoded[data.mb_index])
    y = data.val_acc
    gb = {"n_estimators": 300, "max_depth": 6, "learning_rate": 0.05, "subsample": 0.8, "n_jobs": 2}
    models = {
        "bcs_mlp": BezierCurveSurrogate(
            degree=3,
            axis="log",
            regressor="mlp",
            members=2,
            hidden=(256, 256),
            mlp={"lr": 1e-3, "batch_size": 128, "max_epochs": 100, "patience": 10},
        ),
        "bcs_xgb": BezierCurveSurrogate(degree=3, axis="log", regressor="xgb", members=1, xgb=gb),
        "per_budget_gbdt": PerEpochGBDT(xgb=gb),
        "svd3_gbdt": SVDRegressor(rank=3, xgb=gb),
    }
    res: dict[str, dict[str, object]] = {}
    for name, model in models.items():
        t0 = time.perf_counter()
        if isinstance(model, BezierCurveSurrogate):
            model.fit(x[fit], list(y[fit]), epochs=BUDGETS)
            pred, _ = model.predict(x[~fit], BUDGETS, np.full((~fit).sum(), 108.0))
        else:
            pred = model.fit(x[fit], y[fit]).predict(x[~fit])
        secs = time.perf_counter() - t0
        truth = y[~fit]
        r = pred - truth
        res[name] = {
            **{
                f"budget_{int(b)}": regression_metrics(pred[:, i], truth[:, i])
                for i, b in enumerate(BUDGETS)
            },
            "whole_curve_r2": float(1 - np.sum(r**2) / np.sum((truth - truth.mean(0)) ** 2)),
            "train_s": secs,
        }
        print(name, json.dumps(res[name]), flush=True)
    out = ROOT / "benchmarks" / "results" / "bcs_7v.json"
    out.write_text(
        json.dumps(
            {"split": {"fit": int(fit.sum()), "held_out": int((~fit).sum())}, **res}, indent=1
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
