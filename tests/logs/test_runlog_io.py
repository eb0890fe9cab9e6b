"""Writer and reader: atomic creation, fsync'd appends, resume, torn tails, locks, SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from eabench.errors import InvalidArgumentError, InvalidLogError
from eabench.logs import RunLogWriter, read_run_log, run_log_path
from tests.logs.helpers import header, record

REPO = Path(__file__).resolve().parents[2]


def test_write_then_read(tmp_path: Path) -> None:
    with RunLogWriter.open(tmp_path, header()) as w:
        assert w.next_epoch == 0
        for e in range(5):
            w.append(record("run-1", e))
    log = read_run_log(run_log_path(tmp_path, "run-1"))
    assert [r.epoch for r in log.epochs] == [0, 1, 2, 3, 4]
    assert log.complete
    assert not log.torn_tail
    assert log.epochs[3] == record("run-1", 3)


def test_resume_continues_without_duplicates(tmp_path: Path) -> None:
    with RunLogWriter.open(tmp_path, header()) as w:
        w.append(record("run-1", 0))
        w.append(record("run-1", 1))
    with RunLogWriter.open(tmp_path, header()) as w:
        assert w.next_epoch == 2
        with pytest.raises(InvalidLogError, match="contiguous"):
            w.append(record("run-1", 1))  # already written
        with pytest.raises(InvalidLogError, match="contiguous"):
            w.append(record("run-1", 3))  # a gap
        w.append(record("run-1", 2))
    assert [r.epoch for r in read_run_log(run_log_path(tmp_path, "run-1")).epochs] == [0, 1, 2]


def test_resume_with_another_header_is_refused(tmp_path: Path) -> None:
    RunLogWriter.open(tmp_path, header()).close()
    with pytest.raises(InvalidLogError, match="another header"):
        RunLogWriter.open(tmp_path, header(seed=1))


def test_torn_tail_is_dropped_and_truncated_on_resume(tmp_path: Path) -> None:
    with RunLogWriter.open(tmp_path, header()) as w:
        for e in range(3):
            w.append(record("run-1", e))
    path = run_log_path(tmp_path, "run-1")
    line = json.dumps(record("run-1", 3).to_dict()).encode()
    with open(path, "ab") as f:
        f.write(line[: len(line) // 2])  # a write cut short by a crash
    log = read_run_log(path)
    assert log.torn_tail
    assert log.next_epoch == 3
    with RunLogWriter.open(tmp_path, header()) as w:
        assert w.next_epoch == 3
        w.append(record("run-1", 3))
    log = read_run_log(path)
    assert not log.torn_tail
    assert [r.epoch for r in log.epochs] == [0, 1, 2, 3]


def test_corruption_before_the_last_line_is_an_error(tmp_path: Path) -> None:
    with RunLogWriter.open(tmp_path, header()) as w:
        for e in range(3):
            w.append(record("run-1", e))
    path = run_log_path(tmp_path, "run-1")
    lines = path.read_bytes().split(b"\n")
    lines[2] = b'{"kind": "epoch", "run_id": "run-1", "epoch": '
    path.write_bytes(b"\n".join(lines))
    with pytest.raises(InvalidLogError, match="not a JSON line"):
        read_run_log(path)


def test_one_writer_per_run_but_runs_are_independent(tmp_path: Path) -> None:
    a = RunLogWriter.open(tmp_path, header("run-a"))
    b = RunLogWriter.open(tmp_path, header("run-b"))
    try:
        with pytest.raises(InvalidArgumentError, match="another writer"):
            RunLogWriter.open(tmp_path, header("run-a"))
        for e in range(3):
            a.append(record("run-a", e))
            b.append(record("run-b", e))
    finally:
        a.close()
        b.close()
    assert read_run_log(run_log_path(tmp_path, "run-a")).next_epoch == 3
    assert read_run_log(run_log_path(tmp_path, "run-b")).next_epoch == 3
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_unsafe_run_ids_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgumentError):
        run_log_path(tmp_path, "../escape")


_CHILD = """
import sys, time
sys.path.insert(0, {repo!r})
from eabench.logs import RunLogWriter
from tests.logs.helpers import header, record
run_id = sys.argv[2]
with RunLogWriter.open(sys.argv[1], header(run_id, max_epochs=100000)) as w:
    e = w.next_epoch
    while True:
        w.append(record(run_id, e, pad=200_000))
        print(e, flush=True)
        e += 1
"""


def _spawn(directory: Path, run_id: str) -> subprocess.Popen[str]:
    code = _CHILD.format(repo=str(REPO))
    return subprocess.Popen(
        [sys.executable, "-c", code, str(directory), run_id],
        stdout=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("kill_after", [3, 7])
def test_sigkill_while_writing_loses_at_most_the_inflight_epoch(
    tmp_path: Path, kill_after: int
) -> None:
    """Two processes write different runs into one folder; each is SIGKILLed mid-stream."""
    procs = {rid: _spawn(tmp_path, rid) for rid in ("k-a", "k-b")}
    acknowledged: dict[str, int] = {}
    for rid, p in procs.items():
        assert p.stdout is not None
        last = -1
        while last < kill_after:
            line = p.stdout.readline()
            assert line, "writer died early"
            last = int(line)
        time.sleep(0.003 * kill_after)  # land the kill at varying points of the next write
        os.kill(p.pid, signal.SIGKILL)
        p.wait()
        # anything printed before the kill was acknowledged after fsync
        rest = p.stdout.read().split()
        acknowledged[rid] = max([last, *map(int, rest)])
        p.stdout.close()
    for rid, acked in acknowledged.items():
        log = read_run_log(run_log_path(tmp_path, rid))
        assert acked + 1 <= log.next_epoch <= acked + 2  # at most the in-flight epoch is lost
        with RunLogWriter.open(tmp_path, header(rid, max_epochs=100000)) as w:
            resumed_at = w.next_epoch
            w.append(record(rid, resumed_at))
        log = read_run_log(run_log_path(tmp_path, rid))
        assert [r.epoch for r in log.epochs] == list(range(resumed_at + 1))
        assert not log.torn_tail
