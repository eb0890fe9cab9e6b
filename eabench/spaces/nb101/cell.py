"""One NAS-Bench-101 "7V" cell: a validated, frozen (adjacency matrix, ops) pair.

The rules are those of NAS-Bench-101 (Ying et al., ICML 2019) as used by EC-NAS:

- the matrix is a square 0/1 matrix with at most 7 vertices, strictly upper-triangular (so the
  vertex order is a topological order and there are no self-loops);
- ``ops[0]`` is ``input``, ``ops[-1]`` is ``output``, every interior op is one of
  ``conv3x3-bn-relu``, ``conv1x1-bn-relu``, ``maxpool3x3``;
- the output must be reachable from the input;
- after pruning (removing the vertices that are on no input-to-output path) the cell has at
  most 9 edges. Like NB101's ``ModelSpec``, the edge limit applies to the pruned cell, because the
  pruned cell is the network that is built and hashed.

A :class:`Cell` keeps the matrix and ops exactly as given (after normalising types); equality and
Python hashing compare those raw values. :meth:`Cell.hash` is the NAS-Bench-101 module hash of the
pruned cell, equal for isomorphic cells, and is the cell's ``config_id``.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Mapping, Sequence
from typing import Any, NoReturn

import numpy as np

from eabench.errors import InvalidConfigError

__all__ = [
    "INPUT",
    "INTERIOR_OPS",
    "LABEL_OF_OP",
    "MAX_EDGES",
    "MAX_VERTICES",
    "OPS",
    "OP_OF_LABEL",
    "OUTPUT",
    "Cell",
    "hash_module",
    "hash_rows",
    "live_vertices",
    "prune_arrays",
]

INPUT = "input"
OUTPUT = "output"
CONV3X3 = "conv3x3-bn-relu"
CONV1X1 = "conv1x1-bn-relu"
MAXPOOL3X3 = "maxpool3x3"
INTERIOR_OPS: tuple[str, ...] = (CONV3X3, CONV1X1, MAXPOOL3X3)
"""Interior ops in canonical order; their NB101 hash labels are 0, 1, 2."""
OPS: tuple[str, ...] = (INPUT, *INTERIOR_OPS, OUTPUT)
LABEL_OF_OP: dict[str, int] = {INPUT: -1, OUTPUT: -2, CONV3X3: 0, CONV1X1: 1, MAXPOOL3X3: 2}
"""NAS-Bench-101 integer labels (used by its hash): input -1, output -2, interior 0/1/2."""
OP_OF_LABEL: dict[int, str] = {v: k for k, v in LABEL_OF_OP.items()}
MAX_VERTICES = 7
MAX_EDGES = 9

_ROWS: dict[tuple[int, ...], tuple[int, ...]] = {
    row: row for n in range(1, MAX_VERTICES + 1) for row in itertools.product((0, 1), repeat=n)
}
"""Every 0/1 matrix row a cell can have, one shared tuple each (a constant): cells keep these,
so a cell's matrix costs one tuple of references, and hashing or keying many cells reads the
same few hundred rows."""
_OPS_TUPLES: dict[tuple[str, ...], tuple[str, ...]] = {
    ops: ops
    for n in range(2, MAX_VERTICES + 1)
    for ops in ((INPUT, *mid, OUTPUT) for mid in itertools.product(INTERIOR_OPS, repeat=n - 2))
}
"""Every valid op tuple, one shared tuple each (as :data:`_ROWS`)."""


def _fail(field: str, value: Any, rule: str) -> NoReturn:
    raise InvalidConfigError.for_field(field, value, rule)


def _normalise_ops(ops: Any) -> tuple[str, ...]:
    if (
        isinstance(ops, (str, bytes))
        or not isinstance(ops, (Sequence, np.ndarray))
        or (isinstance(ops, np.ndarray) and ops.ndim != 1)
    ):
        _fail("ops", ops, "must be a sequence of op names or NB101 integer labels")
    out: list[str] = []
    for i, op in enumerate(ops):
        if isinstance(op, str):
            if op not in LABEL_OF_OP:
                _fail(f"ops[{i}]", op, f"unknown op; allowed: {', '.join(OPS)}")
            out.append(str(op))
        elif isinstance(op, (int, np.integer)) and not isinstance(op, bool):
            if int(op) not in OP_OF_LABEL:
                _fail(f"ops[{i}]", op, "unknown NB101 label; allowed: -1, -2, 0, 1, 2")
            out.append(OP_OF_LABEL[int(op)])
        else:
            _fail(f"ops[{i}]", op, "must be an op name (str) or an NB101 integer label")
    return tuple(out)


def _plain_rows(matrix: Any) -> list[list[int]] | None:
    """``matrix`` itself if it is a square list of lists of the ints 0/1 (the JSON form), else
    None (then the general numpy path validates it); about ten times faster than numpy here."""
    if type(matrix) is not list:
        return None
    n = len(matrix)
    for row in matrix:
        if type(row) is not list or len(row) != n:
            return None
        for x in row:
            if type(x) is not int or (x != 0 and x != 1):
                return None
    return matrix


def _normalise_matrix(matrix: Any) -> np.ndarray:
    try:
        arr = np.asarray(matrix)
    except (ValueError, TypeError):
        _fail("matrix", matrix, "must be a square 2-D 0/1 matrix")
    if arr.dtype == object or arr.ndim != 2 or arr.shape[0] != arr.shape[1]:
        _fail("matrix", matrix, "must be a square 2-D 0/1 matrix")
    if arr.dtype.kind not in "biuf" or not ((arr == 0) | (arr == 1)).all():
        _fail("matrix", matrix, "entries must be 0 or 1")
    return arr.astype(np.int8)


def live_vertices(rows: Sequence[Sequence[int]]) -> list[int]:
    """Vertices on an input-to-output path of a strictly upper-triangular 0/1 matrix."""
    n = len(rows)
    fwd = [False] * n
    fwd[0] = True
    for i in range(n):  # topological order: propagate reachability from the input forwards
        if fwd[i]:
            row = rows[i]
            for j in range(i + 1, n):
                if row[j]:
                    fwd[j] = True
    bwd = [False] * n
    bwd[n - 1] = True
    for i in range(n - 2, -1, -1):
        row = rows[i]
        for j in range(i + 1, n):
            if row[j] and bwd[j]:
                bwd[i] = True
                break
    return [v for v in range(n) if fwd[v] and bwd[v]]


def prune_arrays(matrix: np.ndarray, labels: Sequence[int]) -> tuple[np.ndarray, list[int]]:
    """Remove vertices on no input-to-output path (NB101 ``ModelSpec._prune``).

    ``matrix`` must be strictly upper-triangular; returns ``(matrix, labels)`` of the kept vertices.
    If the output is unreachable, only the vertices reachable both ways remain (possibly none).
    """
    keep = live_vertices(np.asarray(matrix).tolist())
    return np.asarray(matrix)[np.ix_(keep, keep)], [int(labels[k]) for k in keep]


def hash_module(matrix: Any, labels: Sequence[int]) -> str:
    """NAS-Bench-101 module hash of a (pruned) cell: 32 lowercase hex chars.

    Vertex v starts as ``md5(str((out_degree, in_degree, label)))`` (Python ints); then, V times,
    every vertex becomes ``md5(sorted in-neighbour hashes + "|" + sorted out-neighbour hashes + "|"
    + own hash)``; the fingerprint is ``md5(str(sorted(vertex hashes)))``. Isomorphic cells get the
    same hash. Own implementation of the algorithm described in the NB101 paper and docstrings.

    Args:
        matrix: ``(V, V)`` 0/1 adjacency (array or nested lists) of a pruned cell.
        labels: NB101 integer labels (input -1, output -2, interior 0/1/2).
    """
    rows = matrix.tolist() if isinstance(matrix, np.ndarray) else matrix
    return hash_rows(rows, [int(x) for x in labels])


def hash_rows(rows: list[list[int]], labels: list[int]) -> str:
    """:func:`hash_module` on plain Python lists (the fast path used by the enumerator)."""
    md5 = hashlib.md5
    n = len(rows)
    preds = [[w for w in range(n) if rows[w][v]] for v in range(n)]
    succs = [[w for w in range(n) if rows[v][w]] for v in range(n)]
    hashes = [
        md5(str((len(succs[v]), len(preds[v]), labels[v])).encode()).hexdigest() for v in range(n)
    ]
    for _ in range(n):
        hashes = [
            md5(
                (
                    "".join(sorted([hashes[w] for w in preds[v]]))
                    + "|"
                    + "".join(sorted([hashes[w] for w in succs[v]]))
                    + "|"
                    + hashes[v]
                ).encode()
            ).hexdigest()
            for v in range(n)
        ]
    return md5(str(sorted(hashes)).encode()).hexdigest()


class Cell:
    """A validated, immutable NAS-Bench-101 cell.

    Args:
        matrix: square 0/1 adjacency matrix (nested lists or a numpy array; floats 0.0/1.0 and
            bools are accepted), ``matrix[i][j] == 1`` meaning an edge from vertex i to vertex j.
        ops: one op per vertex: names (``input``, ``conv3x3-bn-relu``, ``conv1x1-bn-relu``,
            ``maxpool3x3``, ``output``) or NB101 integer labels (-1, 0, 1, 2, -2).

    Raises:
        InvalidConfigError: naming the field, the value and the broken rule (see module docs).
    """

    __slots__ = ("_keep", "_matrix", "_ops")
    _matrix: tuple[tuple[int, ...], ...]
    _ops: tuple[str, ...]
    _keep: tuple[int, ...]

    def __init__(self, matrix: Any, ops: Any) -> None:
        names = _normalise_ops(ops)
        plain = _plain_rows(matrix)
        if plain is None:
            arr = _normalise_matrix(matrix)
            n = arr.shape[0]
            rows: list[list[int]] = arr.tolist()
            lower = bool(np.tril(arr).any())
        else:
            n = len(plain)
            rows = [list(r) for r in plain]
            lower = any(any(row[: i + 1]) for i, row in enumerate(rows))
        if n > MAX_VERTICES:
            _fail("matrix", rows, f"cell has {n} vertices; at most {MAX_VERTICES} allowed")
        if n < 2:
            _fail("matrix", rows, f"cell has {n} vertices; at least 2 (input, output)")
        if len(names) != n:
            _fail("ops", list(names), f"has {len(names)} ops but the matrix has {n} vertices")
        if lower:
            _fail("matrix", rows, "must be strictly upper-triangular (edges i -> j, i < j)")
        if names[0] != INPUT:
            _fail("ops[0]", names[0], "the first vertex must be 'input'")
        if names[-1] != OUTPUT:
            _fail(f"ops[{n - 1}]", names[-1], "the last vertex must be 'output'")
        for i in range(1, n - 1):
            if names[i] not in INTERIOR_OPS:
                _fail(f"ops[{i}]", names[i], "input/output allowed only at the first/last vertex")
        keep = live_vertices(rows)
        if len(keep) < 2:
            _fail("matrix", rows, "no path from the input to the output")
        if len(keep) == n:
            n_edges = sum(map(sum, rows))
        else:
            n_edges = sum(rows[i][j] for i in keep for j in keep)
        if n_edges > MAX_EDGES:
            _fail(
                "matrix",
                rows,
                f"cell has {n_edges} edges after pruning; at most {MAX_EDGES} are allowed",
            )
        shared = _ROWS.get
        object.__setattr__(self, "_matrix", tuple([shared(r, r) for r in map(tuple, rows)]))
        object.__setattr__(self, "_ops", _OPS_TUPLES.get(names, names))
        object.__setattr__(self, "_keep", tuple(keep))

    def __setattr__(self, name: str, value: Any) -> NoReturn:
        raise AttributeError(f"Cell is immutable; cannot set {name!r}")

    def __delattr__(self, name: str) -> NoReturn:
        raise AttributeError(f"Cell is immutable; cannot delete {name!r}")

    # --- construction helpers -------------------------------------------------------------
    @classmethod
    def from_dict(cls, config: Mapping[str, Any]) -> Cell:
        """Build from ``{"matrix": [[...]], "ops": [...]}`` (extra keys are an error)."""
        if not isinstance(config, Mapping):
            _fail("config", config, "must be a Cell or a mapping with keys 'matrix' and 'ops'")
        keys = set(config)
        if keys != {"matrix", "ops"}:
            _fail("config", sorted(map(str, keys)), "must have exactly the keys 'matrix' and 'ops'")
        return cls(config["matrix"], config["ops"])

    @classmethod
    def _trusted(cls, matrix: Sequence[Sequence[int]], ops: Sequence[str]) -> Cell:
        """A cell from parts the caller guarantees valid and pruned (no checks): for example a
        plain dict whose raw form equals a canonical row of the space cache."""
        cell = object.__new__(cls)
        shared = _ROWS.get
        object.__setattr__(cell, "_matrix", tuple([shared(r, r) for r in map(tuple, matrix)]))
        names = tuple(ops)
        object.__setattr__(cell, "_ops", _OPS_TUPLES.get(names, names))
        object.__setattr__(cell, "_keep", tuple(range(len(ops))))
        return cell

    @classmethod
    def coerce(cls, config: Cell | Mapping[str, Any]) -> Cell:
        """Return ``config`` if it is a Cell, else :meth:`from_dict` of it."""
        return config if isinstance(config, Cell) else cls.from_dict(config)

    # --- views ------------------------------------------------------------------------------
    @property
    def matrix(self) -> tuple[tuple[int, ...], ...]:
        """Adjacency matrix as given (nested tuples of 0/1 ints)."""
        return self._matrix

    @property
    def ops(self) -> tuple[str, ...]:
        """Op names, one per vertex."""
        return self._ops

    @property
    def num_vertices(self) -> int:
        return len(self._ops)

    @property
    def num_edges(self) -> int:
        return sum(map(sum, self._matrix))

    def matrix_array(self) -> np.ndarray:
        """The adjacency matrix as a new ``int8`` array of shape ``(V, V)``."""
        return np.array(self._matrix, dtype=np.int8)

    def labels(self) -> list[int]:
        """NB101 integer labels of the ops (input -1, output -2, interior 0/1/2)."""
        return [LABEL_OF_OP[o] for o in self._ops]

    # --- semantics --------------------------------------------------------------------------
    def pruned(self) -> Cell:
        """The cell without vertices that lie on no input-to-output path (idempotent)."""
        keep = self._keep
        if len(keep) == len(self._ops):
            return self
        return Cell(
            [[self._matrix[i][j] for j in keep] for i in keep], [self._ops[k] for k in keep]
        )

    def is_pruned(self) -> bool:
        """True if every vertex lies on an input-to-output path."""
        return self.pruned() is self

    def hash(self) -> str:
        """NAS-Bench-101 module hash of the pruned cell (32 lowercase hex chars)."""
        p = self.pruned()
        return hash_module(p.matrix_array(), p.labels())

    def config_id(self) -> str:
        """The canonical id: the NB101 module hash (equal for isomorphic cells)."""
        return self.hash()

    def to_dict(self) -> dict[str, Any]:
        """``{"matrix": [[0/1 ints]], "ops": [op names]}`` (JSON-serialisable, as given)."""
        return {"matrix": [list(r) for r in self._matrix], "ops": list(self._ops)}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Cell):
            return NotImplemented
        return self._matrix == other._matrix and self._ops == other._ops

    def __hash__(self) -> int:
        return hash((self._matrix, self._ops))

    def __repr__(self) -> str:
        return f"Cell(matrix={[list(r) for r in self._matrix]!r}, ops={list(self._ops)!r})"
