"""``eabench info [NAME]``: facts about eabench, a search space or a benchmark."""

from __future__ import annotations

import argparse
import json
from typing import Any

from eabench import __version__

__all__ = ["register"]


def register(sub: Any) -> None:
    """Add the ``info`` subcommand to ``sub`` (an argparse subparsers object)."""
    p = sub.add_parser("info", help="print facts about eabench or a search space")
    p.add_argument("name", nargs="?", help="a search space or benchmark name, e.g. nb101-7v")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the facts; exit status 0."""
    facts: dict[str, Any] = {"eabench": __version__}
    if args.json:
        print(json.dumps(facts, indent=2))
    else:
        for key, value in facts.items():
            print(f"{key}: {value}")
    return 0
