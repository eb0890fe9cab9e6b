"""Loading the test-accuracy head of an nb101-7v artifact: trees or a standardised MLP."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from eabench.surrogates.lc_model import NumpyMLP
from eabench.surrogates.trees import TreeEnsemble

__all__ = ["ScaledMLP", "test_head_from_arrays"]


@dataclass(frozen=True, slots=True)
class ScaledMLP:
    """``y = mlp((x - x_mean) / x_std) * y_std + y_mean`` in float64 numpy."""

    mlp: NumpyMLP
    x_mean: np.ndarray
    x_std: np.ndarray
    y_mean: float
    y_std: float

    def predict(self, x: np.ndarray) -> np.ndarray:
        z = (np.asarray(x, np.float64) - self.x_mean) / self.x_std
        out: np.ndarray = self.mlp.predict(z)[:, 0] * self.y_std + self.y_mean
        return out


def test_head_from_arrays(arrays: Mapping[str, np.ndarray]) -> ScaledMLP | TreeEnsemble:
    """The ``test108`` head stored in ``arrays`` (MLP if ``test108.w0`` exists, else trees)."""
    if "test108.w0" not in arrays:
        return TreeEnsemble.from_arrays(dict(arrays), "test108")
    n = sum(1 for k in arrays if k.startswith("test108.w"))
    mlp = NumpyMLP(
        tuple(arrays[f"test108.w{i}"] for i in range(n)),
        tuple(arrays[f"test108.b{i}"] for i in range(n)),
    )
    ym, ys = arrays["test108.y_mean_std"]
    return ScaledMLP(mlp, arrays["test108.x_mean"], arrays["test108.x_std"], float(ym), float(ys))
