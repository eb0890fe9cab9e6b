"""MeterReading and Flag: validation and the to_dict/from_dict round trip."""

from __future__ import annotations

import json
from typing import Any

import pytest

from eabench.errors import InvalidReadingError
from eabench.meters import Flag, MeterReading
from eabench.meters.provenance import worst_severity


def _reading(**overrides: Any) -> MeterReading:
    base: dict[str, Any] = {
        "reading_id": "r-0",
        "run_id": "run-1",
        "epoch": 0,
        "window_name": "train",
        "meter": "gpu.nvml_counter",
        "method": "counter",
        "quantity": "energy_counter",
        "api_call": "nvmlDeviceGetTotalEnergyConsumption",
        "backend": "nvidia-ml-py",
        "scope": "gpu",
        "window_start_mono_ns": 1_000,
        "window_end_mono_ns": 2_000_001_000,
        "integration": "counter_delta",
        "energy_j": 412.5,
        "duration_s": 2.0,
        "raw_start": 10_000,
        "raw_end": 422_500,
        "raw_unit": "mJ",
        "flags": (Flag("WARMUP", "info", "first epoch"),),
        "policy_id": "default-v1",
    }
    base.update(overrides)
    return MeterReading(**base)


def test_round_trip_through_json() -> None:
    r = _reading(device={"index": 0, "name": "H100"})
    again = MeterReading.from_dict(json.loads(json.dumps(r.to_dict())))
    assert again == r
    assert again.flag_codes == frozenset({"WARMUP"})


def test_to_dict_uses_reference_field_names() -> None:
    d = _reading().to_dict()
    for name in (
        "meter",
        "method",
        "samples_taken",
        "samples_expected",
        "requested_rate_hz",
        "duration_s",
        "energy_j",
        "raw_start",
        "raw_unit",
        "integration",
        "policy_id",
    ):
        assert name in d


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"energy_j": -1.0}, "energy_j"),
        ({"energy_j": float("nan")}, "energy_j"),
        ({"duration_s": float("inf")}, "duration_s"),
        ({"method": "guess"}, "method"),
        ({"integration": "vibes"}, "integration"),
        ({"window_end_mono_ns": 0}, "window_end_mono_ns"),
        ({"epoch": -1}, "epoch"),
        ({"epoch": 1.5}, "epoch"),
        ({"meter": ""}, "meter"),
        ({"power_source_kind": "sometimes"}, "power_source_kind"),
        ({"permissions": {"readable": False}}, "energy_j"),
        ({"simulated": "yes"}, "simulated"),
    ],
)
def test_invalid_fields_are_named(overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidReadingError) as info:
        _reading(**overrides)
    assert info.value.field == field


def test_from_dict_rejects_unknown_and_missing_keys() -> None:
    d = _reading().to_dict()
    with pytest.raises(InvalidReadingError, match="unknown keys"):
        MeterReading.from_dict({**d, "energy_kwh": 1.0})
    del d["energy_j"]
    with pytest.raises(InvalidReadingError, match="missing required keys"):
        MeterReading.from_dict(d)


def test_flag_validation_and_worst_severity() -> None:
    with pytest.raises(InvalidReadingError):
        Flag("X", "fatal")  # type: ignore[arg-type]
    flags = (Flag("A", "info"), Flag("B", "invalid"), Flag("C", "warn"))
    assert worst_severity(flags) == "invalid"
    assert worst_severity(()) is None
