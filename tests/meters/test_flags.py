"""Every flag rule at its boundary (just inside vs just outside the threshold)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from eabench.errors import InvalidArgumentError
from eabench.meters import MeterReading
from eabench.meters.flags import (
    DEFAULT_POLICY,
    QualityPolicy,
    apply_policy,
    disagreement_flags,
    evaluate,
    flags_for,
    rollup,
)


def poll(**kw: Any) -> MeterReading:
    base: dict[str, Any] = {
        "reading_id": "p",
        "run_id": "r",
        "epoch": 3,
        "window_name": "train",
        "meter": "gpu.nvml_power",
        "method": "polling",
        "quantity": "power",
        "api_call": "x",
        "backend": "nvidia-ml-py",
        "scope": "gpu",
        "window_start_mono_ns": 0,
        "window_end_mono_ns": 11_800_000_000,
        "integration": "trapezoid",
        "energy_j": 1000.0,
        "duration_s": 11.8,
        "requested_rate_hz": 10.0,
        "samples_taken": 118,
        "samples_expected": 118,
        "max_gap_s": 0.1,
        "edge_gap_start_s": 0.0,
        "edge_gap_end_s": 0.05,
        "power_source_kind": "unknown",
        "device": {"index": 0, "uuid": "GPU-a", "arch": "pascal"},
    }
    base.update(kw)
    return MeterReading(**base)


def counter(**kw: Any) -> MeterReading:
    base: dict[str, Any] = {
        "reading_id": "c",
        "run_id": "r",
        "epoch": 3,
        "window_name": "train",
        "meter": "gpu.nvml_counter",
        "method": "counter",
        "quantity": "energy_counter",
        "api_call": "x",
        "backend": "nvidia-ml-py",
        "scope": "gpu",
        "window_start_mono_ns": 0,
        "window_end_mono_ns": 11_800_000_000,
        "integration": "counter_delta",
        "energy_j": 1000.0,
        "duration_s": 11.8,
        "raw_start": 5000,
        "raw_end": 1_005_000,
        "raw_unit": "mJ",
        "update_period_s": 0.1,
        "sync_barrier": "torch",
        "device": {"index": 0, "uuid": "GPU-a", "arch": "hopper"},
    }
    base.update(kw)
    return MeterReading(**base)


def test_clean_readings_have_no_flags() -> None:
    assert flags_for(poll()) == frozenset()
    assert flags_for(counter()) == frozenset()


@pytest.mark.parametrize(
    ("code", "clean", "flagged"),
    [
        (
            "UNDER_SAMPLED",
            poll(samples_taken=11, samples_expected=12),
            poll(samples_taken=10, samples_expected=12),
        ),
        (
            "LOW_SAMPLE_RATIO",
            poll(samples_taken=59, samples_expected=118),
            poll(samples_taken=58, samples_expected=118),
        ),
        ("MAX_GAP_EXCEEDED", poll(max_gap_s=0.5), poll(max_gap_s=0.5001)),
        (
            "MAX_GAP_EXCEEDED",
            poll(requested_rate_hz=1.0, max_gap_s=3.0),
            poll(requested_rate_hz=1.0, max_gap_s=3.01, samples_taken=12, samples_expected=12),
        ),
        ("EDGE_EXTRAPOLATED", poll(edge_gap_end_s=0.1), poll(edge_gap_end_s=0.1001)),
        ("EDGE_EXTRAPOLATED", poll(edge_gap_start_s=0.1), poll(edge_gap_start_s=0.11)),
        ("SMI_POLLING", poll(), poll(meter="gpu.smi_poll")),
        (
            "POLLING_WHERE_COUNTER_AVAILABLE",
            poll(device={"arch": "pascal"}),
            poll(device={"arch": "volta"}),
        ),
        (
            "AVERAGED_POWER_SOURCE",
            poll(power_source_kind="average_1s", duration_s=20.0),
            poll(power_source_kind="average_1s", duration_s=19.99),
        ),
        (
            "PART_TIME_SENSOR",
            poll(power_source_kind="instant", sensor_window_s=0.0251, update_period_s=0.1),
            poll(power_source_kind="instant", sensor_window_s=0.025, update_period_s=0.1),
        ),
        (
            "PART_TIME_SENSOR",
            poll(
                power_source_kind="average_1s",
                sensor_window_s=0.025,
                update_period_s=0.1,
                duration_s=30.0,
            ),
            poll(power_source_kind="instant", sensor_window_s=0.02, update_period_s=0.1),
        ),
        ("SHORT_WINDOW", counter(duration_s=4.0), counter(duration_s=3.99)),
        (
            "SHORT_WINDOW",
            counter(update_period_s=None, duration_s=4.0),
            counter(update_period_s=None, duration_s=3.9),
        ),
        (
            "ZERO_OR_STALE_COUNTER",
            counter(raw_end=5000, duration_s=0.2, energy_j=0.0),
            counter(raw_end=5000, duration_s=0.2001, energy_j=0.0),
        ),
        (
            "COUNTER_RESET",
            counter(raw_end=5000, energy_j=0.0),
            counter(raw_end=4999, energy_j=None),
        ),
        ("COUNTER_WRAPPED", counter(wraps_corrected=0), counter(wraps_corrected=1)),
        (
            "WRAP_AMBIGUOUS",
            counter(wrap_tracker="edge_compare", counter_max=262_143_328_850, duration_s=262.0),
            counter(wrap_tracker="edge_compare", counter_max=262_143_328_850, duration_s=262.2),
        ),
        (
            "NO_PERMISSION",
            counter(permissions={"readable": True}),
            counter(permissions={"readable": False, "errno": "EACCES"}, energy_j=None),
        ),
        ("READ_FAILED", counter(error="transient"), counter(error="boom", energy_j=None)),
        (
            "ESTIMATED_COMPONENT",
            counter(),
            counter(method="model", integration="model", model={"name": "codecarbon_ram_v3"}),
        ),
        ("SCOPE_MODULE", poll(scope="gpu"), poll(scope="module")),
        ("UNSYNCED_BOUNDARY", counter(sync_barrier="torch"), counter(sync_barrier="none")),
        ("WARMUP", counter(epoch=1), counter(epoch=0)),
        ("PUE_APPLIED", counter(pue_applied=None), counter(pue_applied=1.58)),
        ("SIMULATED", counter(simulated=False), counter(simulated=True)),
        (
            "CALIBRATION_APPLIED",
            counter(),
            counter(
                method="model",
                integration="model",
                model={"name": "calibration_bounds", "params": {"calibration_id": "c"}},
            ),
        ),
        (
            "CALIBRATION_STALE",
            counter(
                method="model",
                integration="model",
                model={"name": "calibration_bounds", "params": {"stale_reasons": []}},
            ),
            counter(
                method="model",
                integration="model",
                model={"name": "calibration_bounds", "params": {"stale_reasons": ["host"]}},
            ),
        ),
        (
            "CALIBRATION_EXTRAPOLATED",
            counter(
                method="model",
                integration="model",
                model={"name": "calibration_bounds", "params": {"load_fraction_raw": 1.0}},
            ),
            counter(
                method="model",
                integration="model",
                model={"name": "calibration_bounds", "params": {"load_fraction_raw": 1.001}},
            ),
        ),
    ],
)
def test_rule_boundary(code: str, clean: MeterReading, flagged: MeterReading) -> None:
    assert code not in flags_for(clean)
    assert code in flags_for(flagged)
    flag = next(f for f in evaluate(flagged) if f.code == code)
    assert flag.severity == DEFAULT_POLICY.severities[code]
    assert flag.detail


def test_polling_rules_do_not_apply_to_counters() -> None:
    r = counter(samples_taken=1, samples_expected=100, max_gap_s=9.0)
    assert not flags_for(r) & {"UNDER_SAMPLED", "LOW_SAMPLE_RATIO", "MAX_GAP_EXCEEDED"}


def test_external_meter_gets_sampling_rules() -> None:
    r = poll(meter="node.external", method="external", scope="node_wall", samples_taken=3)
    assert {"UNDER_SAMPLED", "LOW_SAMPLE_RATIO"} <= flags_for(r)
    assert "POLLING_WHERE_COUNTER_AVAILABLE" not in flags_for(r)


@pytest.mark.parametrize(
    ("e_power", "expected"),
    [(1100.0, None), (1111.2, "warn"), (2000.0, "warn"), (2000.2, "invalid")],
)
def test_meter_disagreement_boundaries(e_power: float, expected: str | None) -> None:
    # |1000 - E| / max = 0.1 at 1111.1..., 0.5 at 2000
    a, b = counter(), poll(energy_j=e_power, device={"uuid": "GPU-a", "arch": "hopper"})
    cross = disagreement_flags([a, b])
    if expected is None:
        assert cross == {}
    else:
        assert {f.severity for fl in cross.values() for f in fl} == {expected}
        assert set(cross) == {"c", "p"}


def test_disagreement_needs_same_device_and_scope_and_two_meters() -> None:
    a = counter()
    assert disagreement_flags([a, poll(energy_j=5000.0, device={"uuid": "GPU-b"})]) == {}
    assert (
        disagreement_flags([a, poll(energy_j=5000.0, scope="module", device={"uuid": "GPU-a"})])
        == {}
    )
    assert disagreement_flags([a, counter(reading_id="c2", energy_j=5000.0)]) == {}
    assert disagreement_flags([a, poll(energy_j=None, device={"uuid": "GPU-a"})]) == {}


def test_apply_policy_and_rollup_take_worst_severity() -> None:
    out = apply_policy([counter(epoch=0), poll(samples_taken=5, device={"uuid": "GPU-a"})])
    assert all(r.policy_id == DEFAULT_POLICY.policy_id for r in out)
    assert rollup(out[:1]) == "info"  # WARMUP only
    assert rollup(out) == "invalid"  # UNDER_SAMPLED
    assert rollup([counter()]) is None
    # re-applying is idempotent (flags are replaced, not appended)
    again = apply_policy(out)
    assert [r.flags for r in again] == [r.flags for r in out]


def test_policy_is_versioned_and_recomputable() -> None:
    strict = QualityPolicy(policy_id="strict-v1", under_sampled_max=200)
    r = poll()
    assert "UNDER_SAMPLED" not in flags_for(r)
    assert "UNDER_SAMPLED" in flags_for(r, strict)
    stored = MeterReading.from_dict(apply_policy([r], strict)[0].to_dict())
    assert stored.policy_id == "strict-v1"
    assert flags_for(stored, strict) == stored.flag_codes
    custom = QualityPolicy(severities={**DEFAULT_POLICY.severities, "WARMUP": "warn"})
    assert next(f for f in evaluate(counter(epoch=0), custom) if f.code == "WARMUP").severity == (
        "warn"
    )
    with pytest.raises(InvalidArgumentError):
        QualityPolicy(severities={"WARMUP": "fatal"})  # type: ignore[dict-item]
    with pytest.raises(InvalidArgumentError):
        QualityPolicy(disagreement_warn=0.6, disagreement_invalid=0.5)
    with pytest.raises(dataclasses.FrozenInstanceError):
        strict.under_sampled_max = 3  # type: ignore[misc]


def test_issue_codes_are_all_known() -> None:
    required = [
        "UNDER_SAMPLED",
        "LOW_SAMPLE_RATIO",
        "MAX_GAP_EXCEEDED",
        "EDGE_EXTRAPOLATED",
        "SMI_POLLING",
        "POLLING_WHERE_COUNTER_AVAILABLE",
        "AVERAGED_POWER_SOURCE",
        "PART_TIME_SENSOR",
        "SHORT_WINDOW",
        "ZERO_OR_STALE_COUNTER",
        "COUNTER_RESET",
        "COUNTER_WRAPPED",
        "NO_PERMISSION",
        "ESTIMATED_COMPONENT",
        "METER_DISAGREEMENT",
        "WARMUP",
        "PUE_APPLIED",
        "CALIBRATION_APPLIED",
        "SIMULATED",
    ]
    assert set(required) <= set(DEFAULT_POLICY.severities)
