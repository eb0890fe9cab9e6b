"""Field checks shared by the run-log records (each raises ``InvalidLogError`` naming field,
value and rule)."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any, Final, cast

from eabench.errors import InvalidLogError, InvalidReadingError
from eabench.meters.provenance import Flag, MeterReading

ACCURACY_FIELDS: Final = ("train_accuracy", "val_accuracy", "test_accuracy")
METRIC_FIELDS: Final[tuple[str, ...]] = (*ACCURACY_FIELDS, "train_loss", "val_loss", "test_loss")
#: largest integer a record may hold (int64); bigger ones would overflow every consumer
MAX_INT: Final = 2**63
#: largest epoch index / epoch count a run log may claim (bounds the table's fidelity axis)
MAX_EPOCHS: Final = 100_000
NAME_RE: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+\-]{0,99}$")


def err(field_name: str, value: Any, rule: str) -> InvalidLogError:
    return cast(InvalidLogError, InvalidLogError.for_field(field_name, value, rule))


def check_str(name: str, value: Any, *, optional: bool = False) -> None:
    if value is None and optional:
        return
    if not isinstance(value, str) or not value:
        raise err(name, value, "must be a non-empty string" + (" or null" if optional else ""))


def check_number(name: str, value: Any, *, lo: float = 0.0, hi: float = math.inf) -> None:
    """None passes; otherwise a finite real in [lo, hi] (integers must fit a float64 exactly
    enough: |value| <= 2**63)."""
    if value is None:
        return
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise err(name, value, "must be a number or null")
    if isinstance(value, int) and abs(value) > MAX_INT:
        raise err(name, _short(value), f"integer beyond +-2**63 ({MAX_INT})")
    if isinstance(value, float) and not math.isfinite(value):
        raise err(name, value, "must be finite (use null for missing)")
    if not lo <= value <= hi:
        raise err(name, value, f"must be in [{lo}, {hi}]")


def check_int(
    name: str, value: Any, *, lo: int = 0, hi: int = MAX_INT, optional: bool = False
) -> None:
    if value is None and optional:
        return
    if not isinstance(value, int) or isinstance(value, bool):
        raise err(name, value, "must be an integer")
    if value < lo:
        raise err(name, _short(value), f"must be >= {lo}")
    if value > hi:
        raise err(name, _short(value), f"must be <= {hi}")


def check_name(name: str, value: Any) -> None:
    """A space, dataset or table name: it becomes an HDF5 group path, so no ``/`` or ``..``."""
    check_str(name, value)
    if not NAME_RE.match(value):
        raise err(name, value, "must match [A-Za-z0-9][A-Za-z0-9._+-]* (at most 100 chars)")


def _short(value: int) -> Any:
    """A huge integer as a short string (its repr would be hundreds of digits)."""
    if abs(value) < 10**30:
        return value
    return f"<integer of {len(str(abs(value)))} digits>"


def check_json_value(name: str, value: Any, depth: int = 0) -> None:
    """Free-form mappings hold only JSON values with finite numbers."""
    if depth > 32:
        raise err(name, "...", "nesting deeper than 32 levels")
    if value is None or isinstance(value, (str, bool)):
        return
    if isinstance(value, (int, float)):
        if isinstance(value, int) and abs(value) > MAX_INT:
            raise err(name, _short(value), f"integer beyond +-2**63 ({MAX_INT})")
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
