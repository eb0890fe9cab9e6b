"""Gradient-boosted trees as plain arrays, evaluated in numpy (no xgboost at query time).

:func:`arrays_from_xgboost_json` reads XGBoost's own JSON model format
(``Booster.save_raw("json")``, the documented, versioned format; never a pickle) into padded
``(n_trees, n_nodes)`` arrays; :class:`TreeEnsemble` evaluates all trees at once by walking
``depth`` levels with gathers. XGBoost compares float32 features with float32 thresholds (``x <
threshold`` goes left), so features are cast to float32 before the comparison, exactly as XGBoost
does; leaf values are summed in float64 (XGBoost sums in float32: the two agree to ~1e-7 relative).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from eabench.errors import ArtifactError

__all__ = ["TreeEnsemble", "arrays_from_xgboost_json", "fit_xgb"]


@dataclass(frozen=True, slots=True)
class TreeEnsemble:
    """A sum of regression trees plus a base score.

    Attributes:
        feature: int16 ``(t, m)`` split feature per node (0 at leaves).
        threshold: float32 ``(t, m)`` split threshold (go left when ``x < threshold``).
        left, right: int16 ``(t, m)`` child node ids; a leaf points to itself.
        value: float32 ``(t, m)`` leaf values as XGBoost stores them (0 at inner nodes).
        base: the base score added to the sum of leaves.
        depth: the maximal tree depth (number of levels walked).
    """

    feature: np.ndarray
    threshold: np.ndarray
    left: np.ndarray
    right: np.ndarray
    value: np.ndarray
    base: float
    depth: int
    _flat: tuple[np.ndarray, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        t, m = self.feature.shape
        start = np.arange(t, dtype=np.intp) * m
        flat = (
            start,
            self.feature.ravel().astype(np.intp),
            self.threshold.ravel(),
            (self.left.astype(np.intp) + start[:, None]).ravel(),
            (self.right.astype(np.intp) + start[:, None]).ravel(),
            self.value.ravel(),
        )
        object.__setattr__(self, "_flat", flat)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Sum of the trees' leaf values plus base for each row of ``x`` ``(n, d)``: ``(n,)``."""
        xf = np.ascontiguousarray(x, dtype=np.float32)
        n, d = xf.shape
        start, feat, thr, left, right, value = self._flat  # node id = tree * m + local id
        xflat = xf.ravel()
        row = (np.arange(n, dtype=np.intp) * d)[:, None]
        node = np.broadcast_to(start, (n, start.size)).copy()
        for _ in range(self.depth):
            go_left = xflat[row + feat[node]] < thr[node]
            node = np.where(go_left, left[node], right[node])
        out: np.ndarray = value[node].sum(axis=1, dtype=np.float64) + self.base
        return out

    def to_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        """The arrays to store in an npz, keys prefixed by ``prefix``."""
        return {
            f"{prefix}.feature": self.feature,
            f"{prefix}.threshold": self.threshold,
            f"{prefix}.left": self.left,
            f"{prefix}.right": self.right,
            f"{prefix}.value": self.value,
            f"{prefix}.base_depth": np.array([self.base, self.depth], dtype=np.float64),
        }

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], prefix: str) -> TreeEnsemble:
        """Inverse of :meth:`to_arrays`."""
        try:
            base, depth = arrays[f"{prefix}.base_depth"]
            return cls(
                feature=arrays[f"{prefix}.feature"],
                threshold=arrays[f"{prefix}.threshold"],
                left=arrays[f"{prefix}.left"],
                right=arrays[f"{prefix}.right"],
                value=arrays[f"{prefix}.value"],
                base=float(base),
                depth=int(depth),
            )
        except KeyError as exc:
            raise ArtifactError.for_field("weights", str(exc), "tree array missing") from exc


def _parse_base_score(text: str) -> float:
    return float(str(text).strip("[]"))


def arrays_from_xgboost_json(raw: bytes | str) -> TreeEnsemble:
    """Convert an XGBoost JSON model (gbtree, identity-link ``reg:*``) to a TreeEnsemble."""
    model = json.loads(raw)
    learner = model["learner"]
    objective = learner["objective"]["name"]
    if not objective.startswith("reg:") or objective in (
        "reg:logistic",
        "reg:gamma",
        "reg:tweedie",
    ):
        raise ArtifactError.for_field("objective", objective, "only identity-link reg:* objectives")
    trees = learner["gradient_booster"]["model"]["trees"]
    m = max(len(tr["left_children"]) for tr in trees)
    t = len(trees)
    if m > np.iinfo(np.int16).max:
        raise ArtifactError.for_field("nodes per tree", m, "at most 32767")
    feature = np.zeros((t, m), np.int16)
    threshold = np.zeros((t, m), np.float32)
    left = np.tile(np.arange(m, dtype=np.int16), (t, 1))
    right = left.copy()
    value = np.zeros((t, m), np.float32)
    depth = 0
    for i, tr in enumerate(trees):
        lc = np.asarray(tr["left_children"], np.int32)
        rc = np.asarray(tr["right_children"], np.int32)
        cond = np.asarray(tr["split_conditions"], np.float32)
        k = lc.size
        inner = lc >= 0
        feature[i, :k] = np.where(inner, np.asarray(tr["split_indices"], np.int32), 0)
        threshold[i, :k] = np.where(inner, cond, 0.0)
        left[i, :k] = np.where(inner, lc, np.arange(k))
        right[i, :k] = np.where(inner, rc, np.arange(k))
        value[i, :k] = np.where(inner, np.float32(0.0), cond)
        level = np.zeros(k, np.int64)
        for node in range(k):  # parents precede children in XGBoost's node order
            if inner[node]:
                level[lc[node]] = level[rc[node]] = level[node] + 1
        depth = max(depth, int(level.max()))
    base = _parse_base_score(learner["learner_model_param"]["base_score"])
    return TreeEnsemble(feature, threshold, left, right, value, base, depth)


def fit_xgb(x: np.ndarray, y: np.ndarray, seed: int, params: dict[str, Any]) -> TreeEnsemble:
    """Fit an ``xgboost.XGBRegressor`` (2 threads unless ``params`` says otherwise) and return
    it as a :class:`TreeEnsemble` (training side: imports xgboost)."""
    import xgboost as xgb

    kw = {"n_jobs": 2, **params}
    model = xgb.XGBRegressor(random_state=seed, **kw)
    model.fit(x.astype(np.float32), y)
    return arrays_from_xgboost_json(bytes(model.get_booster().save_raw("json")))
