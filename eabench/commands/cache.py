"""``eabench cache list|verify|clear``: the eabench artifacts in the Hugging Face cache."""

from __future__ import annotations

import argparse
import json
from typing import Any

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    """Add the ``cache`` subcommand to ``sub`` (an argparse subparsers object)."""
    p = sub.add_parser("cache", help="list, verify or clear cached artifacts")
    p.add_argument("action", choices=("list", "verify", "clear"))
    p.add_argument("--repo", help="clear: only this Hub repo (e.g. eabench/nb101-7v)")
    p.add_argument("--cache-dir", help="Hugging Face cache folder (default: the standard one)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Exit status 0; ``verify`` exits 1 when a cached file does not match its manifest."""
    from eabench import hub

    if args.action == "list":
        arts = hub.cache_list(args.cache_dir)
        if args.json:
            print(json.dumps([a.to_dict() for a in arts], indent=2))
        elif not arts:
            print("no eabench artifacts in the cache")
        for a in arts if not args.json else []:
            refs = ",".join(a.refs) or "-"
            print(f"{a.repo_id}@{a.commit} refs={refs} {a.size_bytes} B {a.n_files} files {a.path}")
        return 0
    if args.action == "verify":
        report = hub.cache_verify(args.cache_dir)
        bad = [(a, p) for a, p in report if p is not None]
        if args.json:
            rows = [{**a.to_dict(), "ok": p is None, "problem": p} for a, p in report]
            print(json.dumps(rows, indent=2))
        else:
            for a, p in report:
                print(f"{a.repo_id}@{a.commit}: {'ok' if p is None else 'BAD: ' + p}")
            if not report:
                print("no eabench artifacts in the cache")
        return 1 if bad else 0
    freed = hub.cache_clear(args.cache_dir, repo_id=args.repo)
    if args.json:
        print(json.dumps({"freed_bytes": freed}))
    else:
        print(f"freed {freed} bytes")
    return 0
