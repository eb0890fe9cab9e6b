"""Executors: who runs a sweep's run tasks. No home-made scheduler: local processes go through
``concurrent.futures``, clusters through ``submitit``.

- ``inprocess``: one after the other in this process (debugging, tests).
- ``pool`` (default): a ``ProcessPoolExecutor`` of ``workers`` spawned processes (``spawn``, not
  ``fork``, because torch and CUDA must not be forked). One GPU node: ``workers = 1`` per GPU.
  On Linux each worker asks the kernel to SIGKILL it when the sweep process dies
  (``PR_SET_PDEATHSIG``), so killing a sweep never leaves orphans training on.
- ``slurm``: ``submitit.AutoExecutor`` on SLURM, one array task per run; ``[executor]`` SLURM keys
  (partition, timeout_min, gpus_per_node, cpus_per_task, mem_gb, array_parallelism, account, qos)
  become submitit parameters.
- ``submitit-local`` / ``submitit-debug``: the same submitit path on submitit's local executor
  (subprocesses, ``workers`` at a time) or its in-process debug executor; tests use these.

Every executor calls the same picklable task function (``eabench.collect.runner.run_task``), which
is itself idempotent (file lock + completed-log check), so re-submitting a task is always safe.
A task that raises or whose process dies becomes a ``failed`` :class:`RunOutcome` with the reason.

A :class:`TimeBudget` (``eabench collect --time-budget``) bounds the wall time of the local
executors without ever interrupting a run: a run is started only while the time left is at least
the longest run seen so far; the runs never started are ``deferred`` (run the sweep again to
continue). The ``pool`` executor therefore hands out one task per free worker (never queues ahead),
which also makes Ctrl-C stop the sweep instead of moving on to queued runs.
"""

from __future__ import annotations

import multiprocessing
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

from eabench.collect.outcome import RunOutcome
from eabench.collect.spec import ExecutorSpec
from eabench.errors import InvalidArgumentError

__all__ = ["TaskLike", "TimeBudget", "run_tasks"]


class TaskLike(Protocol):
    """What executors need from a task: its run id (the task is passed to the task function)."""

    @property
    def run_id(self) -> str: ...


T = TypeVar("T", bound=TaskLike)
_SUBMITIT_CLUSTER = {"slurm": "slurm", "submitit-local": "local", "submitit-debug": "debug"}


@dataclass(slots=True)
class TimeBudget:
    """Wall-clock budget for starting runs (``seconds`` from ``started``, ``time.monotonic``).

    :meth:`allows_start` is true while time is left and the time left is at least ``longest_s``,
    the longest run recorded so far (dispatch to result; 0 before the first, so the first run
    starts whenever any time is left). Runs in flight always finish: the budget only decides which
    runs start, so a sweep ends within the budget up to the error of that estimate.
    """

    seconds: float
    started: float = field(default_factory=time.monotonic)
    longest_s: float = 0.0

    def left_s(self) -> float:
        """Seconds left (negative once the budget is spent)."""
        return self.started + self.seconds - time.monotonic()

    def allows_start(self) -> bool:
        """Whether a run started now is expected to end within the budget."""
        left = self.left_s()
        return left > 0 and left >= self.longest_s

    def record(self, seconds: float) -> None:
        """Note the wall time of a finished run."""
        self.longest_s = max(self.longest_s, seconds)


def _failed(task: TaskLike, exc: BaseException) -> RunOutcome:
    return RunOutcome(run_id=task.run_id, status="failed", error=f"{type(exc).__name__}: {exc}")


def _deferred(task: TaskLike) -> RunOutcome:
    return RunOutcome(run_id=task.run_id, status="deferred")


def _bar(total: int, desc: str, enabled: bool) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="run", disable=not enabled, dynamic_ncols=True)


def run_tasks(
    tasks: Sequence[T],
    fn: Callable[[T], RunOutcome],
    executor: ExecutorSpec,
    folder: Path,
    *,
    name: str = "eabench-collect",
    progress: bool = True,
    budget: TimeBudget | None = None,
) -> list[RunOutcome]:
    """Run ``fn(task)`` for every task with the chosen executor; outcomes in task order.

    Args:
        tasks: run tasks (picklable for every executor but ``inprocess``).
        fn: the task function, a module-level function (picklable).
        executor: kind, worker count and SLURM parameters.
        folder: where submitit keeps its job folders (``<output_dir>/_submitit``).
        name: job name shown by SLURM.
        progress: show a tqdm progress bar.
        budget: start runs only while they are expected to end within it (local executors);
            tasks never started get a ``deferred`` outcome.
    """
    if budget is not None and executor.kind == "slurm":
        raise InvalidArgumentError.for_field(
            "time_budget", budget.seconds, "needs a local executor (SLURM has its own time limits)"
        )
    if not tasks:
        return []
    desc = f"{name} [{executor.kind}]"
    if executor.kind == "inprocess":
        return _run_inprocess(tasks, fn, desc, progress, budget)
    if executor.kind == "pool":
        return _run_pool(tasks, fn, executor.workers, desc, progress, budget)
    if executor.kind in _SUBMITIT_CLUSTER:
        return _run_submitit(tasks, fn, executor, folder, name, desc, progress, budget)
    raise InvalidArgumentError.for_field("executor.kind", executor.kind, "unknown executor")


def _run_inprocess(
    tasks: Sequence[T],
    fn: Callable[[T], RunOutcome],
    desc: str,
    progress: bool,
    budget: TimeBudget | None,
) -> list[RunOutcome]:
    out: list[RunOutcome] = []
    with _bar(len(tasks), desc, progress) as bar:
        for task in tasks:
            if budget is not None and not budget.allows_start():
                out.append(_deferred(task))
                continue
            t0 = time.monotonic()
            try:
                out.append(fn(task))
            except Exception as exc:
                out.append(_failed(task, exc))
            if budget is not None:
                budget.record(time.monotonic() - t0)
            bar.update(1)
    return out


_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Pool-worker initializer: on Linux, get SIGKILL when the parent process dies."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import signal

    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _run_pool(
    tasks: Sequence[T],
    fn: Callable[[T], RunOutcome],
    workers: int,
    desc: str,
    progress: bool,
    budget: TimeBudget | None,
) -> list[RunOutcome]:
    """One task per free worker: nothing is queued ahead, so the budget (and Ctrl-C) stops the
    sweep after the runs in flight instead of after every queued run."""
    results: dict[int, RunOutcome] = {}
    ctx = multiprocessing.get_context("spawn")
    todo = iter(range(len(tasks)))
    running: dict[Future[RunOutcome], tuple[int, float]] = {}
    with (
        _bar(len(tasks), desc, progress) as bar,
        ProcessPoolExecutor(
            max_workers=min(workers, len(tasks)), mp_context=ctx, initializer=die_with_parent
        ) as pool,
    ):

        def fill() -> None:
            while len(running) < workers and (budget is None or budget.allows_start()):
                i = next(todo, None)
                if i is None:
                    return
                try:
                    running[pool.submit(fn, tasks[i])] = (i, time.monotonic())
                except Exception as exc:  # BrokenProcessPool: a worker died earlier
                    results[i] = _failed(tasks[i], exc)
                    bar.update(1)

        fill()
        while running:
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for fut in done:
                i, t0 = running.pop(fut)
                try:
                    results[i] = fut.result()
                except Exception as exc:  # includes BrokenProcessPool when a worker dies
                    results[i] = _failed(tasks[i], exc)
                if budget is not None:
                    budget.record(time.monotonic() - t0)
                bar.update(1)
            fill()
    return [results[i] if i in results else _deferred(tasks[i]) for i in range(len(tasks))]


def _submitit_parameters(executor: ExecutorSpec, name: str) -> dict[str, Any]:
    s = executor.slurm
    params: dict[str, Any] = {"name": name, "timeout_min": s.get("timeout_min", 24 * 60)}
    for key in ("gpus_per_node", "cpus_per_task", "mem_gb"):
        if key in s:
            params[key] = s[key]
    if executor.kind == "slurm":
        for key in ("partition", "array_parallelism", "account", "qos"):
            if key in s:
                params[f"slurm_{key}"] = s[key]
    return params


def _run_submitit(
    tasks: Sequence[T],
    fn: Callable[[T], RunOutcome],
    executor: ExecutorSpec,
    folder: Path,
    name: str,
    desc: str,
    progress: bool,
    budget: TimeBudget | None,
) -> list[RunOutcome]:
    import submitit

    ex = submitit.AutoExecutor(folder=folder, cluster=_SUBMITIT_CLUSTER[executor.kind])
    ex.update_parameters(**_submitit_parameters(executor, name))
    # SLURM throttles an array itself (array_parallelism); locally submit waves of `workers`.
    wave = len(tasks) if executor.kind == "slurm" else executor.workers
    results: list[RunOutcome] = []
    with _bar(len(tasks), desc, progress) as bar:
        for start in range(0, len(tasks), wave):
            chunk = list(tasks[start : start + wave])
            if budget is not None and not budget.allows_start():
                results.extend(_deferred(t) for t in chunk)
                continue
            t0 = time.monotonic()
            jobs = ex.map_array(fn, chunk)
            pending = dict(enumerate(jobs))
            done: dict[int, RunOutcome] = {}
            while pending:
                for i, job in list(pending.items()):
                    if executor.kind != "submitit-debug" and not job.done():
                        continue
                    # exception() first: the debug executor's result() would open pdb on error
                    error = job.exception()
                    if error is None:
                        done[i] = job.result()
                    else:  # FailedJobError, UncompletedJobError, or the task's own error
                        done[i] = _failed(chunk[i], error)
                    del pending[i]
                    bar.update(1)
                if pending:
                    time.sleep(0.5)
            if budget is not None:
                budget.record(time.monotonic() - t0)
            results.extend(done[i] for i in range(len(chunk)))
    return results
