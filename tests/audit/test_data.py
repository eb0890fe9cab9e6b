"""AuditData validation: bad arrays get a typed error naming the field."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from eabench.audit import DeviceInfo
from eabench.audit.data import component_of
from eabench.errors import InvalidArgumentError
from tests.audit.conftest import make_data


def test_component_of_scopes_methods_and_combined() -> None:
    assert component_of("gpu", "counter") == "gpu"
    assert component_of("package", "counter") == "cpu"
    assert component_of("dram", "model") == "estimated"
    assert component_of("node_wall", "external") == "node"
    assert component_of("gpu+package", "polling") == "combined"
    assert component_of("weird", "counter") == "other"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"energy_j": -np.ones((2, 1, 2))}, "energy_j"),
        ({"energy_j": np.full((2, 1, 2), np.inf)}, "energy_j"),
        ({"duration_s": -np.ones((2, 1, 2))}, "duration_s"),
        ({"samples_taken": np.ones((2, 2, 2))}, "samples_taken"),
        ({"run_ids": ("only-one",)}, "run_ids"),
        ({"channels": ("a/gpu", "a/gpu")}, "channels"),
        ({"components": ("gpu", "nonsense")}, "components"),
        ({"utilisation": np.full((2, 1), 1.5)}, "utilisation"),
        ({"off_socket_bounds_w": (10.0, 5.0)}, "off_socket_bounds_w"),
        ({"reference_channel": "missing/gpu"}, "reference_channel"),
        ({"flag_codes": ("X",), "flag_severities": ()}, "flag_severities"),
        ({"run_gpu_power_w": np.ones(3)}, "run_gpu_power_w"),
    ],
)
def test_bad_fields_raise_typed_errors(change: dict[str, object], field: str) -> None:
    good = make_data(np.ones((2, 1, 2)))
    with pytest.raises(InvalidArgumentError) as info:
        dataclasses.replace(good, **change)  # type: ignore[arg-type]
    assert info.value.field == field


def test_device_info_validates_powers() -> None:
    with pytest.raises(InvalidArgumentError, match="idle_power_w"):
        DeviceInfo("x", 300.0, 250.0)
    with pytest.raises(InvalidArgumentError, match="max_power_w"):
        DeviceInfo("x", None, -1.0)


def test_channel_index_unknown_is_typed() -> None:
    with pytest.raises(InvalidArgumentError, match="channel"):
        make_data(np.ones((1, 1, 2))).channel_index("nope")


def test_power_is_nan_for_zero_or_missing_duration() -> None:
    dur = np.array([[[10.0, 0.0]]])
    p = make_data(np.full((1, 1, 2), 100.0), duration_s=dur).power_w()
    assert p[0, 0, 0] == 10.0
    assert np.isnan(p[0, 0, 1])
