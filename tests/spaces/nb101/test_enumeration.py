from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import pytest

from eabench.errors import InvalidArgumentError
from eabench.spaces.nb101 import PAD, enumerate_cells
from eabench.spaces.nb101.cache import SPACE_SIZE, sorted_hashes_sha256
from eabench.spaces.nb101.enumeration import enumerate_padded

# from ../shared/data/nb101/README.md (verified there)
SORTED_HASHES_SHA256 = "53e1438d11675d9eb3899166c29ca07fe0c4b81af9d99d5aec3ecd31bd5bca7f"
LISTED = {
    0: "00005c142e6f48ac74fdcf73e3439874",
    20000: "0c187841d17db3b0b02791f4d7d0d93d",
    36202: "15f63ccf767bfa34fa4e9c9a66de8126",
    46201: "1c06000633c4d23bb3ee3597fed8992e",
    423623: "ffff76fafa7b0cdf545fd7feee9c8bf9",
}


@pytest.mark.parametrize(
    ("max_vertices", "count", "by_size"),
    [(4, 91, {2: 1, 3: 6, 4: 84}), (5, 2532, {2: 1, 3: 6, 4: 84, 5: 2441})],
)
def test_subspace_counts(max_vertices: int, count: int, by_size: dict[int, int]) -> None:
    cells = enumerate_cells(max_vertices)
    assert len(cells) == count
    assert Counter(c.num_vertices for c in cells) == by_size
    assert all(c.is_pruned() for c in cells)


def test_subspaces_equal_ecnas_graphs_exactly(
    ecnas_4v: dict[str, Any], ecnas_5v: dict[str, Any]
) -> None:
    for max_vertices, graphs in ((4, ecnas_4v), (5, ecnas_5v)):
        mats, labels, hashes = enumerate_padded(max_vertices)
        assert list(hashes) == sorted(graphs)
        # the canonical representative is NB101's generator representative, matrix for matrix
        for mat, lab, h in zip(mats, labels, hashes, strict=True):
            pos = np.flatnonzero(lab != PAD)
            assert mat[np.ix_(pos, pos)].tolist() == graphs[h][0]
            assert lab[pos].tolist() == graphs[h][1]


def test_enumerate_cells_returns_cells_sorted_by_hash() -> None:
    cells = enumerate_cells(4)
    hashes = [c.hash() for c in cells]
    assert hashes == sorted(hashes)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"max_vertices": 1}, "max_vertices"),
        ({"max_vertices": 8}, "max_vertices"),
        ({"max_edges": 0}, "max_edges"),
        ({"max_edges": 10}, "max_edges"),
        ({"processes": 0}, "processes"),
    ],
)
def test_enumeration_argument_errors(kwargs: dict[str, int], field: str) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        enumerate_padded(**kwargs)
    assert info.value.field == field


@pytest.mark.slow
def test_full_space_matches_published_sorted_hash_sha256() -> None:
    _, _, hashes = enumerate_padded(processes=2)
    assert len(hashes) == SPACE_SIZE
    assert sorted_hashes_sha256(hashes.tolist()) == SORTED_HASHES_SHA256
    for i, h in LISTED.items():
        assert hashes[i] == h
