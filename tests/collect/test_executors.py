"""Executors: in-process, process pool, and submitit (debug and local executors).

The task function here is a stand-in for ``run_task`` (trainer tests cover the real one): it must
be a module-level function so that spawned processes and submitit can pickle it.
"""

from __future__ import annotations

import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from eabench.collect.executors import run_tasks
from eabench.collect.outcome import RunOutcome, summarise
from eabench.collect.spec import ExecutorSpec


@dataclass(frozen=True)
class _Task:
    run_id: str
    fail: bool = False


def _work(task: _Task) -> RunOutcome:
    if task.fail:
        raise RuntimeError(f"boom in {task.run_id}")
    return RunOutcome(
        task.run_id,
        "trained",
        epochs_trained=1,
        epochs_done=1,
        device="cpu",
        wall_s=1800.0,
        energy_j_by_meter={"fake.meter": 3.6e6, "pid": float(os.getpid() % 7)},
    )


TASKS = [_Task("a"), _Task("b", fail=True), _Task("c")]


@pytest.mark.parametrize(
    ("kind", "workers"),
    [("inprocess", 1), ("pool", 2), ("submitit-debug", 1), ("submitit-local", 3)],
)
def test_every_executor_returns_outcomes_in_order(tmp_path: Path, kind: str, workers: int) -> None:
    outs = run_tasks(
        TASKS, _work, ExecutorSpec(kind=kind, workers=workers), tmp_path, progress=False
    )
    assert [o.run_id for o in outs] == ["a", "b", "c"]
    assert [o.status for o in outs] == ["trained", "failed", "trained"]
    assert outs[1].error is not None
    assert "boom in b" in outs[1].error
    summary = summarise("s", outs)
    assert summary.counts["failed"] == 1
    assert summary.counts["trained"] == 2
    assert summary.cpu_hours == pytest.approx(1.0)
    assert summary.gpu_hours == 0.0
    assert summary.energy_j_by_meter["fake.meter"] == pytest.approx(7.2e6)
    assert "FAILED b" in summary.render()
    if kind == "submitit-local":
        assert list(tmp_path.glob("*_result.pkl"))  # submitit's own job files: it really ran them


def _pdeathsig(task: _Task) -> RunOutcome:
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    sig = ctypes.c_int(0)
    libc.prctl(2, ctypes.byref(sig))  # PR_GET_PDEATHSIG
    return RunOutcome(task.run_id, "trained", epochs_trained=sig.value)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux-only")
def test_pool_workers_die_with_the_sweep_process(tmp_path: Path) -> None:
    (out,) = run_tasks([_Task("a")], _pdeathsig, ExecutorSpec("pool", 1), tmp_path, progress=False)
    assert out.epochs_trained == signal.SIGKILL


def test_submitit_parameters_for_slurm() -> None:
    from eabench.collect.executors import _submitit_parameters

    ex = ExecutorSpec("slurm", 1, {"partition": "gpu", "timeout_min": 60, "gpus_per_node": 1})
    params = _submitit_parameters(ex, "sweep")
    assert params == {
        "name": "sweep",
        "timeout_min": 60,
        "gpus_per_node": 1,
        "slurm_partition": "gpu",
    }


def test_empty_task_list(tmp_path: Path) -> None:
    assert run_tasks([], _work, ExecutorSpec("pool", 2), tmp_path, progress=False) == []
