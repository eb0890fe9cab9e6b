"""Verdict rules: boundaries of every threshold, and how rules combine into verdicts."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from eabench.audit import DEFAULT_AUDIT_POLICY, AuditPolicy, DeviceInfo, run_audit
from eabench.audit.policy import RuleResult, decide, grade_high_bad, grade_low_bad
from tests.audit.conftest import make_data


def test_grade_low_bad_boundaries() -> None:
    assert grade_low_bad(0.8999, 0.9, 0.95) == "fail"
    assert grade_low_bad(0.9, 0.9, 0.95) == "warn"
    assert grade_low_bad(0.9499, 0.9, 0.95) == "warn"
    assert grade_low_bad(0.95, 0.9, 0.95) == "pass"


def test_grade_high_bad_boundaries() -> None:
    assert grade_high_bad(0.1, 0.1, 0.0) == "fail"
    assert grade_high_bad(0.0999, 0.1, 0.0) == "warn"
    assert grade_high_bad(0.0, 0.1, 0.0) == "pass"


def _rule(rid: str, status: str) -> RuleResult:
    return RuleResult(rid, "reliable", status, None, "", rid, "")  # type: ignore[arg-type]


def test_decide_worst_rule_wins_and_all_na_is_warn() -> None:
    v = decide("reliable", (_rule("a", "pass"), _rule("b", "warn"), _rule("c", "n/a")))
    assert (v.status, v.deciding_rule) == ("warn", "b")
    v = decide("reliable", (_rule("a", "warn"), _rule("b", "fail"), _rule("c", "fail")))
    assert (v.status, v.deciding_rule) == ("fail", "b")
    v = decide("usage", (_rule("a", "n/a"),))
    assert (v.status, v.deciding_rule) == ("warn", "not-assessable")


def test_policy_is_frozen_and_versioned() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        DEFAULT_AUDIT_POLICY.pearson_fail = 0.5  # type: ignore[misc]
    assert DEFAULT_AUDIT_POLICY.policy_id == "eabench-audit-1"


def _pair_with_pearson(target: float) -> np.ndarray:
    """Two GPU channels over 400 windows whose Pearson r is ``target`` (to 1e-9)."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=400)
    z = rng.normal(size=400)
    x, z = x - x.mean(), z - z.mean()
    z -= x * (x @ z) / (x @ x)  # centred and orthogonal to x
    x, z = x / x.std(), z / z.std()
    y = target * x + np.sqrt(1 - target**2) * z
    e = np.stack([2000 + 300 * x, 2000 + 300 * y], axis=1).reshape(400, 1, 2)
    return e


@pytest.mark.parametrize(
    ("r", "status"), [(0.8995, "fail"), (0.9005, "warn"), (0.9495, "warn"), (0.9505, "pass")]
)
def test_epoch_pearson_rule_boundary(r: float, status: str) -> None:
    rep = run_audit(make_data(_pair_with_pearson(r)))
    rule = rep.rule("reliable.epoch_pearson")
    assert rule.value == pytest.approx(r, abs=1e-9)
    assert rule.status == status


def _flagged(share_invalid: float, n: int = 100) -> tuple[np.ndarray, np.ndarray]:
    flags = np.zeros((n, 1, 1, 1), dtype=bool)
    flags[: round(share_invalid * n), 0, 0, 0] = True
    return np.full((n, 1, 1), 1000.0), flags


@pytest.mark.parametrize(("share", "status"), [(0.10, "fail"), (0.09, "warn"), (0.0, "pass")])
def test_invalid_share_rule_boundary(share: float, status: str) -> None:
    e, flags = _flagged(share)
    data = make_data(
        e,
        channels=("m/gpu",),
        flag_codes=("UNDER_SAMPLED",),
        flag_severities=("invalid",),
        flags=flags,
    )
    rule = run_audit(data).rule("reliable.invalid_share")
    assert rule.value == pytest.approx(share)
    assert rule.status == status


@pytest.mark.parametrize(("n_few", "status"), [(10, "fail"), (9, "warn"), (0, "pass")])
def test_few_samples_rule_boundary(n_few: int, status: str) -> None:
    taken = np.full((100, 1, 1), 100.0)
    taken[:n_few] = 10.0  # exactly the UNDER_SAMPLED limit: counts as few
    data = make_data(
        np.full((100, 1, 1), 1000.0),
        channels=("p/gpu",),
        methods=("polling",),
        samples_taken=taken,
        samples_expected=np.full((100, 1, 1), 100.0),
    )
    rule = run_audit(data).rule("reliable.few_samples")
    assert rule.value == pytest.approx(n_few / 100)
    assert rule.status == status


def test_sample_power_corr_rule_uses_ratio() -> None:
    ratio = np.linspace(0.05, 1.0, 50)
    power = 100 + 200 * ratio
    data = make_data(
        (power * 10).reshape(50, 1, 1),
        channels=("p/gpu",),
        methods=("polling",),
        samples_taken=(ratio * 100).reshape(50, 1, 1),
        samples_expected=np.full((50, 1, 1), 100.0),
    )
    rule = run_audit(data).rule("reliable.sample_power_corr")
    assert rule.value == pytest.approx(1.0)
    assert rule.status == "fail"
    strict = AuditPolicy(policy_id="test", sample_corr_fail=1.01, sample_corr_warn=1.0)
    assert run_audit(data, strict).rule("reliable.sample_power_corr").status == "pass"


def _gpu_power(p5_to_p95: tuple[float, float], idle: float | None, pmax: float):
    power = np.linspace(*p5_to_p95, 1001)
    # percentiles 5 and 95 of a linspace over [lo', hi'] chosen to land on the targets
    lo, hi = p5_to_p95
    span = (hi - lo) / 0.9
    power = np.linspace(lo - 0.05 * span, hi + 0.05 * span, 1001)
    return make_data(
        (power * 10).reshape(-1, 1, 1),
        channels=("g/gpu",),
        device=DeviceInfo("x", idle, pmax, "test"),
    )


@pytest.mark.parametrize(("p95", "status"), [(387.4, "fail"), (387.6, "pass")])
def test_usage_upper_rule_boundary(p95: float, status: str) -> None:
    # (p95 - 75) / (700 - 75) = 0.5 at p95 = 387.5 W
    rep = run_audit(_gpu_power((300.0, p95), 75.0, 700.0))
    rule = rep.rule("usage.upper")
    assert rule.value == pytest.approx((p95 - 75) / 625, abs=1e-6)
    assert rule.status == status


@pytest.mark.parametrize(("p5", "status"), [(137.6, "warn"), (137.4, "pass")])
def test_usage_span_rule_boundary(p5: float, status: str) -> None:
    # (450 - p5) / 625 = 0.5 at p5 = 137.5 W
    rep = run_audit(_gpu_power((p5, 450.0), 75.0, 700.0))
    assert rep.rule("usage.span").status == status
    assert rep.rule("usage.idle_known").status == "pass"


def test_usage_without_idle_warns_and_without_max_is_not_assessable() -> None:
    rep = run_audit(_gpu_power((100.0, 600.0), None, 700.0))
    assert rep.rule("usage.idle_known").status == "warn"
    assert "idle power unknown" in (rep.usage.note if rep.usage else "")
    rep = run_audit(_gpu_power((100.0, 600.0), None, None))  # type: ignore[arg-type]
    assert rep.verdict("usage").deciding_rule == "not-assessable"


@pytest.mark.parametrize(("umax", "status"), [(0.79, "warn"), (0.8, "pass")])
def test_utilisation_rule_boundary(umax: float, status: str) -> None:
    data = _gpu_power((100.0, 600.0), 50.0, 700.0)
    util = np.linspace(0.1, umax, data.shape[0]).reshape(-1, 1)
    rep = run_audit(dataclasses.replace(data, utilisation=util))
    assert rep.rule("usage.utilisation").status == status


def test_holistic_rules_components_offsocket_estimated_bounds() -> None:
    e = np.array([[[1000.0, 300.0, 50.0, 500.0]]]).repeat(10, axis=0)
    comps = ("gpu", "cpu", "dram", "estimated")
    ch = ("g/gpu", "c/package", "d/dram", "est/dram")
    data = make_data(e, channels=ch, components=comps, methods=("counter",) * 3 + ("model",))
    rep = run_audit(data)
    assert rep.rule("holistic.components").status == "pass"
    assert rep.rule("holistic.off_socket").status == "warn"
    est = rep.rule("holistic.estimated_share")
    assert est.value == pytest.approx(500 / 1850)
    assert est.status == "warn"
    only_gpu = make_data(e[:, :, :1], channels=("g/gpu",))
    assert run_audit(only_gpu).verdict("holistic").status == "fail"
    node = np.concatenate([e[:, :, :3], e[:, :, :3].sum(2, keepdims=True) + 1000.0], axis=2)
    with_node = make_data(
        node,
        channels=("g/gpu", "c/package", "d/dram", "n/node_wall"),
        components=("gpu", "cpu", "dram", "node"),
        methods=("counter", "counter", "counter", "external"),
        off_socket_bounds_w=(99.0, 101.0),
    )
    rep = run_audit(with_node)  # off-socket = 1000 J / 10 s = 100 W: inside the bounds
    assert rep.rule("holistic.calibration_bounds").value == pytest.approx(1.0)
    assert rep.verdict("holistic").status == "pass"
    outside = dataclasses.replace(with_node, off_socket_bounds_w=(50.0, 60.0))
    assert run_audit(outside).rule("holistic.calibration_bounds").status == "warn"


def test_policy_rejects_inconsistent_thresholds() -> None:
    from eabench.errors import InvalidArgumentError

    with pytest.raises(InvalidArgumentError, match="pearson_fail"):
        AuditPolicy(pearson_fail=0.99, pearson_warn=0.9)
    with pytest.raises(InvalidArgumentError, match="alpha"):
        AuditPolicy(alpha=0.0)
