"""Model selection of the nb101-7v energy head, on non-test rows only.

The seed-42 split of the 4,310 EC-NAS 7V rows has train 3,017 / valid 431 / test 862 rows. This
script never reads a test row (it asserts that): every candidate is scored two ways,

* ``valid``: fitted on the 3,017 train rows, scored on the 431 valid rows (the official split);
* ``cv5``: 5-fold cross-validation over the 3,448 train+valid rows (folds from
  ``numpy.random.default_rng(0)``), fitted on four folds, scored on the fifth; 8x the scored rows
  of ``valid``, so it is the selection criterion.

The candidate with the lowest ``cv5`` MAE (Wh per 4-epoch run, published scale) is selected; the
recipe ``surrogates/recipes/nb101-7v.toml`` must carry its settings (a test checks that), and
``eabench train`` then fits it on all 3,448 rows with 3 members and scores the test rows once.
Every candidate here is a single member. Writes ``benchmarks/results/energy_selection_7v.json``.

Usage: ``python benchmarks/select_energy_7v.py`` (about 2-3 minutes on 2 cores).
"""

from __future__ import annotations

import itertools
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "energy_selection_7v.json"
BASE_XGB = {"n_estimators": 2000, "subsample": 0.8}
# the energy GBDT of the first release (0.1.0): log target on cell_features
V010 = {"n_estimators": 2000, "max_depth": 4, "learning_rate": 0.02, "subsample": 0.8}
V010["colsample_bytree"] = 0.5

Fit = Callable[[np.ndarray, np.ndarray], np.ndarray]  # (fit rows, score rows) -> Wh


def _candidates(enc: np.ndarray, y: np.ndarray) -> dict[str, tuple[dict[str, Any], Fit]]:
    from eabench.surrogates.nb101_energy import (
        EnergyHead,
        energy_features,
        fit_additive,
        work_terms,
    )
    from eabench.surrogates.nb101_features import cell_features
    from eabench.surrogates.trees import fit_xgb
    from eabench.training.nb101_fit import fit_energy_head

    base, xe, work = cell_features(enc), energy_features(enc), work_terms(enc)

    def log_gbdt(x: np.ndarray, params: dict[str, Any]) -> Fit:
        return lambda a, b: np.exp(fit_xgb(x[a], np.log(y[a]), 0, params).predict(x[b]))

    def additive(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        scale, coef = fit_additive(work[a], y[a])
        return EnergyHead(scale, coef, ()).additive_wh(work[b])

    def residual(params: dict[str, Any]) -> Fit:
        return lambda a, b: fit_energy_head(enc[a], y[a], 0, 1, params).members_wh(enc[b])[0]

    out: dict[str, tuple[dict[str, Any], Fit]] = {
        "gbdt_log_cell_features_v0.1.0": ({"model": "gbdt-log", **V010}, log_gbdt(base, V010)),
        "gbdt_log_energy_features": ({"model": "gbdt-log", **V010}, log_gbdt(xe, V010)),
        "additive_only": ({"model": "additive"}, additive),
    }
    for depth, lr, cs in itertools.product((3, 4, 5), (0.01, 0.02), (0.3, 0.5, 0.8)):
        p = {**BASE_XGB, "max_depth": depth, "learning_rate": lr, "colsample_bytree": cs}
        out[f"additive_x_gbdt_d{depth}_lr{lr}_cs{cs}"] = (
            {"model": "additive-x-gbdt", **p},
            residual(p),
        )
    return out


def _score(pred: np.ndarray, true: np.ndarray) -> dict[str, float]:
    from eabench.training.metrics import regression_metrics

    return {k: v for k, v in regression_metrics(pred, true).items() if k != "n"}


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from eabench.training.nb101_data import load_nb101_7v

    data = load_nb101_7v(ROOT / "data" / "eabench-data.h5")
    enc, y = data.encoded[data.en_index], data.energy_4ep_wh
    tr, va = data.split["train"], data.split["valid"]
    assert not np.intersect1d(np.concatenate([tr, va]), data.split["test"]).size
    rows = np.concatenate([tr, va])
    folds = np.array_split(np.random.default_rng(0).permutation(rows), 5)
    results: dict[str, Any] = {}
    for name, (params, fit) in _candidates(enc, y).items():
        t0 = time.perf_counter()
        valid = _score(fit(tr, va), y[va])
        oof = np.zeros(y.size)
        for fold in folds:
            oof[fold] = fit(np.setdiff1d(rows, fold), fold)
        cv5 = _score(oof[rows], y[rows])
        results[name] = {"params": params, "valid": valid, "cv5": cv5}
        results[name]["seconds"] = round(time.perf_counter() - t0, 2)
        print(
            f"{name:40s} cv5 MAE {cv5['mae']:.4f} tau {cv5['kendall_tau']:.4f} | valid MAE "
            f"{valid['mae']:.4f} tau {valid['kendall_tau']:.4f}",
            flush=True,
        )
    best = min(results, key=lambda k: results[k]["cv5"]["mae"])
    doc = {
        "what": "nb101-7v energy head selection on non-test seed-42 rows (see module doc)",
        "criterion": "lowest cv5 MAE (Wh per 4-epoch run, PUE 1.59 included)",
        "rows": {"train": int(tr.size), "valid": int(va.size), "cv5": int(rows.size)},
        "test_rows_read": 0,
        "selected": best,
        "selected_params": results[best]["params"],
        "candidates": results,
        "load_average": list(os.getloadavg()),
    }
    OUT.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"selected {best}: {results[best]['params']}; wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
