"""On a real NVIDIA GPU only (``pytest --run-gpu``): the meters against the hardware."""

from __future__ import annotations

from pathlib import Path

import pytest

from eabench.meters.validate import run_validation

pytestmark = pytest.mark.gpu


def test_counter_and_instant_power_agree_on_steady_load(tmp_path: Path) -> None:
    summary = run_validation(
        tmp_path, windows_s=(5.0,), kinds=("steady",), repeats=2, idle_s=2.0, include_smi=False
    )
    assert not summary["simulated"]
    period = next(iter(summary["counter_update_period_s"].values()))
    assert period is None or 0.001 <= period <= 1.0
    for w in summary["windows"]:
        counter = next(m for m in w["meters"] if m["meter"] == "gpu.nvml_counter")
        assert counter["energy_j"] is not None
        assert counter["energy_j"] > 0
        if w["kind"] == "steady":
            power = next(m for m in w["meters"] if m["meter"] == "gpu.nvml_power")
            assert power["rel_diff_vs_counter"] < 0.10  # Zeus #12: <= 1 % on steady load
    assert summary["busy_power_w"]["steady"] > summary["idle_power_w"]
