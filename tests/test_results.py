"""Result records: frozen, read-only arrays, value equality, JSON forms; carbon conversion."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from eabench.carbon import J_PER_KWH, to_co2e
from eabench.errors import InvalidArgumentError
from eabench.results import FLAG_DESCRIPTIONS, Curve, MeterProvenance, MetricInfo


def _curve(scale: float = 1.0) -> Curve:
    e = np.array([1.0, 2.0]) * scale
    return Curve(e, e / 10, None, e * 100, e * 3)


def test_curve_equality_compares_values() -> None:
    assert _curve() == _curve()
    assert _curve() != _curve(2.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        _curve().epochs = np.zeros(2)  # type: ignore[misc]
    with pytest.raises(TypeError):
        hash(_curve())
    assert json.loads(json.dumps(_curve().to_dict()))["test_accuracy"] is None


def test_metadata_to_dict() -> None:
    m = MetricInfo("energy_j", "J", "minimize", 0.0, np.inf, True)
    assert m.to_dict()["upper"] is None
    p = MeterProvenance("carbontracker", training_data_flags=frozenset({"B", "A"}))
    assert p.to_dict()["training_data_flags"] == ["A", "B"]
    assert all(isinstance(v, str) and v for v in FLAG_DESCRIPTIONS.values())


def test_carbon_is_a_separate_recorded_step() -> None:
    c = to_co2e(J_PER_KWH, 400.0)
    assert c.co2e_g == pytest.approx(400.0)
    assert (c.grid_intensity_g_per_kwh, c.pue) == (400.0, 1.0)
    c2 = to_co2e(J_PER_KWH, 400.0, pue=1.5)
    assert c2.co2e_g == pytest.approx(600.0)
    assert c2.facility_energy_j == pytest.approx(1.5 * J_PER_KWH)
    arr = to_co2e(np.array([0.0, J_PER_KWH]), 100.0)
    np.testing.assert_allclose(arr.co2e_g, [0.0, 100.0])
    assert json.dumps(arr.to_dict())

    class R:
        energy_j = 7.2e6

    assert to_co2e(R(), 50.0).co2e_g == pytest.approx(100.0)


@pytest.mark.parametrize(
    ("energy", "gi", "pue"),
    [
        (-1.0, 100.0, None),
        (np.nan, 100.0, None),
        (1.0, 0.0, None),
        (1.0, 100.0, 0.9),
        ("x", 100.0, None),
        (True, 100.0, None),
        (np.array([1.0, -1.0]), 100.0, None),
    ],
)
def test_carbon_rejects_bad_input(energy: object, gi: float, pue: float | None) -> None:
    with pytest.raises(InvalidArgumentError):
        to_co2e(energy, gi, pue=pue)
