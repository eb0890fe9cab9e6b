"""The ``eabench`` command line: one subcommand module per command in ``eabench.commands``.

Each module ``eabench/commands/<name>.py`` exposes ``register(subparsers)``, which adds its parser
and sets ``func(args) -> int``. Heavy imports (torch, matplotlib) happen inside ``func`` only, so
``eabench --help`` stays fast. Every :class:`~eabench.errors.EabenchError` becomes a one-line
message on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from eabench import __version__
from eabench.errors import EabenchError

__all__ = ["build_parser", "main"]

# Order is the order shown in --help.
_COMMANDS: tuple[str, ...] = (
    "info",
    "query",
    "download",
    "cache",
    "collect",
    "ingest",
    "meters",
    "train",
    "evaluate",
    "audit",
)


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="eabench",
        description="Energy-aware NAS benchmark: query, collect, ingest, audit, train.",
    )
    parser.add_argument("--version", action="version", version=f"eabench {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in _COMMANDS:
        module = importlib.import_module(f"eabench.commands.{name}")
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        status: int = args.func(args)
    except EabenchError as exc:
        print(f"eabench: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. `eabench query ... | head`: the reader left; end quietly
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so the interpreter's final flush does not fail
        return 0
    return status


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
