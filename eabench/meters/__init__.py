"""Energy meters with per-meter provenance, quality flags and calibration.

The per-epoch API for collection is :class:`MeterSession` over :func:`default_meters`; see
``docs/meters.md``. Meter modules: ``gpu_nvml_counter``, ``gpu_nvml_power``, ``gpu_smi_poll``,
``rapl`` (``cpu.rapl``/``dram.rapl``), ``node_estimate``, ``node_external``; rules in ``flags``;
off-socket bounds in ``calibration``; simulated hardware in ``fakes``.
"""

from __future__ import annotations

from eabench.meters.base import Availability, Clock, Meter, SystemClock, Window
from eabench.meters.flags import (
    DEFAULT_POLICY,
    QualityPolicy,
    apply_policy,
    disagreement_flags,
    evaluate,
    flags_for,
    rollup,
)
from eabench.meters.provenance import Flag, MeterReading
from eabench.meters.registry import default_meters, probe
from eabench.meters.session import MeterSession, WindowResult

__all__ = [
    "DEFAULT_POLICY",
    "Availability",
    "Clock",
    "Flag",
    "Meter",
    "MeterReading",
    "MeterSession",
    "QualityPolicy",
    "SystemClock",
    "Window",
    "WindowResult",
    "apply_policy",
    "default_meters",
    "disagreement_flags",
    "evaluate",
    "flags_for",
    "probe",
    "rollup",
]
