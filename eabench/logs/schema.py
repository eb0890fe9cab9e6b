"""Raw run-log format version 1: the records and their validation.

A run log describes one training of one config. On disk it is JSON Lines (see
:mod:`eabench.logs.runlog_io`): the first line is the :class:`RunHeader`, every further line one
:class:`EpochRecord`. The JSON Schema of both lines is ``eabench/logs/runlog.schema.json``; the
``from_dict`` constructors below enforce the same rules (plus cross-field ones the schema cannot
express) and raise :class:`~eabench.errors.InvalidLogError` naming field, value and rule.

Epoch numbering: ``EpochRecord.epoch`` is the 0-based index of the **last** training epoch inside
the record's train window, and ``span_epochs`` (normally 1) is how many epochs that window covers.
Windows are contiguous: a record's first epoch (``epoch - span_epochs + 1``) is the previous
record's ``epoch + 1`` (0 for the first record). Foreign logs that evaluate every few epochs
(EC-NAS: after epochs 1|2 and 4) use ``span_epochs > 1``; a setup window before training (EC-NAS's
init step, an evaluation of the untrained net) goes into ``RunHeader.setup``.

Units: accuracies are fractions in [0, 1], times seconds, energies joules (in the readings).
Missing values are ``None`` (plus a flag or a ``missing`` entry saying why), never 0 or NaN.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from eabench.errors import InvalidLogError, InvalidReadingError
from eabench.meters.provenance import Flag, MeterReading

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "METRIC_FIELDS",
    "EpochRecord",
    "RunHeader",
    "RunLog",
    "SetupWindow",
]

FORMAT_NAME: Final = "eabench.runlog"
FORMAT_VERSION: Final = 1
#: Accuracy (fraction) and loss fields of an epoch record; all optional (None = not measured).
METRIC_FIELDS: Final[tuple[str, ...]] = (
    "train_accuracy",
    "val_accuracy",
    "test_accuracy",
    "train_loss",
    "val_loss",
    "test_loss",
)
_ACCURACY_FIELDS: Final = ("train_accuracy", "val_accuracy", "test_accuracy")


def _err(field_name: str, value: Any, rule: str) -> InvalidLogError:
    return InvalidLogError.for_field(field_name, value, rule)  # type: ignore[return-value]


def _check_str(name: str, value: Any, *, optional: bool = False) -> None:
    if value is None and optional:
        return
    if not isinstance(value, str) or not value:
        raise _err(name, value, "must be a non-empty string" + (" or null" if optional else ""))


def _check_number(name: str, value: Any, *, lo: float = 0.0, hi: float = math.inf) -> None:
    """None passes; otherwise a finite real in [lo, hi]."""
    if value is None:
        return
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise _err(name, value, "must be a number or null")
    if isinstance(value, float) and not math.isfinite(value):
        raise _err(name, value, "must be finite (use null for missing)")
    if not lo <= value <= hi:
        raise _err(name, value, f"must be in [{lo}, {hi}]")


def _check_int(name: str, value: Any, *, lo: int = 0, optional: bool = False) -> None:
    if value is None and optional:
        return
    if not isinstance(value, int) or isinstance(value, bool):
        raise _err(name, value, "must be an integer")
    if value < lo:
        raise _err(name, value, f"must be >= {lo}")


def _check_json_value(name: str, value: Any, depth: int = 0) -> None:
    """Free-form mappings hold only JSON values with finite numbers."""
    if depth > 32:
        raise _err(name, "...", "nesting deeper than 32 levels")
    if value is None or isinstance(value, (str, bool)):
        return
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            raise _err(name, value, "must be finite (use null for missing)")
        return
    if isinstance(value, Mapping):
        for k, v in value.items():
            if not isinstance(k, str):
                raise _err(name, k, "mapping keys must be strings")
            _check_json_value(f"{name}.{k}", v, depth + 1)
        return
    if isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            _check_json_value(f"{name}[{i}]", v, depth + 1)
        return
    raise _err(name, type(value).__name__, "must be a JSON value")


def _check_mapping(name: str, value: Any) -> None:
    if not isinstance(value, Mapping):
        raise _err(name, type(value).__name__, "must be an object")
    _check_json_value(name, value)


def _readings_from(name: str, raw: Any, run_id: str) -> tuple[MeterReading, ...]:
    if not isinstance(raw, (list, tuple)):
        raise _err(name, type(raw).__name__, "must be a list of meter readings")
    out = []
    for i, item in enumerate(raw):
        try:
            reading = item if isinstance(item, MeterReading) else MeterReading.from_dict(item)
        except InvalidReadingError as exc:
            raise _err(f"{name}[{i}]", exc.value, f"invalid reading: {exc}") from exc
        except (TypeError, OverflowError) as exc:  # wrong kind of field, or an int beyond float
            raise _err(f"{name}[{i}]", item, f"invalid reading: {exc}") from exc
        if reading.run_id != run_id:
            raise _err(f"{name}[{i}].run_id", reading.run_id, f"must equal the run id {run_id!r}")
        out.append(reading)
    ids = [r.reading_id for r in out]
    if len(set(ids)) != len(ids):
        raise _err(f"{name}.reading_id", ids, "reading ids must be unique within a record")
    return tuple(out)


def _flags_from(name: str, raw: Any) -> tuple[Flag, ...]:
    if not isinstance(raw, (list, tuple)):
        raise _err(name, type(raw).__name__, "must be a list of flags")
    try:
        return tuple(f if isinstance(f, Flag) else Flag.from_dict(f) for f in raw)
    except InvalidReadingError as exc:
        raise _err(name, exc.value, f"invalid flag: {exc}") from exc


def _known_keys(name: str, data: Mapping[str, Any], allowed: set[str], required: set[str]) -> None:
    if not isinstance(data, Mapping):
        raise _err(name, type(data).__name__, "must be an object")
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise _err(name, unknown, "unknown keys")
    missing = sorted(required - set(data))
    if missing:
        raise _err(name, missing, "missing required keys")


@dataclass(frozen=True, slots=True)
class SetupWindow:
    """What happened before the first training epoch (graph build, init step, first evaluation).

    ``wall_time_s``: seconds; ``readings``: meter readings with ``window_name == "setup"``;
    ``metrics``: accuracies/losses of the untrained network (keys of :data:`METRIC_FIELDS`).
    """

    wall_time_s: float | None = None
    readings: tuple[MeterReading, ...] = ()
    metrics: Mapping[str, float | None] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "wall_time_s": self.wall_time_s,
            "readings": [r.to_dict() for r in self.readings],
            "metrics": dict(self.metrics),
        }

    @classmethod
    def from_dict(cls, data: Any, run_id: str) -> SetupWindow:
        _known_keys("setup", data, {"wall_time_s", "readings", "metrics"}, set())
        _check_number("setup.wall_time_s", data.get("wall_time_s"))
        metrics = data.get("metrics", {})
        _check_metrics("setup.metrics", metrics)
        return cls(
            wall_time_s=data.get("wall_time_s"),
            readings=_readings_from("setup.readings", data.get("readings", []), run_id),
            metrics=dict(metrics),
        )


def _check_metrics(name: str, metrics: Any) -> None:
    _known_keys(name, metrics, set(METRIC_FIELDS), set())
    for key, value in metrics.items():
        hi = 1.0 if key in _ACCURACY_FIELDS else 1e12
        _check_number(f"{name}.{key}", value, hi=hi)


_HEADER_KEYS: Final = {
    "format",
    "version",
    "kind",
    "run_id",
    "space",
    "dataset",
    "config",
    "config_id",
    "seed",
    "max_epochs",
    "hardware",
    "software",
    "protocol",
    "meters",
    "source",
    "missing",
    "flags",
    "setup",
    "extra",
}
_HEADER_REQUIRED: Final = {"format", "version", "kind", "run_id", "space", "dataset", "source"}


@dataclass(frozen=True, slots=True)
class RunHeader:
    """The first line of a run log: who trained what, where, how, and with which meters.

    ``config`` is the canonical config dict of its space (7V: ``{"matrix", "ops"}``) or None when
    the source lacks it; ``config_id`` its id (7V: the NB101 module hash). ``max_epochs`` is the
    planned number of training epochs (a run is complete when its last record's ``epoch`` equals
    ``max_epochs - 1``). ``hardware``, ``software``, ``protocol`` are free JSON objects; ``meters``
    lists ``{"meter": id, ...settings}``. ``source`` says where the log came from
    (``{"kind": "eabench" | "ecnas-results" | ..., "path": ..., "sha256": ...}``); ``missing``
    names what the source lacks (``{"field": ..., "reason": ...}``); ``flags`` are run-level
    quality flags; ``extra`` keeps source-specific raw values verbatim (with units in the keys).
    """

    run_id: str
    space: str
    dataset: str
    source: Mapping[str, Any]
    config: Mapping[str, Any] | None = None
    config_id: str | None = None
    seed: int | None = None
    max_epochs: int | None = None
    hardware: Mapping[str, Any] = field(default_factory=dict)
    software: Mapping[str, Any] = field(default_factory=dict)
    protocol: Mapping[str, Any] = field(default_factory=dict)
    meters: tuple[Mapping[str, Any], ...] = ()
    missing: tuple[Mapping[str, str], ...] = ()
    flags: tuple[Flag, ...] = ()
    setup: SetupWindow | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The header line as a JSON-ready dict (with ``format``, ``version``, ``kind``)."""
        return {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "kind": "header",
            "run_id": self.run_id,
            "space": self.space,
            "dataset": self.dataset,
            "config": None if self.config is None else dict(self.config),
            "config_id": self.config_id,
            "seed": self.seed,
            "max_epochs": self.max_epochs,
            "hardware": dict(self.hardware),
            "software": dict(self.software),
            "protocol": dict(self.protocol),
            "meters": [dict(m) for m in self.meters],
            "source": dict(self.source),
            "missing": [dict(m) for m in self.missing],
            "flags": [f.to_dict() for f in self.flags],
            "setup": None if self.setup is None else self.setup.to_dict(),
            "extra": dict(self.extra),
        }

    @classmethod
    def from_dict(cls, data: Any) -> RunHeader:
        """Validate a header dict (the JSON of line 1); raises ``InvalidLogError``."""
        _known_keys("header", data, _HEADER_KEYS, _HEADER_REQUIRED)
        if data["format"] != FORMAT_NAME:
            raise _err("format", data["format"], f"must be {FORMAT_NAME!r}")
        if data["version"] != FORMAT_VERSION or isinstance(data["version"], bool):
            raise _err("version", data["version"], f"must be {FORMAT_VERSION}")
        if data["kind"] != "header":
            raise _err("kind", data["kind"], "the first line must have kind 'header'")
        for name in ("run_id", "space", "dataset"):
            _check_str(name, data[name])
        _check_str("config_id", data.get("config_id"), optional=True)
        _check_int("seed", data.get("seed"), optional=True)
        _check_int("max_epochs", data.get("max_epochs"), lo=1, optional=True)
        config = data.get("config")
        if config is not None:
            _check_mapping("config", config)
        for name in ("hardware", "software", "protocol", "source", "extra"):
            _check_mapping(name, data.get(name, {}))
        source = data["source"]
        _check_str("source.kind", source.get("kind"))
        meters = data.get("meters", [])
        if not isinstance(meters, list) or not all(isinstance(m, Mapping) for m in meters):
            raise _err("meters", meters, "must be a list of objects")
        for i, m in enumerate(meters):
            _check_mapping(f"meters[{i}]", m)
            _check_str(f"meters[{i}].meter", m.get("meter"))
        missing = data.get("missing", [])
        if not isinstance(missing, list):
            raise _err("missing", missing, "must be a list of {field, reason}")
        for i, m in enumerate(missing):
            _known_keys(f"missing[{i}]", m, {"field", "reason"}, {"field", "reason"})
            _check_str(f"missing[{i}].field", m["field"])
            _check_str(f"missing[{i}].reason", m["reason"])
        setup = data.get("setup")
        run_id = data["run_id"]
        return cls(
            run_id=run_id,
            space=data["space"],
            dataset=data["dataset"],
            source=dict(source),
            config=None if config is None else dict(config),
            config_id=data.get("config_id"),
            seed=data.get("seed"),
            max_epochs=data.get("max_epochs"),
            hardware=dict(data.get("hardware", {})),
            software=dict(data.get("software", {})),
            protocol=dict(data.get("protocol", {})),
            meters=tuple(dict(m) for m in meters),
            missing=tuple(dict(m) for m in missing),
            flags=_flags_from("flags", data.get("flags", [])),
            setup=None if setup is None else SetupWindow.from_dict(setup, run_id),
            extra=dict(data.get("extra", {})),
        )


_EPOCH_KEYS: Final = {
    "kind",
    "run_id",
    "epoch",
    "span_epochs",
    *METRIC_FIELDS,
    "train_time_s",
    "eval_time_s",
    "readings",
    "flags",
    "extra",
}


@dataclass(frozen=True, slots=True)
class EpochRecord:
    """One train window (normally one epoch) and the evaluation after it.

    ``epoch``: 0-based index of the last epoch in the window; ``span_epochs``: epochs covered.
    Accuracies are fractions measured after the window; ``train_time_s`` is the wall time of the
    training in the window, ``eval_time_s`` of the evaluation after it (seconds, not cumulative).
    ``readings``: one :class:`MeterReading` per meter and device for the train window (and
    optionally the eval window), each with ``epoch == self.epoch``. ``extra``: source-specific
    raw values kept verbatim (units in the keys).
    """

    run_id: str
    epoch: int
    span_epochs: int = 1
    train_accuracy: float | None = None
    val_accuracy: float | None = None
    test_accuracy: float | None = None
    train_loss: float | None = None
    val_loss: float | None = None
    test_loss: float | None = None
    train_time_s: float | None = None
    eval_time_s: float | None = None
    readings: tuple[MeterReading, ...] = ()
    flags: tuple[Flag, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_str("run_id", self.run_id)
        _check_int("epoch", self.epoch)
        _check_int("span_epochs", self.span_epochs, lo=1)
        if self.epoch - self.span_epochs + 1 < 0:
            raise _err("span_epochs", self.span_epochs, f"must be <= epoch + 1 ({self.epoch + 1})")
        for name in METRIC_FIELDS:
            hi = 1.0 if name in _ACCURACY_FIELDS else 1e12
            _check_number(name, getattr(self, name), hi=hi)
        _check_number("train_time_s", self.train_time_s)
        _check_number("eval_time_s", self.eval_time_s)
        for i, r in enumerate(self.readings):
            if not isinstance(r, MeterReading):
                raise _err(f"readings[{i}]", r, "must be a MeterReading")
            if r.run_id != self.run_id:
                raise _err(f"readings[{i}].run_id", r.run_id, f"must equal {self.run_id!r}")
            if r.epoch != self.epoch:
                raise _err(f"readings[{i}].epoch", r.epoch, f"must equal the epoch {self.epoch}")
        _check_mapping("extra", self.extra)

    @property
    def first_epoch(self) -> int:
        """0-based index of the first epoch of the train window."""
        return self.epoch - self.span_epochs + 1

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": "epoch", "run_id": self.run_id, "epoch": self.epoch}
        out["span_epochs"] = self.span_epochs
        for name in (*METRIC_FIELDS, "train_time_s", "eval_time_s"):
            out[name] = getattr(self, name)
        out["readings"] = [r.to_dict() for r in self.readings]
        out["flags"] = [f.to_dict() for f in self.flags]
        out["extra"] = dict(self.extra)
        return out

    @classmethod
    def from_dict(cls, data: Any) -> EpochRecord:
        """Validate an epoch line; raises ``InvalidLogError``."""
        _known_keys("epoch record", data, _EPOCH_KEYS, {"kind", "run_id", "epoch"})
        if data["kind"] != "epoch":
            raise _err("kind", data["kind"], "must be 'epoch' after the header line")
        _check_str("run_id", data["run_id"])
        _check_int("epoch", data["epoch"])
        kwargs = {k: v for k, v in data.items() if k not in ("kind", "readings", "flags")}
        _check_mapping("extra", kwargs.get("extra", {}))
        kwargs["readings"] = _readings_from("readings", data.get("readings", []), data["run_id"])
        kwargs["flags"] = _flags_from("flags", data.get("flags", []))
        return cls(**kwargs)


@dataclass(frozen=True, slots=True)
class RunLog:
    """A whole run: the header and its epoch records in order (validated as a unit).

    ``torn_tail`` is True when the reader dropped an incomplete last line (a write interrupted by
    a crash); the records before it are intact.
    """

    header: RunHeader
    epochs: tuple[EpochRecord, ...] = ()
    torn_tail: bool = False

    def __post_init__(self) -> None:
        check_sequence(self.header, self.epochs)

    @property
    def run_id(self) -> str:
        return self.header.run_id

    @property
    def next_epoch(self) -> int:
        """The 0-based index of the first epoch not yet recorded."""
        return self.epochs[-1].epoch + 1 if self.epochs else 0

    @property
    def complete(self) -> bool:
        """True when ``max_epochs`` is known and every epoch up to it is recorded."""
        return self.header.max_epochs is not None and self.next_epoch == self.header.max_epochs


def check_sequence(header: RunHeader, epochs: tuple[EpochRecord, ...]) -> None:
    """Raise ``InvalidLogError`` unless records belong to ``header`` and windows are contiguous."""
    expected = 0
    for i, rec in enumerate(epochs):
        if rec.run_id != header.run_id:
            raise _err(f"epochs[{i}].run_id", rec.run_id, f"must equal {header.run_id!r}")
        if rec.first_epoch != expected:
            raise _err(
                f"epochs[{i}].epoch",
                rec.epoch,
                f"window starts at epoch {rec.first_epoch}, expected {expected} "
                "(records must be contiguous, without gaps or duplicates)",
            )
        if header.max_epochs is not None and rec.epoch >= header.max_epochs:
            raise _err(f"epochs[{i}].epoch", rec.epoch, f"must be < max_epochs {header.max_epochs}")
        expected = rec.epoch + 1
