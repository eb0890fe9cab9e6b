"""gpu.smi_poll with a fake nvidia-smi executable on PATH (real subprocesses, real time)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from eabench.meters.base import Window
from eabench.meters.fakes import write_fake_smi
from eabench.meters.flags import flags_for
from eabench.meters.gpu_smi_poll import SmiPollMeter, parse_smi_csv, parse_smi_xml


def test_tracer_loop_undersamples_and_is_flagged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_fake_smi(tmp_path, [150.0, 210.0], latency_s=0.1)
    monkeypatch.setenv("PATH", f"{tmp_path}:{Path('/usr/bin')}:{Path('/bin')}")
    meter = SmiPollMeter()
    assert meter.availability().devices == ("0", "1")
    meter.begin(Window("run", 4))
    time.sleep(1.5)
    r0, r1 = meter.end()
    assert r0.energy_j == pytest.approx(150.0 * r0.duration_s)  # mean power x duration
    assert r1.mean_power_w == pytest.approx(210.0)
    # each loop: >= 0.1 s sleep + >= 0.1 s query: well under the requested 10 Hz
    assert r0.samples_expected == 15
    assert r0.samples_taken is not None
    assert 1 <= r0.samples_taken <= 8
    assert r0.achieved_rate_hz is None or r0.achieved_rate_hz < 5.5
    assert r0.integration == "rectangle_mean"
    assert r0.api_call.startswith("nvidia-smi -q -x")
    assert {"SMI_POLLING", "UNDER_SAMPLED", "LOW_SAMPLE_RATIO"} <= flags_for(r0)


def test_missing_smi_is_unavailable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    av = SmiPollMeter().availability()
    assert not av.available
    assert "not found on PATH" in av.reason


def test_parsers() -> None:
    xml = (
        "<nvidia_smi_log><gpu><gpu_power_readings><power_draw>71.25 W</power_draw>"
        "</gpu_power_readings></gpu><gpu><power_readings><power_draw>N/A</power_draw>"
        "</power_readings></gpu></nvidia_smi_log>"
    )
    assert parse_smi_xml(xml) == [71.25, None]
    assert parse_smi_csv("70.5\n[N/A]\n") == [70.5, None]
