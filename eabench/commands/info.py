"""``eabench info [NAME]``: facts about eabench, a search space or a benchmark."""

from __future__ import annotations

import argparse
import json
from typing import Any

from eabench import __version__
from eabench.errors import UnknownBenchmarkError
from eabench.registry import BENCHMARKS, embedded_dir
from eabench.spaces.registry import SPACES, make_space

__all__ = ["register"]


def register(sub: Any) -> None:
    """Add the ``info`` subcommand to ``sub`` (an argparse subparsers object)."""
    p = sub.add_parser("info", help="list benchmarks and spaces, or print facts about one")
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


def _space_facts(name: str) -> dict[str, Any]:
    space = make_space(name)
    features = space.feature_names()
    return {"space": name, "num_features": len(features), "features": features}


def _benchmark_facts(name: str) -> dict[str, Any]:
    spec = BENCHMARKS[name]
    folder = embedded_dir(spec)
    return {
        "benchmark": name,
        "space": spec.space,
        "dataset": spec.dataset,
        "fidelity": spec.fidelity.to_dict(),
        "hub_repo": spec.hub_repo,
        "hub_revision": spec.hub_revision,
        "embedded_artifact": None if folder is None else str(folder),
        "available": folder is not None or spec.hub_revision is not None,
        "how_to_get": spec.how_to_get,
    }


def run(args: argparse.Namespace) -> int:
    """Print the facts; exit status 0."""
    facts: dict[str, Any] = {"eabench": __version__}
    if args.name is None:
        facts["benchmarks"] = sorted(BENCHMARKS)
        facts["spaces"] = sorted(SPACES)
    elif args.name == "nb101-7v":  # both a space and a benchmark: the space's facts, and more
        facts.update(_nb101_facts())
        facts["benchmark"] = _benchmark_facts("nb101-7v")
    elif args.name in BENCHMARKS:
        facts.update(_benchmark_facts(args.name))
    elif args.name in SPACES:
        facts.update(_space_facts(args.name))
    else:
        known = ", ".join(sorted({*BENCHMARKS, *SPACES}))
        raise UnknownBenchmarkError(
            f"no search space or benchmark named {args.name!r}; known: {known}"
        )
    if args.json:
        print(json.dumps(facts, indent=2))
    else:
        for key, value in facts.items():
            print(f"{key}: {value}")
    return 0
