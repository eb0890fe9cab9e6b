"""The task function every executor calls: idempotent, locked, never raises.

``run_task(task)``:

1. takes an exclusive, non-blocking ``fcntl.flock`` on ``<output_dir>/locks/<run_id>.lock``; if
   another process holds it the outcome is ``busy`` (the other process is training the run);
2. reads the run log if there is one: if it already holds ``target_epochs`` epochs the outcome is
   ``already_done`` and nothing is trained (a finished run id is never trained twice);
3. otherwise trains from the first missing epoch (:func:`eabench.collect.trainer.train_task`).

Any exception becomes a ``failed`` outcome carrying ``"Type: message"``, also appended to
``<output_dir>/sweeps/<sweep name>.failures.jsonl`` so that failures survive the process.
Note: ``flock`` is reliable on local disks and on most cluster file systems (Lustre, GPFS,
NFSv4); on file systems without it, give each SLURM array task distinct run ids (the default:
one run per task).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from pathlib import Path

from eabench.collect.outcome import RunOutcome
from eabench.collect.plan import RunTask
from eabench.logs import read_run_log, run_log_path

__all__ = ["run_status", "run_task"]


def run_status(task: RunTask) -> int:
    """Epochs already recorded for ``task`` (0 when there is no log).

    Raises:
        InvalidLogError: a log exists but is corrupt or belongs to another config/seed.
    """
    path = run_log_path(task.spec.output_dir / "logs", task.run_id)
    if not path.exists():
        return 0
    log = read_run_log(path)
    from eabench.collect.trainer import check_header

    check_header(task, log.header)
    return log.next_epoch


def _record_failure(task: RunTask, outcome: RunOutcome) -> None:
    line = json.dumps({"time_unix_s": time.time(), **outcome.to_dict()}) + "\n"
    folder = Path(task.spec.output_dir) / "sweeps"
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / f"{task.spec.name}.failures.jsonl", "a", encoding="utf-8") as fh:
        fh.write(line)


def run_task(task: RunTask) -> RunOutcome:
    """Execute one run task (see the module docstring); returns its outcome, never raises."""
    out_dir = task.spec.output_dir
    try:
        locks = out_dir / "locks"
        locks.mkdir(parents=True, exist_ok=True)
        fd = os.open(locks / f"{task.run_id}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        return RunOutcome(task.run_id, "failed", error=f"{type(exc).__name__}: {exc}")
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return RunOutcome(task.run_id, "busy", error="another process holds the run lock")
        try:
            done = run_status(task)
            if done >= task.target_epochs:
                return RunOutcome(task.run_id, "already_done", epochs_done=done)
            existing = None
            if done > 0 or run_log_path(out_dir / "logs", task.run_id).exists():
                existing = read_run_log(run_log_path(out_dir / "logs", task.run_id)).header
            from eabench.collect.trainer import train_task

            return train_task(task, existing)
        except Exception as exc:
            outcome = RunOutcome(task.run_id, "failed", error=f"{type(exc).__name__}: {exc}")
            with contextlib.suppress(OSError):
                _record_failure(task, outcome)
            return outcome
    finally:
        os.close(fd)  # releases the lock
