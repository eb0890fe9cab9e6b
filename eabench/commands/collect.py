"""``eabench collect SWEEP.toml``: train a sweep's configs with meters, writing raw run logs.

Options: ``--dry-run`` (validate the spec, list the planned runs and how far each is; trains
nothing and imports no torch), ``--executor`` / ``--workers`` (override the spec's executor),
``--time-budget SECONDS`` (start a run only while it is expected to end within SECONDS of the
command's start; runs in flight finish, the rest are ``deferred`` to the next invocation; local
executors), ``--no-progress``, ``--json`` (print the summary as JSON). Exit status: 0 when no run
failed (deferred runs are no failure), 1 when some failed (the summary lists them with reasons),
2 on a bad spec or option.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

__all__ = ["register"]


def register(sub: Any) -> None:
    """Add the ``collect`` subcommand to ``sub`` (an argparse subparsers object)."""
    from eabench.collect.spec import EXECUTORS

    p = sub.add_parser(
        "collect",
        help="train a sweep (TOML spec) with energy meters into raw run logs",
        description="Train the configs of a sweep spec with every meter watching each epoch; "
        "resumable and idempotent (finished runs are never trained twice).",
    )
    p.add_argument(
        "spec", help="sweep spec TOML, e.g. data_collection/sweeps/smoke_regnet_hpo.toml"
    )
    p.add_argument("--dry-run", action="store_true", help="plan and report only; train nothing")
    p.add_argument("--executor", choices=EXECUTORS, help="override [executor].kind")
    p.add_argument("--workers", type=int, help="override [executor].workers")
    p.add_argument(
        "--time-budget",
        type=float,
        metavar="SECONDS",
        help="start a run only while it is expected to end within SECONDS (the longest run so "
        "far is the estimate); runs in flight finish, the rest are deferred to the next "
        "invocation (local executors)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run (or plan) the sweep; see the module docstring for exit statuses."""
    from eabench.collect.harness import collect, plan_status
    from eabench.collect.spec import load_spec
    from eabench.errors import InvalidArgumentError

    budget = args.time_budget
    if budget is not None and not (budget > 0 and budget < float("inf")):
        raise InvalidArgumentError.for_field("--time-budget", budget, "must be > 0 seconds")
    spec = load_spec(args.spec)
    if args.executor is not None or args.workers is not None:
        spec = spec.with_executor(args.executor, args.workers)
    if args.dry_run:
        planned = plan_status(spec)
        rows = [
            {
                "run_id": p.task.run_id,
                "config_id": p.task.config_id,
                "epochs_done": p.epochs_done,
                "target_epochs": p.task.target_epochs,
                "schedule_epochs": p.task.schedule_epochs,
                "state": "error" if p.error else ("done" if p.finished else "pending"),
                "error": p.error,
            }
            for p in planned
        ]
        if args.json:
            doc = {"sweep": spec.name, "output_dir": str(spec.output_dir), "runs": rows}
            print(json.dumps(doc, indent=2))
        else:
            print(f"sweep {spec.name}: {len(rows)} runs -> {spec.output_dir}")
            print(
                f"executor {spec.executor.kind} (workers {spec.executor.workers}); "
                f"meters {', '.join(spec.meters.names)}"
            )
            for r in rows:
                line = f"  {r['run_id']}  {r['epochs_done']}/{r['target_epochs']}  {r['state']}"
                print(line + (f"  {r['error']}" if r["error"] else ""))
        return 0
    if budget is not None and spec.executor.kind == "slurm":
        raise InvalidArgumentError.for_field(
            "--time-budget", budget, "needs a local executor (SLURM has its own time limits)"
        )
    summary = collect(spec, progress=not args.no_progress, time_budget_s=budget)
    if args.json:
        print(json.dumps(summary.to_dict(), indent=2))
    else:
        print(summary.render())
        deferred = summary.counts.get("deferred", 0)
        if deferred:
            print(f"time budget reached: {deferred} runs deferred (run the command again)")
        print(f"run logs: {spec.output_dir / 'logs'}")
    return 1 if summary.counts.get("failed", 0) else 0
