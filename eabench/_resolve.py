"""Per-benchmark cache of validated configs: config object -> (config id, encoded features).

For the 7V space a config id is the NB101 module hash (an MD5-based graph refinement, ~250 µs in
Python) and the features need a canonical vertex order (~250 µs per cell), which is far more than
a surrogate evaluation. Two things keep that off the hot path:

1. a bounded cache keyed by the validated, hashable config object (``Cell`` hashes its raw
   matrix and ops in about a microsecond): NAS algorithms revisit configs (evolution, local
   search, successive halving); entries are evicted least recently used first, in O(1)
   (``OrderedDict``), so a long-running process stays linear in the number of configs;
2. an optional *accelerator* for spaces with a precomputed full-space table (7V:
   :class:`eabench.spaces.nb101.index.NB101Index`, from ``space.make_accelerator()``) that maps
   configs in canonical form to table rows,
   hence to ids and features, without per-config hashing or encoding. Building it costs a few
   seconds once per machine (then about 0.3 s per process), so it is switched on only after
   ``activate_after`` cache misses (a batch of that many new configs switches it on at once), or
   explicitly by ``Benchmark.prepare()``. Configs it does not know take the exact slow path.
   (With materialised head outputs the index needs no features and costs ~0.1 s per process;
   ``SurrogateBenchmark`` then switches it on after 64 misses.)

The cache lives on the benchmark instance (no global state) and never changes an answer: it only
stores pure functions of the config. ``query_batch`` does not fill it for configs the accelerator
resolves (:meth:`ConfigCache.batch_rows`): a batch of a million new configs then costs no
per-config cache entries, and time and memory stay linear in the batch.
"""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from eabench.errors import validate_each
from eabench.spaces.base import Accelerator, SearchSpace

__all__ = ["ConfigCache"]


class ConfigCache:
    """Bounded map from validated config objects to their id and feature row.

    Lookups go first by object identity (the optimiser passing the same object again costs
    ~0.1 µs; the entry holds a reference, so the id cannot be reused while cached), then by value
    (``Cell.__hash__`` hashes the raw matrix and ops, a few µs).

    Args:
        space: the search space (``validate``, ``encode``, ``plain_key``).
        capacity: most configs kept per table (least recently used evicted first); 0 disables
            caching.
        accelerator: the space's :class:`~eabench.spaces.base.Accelerator`, or None.
        activate_after: number of cache misses after which the accelerator is built.
    """

    def __init__(
        self,
        space: SearchSpace[Any],
        capacity: int = 65536,
        accelerator: Accelerator | None = None,
        activate_after: int = 4096,
    ) -> None:
        self.space = space
        self.capacity = capacity
        self.accelerator = accelerator
        self.activate_after = activate_after
        # entry: [config id, feature row or None, accelerator row or -1]
        self._entries: OrderedDict[Any, list[Any]] = OrderedDict()
        self._by_object: OrderedDict[int, tuple[Any, list[Any]]] = OrderedDict()
        self._by_row: OrderedDict[int, list[Any]] = OrderedDict()
        self._misses = 0
        self._validated: OrderedDict[Any, Any] = OrderedDict()
        self._config_of_row: OrderedDict[int, Any] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def _accelerated(self, pending: int) -> bool:
        acc = self.accelerator
        if acc is None:
            return False
        if not acc.built and self._misses + pending >= self.activate_after:
            acc.build()
        return bool(acc.built)

    def entries(self, cfgs: Sequence[Any]) -> list[list[Any]]:
        """Cache entries ``[id, features or None, row]`` of validated configs (ids resolved)."""
        by_object = self._by_object
        out: list[Any] = [None] * len(cfgs)
        pending: list[int] = []
        for i, cfg in enumerate(cfgs):
            hit = by_object.get(id(cfg))
            if hit is not None and hit[0] is cfg:
                out[i] = hit[1]
                by_object.move_to_end(id(cfg))
            else:
                pending.append(i)
        if pending:
            self._fill([cfgs[i] for i in pending], pending, out)
            cap = self.capacity
            if len(by_object) > cap or len(self._by_row) > cap or len(self._entries) > cap:
                self._evict()
        return out

    def batch_rows(self, configs: Sequence[Any]) -> tuple[np.ndarray, list[str]] | None:
        """Table rows and ids of raw (unvalidated) configs, or None without an accelerator.

        Configs the accelerator recognises from their raw form (7V: ``Cell`` objects and strict
        plain-JSON dicts in canonical vertex order, keyed in one pass and looked up with one
        vectorised binary search) need no validation, hashing or cache entry; the others are
        validated in order (so the first invalid config raises, as a loop of ``validate``
        would) and resolved through the cache. Ids are formatted from the rows in one pass.
        """
        acc = self.accelerator
        if acc is None or not self._accelerated(len(configs)):
            return None
        rows = acc.raw_rows(configs)
        todo = np.flatnonzero(rows < 0)
        if len(todo):
            rows[todo] = self.rows(validate_each(self.validate, configs, todo.tolist()))
        return rows, acc.ids(rows)

    def _fill(self, todo: list[Any], where: list[int], out: list[Any]) -> None:
        """Entries of configs not seen as objects: by accelerator row, else by value."""
        acc = self.accelerator
        rows = np.full(len(todo), -1, dtype=np.int64)
        if acc is not None and self._accelerated(len(todo)):
            rows = acc.rows(todo)
        new_rows: list[int] = []
        slow: list[int] = []
        for j, (cfg, row) in enumerate(zip(todo, rows.tolist(), strict=True)):
            if row >= 0:  # canonical: the row identifies the config, no hashing of the object
                ent = self._by_row.get(row)
                if ent is None:
                    ent = self._by_row[row] = [None, None, row]
                    new_rows.append(j)
                else:
                    self._by_row.move_to_end(row)
            else:
                try:
                    ent = self._entries[cfg]
                    self._entries.move_to_end(cfg)
                except (KeyError, TypeError):
                    ent = [None, None, -1]
                    slow.append(j)
                    if self.capacity:
                        with contextlib.suppress(TypeError):  # unhashable: not cached by value
                            self._entries[cfg] = ent
            out[where[j]] = ent
            if self.capacity:
                self._by_object[id(cfg)] = (cfg, ent)
        if new_rows and acc is not None:
            for j, cid in zip(new_rows, acc.ids(rows[new_rows]), strict=True):
                out[where[j]][0] = cid
        for j in slow:
            ent = out[where[j]]
            if ent[0] is None:
                ent[0] = str(todo[j].config_id())
        self._misses += len(new_rows) + len(slow)

    def _evict(self) -> None:
        """Drop the least recently used entries of every table beyond ``capacity`` (O(1) each;
        ``del d[next(iter(d))]`` on a plain dict is O(size) after many deletions)."""
        cap = self.capacity
        for table in (self._entries, self._by_object, self._by_row, self._config_of_row):
            while len(table) > cap:
                table.popitem(last=False)

    def validate(self, config: Any) -> Any:
        """``space.validate(config)``, memoised for plain-dict configs (JSON callers).

        With a built accelerator (7V), a strict
        plain-JSON dict equal to a canonical table row skips validation: its row identifies
        it (the dict *is* that row's config), and the row's config object is reused.
        """
        if not isinstance(config, Mapping) or not self.capacity:
            return self.space.validate(config)
        acc = self.accelerator
        if acc is not None and acc.built:
            row = acc.plain_row(config)
            if row >= 0:
                return self._row_config(row, config)
        try:
            key = self.space.plain_key(config) or _freeze(config)
        except TypeError:  # an unhashable leaf: no memo
            return self.space.validate(config)
        hit = self._validated.get(key)
        if hit is not None:
            self._validated.move_to_end(key)
            return hit
        cfg = self.space.validate(config)
        self._validated[key] = cfg
        while len(self._validated) > self.capacity:
            self._validated.popitem(last=False)
        return cfg

    def _row_config(self, row: int, config: Any) -> Any:
        """The config object of table ``row`` (from the plain dict ``config``), registered."""
        cfg = self._config_of_row.get(row)
        if cfg is not None:
            self._config_of_row.move_to_end(row)
            return cfg
        acc = self.accelerator
        assert acc is not None  # validate() calls this only with a built accelerator
        cfg = acc.config_from_plain(config)
        ent = self._by_row.get(row)
        if ent is None:
            ent = self._by_row[row] = [acc.id_of_row(row), None, row]
            self._misses += 1
        self._by_object[id(cfg)] = (cfg, ent)
        self._config_of_row[row] = cfg
        if len(self._by_object) > self.capacity or len(self._config_of_row) > self.capacity:
            self._evict()
        return cfg

    def config_id(self, cfg: Any) -> str:
        """The id of one validated config (cached)."""
        return self.id_and_row(cfg)[0]

    def id_and_row(self, cfg: Any) -> tuple[str, int]:
        """The id of one validated config (cached) and its accelerator row, -1 where it has
        none (yet): the single-query hot path."""
        hit = self._by_object.get(id(cfg))
        if hit is not None and hit[0] is cfg:
            return str(hit[1][0]), int(hit[1][2])
        acc = self.accelerator
        if acc is not None and acc.built and self.capacity:
            row = acc.row_of(cfg)
            if row >= 0:
                by_row = self._by_row.get(row)
                if by_row is None:
                    by_row = self._by_row[row] = [acc.id_of_row(row), None, row]
                    self._misses += 1
                else:
                    self._by_row.move_to_end(row)
                self._by_object[id(cfg)] = (cfg, by_row)
                if len(self._by_object) > self.capacity or len(self._by_row) > self.capacity:
                    self._evict()
                return str(by_row[0]), row
        ent = self.entries((cfg,))[0]
        return str(ent[0]), int(ent[2])

    def config_ids(self, cfgs: Sequence[Any]) -> list[str]:
        """Ids of validated configs; misses are resolved together."""
        return [e[0] for e in self.entries(cfgs)]

    def rows(self, cfgs: Sequence[Any]) -> np.ndarray:
        """Full-space table rows of validated configs (int64), via the accelerator.

        Configs the accelerator's key lookup does not know (not in canonical form) are found by
        their config id (``accelerator.rows_of_ids``) once and remembered in their entry.
        """
        acc = self.accelerator
        if acc is None:
            raise TypeError("rows() needs an accelerator")
        ents = self.entries(cfgs)
        if len(ents) == 1 and ents[0][2] >= 0:  # the single-query hot path
            return np.array([ents[0][2]], dtype=np.int64)
        out = np.fromiter((e[2] for e in ents), dtype=np.int64, count=len(ents))
        todo = np.flatnonzero(out < 0)
        if len(todo):
            found = acc.rows_of_ids([ents[i][0] for i in todo.tolist()])
            out[todo] = found
            for i, r in zip(todo.tolist(), found.tolist(), strict=True):
                ents[i][2] = r
        return out

    def features(self, cfgs: Sequence[Any]) -> np.ndarray:
        """``(n, d)`` float64 features of validated configs; misses are encoded together."""
        ents = self.entries(cfgs)
        if len(ents) == 1 and ents[0][1] is not None:  # the single-query hot path: a view
            row: np.ndarray = ents[0][1]
            return row[None, :]
        missing = [i for i, e in enumerate(ents) if e[1] is None]
        if not missing:
            return np.stack([e[1] for e in ents])
        rows = np.array([ents[i][2] for i in missing], dtype=np.int64)
        fast = rows >= 0
        acc = self.accelerator
        if fast.all() and acc is not None and acc.built:
            encoded = acc.features(rows)
        else:
            slow = np.flatnonzero(~fast) if acc is not None and acc.built else np.arange(len(rows))
            enc_slow = np.asarray(
                self.space.encode([cfgs[missing[j]] for j in slow.tolist()]), dtype=np.float64
            )
            encoded = np.empty((len(rows), enc_slow.shape[1]))
            encoded[slow] = enc_slow
            done = np.setdiff1d(np.arange(len(rows)), slow)
            if len(done) and acc is not None:
                encoded[done] = acc.features(rows[done])
        encoded.flags.writeable = False
        for j, i in enumerate(missing):
            ents[i][1] = encoded[j]
        if len(missing) == len(cfgs):
            return np.asarray(encoded)
        return np.stack([e[1] for e in ents])


def _freeze(value: Any) -> Any:
    """A hashable, order-preserving image of a JSON-like value (dict keys sorted)."""
    if isinstance(value, Mapping):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return (type(value) is tuple, *(_freeze(v) for v in value))
    if isinstance(value, np.ndarray):
        return ("ndarray", str(value.dtype), value.shape, value.tobytes())
    hash(value)
    return (type(value).__name__, value)
