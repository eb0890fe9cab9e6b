"""``eabench ingest SRC... --out DATASET.h5``: validate and convert run logs and foreign data.

Every good run is kept; every bad file is reported with its reason on stderr, in the report
file ``<out>.ingest-report.json`` and, with ``--json``, on stdout as
``{"ingested": n, "failed": m, "errors": [{"path": ..., "reason": ...}], ...}``. Exit status 0,
or 1 when nothing was ingested or (with ``--strict``) any file failed.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

__all__ = ["register", "run"]

_BAR_MIN_FILES = 100


def register(sub: Any) -> None:
    """Add the ``ingest`` subcommand to ``sub`` (an argparse subparsers object)."""
    from eabench.logs.ingest import FORMATS

    p = sub.add_parser(
        "ingest",
        help="convert run logs and foreign data (EC-NAS, NB101, pycls, ...) into a dataset",
        description=__doc__,
    )
    p.add_argument("sources", nargs="+", metavar="SRC", help="files or folders to ingest")
    p.add_argument("--out", required=True, type=Path, help="the HDF5 dataset to write")
    p.add_argument("--format", choices=FORMATS, default=None, help="skip detection")
    p.add_argument("--strict", action="store_true", help="exit 1 if any file failed")
    p.add_argument("--json", action="store_true", help="print the report as JSON on stdout")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Ingest, report, and return the exit status."""
    from eabench.logs.ingest import ingest, report_json

    def bar(files: Iterable[Path], n: int) -> Iterable[Path]:
        from tqdm import tqdm

        bar: Iterable[Path] = tqdm(
            files, total=n, desc="ingest", unit="file", disable=n < _BAR_MIN_FILES
        )
        return bar

    report = ingest(args.sources, args.out, fmt=args.format, progress=bar)
    report_path = Path(f"{args.out}.ingest-report.json")
    report_path.parent.mkdir(parents=True, exist_ok=True)
    report_path.write_text(report_json(report) + "\n")
    for e in report.errors:
        print(f"eabench ingest: FAILED {e['path']}: {e['reason']}", file=sys.stderr)
    summary = (
        f"ingested {report.ingested} runs/rows into {report.out or '(nothing written)'}; "
        f"{report.failed} file(s) failed; report: {report_path}"
    )
    if args.json:
        print(report_json(report))
        print(summary, file=sys.stderr)
    else:
        for name, n in report.tables.items():
            print(f"  {name}: {n} rows")
        print(summary)
    if report.ingested == 0 or (args.strict and report.failed):
        return 1
    return 0
