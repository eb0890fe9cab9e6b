"""Neighbourhood and mutation of 7V cells, for local search and evolution.

The neighbours of a cell are computed from its pruned form ``p`` (V vertices) with three moves:

- **edge flip**: add or remove one edge ``i -> j`` (``i < j < V``);
- **op change**: replace the op of one interior vertex by one of the two other ops;
- **vertex insertion** (only if ``V < 7``): split one edge ``i -> j`` into ``i -> new -> j`` with a
  new vertex of any of the three ops.

Every result is validated (invalid ones, e.g. with no input-to-output path or more than 9 edges, are
dropped), pruned, and deduplicated by NB101 hash; cells isomorphic to the original are dropped too.
Why the third move: results are pruned, so (unlike NB101's own mutation of unpruned 7-vertex
matrices, which keeps dormant vertices) flips and op changes alone could never grow a cell; with
the insertion every cell of the space is reachable from every other one.
"""

from __future__ import annotations

import numpy as np

from eabench._rng import as_generator
from eabench.errors import InvalidConfigError
from eabench.spaces.nb101.cell import INTERIOR_OPS, MAX_VERTICES, Cell

__all__ = ["mutate_cell", "neighbour_cells"]


def _candidates(p: Cell) -> list[tuple[np.ndarray, list[str]]]:
    m = p.matrix_array()
    ops = list(p.ops)
    n = len(ops)
    out: list[tuple[np.ndarray, list[str]]] = []
    for i in range(n - 1):
        for j in range(i + 1, n):
            flipped = m.copy()
            flipped[i, j] ^= 1
            out.append((flipped, ops))
    for v in range(1, n - 1):
        for op in INTERIOR_OPS:
            if op != ops[v]:
                out.append((m, [*ops[:v], op, *ops[v + 1 :]]))
    if n < MAX_VERTICES:
        for i, j in zip(*np.nonzero(m), strict=True):
            grown = np.insert(np.insert(m, j, 0, axis=0), j, 0, axis=1)  # new vertex at index j
            grown[i, j + 1] = 0
            grown[i, j] = 1
            grown[j, j + 1] = 1
            for op in INTERIOR_OPS:
                out.append((grown, [*ops[:j], op, *ops[j:]]))
    return out


def neighbour_cells(cell: Cell) -> list[Cell]:
    """All valid, pruned cells one move away, one per NB101 hash, excluding the cell's own hash.

    The order is deterministic: edge flips (row-major), op changes, then vertex insertions.
    """
    p = cell.pruned()
    seen = {p.hash()}
    out: list[Cell] = []
    for matrix, ops in _candidates(p):
        try:
            cand = Cell(matrix, ops).pruned()
        except InvalidConfigError:
            continue
        h = cand.hash()
        if h not in seen:
            seen.add(h)
            out.append(cand)
    return out


def mutate_cell(cell: Cell, seed: int | np.random.Generator) -> Cell:
    """One neighbour of ``cell`` drawn uniformly from :func:`neighbour_cells`.

    Raises:
        InvalidConfigError: if the cell has no neighbour (cannot happen in the 7V space).
    """
    rng = as_generator(seed)
    nbrs = neighbour_cells(cell)
    if not nbrs:  # pragma: no cover - every 7V cell has at least an op change or an edge flip
        raise InvalidConfigError.for_field("config", cell.to_dict(), "has no valid neighbour")
    return nbrs[int(rng.integers(len(nbrs)))]
