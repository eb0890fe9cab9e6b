"""Fast path for the NB101 7V space: cells in canonical form -> row of the shipped space cache.

``NB101Space.sample`` (and ``neighbours``/``mutate``, via the cache) return cells in the canonical
vertex order of the shipped full-space cache (``eabench/_data/nb101_space.npz``, sorted by NB101
hash). For such a cell the padded adjacency bits and labels *are* the cache row's, so a 36-bit
key built from the cell's raw matrix and ops finds its row with one binary search: the config id
(hash) and the features then come from arrays instead of the MD5 refinement (~250 µs) and the
canonicalising encoder (~250-400 µs per cell). A key that is not found (a cell given in another
vertex order, or not pruned) falls back to the exact slow path, so answers never change: equal
keys mean identical padded graphs, hence the same cell.

Building the index sorts the 36-bit keys of all 423,624 cells, computed from the cache's packed
adjacency (no unpacking). Features of all cells (45 small integers each, stored as uint8: 19 MB),
needed only when a surrogate runs its models (not for artifacts with materialised head outputs),
are computed on first use, once per machine with the space's own ``encode_indices`` (a few
seconds), written atomically to ``eabench.paths.user_cache_dir()`` and memory-mapped afterwards;
if that folder is not writable they are kept in memory. A few random rows are re-encoded and
compared on every load.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import operator
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from eabench._decoded import page_in
from eabench.paths import user_cache_dir
from eabench.spaces.nb101.cell import _ROWS as _SHARED_ROWS
from eabench.spaces.nb101.cell import INPUT, INTERIOR_OPS, LABEL_OF_OP, OUTPUT, Cell

__all__ = ["NB101Index", "cell_key", "data_keys", "packed_keys", "plain_key"]

_N = 7
_IU, _JU = np.triu_indices(_N, k=1)
_BIT_OF = {(int(i), int(j)): k for k, (i, j) in enumerate(zip(_IU, _JU, strict=True))}
_LAB_CODE = {op: LABEL_OF_OP[op] + 3 for op in INTERIOR_OPS}  # 3, 4, 5; padding (-3) -> 0
_LAB_SHIFT = 21
_FEATURES_VERSION = 1


def _row_bits() -> list[dict[tuple[int, ...], int]]:
    """Per vertex a: its matrix row -> adjacency bits of the padded form (every V and row)."""
    out: list[dict[tuple[int, ...], int]] = [{} for _ in range(_N)]
    for v in range(2, _N + 1):
        pos = [*range(v - 1), _N - 1]
        for a in range(v):
            for row in itertools.product((0, 1), repeat=v):
                bits = 0
                for b in range(a + 1, v):
                    if row[b]:
                        bits |= 1 << _BIT_OF[(pos[a], pos[b])]
                out[a][row] = bits
    return out


def _ops_codes() -> dict[tuple[str, ...], int]:
    """Op tuple -> its 15-bit label code (3 bits per interior position), for every V."""
    out: dict[tuple[str, ...], int] = {}
    for v in range(2, _N + 1):
        for interior in itertools.product(INTERIOR_OPS, repeat=v - 2):
            code = 0
            for p, op in enumerate(interior):
                code |= _LAB_CODE[op] << (3 * p)
            ops = (INPUT, *interior, OUTPUT)
            out[ops] = code << _LAB_SHIFT
    return out


def _strict_rows() -> dict[int, tuple[dict[tuple[int, ...], int], ...]]:
    """Per V, per vertex a: the rows of a valid V-vertex matrix (length V, zero on and below
    the diagonal, 0/1) -> their adjacency bits; any other row is missing (for plain_key)."""
    out = {}
    for v in range(2, _N + 1):
        out[v] = tuple(
            {r: b for r, b in _ROW_BITS[a].items() if len(r) == v and not any(r[: a + 1])}
            for a in range(v)
        )
    return out


_ROW_BITS = _row_bits()
_STRICT_ROWS = _strict_rows()
_OPS_CODE = _ops_codes()
_ROW_OF_BITS = {
    v: tuple({b: _SHARED_ROWS.get(r, r) for r, b in rows.items()} for rows in tables)
    for v, tables in _STRICT_ROWS.items()
}
"""Per V, per vertex: adjacency bits of a row -> the row (the shared tuples of ``Cell``)."""
_ROW_MASK = {
    v: tuple(functools.reduce(operator.or_, t.values(), 0) for t in tables)
    for v, tables in _STRICT_ROWS.items()
}
"""Per V, per vertex: the adjacency bits its row can set."""


def cell_key(cell: Cell) -> int:
    """36-bit key of the cell's raw padded form: 21 adjacency bits, then 3 bits per interior op."""
    key = _OPS_CODE[cell.ops]
    for row, table in zip(cell.matrix, _ROW_BITS, strict=False):  # V <= 7 rows
        key |= table[row]
    return key


_STR = frozenset({str})
_INT = frozenset({int})
_LIST = frozenset({list})
_chain = itertools.chain.from_iterable
_HEX_PAIRS = np.frombuffer("".join(f"{b:02x}" for b in range(256)).encode("ascii"), dtype=np.uint16)
"""Byte -> its two lowercase hex digits (as the uint16 of their ASCII bytes)."""


def plain_key(config: Any) -> int:
    """:func:`cell_key` of a strict plain-JSON cell dict, or -1 if it is not one.

    Strict form: a ``dict`` with exactly ``matrix`` (``list`` of ``list`` of ``int`` 0/1,
    square, 2-7 vertices, zero on and below the diagonal) and ``ops`` (``list`` of ``str``:
    ``input``, interior op names, ``output``). Anything else (numpy arrays, tuples, op labels,
    bools, an invalid cell) returns -1 and takes ``Cell`` validation. A key equal to a row of
    the space cache then means the dict *is* that canonical cell, hence valid.
    """
    if type(config) is not dict or len(config) != 2:
        return -1
    m = config.get("matrix")
    ops = config.get("ops")
    if type(m) is not list or type(ops) is not list:
        return -1
    tables = _STRICT_ROWS.get(len(m))
    # exact types first: no comparison or truth test runs on anything but str / int
    if tables is None or len(ops) != len(m) or set(map(type, ops)) != _STR:
        return -1
    key = _OPS_CODE.get(tuple(ops), -1)  # valid op tuples only (input first, output last)
    if key < 0 or set(map(type, m)) != _LIST or set(map(type, _chain(m))) != _INT:
        return -1
    for table, row in zip(tables, m, strict=True):
        bits = table.get(tuple(row))  # None unless 0/1, of length V, zero up to the diagonal
        if bits is None:
            return -1
        key |= bits
    return key


def _matrix_bits(matrix: tuple[tuple[int, ...], ...]) -> int:
    """The adjacency part of :func:`cell_key` (the matrix of a valid cell)."""
    bits = 0
    for row, table in zip(matrix, _ROW_BITS, strict=False):
        bits |= table[row]
    return bits


def canonical_matrix_bits(keys: np.ndarray) -> dict[tuple[tuple[int, ...], ...], int]:
    """Matrix -> adjacency bits of every distinct matrix among cells in canonical form given by
    their keys (:func:`packed_keys`; 2,494 matrices for the 423,624 cells of the 7V space)."""
    codes = np.arange(1 << 15, dtype=np.int64)
    interior = sum((((codes >> (3 * p)) & 7) != 0).astype(np.int64) for p in range(_N - 2))
    adj = (1 << _LAB_SHIFT) - 1
    combined = (interior[keys >> _LAB_SHIFT] << _LAB_SHIFT) | (keys & adj)
    present = np.zeros((_N - 1) << _LAB_SHIFT, dtype=bool)
    present[combined] = True
    out = {}
    for c in np.flatnonzero(present).tolist():
        v, bits = (c >> _LAB_SHIFT) + 2, c & adj
        rows, masks = _ROW_OF_BITS[v], _ROW_MASK[v]
        out[tuple([rows[a][bits & masks[a]] for a in range(v)])] = bits
    return out


_MATRIX_MEMO_SIZE = 65536
"""Most matrices one index remembers the adjacency bits of (the 423,624 canonical 7V cells have
2,494 distinct matrices; any valid matrix may be remembered, each entry a few hundred bytes)."""


def data_keys(matrices: np.ndarray, labels: np.ndarray, chunk: int = 16384) -> np.ndarray:
    """Keys (int64) of padded rows ``(n, 7, 7)`` / ``(n, 7)``, as :func:`cell_key` builds them.

    Computed in chunks so that the temporaries stay small (a few MB) for the full space.
    """
    n = len(labels)
    keys = np.empty(n, dtype=np.int64)
    adj_shift = np.arange(len(_IU), dtype=np.int64)
    lab_shift = 3 * np.arange(_N - 2, dtype=np.int64) + _LAB_SHIFT
    for s in range(0, n, chunk):
        m = matrices[s : s + chunk, _IU, _JU].astype(np.int64)
        lab = labels[s : s + chunk, 1 : _N - 1].astype(np.int64) + 3
        keys[s : s + chunk] = (m << adj_shift).sum(axis=1) | (lab << lab_shift).sum(axis=1)
    return keys


def packed_keys(bits: np.ndarray, labels: np.ndarray, chunk: int = 65536) -> np.ndarray:
    """:func:`data_keys` from the packed adjacency of the space cache (no unpacking)."""
    n = len(labels)
    keys = np.empty(n, dtype=np.int64)
    lab_shift = 3 * np.arange(_N - 2, dtype=np.int64) + _LAB_SHIFT
    for s in range(0, n, chunk):
        lab = labels[s : s + chunk, 1 : _N - 1].astype(np.int64) + 3
        keys[s : s + chunk] = bits[s : s + chunk].astype(np.int64) | (lab << lab_shift).sum(axis=1)
    return keys


class NB101Index:
    """Row lookup, ids and precomputed features for canonical cells of an ``NB101Space``.

    Args:
        space: the ``NB101Space`` (its ``data`` and ``encode_indices`` are used).
        cache_dir: where the feature table is kept (default ``eabench.paths.user_cache_dir()``).
    """

    def __init__(self, space: Any, cache_dir: str | Path | None = None) -> None:
        self.space = space
        self.cache_dir = cache_dir
        self._keys: np.ndarray | None = None
        self._order: np.ndarray | None = None
        self._features: np.ndarray | None = None
        self._bits: dict[tuple[tuple[int, ...], ...], int] = {}
        """Matrix (tuple of row tuples of 0/1 ints, of a valid cell) -> its adjacency bits: one
        dict lookup hashes the whole matrix in C, where :func:`cell_key` looks up every row in
        a Python loop (filled on first sight of each matrix, bounded)."""

    @property
    def built(self) -> bool:
        """True once :meth:`build` ran."""
        return self._keys is not None

    def build(self) -> NB101Index:
        """Load the space cache and sort its keys (the feature table opens on first use)."""
        if self.built:
            return self
        data = self.space.data
        keys = packed_keys(data.adjacency_bits, data.labels)
        order = np.argsort(keys, kind="stable")
        self._keys = keys[order]
        self._order = order
        self._bits.update(canonical_matrix_bits(keys))
        page_in(data.hash_hi)  # the ids of rows (memory-mapped): mapped now, not query by query
        page_in(data.hash_lo)
        return self

    def _feature_path(self, data: Any) -> Path:
        names = "|".join(self.space.feature_names()).encode()
        tag = hashlib.sha256(names + str(data.hashes_sha256).encode()).hexdigest()[:16]
        root = Path(self.cache_dir) if self.cache_dir is not None else user_cache_dir()
        return root / f"nb101_features_v{_FEATURES_VERSION}_{tag}.npy"

    def _check(self, table: np.ndarray, n: int) -> bool:
        if table.shape != (n, len(self.space.feature_names())) or table.dtype != np.uint8:
            return False
        probe = np.random.default_rng(0).choice(n, size=min(8, n), replace=False)
        return bool(np.array_equal(table[probe], self.space.encode_indices(probe)))

    def _feature_table(self, data: Any) -> np.ndarray:
        n = len(data)
        path = self._feature_path(data)
        if path.is_file():
            try:
                table: np.ndarray = np.load(path, mmap_mode="r", allow_pickle=False)
                if self._check(table, n):
                    return table
            except (OSError, ValueError):
                pass
        parts = []
        for start in range(0, n, 32768):
            enc = self.space.encode_indices(np.arange(start, min(start + 32768, n)))
            if not (np.all(enc == np.round(enc)) and enc.min() >= 0 and enc.max() <= 255):
                raise ValueError(
                    "7V features are no longer small integers: update eabench.spaces.nb101.index"
                )
            parts.append(enc.astype(np.uint8))
        table = np.concatenate(parts)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npy.tmp")
            with os.fdopen(fd, "wb") as fh:
                np.save(fh, table)
                fh.flush()
                os.fsync(fh.fileno())
            Path(tmp).replace(path)
        except OSError:
            return table  # not writable: keep it in memory
        mapped: np.ndarray = np.load(path, mmap_mode="r", allow_pickle=False)
        return mapped

    def _learn(self, matrix: tuple[tuple[int, ...], ...]) -> int:
        bits = _matrix_bits(matrix)
        if len(self._bits) < _MATRIX_MEMO_SIZE:
            self._bits[matrix] = bits
        return bits

    def key_of(self, cell: Cell) -> int:
        """:func:`cell_key` of a ``Cell`` (the adjacency bits of its matrix memoised)."""
        bits = self._bits.get(cell._matrix)
        if bits is None:
            bits = self._learn(cell._matrix)
        return _OPS_CODE[cell._ops] | bits

    def raw_keys(self, configs: Sequence[Any]) -> np.ndarray:
        """Keys (int64) of unvalidated configs: :func:`cell_key` of ``Cell`` objects,
        :func:`plain_key` of anything else (-1: not keyable), in one pass."""
        known = self._bits.get
        ops_code = _OPS_CODE
        out = np.empty(len(configs), dtype=np.int64)
        keys: list[int] = []
        append = keys.append
        for c in configs:
            if type(c) is Cell:
                bits = known(c._matrix)
                if bits is None:
                    bits = self._learn(c._matrix)
                append(ops_code[c._ops] | bits)
            elif isinstance(c, Cell):
                append(self.key_of(c))
            else:
                append(plain_key(c))
        out[:] = keys
        return out

    def rows(self, cells: Sequence[Cell]) -> np.ndarray:
        """Cache row of each cell, or -1 where the cell is not in canonical form."""
        self.build()
        assert self._keys is not None
        assert self._order is not None
        if len(cells) == 1:  # the single-query hot path: scalar search
            k = self.key_of(cells[0])
            i = int(self._keys.searchsorted(k))
            hit1 = i < len(self._keys) and int(self._keys[i]) == k
            return np.array([int(self._order[i]) if hit1 else -1], dtype=np.int64)
        q = self.raw_keys(cells)
        pos = np.minimum(np.searchsorted(self._keys, q), len(self._keys) - 1)
        hit = self._keys[pos] == q
        return np.where(hit, self._order[pos], -1)

    def row_of(self, cell: Cell) -> int:
        """Cache row of one validated cell, or -1 (scalar path of :meth:`rows`)."""
        keys, order = self._keys, self._order
        if keys is None or order is None:
            self.build()
            keys, order = self._keys, self._order
            assert keys is not None
            assert order is not None
        bits = self._bits.get(cell._matrix)
        if bits is None:
            bits = self._learn(cell._matrix)
        k = _OPS_CODE[cell._ops] | bits
        i = int(keys.searchsorted(k))
        if i < len(keys) and keys.item(i) == k:
            return int(order.item(i))
        return -1

    def raw_rows(self, configs: Sequence[Any]) -> np.ndarray:
        """Cache rows of unvalidated configs, -1 where the raw form is not a canonical row.

        A ``Cell`` (valid by construction) is keyed by :func:`cell_key`, a strict plain-JSON
        dict by :func:`plain_key` (a found key means the dict *is* that canonical cell, see
        :meth:`plain_row`); anything else gets -1 and is validated by the caller. One Python
        pass builds the keys, one vectorised binary search finds them (in key order: the
        search then walks the table forwards, about twice as fast for large batches).
        """
        self.build()
        assert self._keys is not None
        assert self._order is not None
        q = self.raw_keys(configs)
        keys = self._keys
        by_key = np.argsort(q)
        qs = q[by_key]
        pos = np.searchsorted(keys, qs)
        np.minimum(pos, len(keys) - 1, out=pos)
        hit = (keys[pos] == qs) & (qs >= 0)
        out = np.empty(len(q), dtype=np.int64)
        out[by_key] = np.where(hit, self._order[pos], -1)
        return out

    def plain_row(self, config: Any) -> int:
        """Cache row of a strict plain-JSON cell dict in canonical form (:func:`plain_key`),
        else -1 (the caller validates it as a ``Cell``)."""
        k = plain_key(config)
        if k < 0:
            return -1
        self.build()
        assert self._keys is not None
        assert self._order is not None
        i = int(self._keys.searchsorted(k))
        if i < len(self._keys) and int(self._keys[i]) == k:
            return int(self._order[i])
        return -1

    @staticmethod
    def config_from_plain(config: Mapping[str, Any]) -> Cell:
        """The ``Cell`` of a dict :meth:`plain_row` found (no re-validation needed)."""
        return Cell._trusted(config["matrix"], config["ops"])

    def id_of_row(self, row: int) -> str:
        """NB101 hash of one cache row (scalar path of :meth:`ids`, ~10x faster for one)."""
        data = self.space.data
        return f"{data.hash_hi.item(row):016x}{data.hash_lo.item(row):016x}"

    def ids(self, rows: np.ndarray) -> list[str]:
        """NB101 hashes (config ids) of cache rows (hex digits formatted in numpy)."""
        data = self.space.data
        rows = np.asarray(rows, dtype=np.int64)
        if len(rows) < 64:
            hi = data.hash_hi[rows].tolist()
            lo = data.hash_lo[rows].tolist()
            return [f"{h:016x}{low:016x}" for h, low in zip(hi, lo, strict=True)]
        out: list[str] = []
        for s in range(0, len(rows), 65536):  # chunks keep the temporaries small
            r = rows[s : s + 65536]
            raw = np.empty((len(r), 2), dtype=">u8")  # big-endian: bytes in hex-digit order
            raw[:, 0] = data.hash_hi[r]
            raw[:, 1] = data.hash_lo[r]
            digits = _HEX_PAIRS[raw.view(np.uint8).reshape(len(r), 16)]
            out += digits.view("S32").reshape(-1).astype("U32").tolist()
        return out

    def features(self, rows: np.ndarray) -> np.ndarray:
        """``(n, 45)`` float64 features of cache rows (equal to ``space.encode``)."""
        self.build()
        if self._features is None:
            self._features = self._feature_table(self.space.data)
        return np.asarray(self._features[rows], dtype=np.float64)

    def rows_of_ids(self, ids: Sequence[str]) -> np.ndarray:
        """Cache rows of config ids (NB101 hashes), via ``SpaceData.index_of``."""
        return np.asarray(self.space.data.index_of(list(ids)), dtype=np.int64).reshape(-1)
