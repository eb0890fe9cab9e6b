"""Hypothesis strategies for 7V cells."""

from __future__ import annotations

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

from eabench.errors import InvalidConfigError
from eabench.spaces.nb101 import INTERIOR_OPS, Cell


@st.composite
def raw_cells(draw: st.DrawFn, max_vertices: int = 7) -> Cell:
    """Valid cells as given by a user: possibly unpruned (dangling vertices), any vertex order."""
    n = draw(st.integers(2, max_vertices))
    m = np.zeros((n, n), dtype=np.int8)
    for i in range(n):
        for j in range(i + 1, n):
            m[i, j] = draw(st.integers(0, 9)) < 3  # edge probability 0.3
    ops = ["input", *draw(st.lists(st.sampled_from(INTERIOR_OPS), min_size=n - 2, max_size=n - 2))]
    try:
        return Cell(m, [*ops, "output"])
    except InvalidConfigError:
        assume(False)
        raise  # unreachable: assume(False) raises
