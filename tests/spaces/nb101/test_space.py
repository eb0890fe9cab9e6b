from __future__ import annotations

import numpy as np
import pytest

from eabench.errors import InvalidArgumentError, InvalidConfigError
from eabench.spaces.base import SearchSpace
from eabench.spaces.nb101 import SPACE_SIZE, Cell, NB101Space


def test_implements_the_protocol() -> None:
    space = NB101Space()
    assert isinstance(space, SearchSpace)
    assert space.name == "nb101-7v"
    assert len(space) == SPACE_SIZE


def test_sampling_is_seeded_and_returns_canonical_cells() -> None:
    space = NB101Space()
    a = [space.sample(np.random.default_rng(7)) for _ in range(3)]
    assert a[0] == a[1] == a[2] == space.sample(7)
    rng = np.random.default_rng(1)
    cells = [space.sample(rng) for _ in range(50)]
    assert len({c.hash() for c in cells}) > 45
    for c in cells:
        assert c.is_pruned()
        assert space.data.cell(space.index_of(c)) == c


def test_sampling_is_uniform_over_unique_cells() -> None:
    # with uniform sampling over isomorphism classes, the share of 7-vertex cells is their share
    # of the space (359,082 / 423,624 = 0.848), not the larger share of raw encodings
    space = NB101Space()
    idx = space.sample_indices(20_000, 0)
    assert len(np.unique(idx)) == 20_000
    frac7 = float((space.data.labels[idx] != -3).all(axis=1).mean())
    assert abs(frac7 - 359_082 / SPACE_SIZE) < 0.01
    with pytest.raises(InvalidArgumentError):
        space.sample_indices(-1, 0)
    with pytest.raises(InvalidArgumentError):
        space.sample(-5)


def test_encode_indices_equals_encode() -> None:
    space = NB101Space()
    idx = space.sample_indices(200, 3)
    cells = [space.data.cell(int(i)) for i in idx]
    np.testing.assert_array_equal(space.encode_indices(idx), space.encode(cells))
    np.testing.assert_array_equal(
        space.encode([c.to_dict() for c in cells]), space.encode_indices(idx)
    )


def test_index_of_isomorphic_and_invalid() -> None:
    space = NB101Space()
    m = [[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]]
    a = space.index_of(Cell(m, [-1, 0, 2, -2]))
    assert a == space.index_of({"matrix": m, "ops": [-1, 2, 0, -2]})
    with pytest.raises(InvalidConfigError):
        space.index_of({"matrix": m, "ops": [-1, 2, 5, -2]})
