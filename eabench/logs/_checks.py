"""Field checks shared by the run-log records (each raises ``InvalidLogError`` naming field,
value and rule)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Final, cast

from eabench.errors import InvalidLogError, InvalidReadingError
from eabench.meters.provenance import Flag, MeterReading

ACCURACY_FIELDS: Final = ("train_accuracy", "val_accuracy", "test_accuracy")
METRIC_FIELDS: Final[tuple[str, ...]] = (*ACCURACY_FIELDS, "train_loss", "val_loss", "test_loss")


def err(field_name: str, value: Any, rule: str) -> InvalidLogError:
    return cast(InvalidLogError, InvalidLogError.for_field(field_name, value, rule))


def check_str(name: str, value: Any, *, optional: bool = False) -> None:
    if value is None and optional:
        return
    if not isinstance(value, str) or not value:
        raise err(name, value, "must be a non-empty string" + (" or null" if optional else ""))


def check_number(name: str, value: Any, *, lo: float = 0.0, hi: float = math.inf) -> None:
    """None passes; otherwise a finite real in [lo, hi]."""
    if value is None:
        return
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise err(name, value, "must be a number or null")
    if isinstance(value, float) and not math.isfinite(value):
        raise err(name, value, "must be finite (use null for missing)")
    if not lo <= value <= hi:
        raise err(name, value, f"must be in [{lo}, {hi}]")


def check_int(name: str, value: Any, *, lo: int = 0, optional: bool = False) -> None:
    if value is None and optional:
        return
    if not isinstance(value, int) or isinstance(value, bool):
        raise err(name, value, "must be an integer")
    if value < lo:
        raise err(name, value, f"must be >= {lo}")


def check_json_value(name: str, value: Any, depth: int = 0) -> None:
    """Free-form mappings hold only JSON values with finite numbers."""
    if depth > 32:
        raise err(name, "...", "nesting deeper than 32 levels")
    if value is None or isinstance(value, (str, bool)):
        return
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            raise err(name, value, "must be finite (use null for missing)")
        return
    if isinstance(value, Mapping):
        for k, v in value.items():
            if not isinstance(k, str):
                raise err(name, k, "mapping keys must be strings")
            check_json_value(f"{name}.{k}", v, depth + 1)
        return
    if isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            check_json_value(f"{name}[{i}]", v, depth + 1)
        return
    raise err(name, type(value).__name__, "must be a JSON value")


def check_mapping(name: str, value: Any) -> None:
    if not isinstance(value, Mapping):
        raise err(name, type(value).__name__, "must be an object")
    check_json_value(name, value)


def readings_from(name: str, raw: Any, run_id: str) -> tuple[MeterReading, ...]:
    if not isinstance(raw, (list, tuple)):
        raise err(name, type(raw).__name__, "must be a list of meter readings")
    out = []
    for i, item in enumerate(raw):
        try:
            reading = item if isinstance(item, MeterReading) else MeterReading.from_dict(item)
        except InvalidReadingError as exc:
            raise err(f"{name}[{i}]", exc.value, f"invalid reading: {exc}") from exc
        except (TypeError, OverflowError) as exc:  # wrong kind of field, or an int beyond float
            raise err(f"{name}[{i}]", item, f"invalid reading: {exc}") from exc
        if reading.run_id != run_id:
            raise err(f"{name}[{i}].run_id", reading.run_id, f"must equal the run id {run_id!r}")
        out.append(reading)
    ids = [r.reading_id for r in out]
    if len(set(ids)) != len(ids):
        raise err(f"{name}.reading_id", ids, "reading ids must be unique within a record")
    return tuple(out)


def flags_from(name: str, raw: Any) -> tuple[Flag, ...]:
    if not isinstance(raw, (list, tuple)):
        raise err(name, type(raw).__name__, "must be a list of flags")
    try:
        return tuple(f if isinstance(f, Flag) else Flag.from_dict(f) for f in raw)
    except InvalidReadingError as exc:
        raise err(name, exc.value, f"invalid flag: {exc}") from exc


def known_keys(name: str, data: Mapping[str, Any], allowed: set[str], required: set[str]) -> None:
    if not isinstance(data, Mapping):
        raise err(name, type(data).__name__, "must be an object")
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise err(name, unknown, "unknown keys")
    missing = sorted(required - set(data))
    if missing:
        raise err(name, missing, "missing required keys")


def check_metrics(name: str, metrics: Any) -> None:
    known_keys(name, metrics, set(METRIC_FIELDS), set())
    for key, value in metrics.items():
        hi = 1.0 if key in ACCURACY_FIELDS else 1e12
        check_number(f"{name}.{key}", value, hi=hi)
