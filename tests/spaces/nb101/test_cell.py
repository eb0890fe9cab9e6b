from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from eabench.errors import EabenchError, InvalidConfigError
from eabench.spaces.nb101 import Cell

C3, C1, MP = "conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3"
CHAIN = [[0, 1, 0], [0, 0, 1], [0, 0, 0]]


def test_hash_vectors_1k(vis_1k: list[dict[str, Any]]) -> None:
    assert len(vis_1k) == 1000
    for v in vis_1k:
        assert Cell(v["matrix"], v["labels"]).hash() == v["key"]


def test_ecnas_graphs_hash_to_their_keys(
    ecnas_4v: dict[str, Any], ecnas_5v: dict[str, Any]
) -> None:
    assert (len(ecnas_4v), len(ecnas_5v)) == (91, 2532)
    for graphs in (ecnas_4v, ecnas_5v):
        for key, (matrix, labels) in graphs.items():
            cell = Cell(matrix, labels)
            assert cell.hash() == key
            assert cell.is_pruned()


def test_inputs_names_labels_and_arrays_agree() -> None:
    by_name = Cell(CHAIN, ["input", C3, "output"])
    by_label = Cell(np.array(CHAIN, dtype=np.float64), np.array([-1, 0, -2]))
    by_bool = Cell(np.array(CHAIN, dtype=bool), [-1, 0, "output"])
    assert by_name == by_label == by_bool
    assert hash(by_name) == hash(by_label)
    assert by_name.ops == ("input", C3, "output")
    assert by_name.to_dict() == {"matrix": CHAIN, "ops": ["input", C3, "output"]}
    assert Cell.from_dict(by_name.to_dict()) == by_name
    assert by_name.config_id() == by_name.hash()
    assert len(by_name.hash()) == 32
    assert int(by_name.hash(), 16) >= 0


def test_cell_is_frozen() -> None:
    cell = Cell(CHAIN, ["input", C3, "output"])
    with pytest.raises(AttributeError):
        cell._ops = ("x",)  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del cell._matrix


def test_pruning_removes_dead_vertices_and_keeps_hash() -> None:
    # vertex 2 has no outgoing edge (dead end), vertex 3 no incoming one (unreachable)
    m = [
        [0, 1, 1, 0, 0],
        [0, 0, 0, 0, 1],
        [0, 0, 0, 0, 0],
        [0, 0, 0, 0, 1],
        [0, 0, 0, 0, 0],
    ]
    cell = Cell(m, ["input", C1, MP, C3, "output"])
    p = cell.pruned()
    assert p.ops == ("input", C1, "output")
    assert p.matrix == ((0, 1, 0), (0, 0, 1), (0, 0, 0))
    assert p.pruned() is p
    assert not cell.is_pruned()
    assert cell.hash() == p.hash() == Cell(CHAIN, ["input", C1, "output"]).hash()


def test_isomorphic_cells_share_hash_and_different_ops_do_not() -> None:
    a = Cell([[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]], [-1, 0, 2, -2])
    b = Cell([[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]], [-1, 2, 0, -2])
    c = Cell([[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]], [-1, 0, 0, -2])
    assert a != b
    assert a.hash() == b.hash()
    assert a.hash() != c.hash()


def _err(matrix: Any, ops: Any) -> InvalidConfigError:
    with pytest.raises(InvalidConfigError) as info:
        Cell(matrix, ops)
    return info.value


@pytest.mark.parametrize(
    ("matrix", "ops", "field", "rule_part"),
    [
        ([[0, 1], [0, 0], [0, 0]], ["input", "output"], "matrix", "square 2-D"),
        ([0, 1], ["input", "output"], "matrix", "square 2-D"),
        ([[0, 1], [0]], ["input", "output"], "matrix", "square 2-D"),
        ([["a", "b"], ["c", "d"]], ["input", "output"], "matrix", "0 or 1"),
        ([[0, 2], [0, 0]], ["input", "output"], "matrix", "0 or 1"),
        ([[0, 0.5], [0, 0]], ["input", "output"], "matrix", "0 or 1"),
        (np.eye(8, k=1), ["input"] + [C3] * 6 + ["output"], "matrix", "8 vertices; at most 7"),
        ([[0]], ["input"], "matrix", "at least 2"),
        (CHAIN, ["input", "output"], "ops", "2 ops but the matrix has 3"),
        ([[0, 1, 0], [0, 0, 1], [1, 0, 0]], ["input", C3, "output"], "matrix", "upper-triangular"),
        ([[1, 1], [0, 0]], ["input", "output"], "matrix", "upper-triangular"),
        (CHAIN, ["input", "conv5x5", "output"], "ops[1]", "unknown op"),
        (CHAIN, [-1, 7, -2], "ops[1]", "unknown NB101 label"),
        (CHAIN, [-1, 1.0, -2], "ops[1]", "op name (str) or an NB101 integer label"),
        (CHAIN, "input", "ops", "sequence"),
        (CHAIN, None, "ops", "sequence"),
        (CHAIN, np.array(3), "ops", "sequence"),
        (CHAIN, np.zeros((3, 1), dtype=int), "ops", "sequence"),
        (CHAIN, [C3, C3, "output"], "ops[0]", "first vertex must be 'input'"),
        (CHAIN, ["input", C3, C3], "ops[2]", "last vertex must be 'output'"),
        (CHAIN, ["input", "output", "output"], "ops[1]", "only at the first/last"),
        (CHAIN, ["input", "input", "output"], "ops[1]", "only at the first/last"),
        ([[0, 1, 0], [0, 0, 0], [0, 0, 0]], ["input", C3, "output"], "matrix", "no path"),
        ([[0, 0], [0, 0]], ["input", "output"], "matrix", "no path"),
    ],
)
def test_every_validation_error(matrix: Any, ops: Any, field: str, rule_part: str) -> None:
    err = _err(matrix, ops)
    assert isinstance(err, EabenchError)
    assert isinstance(err, ValueError)
    assert err.field == field
    assert err.rule is not None
    assert rule_part in err.rule
    assert str(err).startswith(f"{field} = ")


def test_too_many_edges_after_pruning() -> None:
    full = np.triu(np.ones((7, 7), dtype=int), k=1)  # 21 edges, all vertices live
    err = _err(full, ["input"] + [C3] * 5 + ["output"])
    assert err.rule is not None
    assert "21 edges after pruning; at most 9" in err.rule


def test_edge_limit_applies_to_the_pruned_cell() -> None:
    # 10 edges as given, but vertex 5 is a dead end: pruning removes 3 of them, leaving 7
    m = np.zeros((7, 7), dtype=int)
    for i, j in [(0, 1), (1, 2), (2, 3), (3, 4), (4, 6), (0, 6), (0, 5), (1, 5), (2, 5), (3, 6)]:
        m[i, j] = 1
    cell = Cell(m, ["input", C3, C3, C1, MP, C3, "output"])
    assert cell.num_edges == 10
    assert cell.pruned().num_edges == 7
    assert cell.pruned().num_vertices == 6


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"matrix": CHAIN}, "config"),
        ({"matrix": CHAIN, "ops": ["input", C3, "output"], "x": 1}, "config"),
        ([CHAIN], "config"),
    ],
)
def test_from_dict_errors(config: Any, field: str) -> None:
    with pytest.raises(InvalidConfigError) as info:
        Cell.from_dict(config)
    assert info.value.field == field
