"""Helpers shared by the foreign-format adapters: typed field access, hashing, ingest flags."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final, cast

from eabench.errors import InvalidLogError
from eabench.meters.provenance import Flag, MeterReading

__all__ = [
    "INGEST_POLICY_ID",
    "J_PER_KWH",
    "derive_flags",
    "err",
    "file_sha256",
    "get_int",
    "get_number",
    "get_str",
    "read_bytes",
    "read_text",
]

J_PER_KWH: Final = 3.6e6
#: Id of the flag rules below (a subset of energy-meters.md 5.3, applied at ingestion).
INGEST_POLICY_ID: Final = "eabench-ingest-1"
_UNDER_SAMPLED_MAX: Final = 10
_LOW_RATIO: Final = 0.5


def err(field: str, value: Any, rule: str) -> InvalidLogError:
    """``InvalidLogError.for_field`` with the precise return type."""
    return cast(InvalidLogError, InvalidLogError.for_field(field, value, rule))


def read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise err("path", str(path), f"cannot read: {exc.strerror or exc}") from exc


def read_text(path: Path) -> str:
    try:
        return read_bytes(path).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise err(
            "path", str(path), f"is not valid UTF-8 ({exc.reason} at byte {exc.start})"
        ) from exc


def file_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def get_number(
    data: Mapping[str, Any], key: str, where: str, *, lo: float = 0.0, hi: float = 1e15
) -> float:
    """A required finite real in [lo, hi] (JSON ints accepted)."""
    if not isinstance(data, Mapping):
        raise err(where, type(data).__name__, "must be an object")
    if key not in data:
        raise err(f"{where}.{key}", None, "required key is missing")
    value = data[key]
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise err(f"{where}.{key}", value, "must be a number")
    if isinstance(value, float) and not math.isfinite(value):
        raise err(f"{where}.{key}", value, "must be finite")
    if not lo <= value <= hi:
        raise err(f"{where}.{key}", value, f"must be in [{lo:g}, {hi:g}]")
    return float(value)


def get_int(data: Mapping[str, Any], key: str, where: str, *, lo: int = 0, hi: int = 10**15) -> int:
    value = get_number(data, key, where, lo=lo, hi=hi)
    if value != int(value):
        raise err(f"{where}.{key}", data[key], "must be an integer")
    return int(value)


def get_str(data: Mapping[str, Any], key: str, where: str) -> str:
    if not isinstance(data, Mapping):
        raise err(where, type(data).__name__, "must be an object")
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise err(f"{where}.{key}", value, "must be a non-empty string")
    return value


def derive_flags(r: MeterReading) -> tuple[Flag, ...]:
    """Flags that follow from the stored record alone (rules of energy-meters.md 5.3).

    UNDER_SAMPLED (invalid): a sampled meter (polling, or an external meter's samples) with at
    most 10 samples. LOW_SAMPLE_RATIO (warn): fewer than half the expected samples.
    PUE_APPLIED (info): the source had multiplied a PUE in (we store it divided out).
    ESTIMATED_COMPONENT (warn): a modelled, not measured, value.
    UNSYNCED_BOUNDARY (warn): a GPU window without a CUDA sync at its edges. SMI_POLLING (info).
    """
    flags: list[Flag] = []
    if r.method in ("polling", "external") and r.samples_taken is not None:
        if r.samples_taken <= _UNDER_SAMPLED_MAX:
            flags.append(
                Flag(
                    "UNDER_SAMPLED",
                    "invalid",
                    f"{r.samples_taken} samples in {r.duration_s} s (<= {_UNDER_SAMPLED_MAX})",
                )
            )
        if r.samples_expected and r.samples_taken / r.samples_expected < _LOW_RATIO:
            flags.append(
                Flag(
                    "LOW_SAMPLE_RATIO",
                    "warn",
                    f"{r.samples_taken}/{r.samples_expected} expected samples",
                )
            )
    if r.pue_applied is not None:
        flags.append(Flag("PUE_APPLIED", "info", f"source applied PUE {r.pue_applied:g}; removed"))
    if r.method == "model":
        flags.append(Flag("ESTIMATED_COMPONENT", "warn", str(r.model or "")))
    if "gpu" in r.scope and r.sync_barrier == "none" and r.window_name != "setup":
        flags.append(Flag("UNSYNCED_BOUNDARY", "warn", "no CUDA sync at the window edges"))
    if r.meter == "gpu.smi_poll":
        flags.append(Flag("SMI_POLLING", "info", "nvidia-smi polled from a subprocess"))
    return tuple(flags)


def with_derived_flags(r: MeterReading, extra: tuple[Flag, ...] = ()) -> MeterReading:
    """``r`` carrying :func:`derive_flags` plus ``extra`` under :data:`INGEST_POLICY_ID`."""
    return r.with_flags((*derive_flags(r), *extra), INGEST_POLICY_ID)
