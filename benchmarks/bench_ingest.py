"""Ingest throughput and dataset size.

Measures, on the staged real data (``$EABENCH_SHARED/data`` or ``../shared/data``):

- ``ingest`` of the 2,805 EC-NAS results.json runs (format detection, validation, conversion,
  HDF5 write): runs/s;
- ``ingest`` of everything (EC-NAS runs, 7v_data.pt joined with NB101, NB101 labels);
- the deterministic rebuild of ``data/eabench-data.h5`` and its size;
- ``open_dataset`` + loading each table;
- the run-log writer: fsync'd epoch appends per second.

Results go to stdout and ``benchmarks/results/ingest.json``. Timings depend on the machine and
its load (the numbers in the committed file name the host's CPU count and load average).

    python benchmarks/bench_ingest.py
"""

from __future__ import annotations

import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, "") and str(Path(__file__).resolve().parents[1]) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from eabench.logs import RunLogWriter, open_dataset
from eabench.logs.ingest import ingest
from eabench.logs.realdata import build_real_dataset
from tests.logs.helpers import header, record

REPO = Path(__file__).resolve().parents[1]


def _shared() -> Path:
    env = os.environ.get("EABENCH_SHARED")
    for cand in ([Path(env)] if env else []) + [REPO.parent / "shared"]:
        if (cand / "data" / "ecnas").is_dir():
            return cand / "data"
    raise SystemExit("bench_ingest needs the staged data: set EABENCH_SHARED=/path/to/shared")


def main() -> None:
    data = _shared()
    res: dict[str, object] = {
        "host": {
            "cpus": os.cpu_count(),
            "loadavg_1min": os.getloadavg()[0],
            "python": platform.python_version(),
        }
    }
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        src = data / "ecnas"
        t0 = time.perf_counter()
        rep = ingest([src / "train_model_results", src / "graphs"], t / "ecnas.h5")
        dt = time.perf_counter() - t0
        res["ecnas_results"] = {
            "runs": rep.ingested,
            "failed": rep.failed,
            "seconds": round(dt, 3),
            "runs_per_s": round(rep.ingested / dt, 1),
            "dataset_bytes": (t / "ecnas.h5").stat().st_size,
        }
        t0 = time.perf_counter()
        rep = ingest([data / "ecnas", data / "nb101"], t / "all.h5")
        dt = time.perf_counter() - t0
        res["ingest_all"] = {
            "runs_and_label_rows": rep.ingested,
            "tables": rep.tables,
            "failed": rep.failed,
            "seconds": round(dt, 3),
            "dataset_bytes": (t / "all.h5").stat().st_size,
        }
        t0 = time.perf_counter()
        counts = build_real_dataset(data, t / "rebuild.h5")
        dt = time.perf_counter() - t0
        shipped = REPO / "data" / "eabench-data.h5"
        res["rebuild_data"] = {
            "rows": counts,
            "seconds": round(dt, 3),
            "bytes": (t / "rebuild.h5").stat().st_size,
            "identical_to_shipped": (t / "rebuild.h5").read_bytes() == shipped.read_bytes(),
        }
        res["data_folder_bytes"] = sum(p.stat().st_size for p in (REPO / "data").rglob("*"))
        t0 = time.perf_counter()
        ds = open_dataset(shipped)
        loads = {}
        for key in ds.tables:
            t1 = time.perf_counter()
            ds.table(*key)
            loads["/".join(key)] = round(time.perf_counter() - t1, 3)
        res["open_dataset_s"] = loads
        n = 200
        t0 = time.perf_counter()
        with RunLogWriter.open(t / "runs", header("bench", max_epochs=n)) as w:
            for e in range(n):
                w.append(record("bench", e))
        dt = time.perf_counter() - t0
        res["runlog_writer"] = {"epochs": n, "epochs_per_s": round(n / dt, 1)}
    out = REPO / "benchmarks" / "results" / "ingest.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=2) + "\n")
    print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
