"""Run-log records: validation errors name field/value/rule; the JSON Schema agrees."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from eabench.errors import InvalidLogError
from eabench.logs import EpochRecord, RunHeader, RunLog, RunLogWriter
from tests.logs.helpers import header, reading, record

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "eabench" / "logs" / "runlog.schema.json"


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_round_trip_header_and_record() -> None:
    h = header()
    assert RunHeader.from_dict(json.loads(json.dumps(h.to_dict()))) == h
    r = record("run-1", 2)
    assert EpochRecord.from_dict(json.loads(json.dumps(r.to_dict()))) == r


def test_written_lines_validate_against_json_schema(
    tmp_path: Path, validator: jsonschema.Draft202012Validator
) -> None:
    with RunLogWriter.open(tmp_path, header()) as w:
        for e in range(3):
            w.append(record("run-1", e))
    lines = (tmp_path / "run-1.runlog.jsonl").read_text().splitlines()
    assert len(lines) == 4
    for line in lines:
        validator.validate(json.loads(line))


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda d: d.update(val_accuracy=1.5), "val_accuracy"),
        (lambda d: d.update(epoch=-1), "epoch"),
        (lambda d: d.update(epoch="3"), "epoch"),
        (lambda d: d.update(train_time_s=float("inf")), "train_time_s"),
        (lambda d: d.update(span_epochs=0), "span_epochs"),
        (lambda d: d.update(bogus=1), "epoch record"),
        (lambda d: d.pop("run_id"), "epoch record"),
        (lambda d: d["readings"][0].update(energy_j=-1.0), "readings[0]"),
        (lambda d: d["readings"][0].update(run_id="other"), "readings[0].run_id"),
        (lambda d: d["readings"][0].update(epoch=4), "readings[0].epoch"),
    ],
)
def test_bad_epoch_records_raise_typed_errors_and_fail_the_schema(
    mutate: Any, field: str, validator: jsonschema.Draft202012Validator
) -> None:
    d = record("run-1", 2).to_dict()
    mutate(d)
    with pytest.raises(InvalidLogError) as info:
        EpochRecord.from_dict(d)
    assert info.value.field is not None
    assert info.value.field.startswith(field)
    # cross-field rules and non-finite numbers (not JSON at all) are beyond JSON Schema
    if field not in ("readings[0].run_id", "readings[0].epoch", "train_time_s"):
        assert not validator.is_valid(json.loads(json.dumps(d, allow_nan=True)))


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("format", "other"),
        ("version", 2),
        ("kind", "epoch"),
        ("run_id", ""),
        ("max_epochs", 0),
        ("seed", -1),
        ("missing", [{"field": "x"}]),
        ("source", {"path": "x"}),
        ("extra", {"x": float("nan")}),
    ],
)
def test_bad_headers_raise(key: str, value: Any) -> None:
    d = header().to_dict()
    d[key] = value
    with pytest.raises(InvalidLogError):
        RunHeader.from_dict(d)


def test_sequence_rules() -> None:
    h = header(max_epochs=3)
    RunLog(h, (record("run-1", 0), record("run-1", 1)))
    with pytest.raises(InvalidLogError, match="contiguous"):
        RunLog(h, (record("run-1", 0), record("run-1", 2)))
    with pytest.raises(InvalidLogError, match="contiguous"):
        RunLog(h, (record("run-1", 0), record("run-1", 0)))
    with pytest.raises(InvalidLogError, match="max_epochs"):
        RunLog(h, tuple(record("run-1", e) for e in range(4)))
    # a multi-epoch window (EC-NAS style) is contiguous
    wide = EpochRecord(run_id="run-1", epoch=2, span_epochs=2, readings=(reading("run-1", 2),))
    log = RunLog(h, (record("run-1", 0), wide))
    assert log.complete
    assert log.next_epoch == 3


def test_nb101_configs_are_checked_against_the_space() -> None:
    d = header().to_dict()
    d["config"] = {"matrix": [[0, 1], [0, 1]], "ops": ["input", "output"]}
    with pytest.raises(InvalidLogError, match="not a valid nb101-7v cell"):
        RunHeader.from_dict(d)
    d = header(config_id="a" * 32).to_dict()  # not the hash of the 2-vertex cell
    with pytest.raises(InvalidLogError, match="NB101 hash"):
        RunHeader.from_dict(d)


def test_adapter_output_round_trips_through_the_writer_and_the_schema(
    tmp_path: Path, validator: jsonschema.Draft202012Validator
) -> None:
    from eabench.logs import read_run_log, run_log_path
    from eabench.logs.adapters.ecnas_results import read_ecnas_results
    from eabench.logs.adapters.pycls import read_pycls_sweep

    fixtures = Path(__file__).resolve().parents[1] / "fixtures"
    logs = [read_ecnas_results(p) for p in sorted((fixtures / "raw").rglob("results.json"))]
    logs += read_pycls_sweep(fixtures / "pycls" / "sweep.json")
    for log in logs:
        with RunLogWriter.open(tmp_path, log.header) as w:
            for rec in log.epochs:
                w.append(rec)
        path = run_log_path(tmp_path, log.run_id)
        back = read_run_log(path)
        assert back.header.to_dict() == log.header.to_dict()
        assert back.epochs == log.epochs
        for line in path.read_text().splitlines():
            validator.validate(json.loads(line))
