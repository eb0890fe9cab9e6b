from __future__ import annotations

from eabench.spaces.nb101 import Cell, NB101Space

C3, C1, MP = "conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3"


def test_neighbours_of_the_smallest_cell_grow_it() -> None:
    nbrs = NB101Space().neighbours({"matrix": [[0, 1], [0, 0]], "ops": ["input", "output"]})
    # flipping the only edge disconnects the cell; inserting a vertex gives 3 cells
    assert sorted(c.ops[1] for c in nbrs) == sorted([C3, C1, MP])
    assert all(c.matrix == ((0, 1, 0), (0, 0, 1), (0, 0, 0)) for c in nbrs)


def test_neighbours_of_a_chain_by_move() -> None:
    chain = Cell([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", C3, "output"])
    nbrs = NB101Space().neighbours(chain)
    got = {(c.matrix, c.ops) for c in nbrs}
    # edge flips: remove 0->1 or 1->2 (invalid), add 0->2 (valid)
    assert (((0, 1, 1), (0, 0, 1), (0, 0, 0)), ("input", C3, "output")) in got
    # op changes
    assert (((0, 1, 0), (0, 0, 1), (0, 0, 0)), ("input", C1, "output")) in got
    assert (((0, 1, 0), (0, 0, 1), (0, 0, 0)), ("input", MP, "output")) in got
    # insertions on 0->1 and 1->2 give chains of 4 vertices; the two insertions of the same op
    # are isomorphic only when they give the same op sequence, so 3 + 3 - 1 = 5 distinct chains
    chains4 = [c for c in nbrs if c.num_vertices == 4]
    assert len(chains4) == 5
    assert len(nbrs) == 1 + 2 + 5


def test_neighbours_work_on_the_unpruned_cell_via_its_pruned_form() -> None:
    m = [[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0], [0, 0, 0, 0]]  # vertex 2 dangles
    cell = Cell(m, ["input", C3, MP, "output"])
    assert NB101Space().neighbours(cell) == NB101Space().neighbours(cell.pruned())


def test_no_neighbour_exceeds_nine_edges() -> None:
    # 7 vertices, 9 edges: adding any edge is invalid, removing some is valid
    m = [
        [0, 1, 1, 1, 0, 0, 0],
        [0, 0, 0, 0, 1, 0, 0],
        [0, 0, 0, 0, 1, 1, 0],
        [0, 0, 0, 0, 0, 1, 0],
        [0, 0, 0, 0, 0, 0, 1],
        [0, 0, 0, 0, 0, 0, 1],
        [0, 0, 0, 0, 0, 0, 0],
    ]
    cell = Cell(m, ["input", C3, C3, C1, MP, C3, "output"])
    assert cell.num_edges == 9
    nbrs = NB101Space().neighbours(cell)
    assert nbrs
    assert max(c.num_edges for c in nbrs) == 9  # op changes only
    assert all(c.num_edges <= 9 for c in nbrs)
