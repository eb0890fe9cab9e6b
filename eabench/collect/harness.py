"""The sweep harness: spec -> run tasks -> executor -> run logs + end-of-sweep summary.

Output layout under ``sweep.output_dir``::

    logs/<run_id>.runlog.jsonl     one run log per run (format v1; ``eabench ingest`` reads them)
    checkpoints/<run_id>/epoch_k.pt  the latest state of unfinished runs (deleted when finished)
    locks/<run_id>.lock            per-run locks (empty files)
    sweeps/<name>.plan.json        the spec as run and the planned run ids (one file per sweep
                                   name: several specs may share an output folder)
    sweeps/<name>.summary.json     the last summary (runs, failures, device hours, energy)
    sweeps/<name>.failures.jsonl   every failure with its reason, appended
    _submitit/                     submitit's job folders (submitit executors only)

Idempotent and resumable: runs whose logs already hold their target epochs are not dispatched at
all (and the task function checks again under the run's lock); unfinished runs resume at their
first missing epoch. Re-running the same command after a kill therefore finishes the sweep.
With a time budget (``collect(..., time_budget_s=...)``, ``eabench collect --time-budget``) runs
are started only while they are expected to end within it; the others are ``deferred``, and the
next invocation continues with them.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eabench.collect.executors import TimeBudget, run_tasks
from eabench.collect.outcome import RunOutcome, SweepSummary, summarise
from eabench.collect.plan import RunTask, plan_sweep
from eabench.collect.runner import run_status, run_task
from eabench.collect.spec import SweepSpec
from eabench.errors import EabenchError

__all__ = ["PlannedRun", "collect", "plan_status", "sweep_files_dir"]


@dataclass(frozen=True, slots=True)
class PlannedRun:
    """A run of the sweep and its state on disk: ``epochs_done`` of ``target_epochs``."""

    task: RunTask
    epochs_done: int
    error: str | None = None

    @property
    def finished(self) -> bool:
        return self.error is None and self.epochs_done >= self.task.target_epochs


def plan_status(spec: SweepSpec) -> list[PlannedRun]:
    """Every planned run with how far its log is (corrupt/foreign logs carry ``error``)."""
    out = []
    for task in plan_sweep(spec):
        try:
            out.append(PlannedRun(task, run_status(task)))
        except EabenchError as exc:
            out.append(PlannedRun(task, 0, f"{type(exc).__name__}: {exc}"))
    return out


def sweep_files_dir(spec: SweepSpec) -> Path:
    """``<output_dir>/sweeps``: plans, summaries and failure lists, one set per sweep name."""
    return Path(spec.output_dir) / "sweeps"


def _write_plan(spec: SweepSpec, planned: list[PlannedRun]) -> None:
    doc: dict[str, Any] = {
        "name": spec.name,
        "spec_path": None if spec.source_path is None else str(spec.source_path),
        "space": spec.space,
        "dataset": spec.dataset,
        "seed": spec.seed,
        "protocol": spec.protocol.to_dict(),
        "protocol_digest": spec.protocol.digest(),
        "meters": list(spec.meters.names),
        "executor": spec.executor.kind,
        "runs": [
            {
                "run_id": p.task.run_id,
                "config_id": p.task.config_id,
                "schedule_epochs": p.task.schedule_epochs,
                "target_epochs": p.task.target_epochs,
                "config": p.task.config,
            }
            for p in planned
        ],
    }
    folder = sweep_files_dir(spec)
    folder.mkdir(parents=True, exist_ok=True)
    from eabench._atomic import atomic_write_text

    atomic_write_text(folder / f"{spec.name}.plan.json", json.dumps(doc, indent=2) + "\n")


def _prepare_data(spec: SweepSpec, progress: bool) -> None:
    """Decode CIFAR-10 into the cache once, before workers start (they then only load it)."""
    from eabench.collect.data import cifar10_cache

    cifar10_cache(spec.data.source, spec.data.cache_dir, progress=progress)


def collect(
    spec: SweepSpec, *, progress: bool = True, time_budget_s: float | None = None
) -> SweepSummary:
    """Run the sweep to completion (as far as it can) and return the summary.

    Finished runs are reported as ``already_done``; logs that cannot be resumed (corrupt, or a
    different config under the same run id) as ``failed`` with the reason; the rest are
    dispatched to ``spec.executor``. ``time_budget_s`` (local executors; counted from this call)
    starts a run only while the time left is at least the longest run so far; runs in flight
    always finish, runs never started are ``deferred`` (see
    :class:`~eabench.collect.executors.TimeBudget`).
    """
    budget = None if time_budget_s is None else TimeBudget(time_budget_s)
    planned = plan_status(spec)
    _write_plan(spec, planned)
    outcomes: dict[str, RunOutcome] = {}
    pending: list[RunTask] = []
    for p in planned:
        if p.error is not None:
            outcomes[p.task.run_id] = RunOutcome(p.task.run_id, "failed", error=p.error)
        elif p.finished:
            outcomes[p.task.run_id] = RunOutcome(
                p.task.run_id, "already_done", epochs_done=p.epochs_done
            )
        else:
            pending.append(p.task)
    if pending and spec.executor.kind != "slurm":
        _prepare_data(spec, progress)
    results = run_tasks(
        pending,
        run_task,
        spec.executor,
        Path(spec.output_dir) / "_submitit",
        name=spec.name,
        progress=progress,
        budget=budget,
    )
    done_before = {p.task.run_id: p.epochs_done for p in planned}
    for r in results:
        if r.status == "deferred":  # untouched: its log holds what it held before
            r = dataclasses.replace(r, epochs_done=done_before[r.run_id])
        outcomes[r.run_id] = r
    summary = summarise(spec.name, (outcomes[p.task.run_id] for p in planned))
    summary.write(sweep_files_dir(spec) / f"{spec.name}.summary.json")
    return summary
