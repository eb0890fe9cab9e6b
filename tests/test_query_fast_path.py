"""The single-query fast path (issue 17) gives the same answers as the straightforward one.

``query`` of a 7V cell with materialised head outputs assembles one config's curves in Python
floats (``Nb101Surrogate.predict_index``, ``SurrogateBenchmark._predict_one_row``) and builds the
record directly; here it is compared, bit for bit, with the vectorised assembly and the generic
record building (``_predict_batch`` -> ``Prediction`` -> ``_answer``) on a few hundred random
cells and epoch grids. Speed itself is measured in benchmarks/bench_query.py, never asserted.
"""

from __future__ import annotations

import dataclasses
import json
import pickle
from typing import Any

import numpy as np
import pytest

import eabench
from eabench.registry import embedded_dir, get_spec
from eabench.results import (
    Curve,
    EnergyEstimate,
    FrozenDict,
    QueryResult,
    _curve,
    _energy_estimate,
    _query_result,
)
from eabench.spaces.nb101 import Cell, NB101Space
from eabench.spaces.nb101.index import (
    NB101Index,
    _matrix_bits,
    canonical_matrix_bits,
    cell_key,
)
from eabench.surrogates.nb101_post import (
    LOG_BUDGETS,
    HermiteBasis,
    pchip,
    pchip_slopes,
    pchip_slopes_row,
)

needs_artifact = pytest.mark.skipif(
    embedded_dir(get_spec("nb101-7v")) is None, reason="no embedded nb101-7v artifact"
)
GRIDS = [
    [4.0, 12.0, 36.0, 108.0],
    [4.0],
    [4.0, 12.0],
    [4.0, 12.0, 36.0, 50.0],
    [5.0],
    [4.0, 7.0],
    [100.0],
    [float(e) for e in range(4, 109)],
]


def _reference_pchip(y: np.ndarray, x: np.ndarray, xq: np.ndarray) -> np.ndarray:
    """The one-function PCHIP of nb101-7v 0.4.0 (before the basis was split off)."""
    h = np.diff(x)
    delta = np.diff(y, axis=1) / h
    n, k = y.shape
    d = np.zeros((n, k))
    for i in range(1, k - 1):
        a, b = delta[:, i - 1], delta[:, i]
        w1, w2 = 2 * h[i] + h[i - 1], h[i] + 2 * h[i - 1]
        with np.errstate(divide="ignore", invalid="ignore"):
            hm = (w1 + w2) / (w1 / a + w2 / b)
        d[:, i] = np.where(a * b > 0, hm, 0.0)
    for end, (i0, i1, hh0, hh1) in ((0, (0, 1, h[0], h[1])), (k - 1, (k - 2, k - 3, h[-1], h[-2]))):
        d0 = ((2 * hh0 + hh1) * delta[:, i0] - hh0 * delta[:, i1]) / (hh0 + hh1)
        d0 = np.where(np.sign(d0) != np.sign(delta[:, i0]), 0.0, d0)
        big = (np.sign(delta[:, i0]) != np.sign(delta[:, i1])) & (
            np.abs(d0) > 3 * np.abs(delta[:, i0])
        )
        d[:, end] = np.where(big, 3 * delta[:, i0], d0)
    seg = np.clip(np.searchsorted(x, xq, side="right") - 1, 0, k - 2)
    hs = h[seg]
    s = (xq - x[seg]) / hs
    h00 = (1 + 2 * s) * (1 - s) ** 2
    h10 = s * (1 - s) ** 2
    h01 = s * s * (3 - 2 * s)
    h11 = s * s * (s - 1)
    out: np.ndarray = (
        h00 * y[:, seg] + h10 * hs * d[:, seg] + h01 * y[:, seg + 1] + h11 * hs * d[:, seg + 1]
    )
    return out


def _curves(n: int, seed: int) -> np.ndarray:
    """Random budget values: increasing, decreasing, flat stretches, peaks."""
    rng = np.random.default_rng(seed)
    y = rng.uniform(0.05, 0.95, (n, 4))
    y[: n // 4] = np.sort(y[: n // 4], axis=1)
    y[n // 4 : n // 2] = np.sort(y[n // 4 : n // 2], axis=1)[:, ::-1]
    y[n // 2 : 5 * n // 8, 1] = y[n // 2 : 5 * n // 8, 0]
    y[5 * n // 8 : 3 * n // 4, 3] = y[5 * n // 8 : 3 * n // 4, 2]
    return y


def test_split_pchip_is_the_one_function_pchip_bit_for_bit() -> None:
    y = _curves(400, 0)
    for grid in GRIDS:
        xq = np.log(np.asarray(grid))
        np.testing.assert_array_equal(
            pchip(y, LOG_BUDGETS, xq), _reference_pchip(y, LOG_BUDGETS, xq)
        )
        basis = HermiteBasis.at(LOG_BUDGETS, xq)
        np.testing.assert_array_equal(
            basis(y, pchip_slopes(y, LOG_BUDGETS)), pchip(y, LOG_BUDGETS, xq)
        )


def test_slopes_of_one_row_in_python_floats_are_the_vectorised_ones() -> None:
    y = _curves(400, 1)
    h = np.diff(LOG_BUDGETS).tolist()
    rows = np.array([pchip_slopes_row(r, h) for r in y.tolist()])
    np.testing.assert_array_equal(rows, pchip_slopes(y, LOG_BUDGETS))


@pytest.fixture(scope="module")
def bench() -> eabench.Benchmark:
    return eabench.load("nb101-7v").prepare()


@needs_artifact
def test_one_row_assembly_is_the_vectorised_assembly(bench: Any) -> None:
    surrogate = bench.surrogate
    table = surrogate.load_space_outputs()
    rows = np.random.default_rng(2).choice(len(table), 300, replace=False)
    heads = np.asarray(table[rows], dtype=np.float64)
    for grid in GRIDS:
        ep = np.asarray(grid)
        whole = surrogate.assemble(heads, ep)
        for i, r in enumerate(rows.tolist()):
            one = surrogate.predict_index(r, ep)
            assert one.val_accuracy == whole.val_accuracy[i].tolist()
            assert one.test_accuracy == whole.test_accuracy[i].tolist()
            assert one.train_time_s == whole.train_time_s[i].tolist()
            assert one.val_accuracy_std == whole.val_accuracy_std[i].tolist()
            for m in surrogate.meters:
                assert one.energy_j[m] == whole.energy_j[m][i].tolist()
                assert one.energy_j_std[m] == whole.energy_j_std[m][i].tolist()
            assert one.clipped == bool(whole.clipped[i])
            assert one.high_uncertainty == bool(whole.high_uncertainty[i])
            single = surrogate.predict_indices(np.array([r]), ep)  # one row: the same path
            np.testing.assert_array_equal(single.val_accuracy[0], whole.val_accuracy[i])


@needs_artifact
@pytest.mark.parametrize("epochs", [4, 12, 36, 50, 7, 108])
def test_fast_query_equals_the_generic_query(epochs: int) -> None:
    fast = eabench.load("nb101-7v").prepare()
    generic = eabench.load("nb101-7v").prepare()
    generic._predict_one_row = lambda row, grid: None  # type: ignore[method-assign]
    space = fast.space
    rng = np.random.default_rng(epochs)
    cells = [space.sample(rng) for _ in range(200)]
    for cell in cells:
        a = fast.query(cell, epochs)
        b = generic.query(cell, epochs)
        assert a == b
        assert json.dumps(a.to_dict()) == json.dumps(b.to_dict())  # every float's bits
        assert type(a.energy_by_meter) is FrozenDict
        assert type(a.uncertainty) is FrozenDict
        for arr in (a.curve.val_accuracy, a.curve.test_accuracy, a.curve.energy_j):
            assert arr is not None
            assert not arr.flags.writeable
            with pytest.raises(ValueError):
                arr.flags.writeable = True
        assert pickle.loads(pickle.dumps(a)) == a
    batch = fast.query_batch(cells, epochs)
    np.testing.assert_array_equal(
        batch.val_accuracy, [fast.query(c, epochs).val_accuracy for c in cells]
    )


def test_hot_path_builders_equal_the_constructors() -> None:
    arr = np.arange(4.0)
    arr.flags.writeable = False
    curve = Curve(arr, arr, None, arr, arr)
    assert _curve(arr, arr, None, arr, arr) == curve
    prov = eabench.results.MeterProvenance("m")
    est = EnergyEstimate(1.0, 0.5, prov, frozenset({"X"}), None)
    assert _energy_estimate(1.0, 0.5, prov, frozenset({"X"}), None) == est
    values: dict[str, Any] = {
        "config_id": "c",
        "epochs": 2,
        "val_accuracy": 0.5,
        "test_accuracy": None,
        "train_time_s": 3.0,
        "energy_j": 1.0,
        "primary_meter": "m",
        "energy_by_meter": {"m": est},
        "holistic_energy_j": (1.0, 2.0),
        "uncertainty": {"val_accuracy_std": 0.1},
        "curve": curve,
        "flags": frozenset({"X"}),
        "provenance": None,
    }
    names = [f.name for f in dataclasses.fields(QueryResult)]
    assert list(values) == names
    made = _query_result(*values.values())
    assert made == QueryResult(**values)
    assert type(made.energy_by_meter) is FrozenDict
    assert type(made.uncertainty) is FrozenDict
    for cls in (Curve, EnergyEstimate, QueryResult):
        assert [f.name for f in dataclasses.fields(cls)] == list(cls.__slots__)


def test_cells_share_their_rows_and_stay_equal() -> None:
    a = Cell([[0, 1, 1], [0, 0, 1], [0, 0, 0]], ["input", "maxpool3x3", "output"])
    b = Cell(np.array([[0, 1, 1], [0, 0, 1], [0, 0, 0]]), [-1, 2, -2])
    c = Cell._trusted([[0, 1, 1], [0, 0, 1], [0, 0, 0]], ["input", "maxpool3x3", "output"])
    assert a == b == c
    assert hash(a) == hash(b) == hash(c)
    assert all(x is y for x, y in zip(a.matrix, b.matrix, strict=True))
    assert a.ops is b.ops
    assert a.matrix == ((0, 1, 1), (0, 0, 1), (0, 0, 0))


def test_memoised_keys_are_cell_keys() -> None:
    space = NB101Space()
    index = NB101Index(space).build()
    rng = np.random.default_rng(3)
    cells = [space.sample(rng) for _ in range(300)]
    other = Cell(  # valid, not in canonical form (vertex 2 is pruned)
        [[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0], [0, 0, 0, 0]],
        ["input", "conv3x3-bn-relu", "maxpool3x3", "output"],
    )
    configs = [*cells, other, *cells[:50]]
    want = [cell_key(c) for c in configs]
    assert index.raw_keys(configs).tolist() == want  # first sight of each matrix
    assert index.raw_keys(configs).tolist() == want  # memoised
    assert [index.key_of(c) for c in configs] == want
    assert index.row_of(other) == -1
    rows = index.raw_rows(configs)
    assert rows[: len(cells)].tolist() == [space.data.index_of(c.hash()) for c in cells]


def test_canonical_matrices_are_prefilled_with_their_bits() -> None:
    space = NB101Space()
    index = NB101Index(space).build()
    known = canonical_matrix_bits(index._keys)  # type: ignore[arg-type]
    assert len(known) == 2494  # distinct matrices of the 423,624 canonical cells
    assert all(_matrix_bits(m) == bits for m, bits in known.items())
    cell = space.sample(0)
    assert cell.matrix in known
    stored = next(m for m in known if m == cell.matrix)
    assert all(r is s for r, s in zip(stored, cell.matrix, strict=True))  # shared rows
