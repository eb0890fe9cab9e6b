"""Multi-objective helpers: the non-dominated front and the exact 2-D hypervolume (numpy only).

Objectives are columns of an ``(n, d)`` array. ``maximize`` says per column whether larger is
better (accuracy) or smaller (energy, time); with a benchmark, take the directions from
``bench.metrics[name].direction`` (:func:`directions`). Internally everything is turned into
minimisation. Point ``a`` dominates ``b`` when it is no worse in every objective and better in at
least one; identical points do not dominate each other, so duplicates on the front are all kept.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from eabench.errors import InvalidArgumentError

__all__ = ["directions", "hypervolume_2d", "non_dominated", "objectives_of"]


def _as_min(points: Any, maximize: Sequence[bool] | None) -> np.ndarray:
    arr = np.asarray(points, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] < 1:
        raise InvalidArgumentError.for_field("points", arr.shape, "must be an (n, d) array")
    if not np.all(np.isfinite(arr)):
        raise InvalidArgumentError.for_field("points", "non-finite values", "must be finite")
    if maximize is None:
        return arr
    if len(maximize) != arr.shape[1]:
        raise InvalidArgumentError.for_field(
            "maximize", list(maximize), f"must have one entry per objective ({arr.shape[1]})"
        )
    sign = np.where(np.asarray(maximize, dtype=bool), -1.0, 1.0)
    return arr * sign


def non_dominated(points: Any, *, maximize: Sequence[bool] | None = None) -> np.ndarray:
    """Boolean mask ``(n,)``: True for points that no other point dominates.

    Exact; O(n log n) for two objectives, O(n * front size) otherwise.
    """
    p = _as_min(points, maximize)
    n, d = p.shape
    if n == 0:
        return np.zeros(0, dtype=bool)
    uniq, inverse = np.unique(p, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    if d == 1:
        keep_u = uniq[:, 0] == uniq[:, 0].min()
    elif d == 2:
        # np.unique sorts rows lexicographically: by f1, then f2. A row is dominated iff an
        # earlier row has f2 <= its f2 (earlier rows have f1 <= and are not identical).
        prev_min = np.minimum.accumulate(np.concatenate(([np.inf], uniq[:-1, 1])))
        keep_u = uniq[:, 1] < prev_min
    else:
        keep_u = np.ones(len(uniq), dtype=bool)
        for i in range(len(uniq)):
            if not keep_u[i]:
                continue
            dominated = np.all(uniq[i] <= uniq, axis=1) & np.any(uniq[i] < uniq, axis=1)
            keep_u &= ~dominated
    return np.asarray(keep_u[inverse], dtype=bool)


def hypervolume_2d(
    points: Any, reference: Sequence[float], *, maximize: Sequence[bool] | None = None
) -> float:
    """Exact area dominated by ``points`` and bounded by ``reference`` (two objectives).

    Points that do not strictly dominate the reference contribute nothing. With ``maximize``,
    the reference is given in the original units (e.g. ``(0.0, 5e6)`` for (accuracy, joules)).
    """
    p = _as_min(points, maximize)
    if p.shape[1] != 2:
        raise InvalidArgumentError.for_field("points", p.shape, "hypervolume_2d needs 2 columns")
    ref = _as_min(np.asarray(reference, dtype=np.float64).reshape(1, -1), maximize)[0]
    if ref.shape != (2,):
        raise InvalidArgumentError.for_field("reference", list(reference), "must have 2 values")
    p = p[np.all(p < ref, axis=1)]
    if len(p) == 0:
        return 0.0
    f = p[non_dominated(p)]
    f = f[np.argsort(f[:, 0], kind="stable")]
    x_next = np.append(f[1:, 0], ref[0])
    return float(np.sum((x_next - f[:, 0]) * (ref[1] - f[:, 1])))


def directions(metrics: Mapping[str, Any], names: Sequence[str]) -> list[bool]:
    """``maximize`` flags for metric ``names`` from ``bench.metrics`` (a name -> MetricInfo map)."""
    out = []
    for name in names:
        if name not in metrics:
            raise InvalidArgumentError.for_field("objective", name, f"must be in {sorted(metrics)}")
        out.append(metrics[name].direction == "maximize")
    return out


def objectives_of(batch: Any, names: Sequence[str]) -> np.ndarray:
    """Stack the named ``(n,)`` fields of a ``BatchResult`` into an ``(n, len(names))`` array."""
    cols = []
    for name in names:
        value = getattr(batch, name, None)
        if value is None:
            raise InvalidArgumentError.for_field("objective", name, "is not a field with values")
        cols.append(np.asarray(value, dtype=np.float64))
    return np.column_stack(cols)
