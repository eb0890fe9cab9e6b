"""Fitting a ``curve-bcs`` surrogate (:mod:`eabench.surrogates.curve`) from :class:`CurveData`.

Split: the dataset's deterministic split by config id (``config_id_80_10_10``: all runs of one
config in one part), or ``"all"`` (everything fitted, nothing held out: for tiny smoke data; the
card then has no held-out metric). Model choices use the training and validation runs only; the
test runs are predicted once, after every choice, by the same numpy code that answers queries.

Heads: the BCS (:class:`~eabench.surrogates.lc_model.BezierCurveSurrogate`) on the validation (and,
when every fitted run has one, test) accuracy curves; a GBDT of log seconds per epoch; per meter,
a GBDT ensemble and an MLP ensemble of log joules per epoch, the one with the lower validation MAE
shipped (both scored on the test runs). Baselines on the same split: per-epoch GBDT and
SVD + GBDT, one per curve length.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from eabench.errors import DatasetError
from eabench.manifest import Manifest
from eabench.surrogates.curve import KIND, RESID_BINS, CurveSurrogate
from eabench.surrogates.label_model import LabelModel
from eabench.surrogates.lc_model import (
    BezierCurveSurrogate,
    PerEpochGBDT,
    SVDRegressor,
    fit_gbdt,
    fit_mlp,
)
from eabench.training.curve_data import CurveData
from eabench.training.metrics import curve_metrics, regression_metrics

__all__ = ["DEFAULTS", "CurveFit", "fit_curve_surrogate", "score_artifact"]

_XGB = {"n_estimators": 300, "max_depth": 4, "learning_rate": 0.05, "subsample": 0.8}
_MLP = {"max_epochs": 300, "patience": 30, "lr": 3e-3, "batch_size": 32}
DEFAULTS: Mapping[str, Any] = {
    "split": "config_id_80_10_10",
    "min_held_out": 3,
    "bcs": {"degree": 4, "axis": "log", "regressor": "xgb", "members": 3, "hidden": [64, 64]},
    "time": {"members": 1},
    "energy": {"members": 3, "candidates": ["xgb", "mlp"], "hidden": [64, 64]},
    "baselines": True,
    "xgb": _XGB,
    "mlp": _MLP,
}
"""Recipe defaults (a recipe's tables override key by key)."""


@dataclass(frozen=True, slots=True)
class CurveFit:
    """Weights, the manifest's ``heads``, held-out metrics, split counts and timings."""

    weights: dict[str, np.ndarray]
    heads: dict[str, Any]
    metrics: dict[str, Any]
    split_counts: dict[str, int]
    seconds: dict[str, float]
    curve_epochs_cap: int


def _label_model(fitted: BezierCurveSurrogate) -> LabelModel:
    members = tuple(m if not isinstance(m, list) else tuple(m) for m in fitted.models_)
    return LabelModel(fitted.x_mean_, fitted.x_std_, fitted.y_mean_, fitted.y_std_, members)


def fit_scalar(
    x: np.ndarray,
    y: np.ndarray,
    regressor: str,
    members: int,
    seed: int,
    cfg: Mapping[str, Any],
    hidden: tuple[int, ...] = (64, 64),
) -> LabelModel:
    """An ensemble of ``members`` GBDTs or MLPs (``hidden`` widths) of one standardised target;
    ``cfg`` holds the ``xgb`` and ``mlp`` settings."""
    x_mean, x_std = x.mean(axis=0), x.std(axis=0) + 1e-12
    y_mean, y_std = np.array([y.mean()]), np.array([y.std() + 1e-12])
    xs = (x - x_mean) / x_std
    ys = ((y - y_mean[0]) / y_std[0])[:, None]
    out: list[Any] = []
    for k in range(members):
        if regressor == "mlp":
            out.append(fit_mlp(xs, ys, seed + k, hidden, dict(cfg["mlp"])))
        else:
            out.append((fit_gbdt(xs, ys[:, 0], seed + k, dict(cfg["xgb"])),))
    return LabelModel(x_mean, x_std, y_mean, y_std, tuple(out))


def _parts(data: CurveData, split: str) -> dict[str, np.ndarray]:
    if split == "all":
        every = np.arange(data.n_runs)
        return {"train": every, "valid": every[:0], "test": every[:0]}
    if split != "config_id_80_10_10":
        raise DatasetError.for_field("split", split, "must be 'config_id_80_10_10' or 'all'")
    return {p: np.flatnonzero(data.split == c) for c, p in enumerate(("train", "valid", "test"))}


def _draft(heads: Mapping[str, Any], meters: list[str], max_epochs: float) -> Manifest:
    """An in-memory manifest so that held-out rows are scored by the query-time code."""
    return Manifest.from_dict(
        {
            "format_version": 2,
            "kind": KIND,
            "name": "draft",
            "version": "0",
            "space_name": "draft",
            "files": {},
            "heads": dict(heads),
            "meters": meters,
            "max_epochs": max_epochs,
        }
    )


def _curves(model: CurveSurrogate, x: np.ndarray, lengths: np.ndarray, test: bool) -> list[Any]:
    """Predicted accuracy curves over each row's own epochs 1..L."""
    top = int(lengths.max())
    pred = model.predict(x, np.arange(1.0, top + 1.0))
    acc = pred.test_accuracy if test else pred.val_accuracy
    assert acc is not None
    return [acc[i, : int(n)] for i, n in enumerate(lengths)]


def _resid_sd(pred: list[np.ndarray], true: list[np.ndarray]) -> list[float]:
    sq = np.zeros(RESID_BINS)
    cnt = np.zeros(RESID_BINS)
    for p, t in zip(pred, true, strict=True):
        rel = np.minimum((np.arange(1, len(t) + 1) / len(t) * RESID_BINS).astype(int), 9)
        np.add.at(sq, rel, (p - t) ** 2)
        np.add.at(cnt, rel, 1)
    sd = np.sqrt(sq / np.maximum(cnt, 1))
    filled = np.where(cnt > 0, sd, np.sqrt(sq.sum() / max(cnt.sum(), 1)))
    return [float(v) for v in filled]


def _baselines(
    data: CurveData, fit_rows: np.ndarray, test_rows: np.ndarray, seed: int, xgb: dict[str, Any]
) -> tuple[dict[str, list[np.ndarray]], np.ndarray]:
    """Per-epoch GBDT and SVD + GBDT per curve length; returns predictions and covered rows."""
    preds: dict[str, list[np.ndarray]] = {"per_epoch_gbdt": [], "svd_gbdt": []}
    covered: list[int] = []
    fit_len = data.observed[fit_rows]
    for length in np.unique(data.observed[test_rows]):
        tr = fit_rows[fit_len == length]
        te = test_rows[data.observed[test_rows] == length]
        if tr.size < 2:
            continue
        y = np.stack([data.val_curves[i] for i in tr])
        rank = int(min(4, tr.size - 1, y.shape[1]))
        per = PerEpochGBDT(seed=seed, xgb=xgb).fit(data.features[tr], y)
        svd = SVDRegressor(rank=rank, seed=seed, xgb=xgb).fit(data.features[tr], y)
        p1, p2 = per.predict(data.features[te]), svd.predict(data.features[te])
        preds["per_epoch_gbdt"] += list(p1)
        preds["svd_gbdt"] += list(p2)
        covered += te.tolist()
    return preds, np.asarray(covered, dtype=np.int64)


def fit_curve_surrogate(data: CurveData, recipe: Mapping[str, Any], seed: int) -> CurveFit:
    """Fit every head on the training runs, choose on validation runs, score the test runs once.

    Raises:
        DatasetError: fewer than 2 training runs with 2 observed epochs, or no time data.
    """
    cfg = {**DEFAULTS, **{k: v for k, v in recipe.items() if k in DEFAULTS}}
    for key in ("bcs", "time", "energy"):
        cfg[key] = {**DEFAULTS[key], **dict(recipe.get(key, {}))}
    cfg["xgb"] = {**_XGB, **dict(recipe.get("xgb", {}))}
    cfg["mlp"] = {**_MLP, **dict(recipe.get("mlp", {}))}
    secs: dict[str, float] = {}
    parts = _parts(data, str(cfg["split"]))
    cap = int(data.observed[parts["train"]].max()) if parts["train"].size else 0
    want = np.minimum(data.run_length, cap)
    eligible = (data.observed >= want) & (want >= 3)  # a Bezier curve needs 3 points
    fit_rows = parts["train"][eligible[parts["train"]]]
    if fit_rows.size < 2:
        raise DatasetError.for_field(
            "training runs",
            int(fit_rows.size),
            f"need >= 2 runs with >= 3 observed epochs in the train part ({parts['train'].size} "
            "train runs); use split = 'all' for smoke data",
        )
    lengths = want.astype(int)
    curves = [data.val_curves[i][: lengths[i]] for i in range(data.n_runs)]
    x = data.features
    bcs_cfg = cfg["bcs"]
    degree = int(max(2, min(int(bcs_cfg["degree"]), lengths[fit_rows].min() - 1)))
    t0 = time.perf_counter()

    def bcs(targets: list[np.ndarray]) -> LabelModel:
        est = BezierCurveSurrogate(
            degree=degree,
            axis=str(bcs_cfg["axis"]),
            regressor=str(bcs_cfg["regressor"]),
            members=int(bcs_cfg["members"]),
            seed=seed,
            hidden=tuple(int(h) for h in bcs_cfg["hidden"]),
            mlp=dict(cfg["mlp"]),
            xgb=dict(cfg["xgb"]),
        ).fit(x[fit_rows], [targets[i] for i in fit_rows])
        return _label_model(est)

    weights: dict[str, np.ndarray] = {}
    head_bcs = {k: bcs_cfg[k] for k in ("axis", "regressor", "members")} | {"degree": degree}
    weights.update(bcs(curves).to_arrays("bcs"))
    has_test = all(data.test_curves[i] is not None for i in fit_rows)
    test_curves: list[Any] = [None] * data.n_runs
    if has_test:
        test_curves = [
            None if c is None else c[: lengths[i]] for i, c in enumerate(data.test_curves)
        ]
        weights.update(bcs(test_curves).to_arrays("test_bcs"))
    secs["bcs"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    sec = data.per_epoch_s
    time_rows = fit_rows[np.isfinite(sec[fit_rows]) & (sec[fit_rows] > 0)]
    if time_rows.size < 2:
        raise DatasetError.for_field("train_time_s", int(time_rows.size), "need >= 2 timed runs")
    time_model = fit_scalar(x[time_rows], np.log(sec[time_rows]), "xgb", 1, seed, cfg)
    weights.update(time_model.to_arrays("time"))
    secs["time"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    energy_heads: dict[str, Any] = {}
    energy_metrics: dict[str, Any] = {}
    candidates = [str(c) for c in cfg["energy"]["candidates"]]
    members = int(cfg["energy"]["members"])
    hidden = tuple(int(h) for h in cfg["energy"]["hidden"])
    for meter, md in data.meters.items():
        y = md.per_epoch_j
        ok = np.isfinite(y)
        rows = fit_rows[ok[fit_rows]]
        if rows.size < 2:
            continue
        fitted = {
            c: fit_scalar(x[rows], np.log(y[rows]), c, members, seed, cfg, hidden)
            for c in candidates
        }
        val_rows = parts["valid"][ok[parts["valid"]]]
        choice, scores = candidates[0], {}
        if val_rows.size >= int(cfg["min_held_out"]):
            for c, cand in fitted.items():
                pred = np.exp(cand.predict(x[val_rows])[:, :, 0].mean(axis=0))
                scores[c] = float(np.mean(np.abs(pred - y[val_rows])))
            choice = min(scores, key=lambda c: scores[c])
        chosen = fitted[choice]
        probe = val_rows if val_rows.size >= int(cfg["min_held_out"]) else rows
        resid = np.log(y[probe]) - chosen.predict(x[probe])[:, :, 0].mean(axis=0)
        setup = md.setup_j[rows]
        energy_heads[meter] = {
            "regressor": choice,
            "members": members,
            "setup_j": float(np.median(setup[np.isfinite(setup)]))
            if np.isfinite(setup).any()
            else 0.0,
            "log_sigma": float(np.sqrt(np.mean(resid**2))),
            "log_sigma_from": "validation runs"
            if probe is val_rows
            else "training runs (in-sample)",
            "valid_mae_j_per_epoch": scores,
        }
        weights.update(chosen.to_arrays(f"energy.{meter}"))
        energy_metrics[meter] = {"fitted": fitted, "rows": rows}
    if not energy_heads:
        raise DatasetError.for_field("energy", list(data.meters), "no meter has >= 2 fitted runs")
    secs["energy"] = time.perf_counter() - t0

    meters = list(energy_heads)
    top = int(data.run_length.max())
    heads: dict[str, Any] = {
        "bcs": head_bcs,
        "test_bcs": head_bcs if has_test else None,
        "time": {"regressor": "xgb", "members": 1, "target": "log seconds per epoch"},
        "energy": energy_heads,
        "t_feature": _t_feature(data),
        "curve_epochs_cap": cap,
        "val_resid_sd": [0.0] * RESID_BINS,
        "test_resid_sd": [0.0] * RESID_BINS,
    }
    model = CurveSurrogate(_draft(heads, meters, top), weights)
    min_n = int(cfg["min_held_out"])
    sd_rows = parts["valid"][eligible[parts["valid"]]]
    sd_rows = sd_rows if sd_rows.size >= min_n else fit_rows
    heads["val_resid_sd"] = _resid_sd(
        _curves(model, x[sd_rows], lengths[sd_rows], False), [curves[i] for i in sd_rows]
    )
    if has_test and all(test_curves[i] is not None for i in sd_rows):
        heads["test_resid_sd"] = _resid_sd(
            _curves(model, x[sd_rows], lengths[sd_rows], True), [test_curves[i] for i in sd_rows]
        )
    heads["resid_sd_from"] = "validation runs" if sd_rows is not fit_rows else "training runs"
    model = CurveSurrogate(_draft(heads, meters, top), weights)

    metrics: dict[str, Any] = {}
    valid_rows = parts["valid"][eligible[parts["valid"]]]
    if valid_rows.size >= min_n:  # model selection looks here, never at the test runs
        metrics["selection_valid_val_curve"] = curve_metrics(
            _curves(model, x[valid_rows], lengths[valid_rows], False),
            [curves[i] for i in valid_rows],
        )
    test_rows = parts["test"][eligible[parts["test"]]]
    if test_rows.size >= min_n:
        t0 = time.perf_counter()
        metrics.update(
            _held_out(data, model, test_rows, lengths, curves, test_curves, energy_metrics)
        )
        if cfg["baselines"]:
            base, covered = _baselines(data, fit_rows, test_rows, seed, dict(cfg["xgb"]))
            if covered.size >= min_n:
                bcs_cov = _curves(model, x[covered], lengths[covered], False)
                truth = [curves[i] for i in covered]
                metrics["val_curve_same_rows_as_baselines"] = {
                    "bcs": curve_metrics(bcs_cov, truth),
                    **{k: curve_metrics(v, truth) for k, v in base.items()},
                }
        secs["held_out_scoring_and_baselines"] = time.perf_counter() - t0
    counts = {p: int(v.size) for p, v in parts.items()}
    counts.update(fitted_bcs=int(fit_rows.size), test_scored=int(test_rows.size))
    counts.update({f"skipped: {k}": v for k, v in data.skipped.items()})
    return CurveFit(weights, heads, metrics, counts, secs, cap)


def _t_feature(data: CurveData) -> int | None:
    """Feature column equal to the run length T of every config, or None."""
    for j in range(data.features.shape[1]):
        if np.array_equal(data.features[:, j], data.run_length):
            return j
    return None


def _held_out(
    data: CurveData,
    model: CurveSurrogate,
    rows: np.ndarray,
    lengths: np.ndarray,
    curves: list[np.ndarray],
    test_curves: list[Any],
    energy: dict[str, Any] | None,
) -> dict[str, Any]:
    """Test-run metrics of the shipped model (and of both energy candidates)."""
    x = data.features[rows]
    out: dict[str, Any] = {
        "val_curve": curve_metrics(
            _curves(model, x, lengths[rows], False), [curves[i] for i in rows]
        )
    }
    if test_curves[int(rows[0])] is not None and all(test_curves[i] is not None for i in rows):
        out["test_curve"] = curve_metrics(
            _curves(model, x, lengths[rows], True), [test_curves[i] for i in rows]
        )
    sec = data.per_epoch_s[rows]
    ok = np.isfinite(sec)
    if ok.sum() >= 3:
        pred = model.predict(x[ok], np.array([1.0])).train_time_s[:, 0]
        out["time_per_epoch_s"] = regression_metrics(pred, sec[ok])
    for meter in model.meters:
        y = data.meters[meter].per_epoch_j[rows]
        ok = np.isfinite(y)
        if ok.sum() < 3:
            continue
        res: dict[str, Any] = {}
        for name, cand in (energy or {}).get(meter, {}).get("fitted", {}).items():
            pred = np.exp(cand.predict(x[ok])[:, :, 0].mean(axis=0))
            res[f"candidate_{name}"] = regression_metrics(pred, y[ok])
        p = model.predict(x[ok], np.array([1.0, 2.0]))
        per = p.energy_j[meter][:, 1] - p.energy_j[meter][:, 0]
        sd = (p.energy_j_std or {})[meter][:, 1] / 2.0
        res["shipped"] = model.manifest["heads"]["energy"][meter]["regressor"]
        res["shipped_model"] = regression_metrics(per, y[ok])
        res["within_1sd"] = float(np.mean(np.abs(per - y[ok]) <= sd))
        res["within_2sd"] = float(np.mean(np.abs(per - y[ok]) <= 2 * sd))
        out[f"energy_per_epoch_j.{meter}"] = res
    return out


def score_artifact(
    data: CurveData, model: CurveSurrogate, recipe: Mapping[str, Any]
) -> dict[str, Any]:
    """The test-run metrics of a shipped artifact, recomputed (``eabench evaluate``): same split,
    same curve lengths, same code as at training (energy: the shipped model only)."""
    parts = _parts(data, str(recipe.get("split", DEFAULTS["split"])))
    cap = int(model.manifest["heads"]["curve_epochs_cap"])
    lengths = np.minimum(data.run_length, cap).astype(int)
    eligible = data.observed >= lengths
    rows = parts["test"][eligible[parts["test"]]]
    if rows.size < int(recipe.get("min_held_out", DEFAULTS["min_held_out"])):
        return {}
    curves = [data.val_curves[i][: lengths[i]] for i in range(data.n_runs)]
    test_curves = [None if c is None else c[: lengths[i]] for i, c in enumerate(data.test_curves)]
    if model.manifest["heads"].get("test_bcs") is None:
        test_curves = [None] * data.n_runs
    return _held_out(data, model, rows, lengths, curves, test_curves, None)
