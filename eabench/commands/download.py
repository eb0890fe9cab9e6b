"""``eabench download NAME --revision COMMIT``: fetch and verify an artifact into the HF cache."""

from __future__ import annotations

import argparse
import json
from typing import Any

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    """Add the ``download`` subcommand to ``sub`` (an argparse subparsers object)."""
    p = sub.add_parser("download", help="download a surrogate artifact from the Hugging Face Hub")
    p.add_argument("name", help="benchmark name, e.g. nb101-7v")
    p.add_argument("--revision", help="Hub commit (default: the one this eabench release pins)")
    p.add_argument("--cache-dir", help="Hugging Face cache folder (default: the standard one)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Download, verify every file's sha256, print where it is; exit status 0."""
    from eabench import hub, registry
    from eabench.errors import InvalidArgumentError

    spec = registry.get_spec(args.name)
    revision = args.revision or spec.hub_revision
    if revision is None:  # a known benchmark: the missing piece is the revision, not the name
        raise InvalidArgumentError(
            f"--revision = None: {spec.name} is known but no published revision is pinned in "
            f"this eabench release; pass --revision COMMIT of {spec.hub_repo}. "
            f"Otherwise: {spec.how_to_get}",
            field="revision",
            value=None,
            rule="required: no pinned revision",
        )
    folder, commit = hub.fetch(
        spec.hub_repo, revision, name=spec.name, cache_dir=args.cache_dir, offline=False
    )
    facts = {"name": spec.name, "repo_id": spec.hub_repo, "commit": commit, "path": str(folder)}
    if args.json:
        print(json.dumps(facts, indent=2))
    else:
        print(f"{spec.name}: {spec.hub_repo}@{commit} verified, in {folder}")
    return 0
