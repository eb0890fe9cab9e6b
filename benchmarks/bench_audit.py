"""Audit runtime for 10,000 SIMULATED runs (6 meters x 5 epochs each; eabench.audit.simulate).

Times, separately: building the run logs (simulation, not part of the audit), stacking them into
arrays (``from_run_logs``), the statistics and verdicts (``run_audit``), and the report with its
figures (``write_report``), plus peak RSS. Results go to stdout and to
``benchmarks/results/audit.json``; the data is SIMULATED and labelled so.

    python benchmarks/bench_audit.py [--runs 10000]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from eabench.audit import DeviceInfo, from_run_logs, run_audit, write_report  # noqa: E402
from eabench.audit.simulate import SimulationSpec, simulate_run_logs  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=10_000)
    ap.add_argument("--repeats", type=int, default=3, help="repeats of run_audit (min taken)")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "audit.json")
    args = ap.parse_args(argv)

    spec = SimulationSpec(n_runs=args.runs)
    t = time.perf_counter()
    logs = simulate_run_logs(spec, seed=0)
    t_sim = time.perf_counter() - t

    t = time.perf_counter()
    data = from_run_logs(logs, off_socket_bounds_w=(110.0, 130.0), source="SIMULATED")
    data = dataclasses.replace(data, device=DeviceInfo("SIMULATED GPU", 75.0, 700.0, "spec"))
    t_stack = time.perf_counter() - t

    audit_s = []
    for _ in range(args.repeats):
        t = time.perf_counter()
        report = run_audit(data)
        audit_s.append(time.perf_counter() - t)

    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        write_report(data, report, tmp, formats=("md", "html"))
        t_report = time.perf_counter() - t

    r, w, c = data.shape
    result = {
        "data": "SIMULATED (eabench.audit.simulate; not measurements)",
        "runs": r,
        "windows_per_run": w,
        "channels": c,
        "readings": int(sum(len(rec.readings) for lg in logs for rec in lg.epochs)),
        "simulate_s": round(t_sim, 3),
        "from_run_logs_s": round(t_stack, 3),
        "run_audit_s_min": round(min(audit_s), 3),
        "run_audit_s_all": [round(x, 3) for x in audit_s],
        "write_report_s": round(t_report, 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "verdicts": {v.principle: v.status for v in report.verdicts},
        "machine": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
        },
    }
    print(json.dumps(result, indent=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
