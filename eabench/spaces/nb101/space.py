"""``NB101Space``: the NAS-Bench-101 7V cell space behind the ``SearchSpace`` protocol."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from eabench.spaces.nb101.cell import Cell
from eabench.spaces.nb101.encode import canonical_padded, encode_padded, feature_names

__all__ = ["NB101Space", "padded_arrays"]


def padded_arrays(configs: Sequence[Cell | Mapping[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
    """Validate, prune and canonicalise configs; return the padded form (see ``encode``)."""
    mats: list[np.ndarray] = []
    labs: list[list[int]] = []
    for c in configs:
        p = Cell.coerce(c).pruned()
        mats.append(p.matrix_array())
        labs.append(p.labels())
    return canonical_padded(mats, labs)


class NB101Space:
    """The NAS-Bench-101 "7V" cell space (<= 7 vertices, <= 9 edges, 3 interior ops).

    Configs are :class:`Cell` objects or dicts ``{"matrix": [[...]], "ops": [...]}``; the config id
    is the NB101 module hash. The space holds no state: every method is a pure function of its
    arguments (the full-space cache is read from the package on demand).
    """

    name: str = "nb101-7v"

    def validate(self, config: Cell | Mapping[str, Any]) -> Cell:
        """Return the config as a validated :class:`Cell`; raise ``InvalidConfigError``."""
        return Cell.coerce(config)

    def encode(self, configs: Sequence[Cell | Mapping[str, Any]]) -> np.ndarray:
        """Encode configs as a ``(n, 45)`` float64 matrix (see ``eabench.spaces.nb101.encode``).

        Cells are pruned and put into a canonical vertex order first, so isomorphic cells encode
        to identical rows.
        """
        mats, labs = padded_arrays(configs)
        return encode_padded(mats, labs)

    def feature_names(self) -> list[str]:
        """Names of the encoded feature columns, in order."""
        return feature_names()
