"""``data_collection/gpu_run.sh --dry-run``: the one-command GPU run, on CPU at smoke size.

Two sessions of the script into one folder under tmp, run as on a GPU node (``bash``,
``PYTHONPATH`` = the checkout, no install): the first is killed by its hard limit in the middle of
the collection, the second resumes it and stops at its time budget. Checked: exit status, the
printed and the JSON summary, run logs that ``eabench ingest`` accepts, resume after the kill
without losing a recorded epoch, simulated meters flagged as such, nothing written into the
checkout. Also the time budget of the executors (``eabench collect --time-budget``).
"""

from __future__ import annotations

import fnmatch
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from eabench.collect.executors import TimeBudget, run_tasks
from eabench.collect.outcome import RunOutcome
from eabench.collect.spec import ExecutorSpec
from eabench.logs import read_run_log

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "data_collection" / "gpu_run.sh"
METERS = {"gpu.nvml_counter", "gpu.nvml_power"}
# what the script writes (checked for anywhere in the checkout) besides data_collection/
_PRODUCTS = (
    "*.runlog.jsonl",
    "*.plan.json",
    "*.summary.json",
    "*.failures.jsonl",
    "*.lock",
    "*.pt",
    "*.npy",
    "*.h5",
    "*.ingest-report.json",
    "summary.json",
    "readings.jsonl",
    "state_before.json",
    "dry_run_spec.toml",
    "ingest_check.*",
    "meta.json",
)
_SKIP_DIRS = {".git", ".venv", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"}


def _tree(root: Path) -> set[str]:
    out = set()
    for d, dirs, files in os.walk(root):
        dirs[:] = [x for x in dirs if x not in _SKIP_DIRS and x != ".hypothesis"]
        out.update(str((Path(d) / f).relative_to(root)) for f in files)
    return out


def _ours(path: str) -> bool:
    """A new path the script could have written (other developers may add files meanwhile)."""
    name = Path(path).name
    return path.startswith("data_collection") or any(fnmatch.fnmatch(name, p) for p in _PRODUCTS)


@dataclass
class Session:
    rc: int
    stdout: str
    stderr: str
    summary: dict[str, Any]
    seconds: float
    logs_bytes: dict[str, bytes]


def _session(out: Path, **env: str) -> Session:
    full = {
        **os.environ,
        "PYTHONPATH": str(REPO),  # as on the node: the checkout, no install
        "PYTHON": sys.executable,
        "EABENCH_CACHE": str(out / "user-cache"),
        **env,
    }
    before = set((out / "gpu_run").glob("*/summary.json")) if (out / "gpu_run").is_dir() else set()
    t0 = time.monotonic()
    proc = subprocess.run(
        ["bash", str(SCRIPT), "--dry-run", "--out", str(out)],
        capture_output=True,
        text=True,
        env=full,
        cwd=out.parent,
        timeout=120,
        check=False,
    )
    seconds = time.monotonic() - t0
    new = sorted(set((out / "gpu_run").glob("*/summary.json")) - before)
    assert len(new) == 1, (proc.stdout, proc.stderr)
    logs = out / "regnet_hpo_cifar10_dryrun" / "logs"
    return Session(
        proc.returncode,
        proc.stdout,
        proc.stderr,
        json.loads(new[0].read_text()),
        seconds,
        {p.name: p.read_bytes() for p in logs.glob("*.runlog.jsonl")},
    )


@pytest.fixture(scope="module")
def sessions(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Session, Session, set[str]]:
    pytest.importorskip("torch")
    out = tmp_path_factory.mktemp("gpu_run") / "runs"
    tree_before = _tree(REPO)
    # 1: a hard limit of 8 s kills the collection in the middle of a run (the budget would go on)
    killed = _session(out, EABENCH_GPU_RUN_COLLECT_S="60", EABENCH_GPU_RUN_HARD_S="8")
    time.sleep(1.0)  # the next session gets another UTC stamp
    # 2: a budget that lets the first run (resumed or new) start and ends the sweep after it
    resumed = _session(out, EABENCH_GPU_RUN_COLLECT_S="10")
    new = {p for p in _tree(REPO) - tree_before if _ours(p)}
    return out, killed, resumed, new


def test_dry_run_exits_0_and_summarises_every_step(
    sessions: tuple[Path, Session, Session, set[str]],
) -> None:
    out, _, s, _ = sessions
    assert s.rc == 0, (s.stdout, s.stderr)
    doc = s.summary
    assert doc["mode"] == "dry-run"
    assert doc["simulated"] is True
    assert doc["ok"] is True
    assert doc["commit_next"] is None  # a dry run has nothing to commit
    val = doc["meter_validation"]
    assert val["status"] == "ok"
    assert val["simulated"] is True  # validated against the fake NVML
    assert val["windows"] == 1 + 2 * 3 * 3  # idle + 2 workloads x 3 lengths x 3 repeats
    vdir = Path(val["dir"])
    assert json.loads((vdir / "summary.json").read_text())["simulated"] is True
    assert (vdir / "readings.jsonl").stat().st_size > 0
    col = doc["collection"]
    assert col["stopped"] == "time budget reached"  # 500 configs never fit in 10 s
    assert col["exit_status"] == 0
    assert col["counts"]["deferred"] >= 1
    assert col["counts"]["failed"] == 0
    assert col["runs_finished"] >= 1
    assert col["runs_partial"] == 0  # a run starts only if it is expected to end in time
    assert set(col["energy_j_by_meter"]) == METERS
    assert set(col["simulated_meters"]) == METERS
    assert doc["ingest_check"]["status"] == "ok"
    # the summary printed last names every run of the session and says SIMULATED
    tail = s.stdout[s.stdout.index("=== eabench GPU run") :]
    assert "DRY RUN" in tail
    assert "SIMULATED" in tail
    for run in col["runs"]:
        assert run["run_id"] in tail
        assert run["state"] == "finished"
        assert run["epochs"] == run["target_epochs"] == 2
    assert str(out / "gpu_run" / doc["stamp"] / "summary.json") in tail
    assert s.seconds < 60


def test_kill_at_the_hard_limit_keeps_good_logs_and_the_next_session_resumes(
    sessions: tuple[Path, Session, Session, set[str]],
) -> None:
    _, k, s, _ = sessions
    assert k.rc == 0, (k.stdout, k.stderr)  # a kill at the limit is expected, not an error
    assert k.summary["collection"]["stopped"] == "killed at the hard limit"
    assert k.summary["collection"]["exit_status"] == 124
    assert k.summary["collection"]["counts"] is None  # the killed sweep wrote no summary
    assert "killed at the hard limit" in k.stdout
    partial = {r["run_id"]: r["epochs"] for r in k.summary["collection"]["runs"]}
    for r in k.summary["collection"]["runs"]:
        assert r["state"] == ("finished" if r["epochs"] == 2 else "partial")
    if k.logs_bytes:
        assert k.summary["ingest_check"]["status"] == "ok"
    # the second session resumed every partial run where its log ended
    runs = {r["run_id"]: r for r in s.summary["collection"]["runs"]}
    for run_id, n in partial.items():
        if n < 2:
            assert runs[run_id]["epochs_before"] == n
            assert runs[run_id]["state"] == "finished"
    for name, data in k.logs_bytes.items():  # every recorded line survives byte for byte
        complete = data[: data.rfind(b"\n") + 1]
        assert s.logs_bytes[name].startswith(complete)


def test_logs_pass_ingest_and_carry_simulated_readings(
    sessions: tuple[Path, Session, Session, set[str]], tmp_path: Path
) -> None:
    out, _, s, _ = sessions
    logs = out / "regnet_hpo_cifar10_dryrun" / "logs"
    files = sorted(logs.glob("*.runlog.jsonl"))
    assert len(files) == s.summary["collection"]["folder"]["run_logs"] >= 1
    h5 = tmp_path / "check.h5"
    proc = subprocess.run(
        [sys.executable, "-m", "eabench", "ingest", str(logs), "--out", str(h5)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(Path(f"{h5}.ingest-report.json").read_text())
    assert report["ingested"] == len(files)
    assert report["failed"] == 0
    assert h5.is_file()
    for f in files:
        log = read_run_log(f)
        assert log.header.protocol["device"] == "cpu"
        assert log.epochs
        for e in log.epochs:
            assert {r.meter for r in e.readings} == METERS
            assert all(r.simulated and "SIMULATED" in r.flag_codes for r in e.readings)


def test_nothing_is_written_into_the_checkout(
    sessions: tuple[Path, Session, Session, set[str]],
) -> None:
    assert sessions[3] == set()


def test_real_run_refuses_an_output_folder(tmp_path: Path) -> None:
    proc = subprocess.run(
        ["bash", str(SCRIPT), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO), "PYTHON": sys.executable},
        check=False,
    )
    assert proc.returncode == 2
    assert "--dry-run only" in proc.stderr
    assert not any(tmp_path.iterdir())


# ------------------------------------------------------------------------------ time budget
@dataclass(frozen=True)
class _Task:
    run_id: str
    sleep_s: float = 0.0


def _sleepy(task: _Task) -> RunOutcome:
    time.sleep(task.sleep_s)
    return RunOutcome(task.run_id, "trained", epochs_trained=1, epochs_done=1, device="cpu")


def test_budget_starts_runs_only_while_they_are_expected_to_end_in_time(tmp_path: Path) -> None:
    tasks = [_Task(str(i), 0.2) for i in range(4)]
    # 0.3 s: the first run starts (nothing known yet); then 0.1 s are left < the 0.2 s it took
    inprocess = ExecutorSpec("inprocess", 1)
    outs = run_tasks(tasks, _sleepy, inprocess, tmp_path, progress=False, budget=TimeBudget(0.3))
    assert [o.status for o in outs] == ["trained", "deferred", "deferred", "deferred"]
    assert outs[1].epochs_done == 0
    assert outs[1].error is None
    spent = TimeBudget(0.0)
    assert not spent.allows_start()
    outs = run_tasks(
        tasks, _sleepy, ExecutorSpec("pool", 2), tmp_path, progress=False, budget=spent
    )
    assert {o.status for o in outs} == {"deferred"}
    quick = [_Task(str(i)) for i in range(3)]
    outs = run_tasks(
        quick, _sleepy, ExecutorSpec("pool", 1), tmp_path, progress=False, budget=TimeBudget(60)
    )
    assert [o.status for o in outs] == ["trained"] * 3


def test_time_budget_option_is_checked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from eabench.cli import main

    spec = str(REPO / "data_collection" / "sweeps" / "smoke_regnet_hpo.toml")
    assert main(["collect", spec, "--time-budget", "0"]) == 2
    assert "--time-budget" in capsys.readouterr().err
    slurm = str(REPO / "data_collection" / "sweeps" / "regnet_hpo_cifar10_slurm.toml")
    assert main(["collect", slurm, "--time-budget", "60"]) == 2
    assert "local executor" in capsys.readouterr().err
