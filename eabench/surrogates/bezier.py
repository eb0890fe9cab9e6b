"""Bezier learning curves: fit control points to observed curves, evaluate them at any epoch.

A curve of degree ``n`` is ``B(s) = sum_k C(n,k) s^k (1-s)^(n-k) P_k`` for ``s`` in [0, 1], with
control points ``P_k = (x_k, y_k)`` in (epoch axis, metric) coordinates. The epoch axis is either
epochs (RegNet per-epoch curves of length 50/100/200) or ``log(epoch)`` (the 7V curve over the
budgets 4/12/36/108); :class:`BezierCurves` keeps the axis transform with the control points.

Fixes over EA-HAS-Bench's BCS (``reference/ea-has-bench.md`` section 3):

* **Ordered x, by construction.** Interior x-coordinates are ``x_k = x_0 + (x_n - x_0) (k/n)^gamma``
  with ``gamma > 0``. They are strictly increasing, so ``x(s)`` is strictly increasing and ``x(s) =
  t`` has exactly one root. A regressor predicts ``log gamma``, so it can never produce unordered x.
* **Parametrisation matched to evaluation.** Each observation ``(t_i, y_i)`` is attached to ``s_i =
  x^-1(t_i)`` (the very parameter at which evaluation will read the curve), not to a chord-length
  guess, so the least-squares objective is the evaluation error itself.
* **Pinned endpoints.** ``P_0 = (t_first, y_first)`` and ``P_n = (t_last, y_last)``: the first and
  last observations are reproduced exactly; the interior y's are least squares with that constraint.
* **Evaluation by root finding**, vectorised over configs x epochs: safeguarded Newton steps inside
  a shrinking bracket. If any root is not converged to ``1e-9`` of the axis span,
  :class:`ArtifactError` is raised: there is no silent fallback (EA-HAS-Bench returned the point at
  ``s = 0.5``).

``gamma`` is chosen per curve from a fixed log-spaced grid (vectorised, deterministic) by the lowest
squared error.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import comb

import numpy as np

from eabench.errors import ArtifactError, FidelityError, InvalidArgumentError

__all__ = [
    "GAMMA_GRID",
    "BezierCurves",
    "bernstein",
    "fit_bezier",
    "fit_quality",
    "x_controls",
]

#: Candidate shape parameters of the interior x-coordinates (``gamma < 1`` packs them early).
GAMMA_GRID: np.ndarray = np.exp(np.linspace(np.log(0.15), np.log(4.0), 41))

_AXES = ("linear", "log")


def bernstein(degree: int, s: np.ndarray) -> np.ndarray:
    """Bernstein basis ``C(n,k) s^k (1-s)^(n-k)``: shape ``s.shape + (degree + 1,)``."""
    if degree < 1:
        raise InvalidArgumentError.for_field("degree", degree, "must be >= 1")
    s = np.asarray(s, dtype=np.float64)[..., None]
    k = np.arange(degree + 1, dtype=np.float64)
    coef = np.array([comb(degree, i) for i in range(degree + 1)], dtype=np.float64)
    return coef * s**k * (1.0 - s) ** (degree - k)


def x_controls(x0: np.ndarray, x1: np.ndarray, gamma: np.ndarray, degree: int) -> np.ndarray:
    """Ordered x-coordinates ``x0 + (x1 - x0) (k/n)^gamma``, shape ``(..., degree + 1)``."""
    frac = (np.arange(degree + 1, dtype=np.float64) / degree) ** np.asarray(gamma)[..., None]
    out: np.ndarray = (
        np.asarray(x0)[..., None] + (np.asarray(x1) - np.asarray(x0))[..., None] * frac
    )
    return out


def _axis(t: np.ndarray, axis: str) -> np.ndarray:
    t = np.asarray(t, dtype=np.float64)
    return np.log(t) if axis == "log" else t


def _solve_s(xc: np.ndarray, u: np.ndarray, tol: float = 1e-9) -> np.ndarray:
    """Solve ``x(s) = u`` for ``s``; ``xc`` is ``(c, n+1)`` increasing, ``u`` is ``(c, m)``."""
    degree = xc.shape[1] - 1
    span = xc[:, -1:] - xc[:, :1]
    d = degree * np.diff(xc, axis=1)  # control points of x'(s)
    lo = np.zeros_like(u)
    hi = np.ones_like(u)
    s = np.clip((u - xc[:, :1]) / span, 0.0, 1.0)
    for _ in range(60):
        b = bernstein(degree, s)
        f = np.einsum("cmk,ck->cm", b, xc) - u
        done = np.abs(f) <= tol * span
        if np.all(done):
            return np.asarray(s, dtype=np.float64)
        lo = np.where(f < 0, s, lo)
        hi = np.where(f > 0, s, hi)
        fp = np.einsum("cmk,ck->cm", bernstein(degree - 1, s), d) if degree > 1 else d + 0 * s
        with np.errstate(divide="ignore", invalid="ignore"):
            step = s - f / fp
        bad = ~np.isfinite(step) | (step <= lo) | (step >= hi)
        # converged roots stay put: each root's iterations depend on its own curve only, so a
        # curve evaluated alone or in a batch gives the same bits
        s = np.where(done, s, np.where(bad, 0.5 * (lo + hi), step))
    b = bernstein(degree, s)
    err = np.abs(np.einsum("cmk,ck->cm", b, xc) - u)
    if np.all(err <= tol * span):
        return np.asarray(s, dtype=np.float64)
    raise ArtifactError.for_field(
        "bezier root", float(err.max()), "x(s) = t did not converge (control x must increase)"
    )


@dataclass(frozen=True, slots=True)
class BezierCurves:
    """``c`` Bezier curves of one degree on one epoch axis.

    Attributes:
        y: ``(c, degree + 1)`` control y-coordinates (the metric, e.g. accuracy as a fraction).
        gamma: ``(c,)`` shape of the ordered interior x-coordinates (see :func:`x_controls`).
        t_first: the first epoch of the curves (x_0 on the epoch scale).
        t_last: ``(c,)`` the last epoch of each curve (x_n on the epoch scale; the run length T).
        axis: ``"linear"`` (x = epoch) or ``"log"`` (x = log epoch).
    """

    y: np.ndarray
    gamma: np.ndarray
    t_first: float
    t_last: np.ndarray
    axis: str = "linear"

    @property
    def degree(self) -> int:
        return int(self.y.shape[1]) - 1

    def x(self) -> np.ndarray:
        """``(c, degree + 1)`` control x-coordinates on the axis scale (strictly increasing)."""
        x0 = np.full(self.y.shape[0], _axis(np.float64(self.t_first), self.axis))
        return x_controls(x0, _axis(self.t_last, self.axis), self.gamma, self.degree)

    def __call__(self, epochs: np.ndarray) -> np.ndarray:
        """Curve values at ``epochs`` (``(m,)`` shared or ``(c, m)`` per curve): ``(c, m)``.

        Raises:
            FidelityError: an epoch is outside ``[t_first, t_last]`` of its curve.
        """
        if self.axis not in _AXES:
            raise InvalidArgumentError.for_field("axis", self.axis, f"must be one of {_AXES}")
        ep = np.asarray(epochs, dtype=np.float64)
        ep = np.broadcast_to(ep, (self.y.shape[0], ep.shape[-1]))
        if np.any(ep < self.t_first) or np.any(ep > self.t_last[:, None]):
            raise FidelityError.for_field(
                "epochs",
                [float(ep.min()), float(ep.max())],
                f"must lie in [{self.t_first}, T] of each curve (T = run length)",
            )
        s = _solve_s(self.x(), _axis(ep, self.axis))
        return np.asarray(np.einsum("cmk,ck->cm", bernstein(self.degree, s), self.y))


def _fit_y(b: np.ndarray, y: np.ndarray, y0: np.ndarray, yn: np.ndarray) -> np.ndarray:
    """Least-squares interior y with pinned ends; ``b`` ``(c, m, n+1)``, ``y`` ``(c, m)``."""
    resid = y - b[:, :, 0] * y0[:, None] - b[:, :, -1] * yn[:, None]
    a = b[:, :, 1:-1]
    ata = np.einsum("cmi,cmj->cij", a, a) + 1e-10 * np.eye(a.shape[2])
    aty = np.einsum("cmi,cm->ci", a, resid)
    inner = np.linalg.solve(ata, aty[..., None])[..., 0]
    return np.concatenate([y0[:, None], inner, yn[:, None]], axis=1)


def fit_bezier(
    epochs: np.ndarray,
    values: np.ndarray,
    degree: int,
    *,
    axis: str = "linear",
    gammas: np.ndarray = GAMMA_GRID,
    hull_penalty: float = 1.0,
) -> BezierCurves:
    """Fit one Bezier curve per row of ``values`` observed at the shared ``epochs``.

    Args:
        epochs: ``(m,)`` strictly increasing epochs (> 0 for the log axis), m >= degree + 1.
        values: ``(c, m)`` observed metric, finite.
        degree: Bezier degree n >= 2 (n + 1 control points; 2n - 1 free numbers per curve:
            the n - 1 interior y's, gamma, and the pinned end y's come from the data).
        axis: ``"linear"`` or ``"log"``.
        gammas: candidate gamma values, searched per curve (ties go to the gamma nearest 1).
        hull_penalty: weight of the squared excursion of the fitted curve (on 65 points between
            the first and last epoch) outside the observed range of its data, added to the squared
            error when choosing gamma. It keeps interpolating fits (4 budgets with degree 3, where
            every gamma fits exactly) from overshooting between observations where a gamma can.

    Returns:
        The fitted :class:`BezierCurves` (``t_last`` = ``epochs[-1]`` for every curve).
    """
    ep = np.asarray(epochs, dtype=np.float64)
    vals = np.atleast_2d(np.asarray(values, dtype=np.float64))
    if degree < 2:
        raise InvalidArgumentError.for_field("degree", degree, "must be >= 2")
    if axis not in _AXES:
        raise InvalidArgumentError.for_field("axis", axis, f"must be one of {_AXES}")
    if ep.ndim != 1 or ep.size < degree + 1 or np.any(np.diff(ep) <= 0):
        raise InvalidArgumentError.for_field(
            "epochs", ep.tolist()[:8], f"must be strictly increasing with >= {degree + 1} points"
        )
    if axis == "log" and ep[0] <= 0:
        raise InvalidArgumentError.for_field("epochs", float(ep[0]), "must be > 0 on a log axis")
    if vals.shape[1] != ep.size or not np.all(np.isfinite(vals)):
        raise InvalidArgumentError.for_field(
            "values", vals.shape, f"must be finite with {ep.size} columns"
        )
    c = vals.shape[0]
    u = _axis(ep, axis)
    best_err = np.full(c, np.inf)
    best_y = np.zeros((c, degree + 1))
    best_g = np.zeros(c)
    lo_v = vals.min(axis=1, keepdims=True)
    hi_v = vals.max(axis=1, keepdims=True)
    cand = np.asarray(gammas, dtype=np.float64)
    cand = cand[np.argsort(np.abs(np.log(cand)), kind="stable")]
    dense = np.linspace(u[0], u[-1], 65)[None, :]
    for g in cand:
        xc = x_controls(np.array([u[0]]), np.array([u[-1]]), np.array([g]), degree)
        s = _solve_s(xc, u[None, :])
        bd = bernstein(degree, _solve_s(xc, dense))[0]
        b = np.broadcast_to(bernstein(degree, s), (c, ep.size, degree + 1))
        ycp = _fit_y(b, vals, vals[:, 0], vals[:, -1])
        err = np.sum((np.einsum("cmk,ck->cm", b, ycp) - vals) ** 2, axis=1)
        yd = ycp @ bd.T
        excess = np.maximum(yd - hi_v, 0.0) + np.maximum(lo_v - yd, 0.0)
        err = err + hull_penalty * np.sum(excess**2, axis=1)
        better = err < best_err
        best_err = np.where(better, err, best_err)
        best_y[better] = ycp[better]
        best_g[better] = g
    return BezierCurves(
        y=best_y, gamma=best_g, t_first=float(ep[0]), t_last=np.full(c, ep[-1]), axis=axis
    )


def fit_quality(curves: BezierCurves, epochs: np.ndarray, values: np.ndarray) -> dict[str, float]:
    """Fit quality: RMSE, max abs error, pooled R^2 (1.0 for an exact fit of constants)."""
    vals = np.atleast_2d(np.asarray(values, dtype=np.float64))
    pred = curves(np.asarray(epochs, dtype=np.float64))
    res = pred - vals
    tot = float(np.sum((vals - vals.mean()) ** 2))
    sse = float(np.sum(res**2))
    return {
        "rmse": float(np.sqrt(np.mean(res**2))),
        "max_abs": float(np.max(np.abs(res))),
        "r2": 1.0 - sse / tot if tot > 0 else float(sse == 0.0),
    }
