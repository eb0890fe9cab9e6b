"""``eabench meters probe|validate``: which meters work here, and GPU meter validation."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from eabench.errors import InvalidArgumentError

__all__ = ["register"]


def register(sub: Any) -> None:
    """Add the ``meters`` subcommand to ``sub`` (an argparse subparsers object)."""
    p = sub.add_parser("meters", help="probe energy meters, validate GPU meters")
    msub = p.add_subparsers(dest="meters_command", metavar="ACTION")
    msub.required = True
    pr = msub.add_parser("probe", help="list the meters and why any is unavailable")
    pr.add_argument("--json", action="store_true", help="machine-readable output")
    pr.set_defaults(func=run_probe)
    va = msub.add_parser("validate", help="all GPU meters side by side on a GPU workload")
    va.add_argument("--out", type=Path, required=True, help="output directory")
    va.add_argument("--windows", default="1,4,12", help="window lengths in s (comma-separated)")
    va.add_argument("--repeats", type=int, default=2, help="windows per length and kind")
    va.add_argument("--idle-s", type=float, default=5.0, help="length of the idle window")
    va.add_argument("--rate-hz", type=float, default=10.0, help="NVML power polling rate")
    va.add_argument("--device", type=int, default=0, help="CUDA device index")
    va.add_argument("--no-smi", action="store_true", help="leave out gpu.smi_poll")
    va.add_argument(
        "--simulate",
        action="store_true",
        help="use the fake NVML (simulated H100, bursty trace); results are flagged SIMULATED",
    )
    va.set_defaults(func=run_validate)


def run_probe(args: argparse.Namespace) -> int:
    """Print every standard meter with its availability; exit 0."""
    from eabench.meters.registry import probe

    rows = probe()
    if args.json:
        print(json.dumps([a.to_dict() for a in rows], indent=2))
        return 0
    for a in rows:
        state = "available" if a.available else "unavailable"
        extra = f" [{', '.join(a.devices)}]" if a.devices else ""
        reason = f": {a.reason}" if a.reason else ""
        print(f"{a.meter:18s} {state}{extra}{reason}")
    return 0


def run_validate(args: argparse.Namespace) -> int:
    """Run :func:`eabench.meters.validate.run_validation`; unavailable GPU -> exit 2."""
    from eabench.meters.validate import run_validation

    try:
        windows = [float(x) for x in args.windows.split(",") if x.strip()]
    except ValueError as exc:
        raise InvalidArgumentError.for_field("--windows", args.windows, "comma-separated") from exc
    if not windows or min(windows) <= 0:
        raise InvalidArgumentError.for_field("--windows", args.windows, "positive lengths")
    kw: dict[str, Any] = {
        "windows_s": windows,
        "repeats": args.repeats,
        "idle_s": args.idle_s,
        "rate_hz": args.rate_hz,
        "device": args.device,
        "include_smi": not args.no_smi,
    }
    if args.simulate:
        kw.update(_simulation())
    summary = run_validation(args.out, **kw)
    for w in summary["windows"]:
        parts = [f"{w['kind']:>6s} {w['window_s']:>5g}s"]
        for m in w["meters"]:
            e = "null" if m["energy_j"] is None else f"{m['energy_j']:.1f} J"
            parts.append(f"{m['meter']}={e}")
        print("  ".join(parts))
    print(f"wrote {args.out / 'readings.jsonl'} and {args.out / 'summary.json'}")
    return 0


def _simulation() -> dict[str, Any]:
    """Fake NVML H100 whose power follows the workload: idle 70 W, steady 300 W, bursty
    70/350 W square wave (100 ms period, 50% duty) seen by a 25-ms-in-100-ms sensor."""
    from eabench.meters.fakes import FakeClock, FakeGpu, FakeNvml, PowerTrace, square_wave

    clock = FakeClock()
    gpu = FakeGpu(PowerTrace.constant(70.0), sensor_phase_s=0.05)
    nvml = FakeNvml(clock, [gpu])
    history: list[PowerTrace] = [gpu.trace]

    def workload(kind: str, seconds: float) -> None:
        t0 = clock.now_s()
        busy = (
            PowerTrace.constant(300.0)
            if kind == "steady"
            else square_wave(70.0, 350.0, 0.1, 0.5, t0, t0 + seconds)
        )
        gpu.trace = gpu.trace.splice(t0, busy).splice(t0 + seconds, PowerTrace.constant(70.0))
        history[0] = gpu.trace
        clock.sleep(seconds)

    return {
        "nvml": nvml,
        "clock": clock,
        "include_smi": False,
        "workload": workload,
        "truth": lambda a, b: history[0].energy_j(a / 1e9, b / 1e9),
    }
