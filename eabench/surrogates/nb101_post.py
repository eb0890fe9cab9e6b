"""What the 7V heads' raw outputs become in an answer (nb101-7v artifacts from 0.4.0 on).

Numbers are calibrated on training data only (``eabench.training.nb101_post.postprocess_params``)
and stored in the manifest as ``heads.postprocess``:

* **Upward shrinkage of accuracy at 108 epochs** toward the measured prior, by the head's own
  predictive sd (``shrink`` says at which budgets; 108 only in 0.4.0): a prediction ``p`` above
  the prior mean ``m`` (measured validation accuracy of the fitted
  multi-budget cells at that budget, sd ``s``) becomes ``m + (p - m) s^2 / (s^2 + sd^2)``; below
  the mean it is kept. A confident prediction barely moves; one the heads know little about (sd
  of 0.08 at 108 epochs where typical cells have 0.005) cannot become the search's optimum. The
  test head is shrunk the same way toward the measured test accuracy at 108 (with the validation
  sd at 108). Chosen among none / clamp / symmetric / upward / upward at 108 on non-held-out
  data only (``benchmarks/select_acc_post_7v.py``: the 367,036 cells neither fitted nor held out,
  and out-of-fold predictions of the 29,139 fitted cells).
* **The measured range**: budget values are clamped into the range of measured accuracies at that
  budget (test at 108: measured test accuracies), so no answer is exactly 0 or 1 (``CLIPPED`` when
  it binds).
* **Monotone interpolation between budgets**: piecewise cubic Hermite (PCHIP, Fritsch-Carlson) in
  log epochs through the 4 budget values: monotone wherever they are, never outside the values of
  the neighbouring budgets (no invented peak between 36 and 108).
* **Budget-aware HIGH_UNCERTAINTY**: the predictive sd at t exceeds ``ratio`` times the spread of
  measured accuracies at t (interpolated in log epochs between budgets).
* **Energy beyond the measured 4 epochs**: ``E(t) = E4 (s + (1 - s) t / 4)`` with ``s`` the
  setup-window share of 4-epoch energy in the raw EC-NAS runs (setup is not multiplied along),
  and a relative sd that grows by ``doubling_sd`` per doubling of t beyond 4 (the spread of
  ``(E4 - E0) / 2 (E2 - E0)`` in the 2,532 raw 5V runs).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from eabench.errors import ArtifactError

__all__ = [
    "LOG_BUDGETS",
    "HermiteBasis",
    "Postprocess",
    "pchip",
    "pchip_slopes",
    "pchip_slopes_row",
]

LOG_BUDGETS = np.log(np.array([4.0, 12.0, 36.0, 108.0]))


def _vec(raw: Any, name: str, n: int) -> np.ndarray:
    arr = np.asarray(raw, dtype=np.float64).reshape(-1)
    if arr.shape != (n,) or not np.all(np.isfinite(arr)):
        raise ArtifactError.for_field(f"heads.postprocess.{name}", raw, f"must be {n} numbers")
    return arr


@dataclass(frozen=True, slots=True)
class Postprocess:
    """The calibrated numbers of ``heads.postprocess`` (see the module docstring)."""

    val_mean: np.ndarray
    val_sd: np.ndarray
    val_min: np.ndarray
    val_max: np.ndarray
    shrink: np.ndarray
    test_mean: float
    test_sd: float
    test_min: float
    test_max: float
    uncertainty_ratio: float
    setup_share: float
    doubling_sd: float

    @classmethod
    def from_manifest(cls, raw: Any) -> Postprocess:
        """Parse ``heads.postprocess``; ``ArtifactError`` if missing or malformed."""
        if not isinstance(raw, Mapping):
            raise ArtifactError.for_field(
                "heads.postprocess", raw, "required from nb101-7v 0.4.0 on: retrain the artifact"
            )
        try:
            test = _vec(raw["test_mean_sd_min_max"], "test_mean_sd_min_max", 4)
            scal = _vec(
                [raw["uncertainty_ratio"], raw["setup_share"], raw["doubling_sd"]], "scalars", 3
            )
            out = cls(
                val_mean=_vec(raw["val_mean"], "val_mean", 4),
                val_sd=_vec(raw["val_sd"], "val_sd", 4),
                val_min=_vec(raw["val_min"], "val_min", 4),
                val_max=_vec(raw["val_max"], "val_max", 4),
                shrink=_vec(raw["shrink"], "shrink", 4) != 0,
                test_mean=float(test[0]),
                test_sd=float(test[1]),
                test_min=float(test[2]),
                test_max=float(test[3]),
                uncertainty_ratio=float(scal[0]),
                setup_share=float(scal[1]),
                doubling_sd=float(scal[2]),
            )
        except KeyError as exc:
            raise ArtifactError.for_field("heads.postprocess", str(exc), "key missing") from exc
        ok = bool(np.all(out.val_sd > 0) and np.all(out.val_min <= out.val_max))
        ok = (
            ok
            and out.test_sd > 0
            and 0 <= out.setup_share < 1
            and out.doubling_sd >= 0
            and out.uncertainty_ratio > 0
        )
        if not ok:
            raise ArtifactError.for_field("heads.postprocess", dict(raw), "values out of range")
        return out

    def to_dict(self) -> dict[str, Any]:
        """The manifest form."""
        return {
            "val_mean": self.val_mean.tolist(),
            "val_sd": self.val_sd.tolist(),
            "val_min": self.val_min.tolist(),
            "val_max": self.val_max.tolist(),
            "shrink": [bool(b) for b in self.shrink],
            "test_mean_sd_min_max": [self.test_mean, self.test_sd, self.test_min, self.test_max],
            "uncertainty_ratio": self.uncertainty_ratio,
            "setup_share": self.setup_share,
            "doubling_sd": self.doubling_sd,
        }

    def spread_at(self, log_ep: np.ndarray) -> np.ndarray:
        """Spread of measured validation accuracy at log epochs (linear in log epochs)."""
        out: np.ndarray = np.interp(log_ep, LOG_BUDGETS, self.val_sd)
        return out

    def energy_factor(self, ep: np.ndarray) -> np.ndarray:
        """``E(t) / (E4 / 4)``: setup once, training epochs linear."""
        s = self.setup_share
        out: np.ndarray = 4.0 * s + (1.0 - s) * ep
        return out

    def extrapolation_rel_sd(self, ep: np.ndarray) -> np.ndarray:
        """Relative sd added by extrapolating beyond 4 epochs."""
        out: np.ndarray = self.doubling_sd * np.log2(np.maximum(ep, 4.0) / 4.0)
        return out


def pchip_slopes(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Fritsch-Carlson knot slopes ``(n, k)`` of rows ``y`` ``(n, k)`` at shared knots ``x``."""
    h = np.diff(x)
    delta = np.diff(y, axis=1) / h
    n, k = y.shape
    d = np.zeros((n, k))
    for i in range(1, k - 1):
        a, b = delta[:, i - 1], delta[:, i]
        w1, w2 = 2 * h[i] + h[i - 1], h[i] + 2 * h[i - 1]
        with np.errstate(divide="ignore", invalid="ignore"):
            hm = (w1 + w2) / (w1 / a + w2 / b)
        d[:, i] = np.where(a * b > 0, hm, 0.0)
    for end, (i0, i1, hh0, hh1) in ((0, (0, 1, h[0], h[1])), (k - 1, (k - 2, k - 3, h[-1], h[-2]))):
        d0 = ((2 * hh0 + hh1) * delta[:, i0] - hh0 * delta[:, i1]) / (hh0 + hh1)
        d0 = np.where(np.sign(d0) != np.sign(delta[:, i0]), 0.0, d0)
        big = (np.sign(delta[:, i0]) != np.sign(delta[:, i1])) & (
            np.abs(d0) > 3 * np.abs(delta[:, i0])
        )
        d[:, end] = np.where(big, 3 * delta[:, i0], d0)
    return d


def pchip_slopes_row(y: list[float], h: list[float]) -> list[float]:
    """:func:`pchip_slopes` of one row in Python floats (``h``: the knot spacings), the same
    IEEE operations in the same order, so the same bits."""
    k = len(y)
    delta = [(y[i + 1] - y[i]) / h[i] for i in range(k - 1)]
    d = [0.0] * k
    for i in range(1, k - 1):
        a, b = delta[i - 1], delta[i]
        if a * b > 0:
            w1, w2 = 2 * h[i] + h[i - 1], h[i] + 2 * h[i - 1]
            d[i] = (w1 + w2) / (w1 / a + w2 / b)
    for end, (i0, i1, hh0, hh1) in ((0, (0, 1, h[0], h[1])), (k - 1, (k - 2, k - 3, h[-1], h[-2]))):
        d0 = ((2 * hh0 + hh1) * delta[i0] - hh0 * delta[i1]) / (hh0 + hh1)
        if _sign(d0) != _sign(delta[i0]):
            d0 = 0.0
        big = _sign(delta[i0]) != _sign(delta[i1]) and abs(d0) > 3 * abs(delta[i0])
        d[end] = 3 * delta[i0] if big else d0
    return d


def _sign(x: float) -> int:
    return (x > 0) - (x < 0)


@dataclass(frozen=True, slots=True)
class HermiteBasis:
    """Where queries ``xq`` fall between knots ``x`` and their cubic Hermite weights: a value is
    ``w00 y[seg] + w10 d[seg] + w01 y[seg + 1] + w11 d[seg + 1]`` (``d``: knot slopes). It depends
    on the knots and queries only, so a fixed epoch grid computes it once (the slopes depend on
    the values and are computed per curve)."""

    seg: np.ndarray
    w00: np.ndarray
    w10: np.ndarray
    w01: np.ndarray
    w11: np.ndarray

    @classmethod
    def at(cls, x: np.ndarray, xq: np.ndarray) -> HermiteBasis:
        """The basis of queries ``xq`` ``(m,)`` inside ``[x[0], x[-1]]``."""
        h = np.diff(x)
        seg = np.clip(np.searchsorted(x, xq, side="right") - 1, 0, len(x) - 2)
        hs = h[seg]
        s = (xq - x[seg]) / hs
        return cls(
            seg=seg,
            w00=(1 + 2 * s) * (1 - s) ** 2,
            w10=s * (1 - s) ** 2 * hs,
            w01=s * s * (3 - 2 * s),
            w11=s * s * (s - 1) * hs,
        )

    def __call__(self, y: np.ndarray, d: np.ndarray) -> np.ndarray:
        """``(n, m)`` values of rows ``y`` with knot slopes ``d`` (both ``(n, k)``)."""
        seg = self.seg
        out: np.ndarray = (
            self.w00 * y[:, seg]
            + self.w10 * d[:, seg]
            + self.w01 * y[:, seg + 1]
            + self.w11 * d[:, seg + 1]
        )
        return out


def pchip(y: np.ndarray, x: np.ndarray, xq: np.ndarray) -> np.ndarray:
    """Monotone piecewise-cubic Hermite interpolation (Fritsch-Carlson, as scipy's
    ``PchipInterpolator``) of rows ``y`` ``(n, k)`` given at shared knots ``x`` ``(k,)``,
    evaluated at ``xq`` ``(m,)`` inside ``[x[0], x[-1]]``: ``(n, m)``."""
    return HermiteBasis.at(x, xq)(y, pchip_slopes(y, x))
