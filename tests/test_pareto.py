"""Non-dominated front and exact 2-D hypervolume, checked against brute force and pymoo."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eabench.errors import InvalidArgumentError
from eabench.pareto import directions, hypervolume_2d, non_dominated, objectives_of
from eabench.results import MetricInfo


def brute_force(p: np.ndarray) -> np.ndarray:
    n = len(p)
    keep = np.ones(n, dtype=bool)
    for i in range(n):
        for j in range(n):
            if np.all(p[j] <= p[i]) and np.any(p[j] < p[i]):
                keep[i] = False
    return keep


points = st.lists(st.tuples(*(st.integers(0, 6) for _ in range(3))), min_size=1, max_size=30).map(
    lambda rows: np.array(rows, dtype=float)
)


@settings(max_examples=60, deadline=None)
@given(points)
def test_front_equals_brute_force(p: np.ndarray) -> None:
    np.testing.assert_array_equal(non_dominated(p[:, :2]), brute_force(p[:, :2]))
    np.testing.assert_array_equal(non_dominated(p), brute_force(p))
    np.testing.assert_array_equal(non_dominated(p[:, :1]), brute_force(p[:, :1]))


def test_maximize_flips_direction() -> None:
    acc_energy = np.array([[0.9, 100.0], [0.8, 50.0], [0.7, 60.0], [0.9, 120.0]])
    mask = non_dominated(acc_energy, maximize=[True, False])
    assert mask.tolist() == [True, True, False, False]


@settings(max_examples=40, deadline=None)
@given(points)
def test_hypervolume_matches_pymoo(p: np.ndarray) -> None:
    from pymoo.indicators.hv import HV

    ref = np.array([7.0, 7.0])
    expected = HV(ref_point=ref)(p[:, :2]) if len(p) else 0.0
    assert hypervolume_2d(p[:, :2], ref) == pytest.approx(expected)


def test_hypervolume_simple_and_maximize() -> None:
    assert hypervolume_2d([[1.0, 2.0], [2.0, 1.0]], [3.0, 3.0]) == pytest.approx(3.0)
    assert hypervolume_2d([[5.0, 5.0]], [3.0, 3.0]) == 0.0
    # (accuracy up, energy down) with reference (0, 10)
    assert hypervolume_2d([[0.5, 4.0]], [0.0, 10.0], maximize=[True, False]) == pytest.approx(3.0)


def test_bad_input_and_metric_directions() -> None:
    with pytest.raises(InvalidArgumentError):
        non_dominated([1.0, 2.0])
    with pytest.raises(InvalidArgumentError):
        non_dominated([[np.nan, 1.0]])
    with pytest.raises(InvalidArgumentError, match="maximize"):
        non_dominated([[1.0, 2.0]], maximize=[True])
    metrics = {
        "val_accuracy": MetricInfo("val_accuracy", "fraction", "maximize", 0.0, 1.0),
        "energy_j": MetricInfo("energy_j", "J", "minimize", 0.0, np.inf, True),
    }
    assert directions(metrics, ["val_accuracy", "energy_j"]) == [True, False]
    with pytest.raises(InvalidArgumentError):
        directions(metrics, ["flops"])

    class Batch:
        val_accuracy = np.array([0.5, 0.6])
        energy_j = np.array([1.0, 2.0])
        test_accuracy = None

    np.testing.assert_array_equal(
        objectives_of(Batch(), ["val_accuracy", "energy_j"]), [[0.5, 1.0], [0.6, 2.0]]
    )
    with pytest.raises(InvalidArgumentError):
        objectives_of(Batch(), ["test_accuracy"])
