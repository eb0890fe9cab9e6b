"""Hypothesis property tests: hash invariance, pruning, neighbourhood validity."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eabench.spaces.nb101 import MAX_EDGES, MAX_VERTICES, Cell, NB101Space

from .strategies import raw_cells

SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.filter_too_much]
)


@SETTINGS
@given(cell=raw_cells(), data=st.data())
def test_hash_invariant_under_order_preserving_relabelling(cell: Cell, data: st.DataObject) -> None:
    # draw a random topological order (input first, output last): relabelling the vertices by it
    # keeps the matrix strictly upper-triangular, and every such relabelling can be drawn
    m0 = cell.matrix_array()
    n = cell.num_vertices
    order, placed = [0], {0}
    while len(order) < n - 1:
        ready = [
            v
            for v in range(1, n - 1)
            if v not in placed and all(u in placed for u in range(v) if m0[u, v])
        ]
        v = data.draw(st.sampled_from(ready))
        order.append(v)
        placed.add(v)
    order.append(n - 1)
    m = m0[np.ix_(order, order)]
    assert not np.tril(m).any()
    relabelled = Cell(m, [cell.ops[k] for k in order])
    assert relabelled.hash() == cell.hash()
    space = NB101Space()
    np.testing.assert_array_equal(space.encode([relabelled]), space.encode([cell]))


@SETTINGS
@given(cell=raw_cells())
def test_pruning_is_idempotent_and_keeps_the_hash(cell: Cell) -> None:
    p = cell.pruned()
    assert p.pruned() == p
    assert p.is_pruned()
    assert p.hash() == cell.hash()
    assert p.num_vertices <= cell.num_vertices
    assert p.ops[0] == "input"
    assert p.ops[-1] == "output"


@SETTINGS
@given(cell=raw_cells(), seed=st.integers(0, 2**32 - 1))
def test_every_neighbour_and_mutation_is_valid_and_distinct(cell: Cell, seed: int) -> None:
    space = NB101Space()
    nbrs = space.neighbours(cell)
    assert nbrs
    hashes = [c.hash() for c in nbrs]
    assert len(set(hashes)) == len(hashes)
    assert cell.hash() not in hashes
    for c in nbrs:
        assert c.is_pruned()
        assert c.num_vertices <= MAX_VERTICES
        assert c.num_edges <= MAX_EDGES
        assert Cell.from_dict(c.to_dict()) == c  # re-validates
    child = space.mutate(cell, seed)
    assert child.hash() in hashes
    assert space.mutate(cell, seed) == child
    assert space.mutate(cell.to_dict(), np.random.default_rng(seed)) == child
