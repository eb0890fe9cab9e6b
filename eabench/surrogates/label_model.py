"""Ensembles that map config features to a few labels, stored as plain npz arrays.

A :class:`LabelModel` standardises the features, runs ``members`` regressors (each a numpy MLP
or one tree ensemble per label) and un-standardises their outputs: ``(members, n, labels)``.
It is the numpy half of the fitted estimators in :mod:`eabench.surrogates.lc_model` and
:mod:`eabench.training.curve_fit`; ``to_arrays`` / ``from_arrays`` store it without pickles.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eabench.errors import ArtifactError
from eabench.surrogates.lc_model import NumpyMLP
from eabench.surrogates.trees import TreeEnsemble

__all__ = ["LabelModel"]

Member = NumpyMLP | tuple[TreeEnsemble, ...]


def _rowwise_forward(mlp: NumpyMLP, x: np.ndarray) -> np.ndarray:
    """:meth:`NumpyMLP.predict` with products summed in a fixed order per row (``einsum``, no
    BLAS): a config's answer has the same bits alone or in a batch of any size."""
    from scipy.special import erf

    h = x
    last = len(mlp.weights) - 1
    for i, (w, b) in enumerate(zip(mlp.weights, mlp.biases, strict=True)):
        h = np.einsum("nd,dk->nk", h, w, optimize=False) + b
        if i < last:
            h = 0.5 * h * (1.0 + erf(h / np.sqrt(2.0)))
    return h


@dataclass(frozen=True, slots=True)
class LabelModel:
    """``members`` regressors on standardised features and labels.

    Attributes:
        x_mean, x_std: ``(d,)`` feature standardisation.
        y_mean, y_std: ``(k,)`` label standardisation.
        members: each a :class:`NumpyMLP` (``d -> k``) or ``k`` tree ensembles.
    """

    x_mean: np.ndarray
    x_std: np.ndarray
    y_mean: np.ndarray
    y_std: np.ndarray
    members: tuple[Member, ...]

    @property
    def n_labels(self) -> int:
        return int(self.y_mean.shape[0])

    def predict(self, x: np.ndarray) -> np.ndarray:
        """``(members, n, k)`` label predictions (unscaled) for features ``x`` ``(n, d)``."""
        xs = (np.asarray(x, np.float64) - self.x_mean) / self.x_std
        out = []
        for m in self.members:
            if isinstance(m, NumpyMLP):
                raw = _rowwise_forward(m, xs)
            else:
                raw = np.column_stack([t.predict(xs) for t in m])
            out.append(raw * self.y_std + self.y_mean)
        return np.stack(out)

    def to_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        """npz arrays, keys prefixed by ``prefix``."""
        out = {
            f"{prefix}.x_mean": self.x_mean,
            f"{prefix}.x_std": self.x_std,
            f"{prefix}.y_mean": self.y_mean,
            f"{prefix}.y_std": self.y_std,
        }
        for i, m in enumerate(self.members):
            p = f"{prefix}.m{i}"
            if isinstance(m, NumpyMLP):
                for j, (w, b) in enumerate(zip(m.weights, m.biases, strict=True)):
                    out[f"{p}.w{j}"] = w
                    out[f"{p}.b{j}"] = b
            else:
                for j, tree in enumerate(m):
                    out.update(tree.to_arrays(f"{p}.t{j}"))
        return out

    @classmethod
    def from_arrays(
        cls, arrays: dict[str, np.ndarray], prefix: str, members: int, regressor: str
    ) -> LabelModel:
        """Inverse of :meth:`to_arrays`; ``regressor`` is ``"mlp"`` or ``"xgb"``."""
        try:
            y_mean = np.asarray(arrays[f"{prefix}.y_mean"], np.float64)
            out: list[Member] = []
            for i in range(members):
                p = f"{prefix}.m{i}"
                if regressor == "mlp":
                    n = sum(1 for k in arrays if k.startswith(f"{p}.w"))
                    if n == 0:
                        raise KeyError(f"{p}.w0")
                    out.append(
                        NumpyMLP(
                            tuple(np.asarray(arrays[f"{p}.w{j}"], np.float64) for j in range(n)),
                            tuple(np.asarray(arrays[f"{p}.b{j}"], np.float64) for j in range(n)),
                        )
                    )
                elif regressor == "xgb":
                    out.append(
                        tuple(
                            TreeEnsemble.from_arrays(arrays, f"{p}.t{j}")
                            for j in range(y_mean.shape[0])
                        )
                    )
                else:
                    raise ArtifactError.for_field("regressor", regressor, "must be mlp or xgb")
            model = cls(
                x_mean=np.asarray(arrays[f"{prefix}.x_mean"], np.float64),
                x_std=np.asarray(arrays[f"{prefix}.x_std"], np.float64),
                y_mean=y_mean,
                y_std=np.asarray(arrays[f"{prefix}.y_std"], np.float64),
                members=tuple(out),
            )
        except KeyError as exc:
            raise ArtifactError.for_field("weights", str(exc), f"{prefix}: array missing") from exc
        for name in ("x_mean", "x_std", "y_mean", "y_std"):
            arr = getattr(model, name)
            if arr.ndim != 1 or not np.all(np.isfinite(arr)):
                raise ArtifactError.for_field(f"{prefix}.{name}", arr.shape, "must be finite (k,)")
        if np.any(model.x_std <= 0) or np.any(model.y_std <= 0) or not members:
            raise ArtifactError.for_field(prefix, members, "needs members and positive scales")
        return model
