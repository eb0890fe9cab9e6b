"""``eabench evaluate ARTIFACT --data DATASET.h5``: recompute an artifact's held-out metrics."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

__all__ = ["register"]


def register(sub: Any) -> None:
    """Add the ``evaluate`` subcommand to ``sub`` (an argparse subparsers object)."""
    p = sub.add_parser("evaluate", help="recompute a surrogate artifact's held-out metrics")
    p.add_argument("artifact", type=Path, help="artifact directory (with manifest.json)")
    p.add_argument("--data", type=Path, required=True, help="consolidated dataset (.h5)")
    p.add_argument("--json", action="store_true", help="print JSON only")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print recomputed and recorded metrics side by side; exit 0."""
    from eabench.manifest import read_manifest
    from eabench.training.recipes import evaluate

    got = evaluate(args.artifact, args.data)
    if args.json:
        print(json.dumps(got, indent=1, sort_keys=True))
        return 0
    recorded = read_manifest(args.artifact).get("metrics") or {}
    for key, val in got.items():
        print(
            f"{key}:\n  recomputed {json.dumps(val)}\n  manifest   {json.dumps(recorded.get(key))}"
        )
    return 0
