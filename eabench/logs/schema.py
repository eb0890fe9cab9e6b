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

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from eabench.logs._checks import (
    ACCURACY_FIELDS,
    MAX_EPOCHS,
    METRIC_FIELDS,
    check_int,
    check_mapping,
    check_metrics,
    check_name,
    check_number,
    check_str,
    err,
    flags_from,
    known_keys,
    readings_from,
)
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
        known_keys("setup", data, {"wall_time_s", "readings", "metrics"}, set())
        check_number("setup.wall_time_s", data.get("wall_time_s"))
        metrics = data.get("metrics", {})
        check_metrics("setup.metrics", metrics)
        return cls(
            wall_time_s=data.get("wall_time_s"),
            readings=readings_from("setup.readings", data.get("readings", []), run_id),
            metrics=dict(metrics),
        )


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
        known_keys("header", data, _HEADER_KEYS, _HEADER_REQUIRED)
        if data["format"] != FORMAT_NAME:
            raise err("format", data["format"], f"must be {FORMAT_NAME!r}")
        if data["version"] != FORMAT_VERSION or isinstance(data["version"], bool):
            raise err("version", data["version"], f"must be {FORMAT_VERSION}")
        if data["kind"] != "header":
            raise err("kind", data["kind"], "the first line must have kind 'header'")
        check_str("run_id", data["run_id"])
        check_name("space", data["space"])
        check_name("dataset", data["dataset"])
        check_str("config_id", data.get("config_id"), optional=True)
        check_int("seed", data.get("seed"), optional=True)
        check_int("max_epochs", data.get("max_epochs"), lo=1, hi=MAX_EPOCHS, optional=True)
        config = data.get("config")
        if config is not None:
            check_mapping("config", config)
            _check_space_config(data["space"], config, data.get("config_id"))
        for name in ("hardware", "software", "protocol", "source", "extra"):
            check_mapping(name, data.get(name, {}))
        source = data["source"]
        check_str("source.kind", source.get("kind"))
        meters = data.get("meters", [])
        if not isinstance(meters, list) or not all(isinstance(m, Mapping) for m in meters):
            raise err("meters", meters, "must be a list of objects")
        for i, m in enumerate(meters):
            check_mapping(f"meters[{i}]", m)
            check_str(f"meters[{i}].meter", m.get("meter"))
        missing = data.get("missing", [])
        if not isinstance(missing, list):
            raise err("missing", missing, "must be a list of {field, reason}")
        for i, m in enumerate(missing):
            known_keys(f"missing[{i}]", m, {"field", "reason"}, {"field", "reason"})
            check_str(f"missing[{i}].field", m["field"])
            check_str(f"missing[{i}].reason", m["reason"])
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
            flags=flags_from("flags", data.get("flags", [])),
            setup=None if setup is None else SetupWindow.from_dict(setup, run_id),
            extra=dict(data.get("extra", {})),
        )


def _check_space_config(space: str, config: Mapping[str, Any], config_id: Any) -> None:
    """For spaces eabench implements, the config must be valid and its id must match."""
    if space != "nb101-7v":
        return
    from eabench.errors import InvalidConfigError
    from eabench.spaces.nb101 import Cell

    try:
        cell_id = Cell.from_dict(config).hash()
    except InvalidConfigError as exc:
        raise err("config", exc.value, f"not a valid nb101-7v cell: {exc}") from exc
    if config_id is not None and config_id != cell_id:
        raise err("config_id", config_id, f"must equal the NB101 hash of config ({cell_id})")


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
        check_str("run_id", self.run_id)
        check_int("epoch", self.epoch, hi=MAX_EPOCHS - 1)
        check_int("span_epochs", self.span_epochs, lo=1, hi=MAX_EPOCHS)
        if self.epoch - self.span_epochs + 1 < 0:
            raise err("span_epochs", self.span_epochs, f"must be <= epoch + 1 ({self.epoch + 1})")
        for name in METRIC_FIELDS:
            hi = 1.0 if name in ACCURACY_FIELDS else 1e12
            check_number(name, getattr(self, name), hi=hi)
        check_number("train_time_s", self.train_time_s)
        check_number("eval_time_s", self.eval_time_s)
        for i, r in enumerate(self.readings):
            if not isinstance(r, MeterReading):
                raise err(f"readings[{i}]", r, "must be a MeterReading")
            if r.run_id != self.run_id:
                raise err(f"readings[{i}].run_id", r.run_id, f"must equal {self.run_id!r}")
            if r.epoch != self.epoch:
                raise err(f"readings[{i}].epoch", r.epoch, f"must equal the epoch {self.epoch}")
        check_mapping("extra", self.extra)

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
        known_keys("epoch record", data, _EPOCH_KEYS, {"kind", "run_id", "epoch"})
        if data["kind"] != "epoch":
            raise err("kind", data["kind"], "must be 'epoch' after the header line")
        check_str("run_id", data["run_id"])
        check_int("epoch", data["epoch"], hi=MAX_EPOCHS - 1)
        kwargs = {k: v for k, v in data.items() if k not in ("kind", "readings", "flags")}
        check_mapping("extra", kwargs.get("extra", {}))
        kwargs["readings"] = readings_from("readings", data.get("readings", []), data["run_id"])
        kwargs["flags"] = flags_from("flags", data.get("flags", []))
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
            raise err(f"epochs[{i}].run_id", rec.run_id, f"must equal {header.run_id!r}")
        if rec.first_epoch != expected:
            raise err(
                f"epochs[{i}].epoch",
                rec.epoch,
                f"window starts at epoch {rec.first_epoch}, expected {expected} "
                "(records must be contiguous, without gaps or duplicates)",
            )
        if header.max_epochs is not None and rec.epoch >= header.max_epochs:
            raise err(f"epochs[{i}].epoch", rec.epoch, f"must be < max_epochs {header.max_epochs}")
        expected = rec.epoch + 1
