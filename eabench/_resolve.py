"""Per-benchmark cache of validated configs: config object -> (config id, encoded features).

For the 7V space a config id is the NB101 module hash (an MD5-based graph refinement, ~250 µs in
Python) and the features need a canonical vertex order (~250 µs per cell), which is far more than
a surrogate evaluation. NAS algorithms revisit configs (evolution, local search, successive
halving), so a :class:`Benchmark` keeps a bounded cache keyed by the validated, hashable config
object (``Cell`` hashes its raw matrix and ops in well under a microsecond). Entries are evicted
oldest-first. Misses are encoded in one vectorised ``space.encode`` call per batch.

The cache lives on the benchmark instance (no global state) and never changes an answer: it only
stores pure functions of the config.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["ConfigCache"]


class ConfigCache:
    """Bounded map from validated config objects to their id and feature row.

    Args:
        space: the search space (``validate``, ``encode``).
        capacity: most configs kept (oldest evicted first); 0 disables caching.
    """

    def __init__(self, space: Any, capacity: int = 65536) -> None:
        self.space = space
        self.capacity = capacity
        self._ids: dict[Any, str] = {}
        self._features: dict[Any, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self._ids)

    def _evict(self, table: dict[Any, Any]) -> None:
        while len(table) > self.capacity:
            del table[next(iter(table))]

    def config_id(self, cfg: Any) -> str:
        """The id of a validated config (cached)."""
        try:
            return self._ids[cfg]
        except KeyError:
            pass
        except TypeError:  # unhashable config object: no caching
            return str(cfg.config_id())
        cid = str(cfg.config_id())
        if self.capacity:
            self._ids[cfg] = cid
            self._evict(self._ids)
        return cid

    def features(self, cfgs: Sequence[Any]) -> np.ndarray:
        """``(n, d)`` float64 features of validated configs; misses are encoded together."""
        table = self._features
        rows: list[np.ndarray | None] = []
        missing: list[int] = []
        for i, cfg in enumerate(cfgs):
            try:
                rows.append(table[cfg])
            except (KeyError, TypeError):
                rows.append(None)
                missing.append(i)
        if missing:
            encoded = np.asarray(self.space.encode([cfgs[i] for i in missing]), dtype=np.float64)
            for j, i in enumerate(missing):
                row = encoded[j]
                row.flags.writeable = False
                rows[i] = row
                if self.capacity:
                    with contextlib.suppress(TypeError):
                        table[cfgs[i]] = row
            if self.capacity:
                self._evict(table)
            if len(missing) == len(cfgs):
                return encoded
        return np.stack(rows)  # type: ignore[arg-type]
