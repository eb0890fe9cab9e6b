"""``NB101Space``: the NAS-Bench-101 7V cell space behind the ``SearchSpace`` protocol."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from eabench._rng import as_generator
from eabench.errors import InvalidArgumentError
from eabench.spaces.nb101.cache import SpaceData, load_space
from eabench.spaces.nb101.cell import MAX_EDGES, MAX_VERTICES, OPS, Cell
from eabench.spaces.nb101.encode import canonical_padded, encode_padded, feature_names
from eabench.spaces.nb101.index import NB101Index
from eabench.spaces.nb101.mutation import mutate_cell, neighbour_cells

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
    is the NB101 module hash. Sampling is uniform over the 423,624 unique cells (isomorphism
    classes), read from the shipped cache on first use.

    Args:
        cache_path: another space cache file (default: the one shipped in the package).
    """

    name: str = "nb101-7v"
    max_vertices: int = MAX_VERTICES
    max_edges: int = MAX_EDGES
    ops: tuple[str, ...] = OPS

    def __init__(self, cache_path: Path | None = None) -> None:
        self._cache_path = cache_path
        self._data: SpaceData | None = None

    @property
    def data(self) -> SpaceData:
        """All unique cells in sorted-hash order (loaded lazily from the cache file)."""
        if self._data is None:
            self._data = load_space(self._cache_path)
        return self._data

    def __len__(self) -> int:
        return len(self.data)

    def validate(self, config: Cell | Mapping[str, Any]) -> Cell:
        """Return the config as a validated :class:`Cell`; raise ``InvalidConfigError``."""
        return Cell.coerce(config)

    def sample(self, seed: int | np.random.Generator) -> Cell:
        """One cell drawn uniformly from the unique cells (pruned, canonical vertex order)."""
        rng = as_generator(seed)
        return self.data.cell(int(rng.integers(len(self.data))))

    def sample_indices(self, n: int, seed: int | np.random.Generator) -> np.ndarray:
        """``n`` row indices (into :attr:`data`) drawn uniformly without replacement."""
        if not (isinstance(n, int) and 0 <= n <= len(self.data)):
            raise InvalidArgumentError.for_field("n", n, f"must be an int in [0, {len(self.data)}]")
        return as_generator(seed).choice(len(self.data), size=n, replace=False)

    def neighbours(self, config: Cell | Mapping[str, Any]) -> list[Cell]:
        """All valid, pruned, hash-deduplicated cells one move away (see ``mutation``)."""
        return neighbour_cells(Cell.coerce(config))

    def mutate(self, config: Cell | Mapping[str, Any], seed: int | np.random.Generator) -> Cell:
        """One neighbour drawn uniformly from :meth:`neighbours`."""
        return mutate_cell(Cell.coerce(config), seed)

    def index_of(self, config: Cell | Mapping[str, Any]) -> int:
        """Row of the config's isomorphism class in the sorted-hash order of :attr:`data`."""
        return int(self.data.index_of(Cell.coerce(config).hash()))

    def encode(self, configs: Sequence[Cell | Mapping[str, Any]]) -> np.ndarray:
        """Encode configs as a ``(n, 45)`` float64 matrix (see ``eabench.spaces.nb101.encode``).

        Cells are pruned and put into a canonical vertex order first, so isomorphic cells encode
        to identical rows.
        """
        mats, labs = padded_arrays(configs)
        return encode_padded(mats, labs)

    def encode_indices(self, indices: np.ndarray | Sequence[int]) -> np.ndarray:
        """Encode cache rows (fast path, no per-cell Python work); same rows as :meth:`encode`."""
        idx = np.asarray(indices, dtype=np.int64)
        return encode_padded(self.data.matrices_at(idx), self.data.labels[idx])

    def feature_names(self) -> list[str]:
        """Names of the encoded feature columns, in order."""
        return feature_names()

    def make_accelerator(self) -> NB101Index:
        """The full-space index (canonical cells -> cache rows, ids, features); unbuilt."""
        return NB101Index(self)

    def plain_key(self, config: Mapping[str, Any]) -> Hashable | None:
        """Memo key of the plain JSON form ``{"matrix": [[int, ...], ...], "ops": [str|int]}``
        (``list`` containers, ``int``/``str`` leaves only), else None.

        With only those types, equal tuples mean equal JSON values (no ``True == 1`` or
        ``1.0 == 1`` aliasing); ~10x cheaper than a generic frozen image of the dict.
        """
        if type(config) is not dict or len(config) != 2:
            return None
        m = config.get("matrix")
        ops = config.get("ops")
        if type(m) is not list or type(ops) is not list:
            return None
        for row in m:
            if type(row) is not list:
                return None
        rows = tuple(map(tuple, m))
        types = set(map(type, ops))
        for row in rows:
            types.update(map(type, row))
        if not types <= _INT_STR:
            return None
        return ("matrix/ops", rows, tuple(ops))


_INT_STR = frozenset({int, str})
