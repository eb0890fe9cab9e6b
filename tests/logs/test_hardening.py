"""Issue 16: every corruption class of the bad-input campaign fails alone, with a typed report
entry, and every good input beside it is kept (fixture tree; the whole staged tree is in the
slow campaign of test_fuzz_hardening.py)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from eabench.logs.ingest import ingest
from tests.logs import corrupt as C

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "raw" / "ecnas"
RESULTS = sorted(FIXTURES.rglob("results.json"))
GOOD_RUNLOG = "good-beside-1"


def _stage(tmp_path: Path) -> tuple[Path, Path]:
    tree = tmp_path / "ecnas"
    shutil.copytree(FIXTURES, tree)
    extra = tmp_path / "extra"
    C.good_runlog(extra / "runlogs", GOOD_RUNLOG)
    return tree, extra


def check_outcome(report: object, out: Path, tree: Path, ex: C.Expect, all_ids: set[str]) -> None:
    from eabench.logs.ingest import IngestReport

    assert isinstance(report, IngestReport)
    assert report.unexpected == 0, report.errors
    reported = {e["path"] for e in report.errors}
    for p in ex.bad_paths:
        shown = str(p).encode("utf-8", "backslashreplace").decode()
        assert shown in reported, (p, report.errors)
    for e in report.errors:
        assert e["reason"].split(":", 1)[0].endswith("Error"), e
        json.dumps(e).encode("utf-8")  # every entry is printable
    kept = C.kept_run_ids(report.tables, out)
    assert not (kept & ex.rejected), kept & ex.rejected
    assert (all_ids - ex.rejected) <= kept, sorted((all_ids - ex.rejected) - kept)[:5]
    if ex.config_dropped:
        configs = C.configs_of(out)
        for cid in ex.config_dropped:
            assert configs.get(cid, False) is False, cid


@pytest.mark.parametrize("kind", C.ALL_KINDS)
def test_each_corruption_fails_alone(kind: str, tmp_path: Path) -> None:
    tree, extra = _stage(tmp_path)
    files = sorted(tree.rglob("results.json"))
    four_v = [p for p in files if "4V9E" in p.parts]
    target = four_v[0] if kind.startswith("graph") else files[-1]
    ex = C.corrupt(tree, extra, kind, target, 0, seed=1)
    all_ids = {C.run_id_of(p) for p in files} | {GOOD_RUNLOG}
    if kind == "non_utf8_folder":
        all_ids.add("odd-folder-0")
    out = tmp_path / "out.h5"
    report = ingest([tree, extra], out)
    check_outcome(report, out, tree, ex, all_ids)


def test_all_corruptions_at_once(tmp_path: Path) -> None:
    tree, extra = _stage(tmp_path)
    files = sorted(tree.rglob("results.json"))
    four_v = [p for p in files if "4V9E" in p.parts]
    ex = C.Expect()
    for n, kind in enumerate((*C.RUNLOG_KINDS, *C.TREE_KINDS)):
        one = C.corrupt(tree, extra, kind, four_v[0], n, seed=n)
        ex.bad_paths |= one.bad_paths
        ex.rejected |= one.rejected
        ex.config_dropped |= one.config_dropped
    five_v = [p for p in files if "5V9E" in p.parts]
    for path, kind in zip(five_v, ("energy_x1000", "time_ms", "power_mw"), strict=True):
        one = C.corrupt(tree, extra, kind, path, 0, seed=0)
        ex.bad_paths |= one.bad_paths
        ex.rejected |= one.rejected
    n_odd = (*C.RUNLOG_KINDS, *C.TREE_KINDS).index("non_utf8_folder")
    all_ids = {C.run_id_of(p) for p in files} | {GOOD_RUNLOG, f"odd-folder-{n_odd}"}
    out = tmp_path / "out.h5"
    report = ingest([tree, extra], out)
    check_outcome(report, out, tree, ex, all_ids)
    assert report.skipped == 2  # the FIFO and the dangling link, never opened


def test_fifo_given_directly_is_skipped(tmp_path: Path) -> None:
    fifo = tmp_path / "p.runlog.jsonl"
    os.mkfifo(fifo)
    C.good_runlog(tmp_path / "ok", "ok-1")
    report = ingest([fifo, tmp_path / "ok"], tmp_path / "out.h5")
    assert report.skipped == 1
    assert report.ingested == 1
    assert report.errors[0]["rule"].startswith("skipped: not a regular file (FIFO)")


def test_bad_split_line_is_a_typed_error() -> None:
    from eabench.errors import InvalidLogError
    from eabench.logs.adapters.ecnas_7v import read_ecnas_splits

    with pytest.raises(InvalidLogError):
        read_ecnas_splits(Path(__file__).parent)  # no index files here: typed, not OSError


def test_report_entries_name_field_value_rule(tmp_path: Path) -> None:
    tree, extra = _stage(tmp_path)
    target = sorted(tree.rglob("results.json"))[0]
    C.corrupt(tree, extra, "energy_x1000", target, 0, seed=0)
    report = ingest([tree, extra], tmp_path / "out.h5")
    (entry,) = report.errors
    assert entry["field"] == "total_energy (kWh)"
    assert "eabench-consistency-1" in entry["rule"]
    assert float(entry["value"]) > 1.0
    assert report.to_dict()["consistency_policy"] == "eabench-consistency-1"


def test_one_long_run_cannot_blow_up_its_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Memory per table is bounded: the run with the longest epoch axis is left out, reported."""
    from eabench.logs import ingest as ingest_module

    monkeypatch.setattr(ingest_module, "MAX_TABLE_CELLS", 10 * 4 * 9)
    for i in range(10):
        C.good_runlog(tmp_path / "in", f"short-{i}", n_epochs=3)
    C.good_runlog(tmp_path / "in", "long-1", n_epochs=40)
    report = ingest([tmp_path / "in"], tmp_path / "out.h5")
    assert report.tables == {"nb101-7v/cifar10/runs": 10}
    (entry,) = report.errors
    assert entry["run_id"] == "long-1"
    assert entry["field"] == "epochs"
