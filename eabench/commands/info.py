"""``eabench info [NAME]``: facts about eabench, a search space or a benchmark."""

from __future__ import annotations

import argparse
import json
from typing import Any

from eabench import __version__
from eabench.errors import UnknownBenchmarkError

__all__ = ["register"]

_SPACES: tuple[str, ...] = ("nb101-7v",)


def register(sub: Any) -> None:
    """Add the ``info`` subcommand to ``sub`` (an argparse subparsers object)."""
    p = sub.add_parser("info", help="print facts about eabench or a search space")
    p.add_argument("name", nargs="?", help="a search space or benchmark name, e.g. nb101-7v")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)


def _nb101_facts() -> dict[str, Any]:
    from eabench.spaces.nb101 import NB101Space
    from eabench.spaces.nb101.cache import sorted_hashes_sha256

    space = NB101Space()
    data = space.data
    digest = sorted_hashes_sha256(data.hashes())
    return {
        "space": space.name,
        "num_cells": len(data),
        "max_vertices": space.max_vertices,
        "max_edges": space.max_edges,
        "ops": list(space.ops),
        "num_features": len(space.feature_names()),
        "cache_file": str(data.path),
        "cache_file_bytes": data.path.stat().st_size,
        "sorted_hashes_sha256": digest,
        "sorted_hashes_sha256_matches_record": digest == data.hashes_sha256,
    }


def run(args: argparse.Namespace) -> int:
    """Print the facts; exit status 0."""
    facts: dict[str, Any] = {"eabench": __version__}
    if args.name is not None:
        if args.name == "nb101-7v":
            facts.update(_nb101_facts())
        else:
            raise UnknownBenchmarkError(
                f"no search space or benchmark named {args.name!r}; known: {', '.join(_SPACES)}"
            )
    if args.json:
        print(json.dumps(facts, indent=2))
    else:
        for key, value in facts.items():
            print(f"{key}: {value}")
    return 0
