"""Energy meters with per-meter provenance, quality flags and calibration."""

from __future__ import annotations

from eabench.meters.provenance import Flag, MeterReading

__all__ = ["Flag", "MeterReading"]
