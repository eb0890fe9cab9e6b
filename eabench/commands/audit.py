"""``eabench audit DATASET_OR_RUNS --out DIR``: the data-quality report of an energy dataset.

Applies the seed paper's three design principles (reliable measurements, range of GPU usage,
holistic cost) and writes ``audit.json``, PNG figures and ``audit.md`` and/or ``audit.html``.
Matplotlib (Agg backend) is imported only when the figures are drawn.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

from eabench.errors import InvalidArgumentError

__all__ = ["register"]


def register(sub: Any) -> None:
    """Add the ``audit`` subcommand to ``sub`` (an argparse subparsers object)."""
    p = sub.add_parser(
        "audit",
        help="data-quality report of an energy dataset (meter agreement, sampling, GPU range, "
        "holistic cost)",
    )
    p.add_argument("input", type=Path, help="a consolidated dataset (.h5) or a folder of runs")
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.add_argument(
        "--format",
        choices=("md", "html", "both"),
        default="md",
        help="report page format (default md); audit.json is always written",
    )
    p.add_argument("--table", help="audit only this dataset table (space/dataset/table)")
    p.add_argument("--gpu-name", help="GPU name, when the input does not record it")
    p.add_argument("--gpu-idle-w", type=float, help="GPU idle power in W (from a calibration)")
    p.add_argument("--gpu-max-w", type=float, help="GPU maximum power in W (power limit)")
    p.add_argument(
        "--off-socket-w",
        type=float,
        nargs=2,
        metavar=("LOWER", "UPPER"),
        help="calibration bounds on off-socket power in W",
    )
    p.add_argument(
        "--calibration",
        type=Path,
        help="a calibration profile JSON (eabench.meters.calibration); gives --off-socket-w",
    )
    p.add_argument("--bound", help="which busy bound of the profile (default: its first)")
    p.add_argument("--reference", help="channel to treat as ground truth for agreement")
    p.add_argument("--title", default=None, help="report title")
    p.add_argument("--no-figures", action="store_true", help="skip the PNG figures")
    p.add_argument("--json", action="store_true", help="print the verdicts as JSON")
    p.set_defaults(func=run)


def _bounds(args: argparse.Namespace) -> tuple[float, float] | None:
    if args.calibration is not None:
        if args.off_socket_w is not None:
            raise InvalidArgumentError.for_field(
                "--calibration", str(args.calibration), "give either it or --off-socket-w"
            )
        from eabench.meters.calibration import CalibrationProfile

        profile = CalibrationProfile.load(args.calibration)
        name = args.bound or profile.bounds[0].name
        b = profile.bound(name)
        return (b.p_off_lo_w, b.p_off_hi_w)
    if args.off_socket_w is not None:
        return (float(args.off_socket_w[0]), float(args.off_socket_w[1]))
    return None


def run(args: argparse.Namespace) -> int:
    """Audit, write the report, print a summary; exit 0 (errors raise EabenchError)."""
    import dataclasses

    from eabench.audit import load_input, run_audit, write_report
    from eabench.audit.load import device_for

    data = load_input(
        args.input,
        table=args.table,
        off_socket_bounds_w=_bounds(args),
        reference_channel=args.reference,
    )
    dev = data.device
    if args.gpu_name is not None:
        looked_up = device_for(args.gpu_name)
        dev = dataclasses.replace(
            dev,
            name=args.gpu_name,
            max_power_w=dev.max_power_w if dev.max_power_w is not None else looked_up.max_power_w,
            source=dev.source if dev.max_power_w is not None else looked_up.source,
        )
    if args.gpu_max_w is not None:
        dev = dataclasses.replace(dev, max_power_w=args.gpu_max_w, source="command line")
    if args.gpu_idle_w is not None:
        dev = dataclasses.replace(dev, idle_power_w=args.gpu_idle_w)
    data = dataclasses.replace(data, device=dev)
    report = run_audit(data)
    formats = ("md", "html") if args.format == "both" else (args.format,)
    title = args.title or f"eabench audit: {args.input.name}"
    figures = not args.no_figures
    if figures and importlib.util.find_spec("matplotlib") is None:
        print(
            "eabench audit: note: matplotlib is not installed, so the report has no figures "
            "(pip install 'eabench[plot]' to draw them; --no-figures silences this note)",
            file=sys.stderr,
        )
        figures = False
    written = write_report(data, report, args.out, formats=formats, title=title, figures=figures)
    if args.json:
        print(
            json.dumps(
                {
                    "verdicts": {
                        v.principle: {"status": v.status, "rule": v.deciding_rule}
                        for v in report.verdicts
                    },
                    "files": {k: str(v) for k, v in written.items()},
                },
                indent=2,
            )
        )
    else:
        for v in report.verdicts:
            print(f"{v.principle:9s} {v.status.upper():5s} [{v.deciding_rule}] {v.message}")
        print(f"report: {written.get('md') or written.get('html')}")
    return 0
