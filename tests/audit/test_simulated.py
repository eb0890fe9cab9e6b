"""The audit of SIMULATED multi-meter data finds what was planted in it.

Planted (eabench.audit.simulate): an nvidia-smi-like meter that takes only 2-10 of ~80-200
expected samples in 35 % of epochs and then reads a low-power state; a constant 120 W
off-socket power seen only by the external wall meter; GPU power 140-320 W on a 75-700 W GPU.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from eabench.audit import AuditReport, from_run_logs, run_audit
from eabench.audit.derive import DERIVED_GPU_CHANNEL
from eabench.audit.simulate import SimulationSpec, simulate_run_logs
from eabench.logs import RunLog
from tests.audit.conftest import SIM_DEVICE

SMI = "gpu.smi_poll/gpu"
COUNTER = "gpu.nvml_counter/gpu"
POLL = "gpu.nvml_power/gpu"


def _audit(logs: list[RunLog]) -> AuditReport:
    data = from_run_logs(logs, off_socket_bounds_w=(110.0, 130.0), source="simulated")
    return run_audit(dataclasses.replace(data, device=SIM_DEVICE))


def _pair(rep: AuditReport, a: str, b: str, level: str, clean: bool):
    for p in rep.agreement:
        if {p.channel_a, p.channel_b} == {a, b} and p.level == level and p.clean == clean:
            return p.stats
    raise AssertionError((a, b, level, clean))


@pytest.fixture(scope="module")
def report(sim_logs: list[RunLog]) -> AuditReport:
    return _audit(sim_logs)


def test_report_is_labelled_simulated(report: AuditReport) -> None:
    assert report.simulated
    assert report.n_runs == 40
    assert report.n_windows == 200
    assert report.reference_channel == DERIVED_GPU_CHANNEL


def test_undersampled_smi_meter_is_found(report: AuditReport) -> None:
    raw = _pair(report, COUNTER, SMI, "epoch", clean=False)
    clean = _pair(report, COUNTER, SMI, "epoch", clean=True)
    assert raw.pearson is not None
    assert raw.pearson < 0.9
    assert raw.ks_same_distribution is False
    assert clean.pearson is not None
    assert clean.pearson > 0.95
    assert clean.n == pytest.approx(200 * 0.65, abs=20)
    good = _pair(report, COUNTER, POLL, "epoch", clean=False)
    assert good.pearson is not None
    assert good.pearson > 0.99
    assert good.ks_same_distribution is True
    smi = next(s for s in report.sampling if s.channel == SMI)
    assert smi.share_few_samples == pytest.approx(0.35, abs=0.1)
    assert smi.samples_min is not None
    assert smi.samples_min <= 10
    assert smi.r_ratio_power is not None
    assert smi.r_ratio_power > 0.5
    nvml = next(s for s in report.sampling if s.channel == POLL)
    assert nvml.share_few_samples == 0.0
    assert report.flag_shares[SMI]["UNDER_SAMPLED"] == pytest.approx(smi.share_few_samples)
    assert report.flag_shares[COUNTER]["any_invalid"] == 0.0
    v = report.verdict("reliable")
    assert v.status == "fail"
    assert report.rule("reliable.epoch_pearson").status == "fail"
    assert SMI in report.rule("reliable.epoch_pearson").message
    assert report.rule("reliable.few_samples").status == "fail"
    assert report.rule("reliable.sample_power_corr").status == "fail"
    assert report.rule("reliable.invalid_share").status == "fail"


def test_constant_off_socket_offset_is_found(report: AuditReport) -> None:
    off = report.holistic.off_socket
    assert off is not None
    assert off.mean_power_w == pytest.approx(120.0, abs=2.0)
    assert off.cv is not None
    assert off.cv < 0.05
    assert off.share_in_bounds is not None
    assert off.share_in_bounds >= 0.95
    shares = report.holistic.shares
    assert set(shares) == {"gpu", "cpu", "dram", "off_socket"}
    assert sum(shares.values()) == pytest.approx(1.0)
    assert report.verdict("holistic").status == "pass"
    # the external meter's derived GPU share agrees with the counter (bias = 130 - 120 W bound)
    ext = _pair(report, DERIVED_GPU_CHANNEL, COUNTER, "epoch", clean=False)
    assert ext.pearson is not None
    assert ext.pearson > 0.99


def test_narrow_gpu_range_is_found(report: AuditReport) -> None:
    u = report.usage
    assert u is not None
    assert u.channel == COUNTER
    assert 140 <= u.power_p5_w < u.power_p95_w <= 330
    assert u.upper_fraction == pytest.approx((u.power_p95_w - 75) / 625)
    assert report.verdict("usage").status == "fail"


def test_clean_control_passes_reliability_and_usage() -> None:
    spec = SimulationSpec(n_runs=40, smi_undersampled_share=0.0, gpu_power_range_w=(120.0, 640.0))
    rep = _audit(simulate_run_logs(spec, seed=11))
    assert rep.rule("reliable.epoch_pearson").status == "pass"
    assert rep.rule("reliable.few_samples").status == "pass"
    assert rep.rule("reliable.invalid_share").status == "pass"
    assert rep.verdict("usage").status == "pass"
    smi = next(s for s in rep.sampling if s.channel == SMI)
    assert smi.share_few_samples == 0.0


def test_report_json_round_trips_numbers(report: AuditReport) -> None:
    d = report.to_dict()
    assert d["policy"]["policy_id"] == "eabench-audit-1"
    assert {v["principle"]: v["status"] for v in d["verdicts"]} == {
        "reliable": "fail",
        "usage": "fail",
        "holistic": "pass",
    }
    assert np.isclose(d["holistic"]["off_socket"]["mean_power_w"], 120.0, atol=2.0)
