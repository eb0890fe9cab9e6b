from __future__ import annotations

from typing import Any

import numpy as np

from eabench.spaces.nb101 import Cell, NB101Space, feature_names

C3, C1, MP = "conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3"


def test_feature_names_match_columns() -> None:
    space = NB101Space()
    names = space.feature_names()
    assert names == feature_names()
    assert len(names) == len(set(names)) == 45
    x = space.encode([{"matrix": [[0, 1], [0, 0]], "ops": ["input", "output"]}])
    assert x.shape == (1, 45)
    assert x.dtype == np.float64


def test_hand_computed_features() -> None:
    # input -> c3 -> mp -> output, plus input -> c1 -> output
    m = [
        [0, 1, 0, 1, 0],
        [0, 0, 1, 0, 0],
        [0, 0, 0, 0, 1],
        [0, 0, 0, 0, 1],
        [0, 0, 0, 0, 0],
    ]
    row = NB101Space().encode([Cell(m, [-1, 0, 2, 1, -2])])[0]
    f = dict(zip(feature_names(), row, strict=True))
    assert f["num_edges"] == 5
    assert f["num_vertices"] == 5
    assert f["depth"] == 3
    assert (f["count_conv3x3"], f["count_conv1x1"], f["count_maxpool3x3"]) == (1, 1, 1)
    assert (f["longest_path_conv3x3"], f["longest_path_conv1x1"], f["longest_path_maxpool3x3"]) == (
        1,
        0,
        1,
    )
    # padded form: output at index 6; padding vertices 4 and 5 have no op and no edge
    assert f["adj_0_6"] == 0
    assert sum(f[f"adj_{i}_6"] for i in range(6)) == 2
    assert not any(f[f"op_{v}_{o}"] for v in (4, 5) for o in ("conv3x3", "conv1x1", "maxpool3x3"))
    assert sum(f[k] for k in f if k.startswith("adj_")) == 5


def test_isomorphic_cells_encode_identically_and_classes_differ(
    ecnas_5v: dict[str, Any],
) -> None:
    a = Cell([[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]], [-1, 0, 2, -2])
    b = Cell([[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]], [-1, 2, 0, -2])
    space = NB101Space()
    xa, xb = space.encode([a, b])
    np.testing.assert_array_equal(xa, xb)
    x = space.encode([{"matrix": m, "ops": ops} for m, ops in ecnas_5v.values()])
    assert len({row.tobytes() for row in x}) == 2532


def test_space_protocol_and_validate() -> None:
    space = NB101Space()
    assert space.name == "nb101-7v"
    cell = space.validate({"matrix": [[0, 1], [0, 0]], "ops": ["input", "output"]})
    assert isinstance(cell, Cell)
    assert space.validate(cell) is cell


def test_encode_empty_batch() -> None:
    assert NB101Space().encode([]).shape == (0, 45)
