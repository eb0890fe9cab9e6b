"""Hardware/software facts for run logs, with NVML faked through the production binding code."""

from __future__ import annotations

import sys

import pytest

from eabench.collect.environment import hardware_info, software_info
from eabench.meters.fakes import FakeClock, FakeGpu, FakeNvml, PowerTrace, fake_pynvml


def test_gpu_facts_through_the_nvml_binding(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeNvml(FakeClock(), [FakeGpu(PowerTrace.constant(100.0))])
    monkeypatch.setitem(sys.modules, "pynvml", fake_pynvml(fake))
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    info = hardware_info("cuda")
    assert info["gpu_name"] == "NVIDIA H100 80GB HBM3"
    assert info["gpu_uuid"].startswith("GPU-")
    assert info["driver_version"] == "fake-driver"
    # the fake has no power-limit call: null plus the reason, never a made-up number
    assert info["power_limit_w"] is None
    assert "EnforcedPowerLimit" in info["nvml_error"]
    cpu = hardware_info("cpu")
    assert "gpu_name" not in cpu
    assert cpu["host_fingerprint"] != info["host_fingerprint"]  # the GPU UUID is part of it


def test_software_versions() -> None:
    sw = software_info()
    assert sw["eabench"]
    assert sw["python"].count(".") == 2
