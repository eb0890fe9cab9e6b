"""``eabench ingest``: detection, report (screen, file, --json), exit codes, --strict, --format."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from eabench.cli import main
from eabench.errors import UnknownFormatError
from eabench.logs import RunLogWriter, open_dataset
from eabench.logs.ingest import detect_format
from tests.logs.helpers import header, record

FIX = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.fixture
def raw(tmp_path: Path) -> Path:
    dst = tmp_path / "src"
    shutil.copytree(FIX / "raw" / "ecnas", dst / "ecnas")
    return dst


def test_ingest_fixtures_json_report(
    raw: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = raw / "broken.runlog.jsonl"
    bad.write_text('{"format": "eabench.runlog"')  # no newline: no complete header
    unknown = raw / "notes.bin"
    unknown.write_bytes(b"\x00\x01")
    out = tmp_path / "ds.h5"
    status = main(["ingest", str(raw), str(FIX / "pycls"), "--out", str(out), "--json"])
    assert status == 0
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert report["ingested"] == 6 + 2 + 1  # 6 EC-NAS runs, 2 sweep jobs, 1 stdout.log
    assert report["failed"] == 2
    assert {Path(e["path"]).name for e in report["errors"]} == {"broken.runlog.jsonl", "notes.bin"}
    assert all(e["reason"] for e in report["errors"])
    assert "FAILED" in captured.err
    assert json.loads(Path(f"{out}.ingest-report.json").read_text()) == report
    ds = open_dataset(out)
    t = ds.table("nb101-7v", "cifar10", "ecnas_runs")
    assert t.n_rows == 6
    # 5V fixtures have no graphs file next to them: config missing, kept anyway
    assert t.configs is not None
    assert (t.configs.n_vertices == 0).sum() == 3


def test_strict_and_nothing_ingested_exit_non_zero(raw: Path, tmp_path: Path) -> None:
    (raw / "x.csv").write_text("a,b\n1,2\n")
    assert main(["ingest", str(raw), "--out", str(tmp_path / "a.h5")]) == 0
    assert main(["ingest", str(raw), "--out", str(tmp_path / "b.h5"), "--strict"]) == 1
    assert main(["ingest", str(raw / "x.csv"), "--out", str(tmp_path / "c.h5")]) == 1
    assert not (tmp_path / "c.h5").exists()
    assert main(["ingest", str(tmp_path / "nope"), "--out", str(tmp_path / "d.h5")]) == 1


def test_forced_format_and_run_logs(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    for rid in ("r-a", "r-b"):
        with RunLogWriter.open(runs, header(rid)) as w:
            for e in range(3):
                w.append(record(rid, e))
    out = tmp_path / "ds.h5"
    assert main(["ingest", str(runs), "--out", str(out), "--format", "runlog"]) == 0
    t = open_dataset(out).table("nb101-7v", "cifar10", "runs")
    assert t.run_ids is not None
    assert t.run_ids.tolist() == ["r-a", "r-b"]
    e = t.energy.meter("gpu.nvml_counter:gpu:0")
    assert e.values[0, 1:4].tolist() == [100.0, 201.0, 303.0]  # cumulative J
    assert not e.mask[:, 0].any()  # no setup window
    # forcing a wrong format reports the file instead of guessing
    status = main(
        ["ingest", str(runs), "--out", str(tmp_path / "x.h5"), "--format", "ecnas-results"]
    )
    assert status == 1


def test_detect_format() -> None:
    assert detect_format(FIX / "pycls" / "sweep.json") == "pycls-sweep"
    assert detect_format(FIX / "pycls" / "stdout.log") == "pycls-log"
    one = next((FIX / "raw").rglob("results.json"))
    assert detect_format(one) == "ecnas-results"
    with pytest.raises(UnknownFormatError):
        detect_format(FIX / "raw" / "README.md")


@pytest.mark.shared
def test_ingest_all_real_data(shared_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "all.h5"
    args = ["ingest", str(shared_data / "ecnas"), str(shared_data / "nb101"), "--out", str(out)]
    assert main([*args, "--strict"]) == 0
    report = json.loads(Path(f"{out}.ingest-report.json").read_text())
    assert report["failed"] == 0
    assert report["tables"]["nb101-7v/cifar10/ecnas_runs"] == 2805
    assert report["tables"]["nb101-7v/cifar10/ecnas_7v"] == 4310
    assert report["tables"]["nb101-7v/cifar10/nb101_all"] == 423_624


def test_unwritable_out_is_a_typed_error(raw: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["ingest", str(raw), "--out", str(blocker / "sub" / "ds.h5")]) == 2
