"""Collection throughput on CPU at smoke size, and the per-epoch overhead of harness and meters.

Runs the committed smoke sweep (``data_collection/sweeps/smoke_regnet_hpo.toml``: the two
smallest RegNet x HPO configs, about 15-20 MFLOPs per image) through the real harness
(``eabench.collect.harness.collect``, in-process executor, fake NVML meters), on a few hundred
real CIFAR-10 images: a 512-image training subset of ``../shared`` (or ``$EABENCH_SHARED``)
when present, else the committed 300-image fixture (64 training images). Reports, from the run
logs it wrote:

- trainer throughput: training images per second and seconds per epoch (train window, eval
  window), median over epochs after the first (warm-up);
- harness overhead per epoch: the gap between an epoch's eval-window end and the next epoch's
  train-window start (checkpoint write, run-log append + fsync, pruning, meter edges), taken
  from the readings' monotonic window edges;
- per-run start-up: wall time of the whole run minus its windows and gaps (data load, model
  build, meter set-up);
- meter cost: ``begin`` + ``end`` latency of the session per window (fake NVML counter + power
  poller), timed directly over 200 empty windows.

Usage: ``python benchmarks/bench_collect.py [--epochs N] [--threads T]``. Results go to stdout
and ``benchmarks/results/collect.json``. Numbers depend on the (shared, 2-core) machine.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from eabench.collect.harness import collect  # noqa: E402
from eabench.collect.spec import load_spec, parse_spec  # noqa: E402
from eabench.logs import read_run_log  # noqa: E402

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

SMOKE = REPO / "data_collection" / "sweeps" / "smoke_regnet_hpo.toml"
SHARED = Path(os.environ.get("EABENCH_SHARED", REPO.parent / "shared"))
SHARED_PACK = SHARED / "data" / "cifar10" / "cifar10_jpeg.npz"
FIXTURE = REPO / "tests" / "fixtures" / "cifar10" / "cifar10_tiny_jpeg.npz"


def _subset_pack(out: Path, n_train: int, n_test: int) -> Path:
    """A seeded class-mixed subset of the real pack, same layout (keeps the benchmark quick)."""
    pack = np.load(SHARED_PACK)
    rng = np.random.default_rng(0)
    sub: dict[str, Any] = {"classes": pack["classes"]}
    for split, n in (("train", n_train), ("test", n_test)):
        y, jpeg, off = pack[f"{split}_labels"], pack[f"{split}_jpeg"], pack[f"{split}_offsets"]
        idx = np.sort(rng.choice(len(y), size=n, replace=False))
        blobs = [jpeg[off[i] : off[i + 1]] for i in idx]
        sub[f"{split}_jpeg"] = np.concatenate(blobs)
        sub[f"{split}_offsets"] = np.concatenate([[0], np.cumsum([len(b) for b in blobs])])
        sub[f"{split}_labels"] = y[idx]
    path = out / "subset.npz"
    np.savez(path, **sub)
    return path


def _meter_edge_cost(n_windows: int = 200) -> dict[str, float]:
    import torch

    from eabench.collect.meter_session import open_meters

    spec = load_spec(SMOKE).meters
    out: dict[str, float] = {}
    with open_meters(spec, None, torch.device("cpu"), "bench") as meters:
        begin_s, end_s = [], []
        for k in range(n_windows):
            t0 = time.perf_counter()
            meters.begin(k, "train")
            t1 = time.perf_counter()
            meters.end()
            t2 = time.perf_counter()
            begin_s.append(t1 - t0)
            end_s.append(t2 - t1)
    out["begin_ms_median"] = 1e3 * statistics.median(begin_s)
    out["end_ms_median"] = 1e3 * statistics.median(end_s)
    out["windows"] = n_windows
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "collect.json")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        raw = tomllib.loads(SMOKE.read_text())
        if SHARED_PACK.is_file():
            source, data_kind = _subset_pack(tmp, 612, 200), "real CIFAR-10 subset (../shared)"
            raw["protocol"].update(train_limit=512, val_size=100, test_limit=200)
        else:
            source, data_kind = FIXTURE, "committed 300-image fixture"
        raw["sweep"]["output_dir"] = str(tmp / "sweep")
        raw["data"] = {"source": str(source), "cache_dir": str(tmp / "cache")}
        raw["protocol"].update(epoch_limit=args.epochs, num_threads=args.threads)
        spec = parse_spec(raw, base_dir=SMOKE.parent)
        t0 = time.perf_counter()
        summary = collect(spec, progress=False)
        sweep_wall_s = time.perf_counter() - t0
        if summary.counts["trained"] != len(summary.outcomes):
            raise SystemExit(summary.render())
        runs = []
        for path in sorted((tmp / "sweep" / "logs").glob("*.runlog.jsonl")):
            log = read_run_log(path)
            epochs = log.epochs
            steady = epochs[1:] or epochs
            imgs = [e.extra["train_images"] / e.train_time_s for e in steady]
            gaps = []
            for prev, nxt in itertools.pairwise(epochs):
                end_prev = max(r.window_end_mono_ns for r in prev.readings)
                start_next = min(r.window_start_mono_ns for r in nxt.readings)
                gaps.append((start_next - end_prev) / 1e9)
            outcome = next(o for o in summary.outcomes if o.run_id == log.run_id)
            in_windows = sum((e.train_time_s or 0) + (e.eval_time_s or 0) for e in epochs)
            runs.append(
                {
                    "run_id": log.run_id,
                    "config": log.header.config,
                    "train_images_per_epoch": epochs[0].extra["train_images"],
                    "eval_images_per_epoch": log.header.protocol["data"]["n_val"]
                    + log.header.protocol["data"]["n_test"],
                    "train_images_per_s_median": statistics.median(imgs),
                    "train_s_per_epoch_median": statistics.median(e.train_time_s for e in steady),
                    "eval_s_per_epoch_median": statistics.median(e.eval_time_s for e in steady),
                    "harness_gap_s_per_epoch_median": statistics.median(gaps) if gaps else None,
                    "harness_gap_pct_of_epoch": 100.0
                    * statistics.median(gaps)
                    / statistics.median(
                        (e.train_time_s or 0) + (e.eval_time_s or 0) for e in steady
                    )
                    if gaps
                    else None,
                    "windows_s_total": in_windows,
                    "run_wall_s_total_reported": outcome.wall_s,
                }
            )
        meters = _meter_edge_cost()
    gaps_total = sum((r["harness_gap_s_per_epoch_median"] or 0.0) * (args.epochs - 1) for r in runs)
    windows_total = sum(r["windows_s_total"] for r in runs)
    result = {
        "benchmark": "collect",
        "what": "eabench collect smoke sweep on CPU: trainer throughput and per-epoch overhead",
        "machine": {
            "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
            "load_average_1_5_15_min": list(os.getloadavg()),
        },
        "data": data_kind,
        "epochs": args.epochs,
        "torch_threads": args.threads,
        "sweep_wall_s": sweep_wall_s,
        "startup_s_per_run_estimate": (sweep_wall_s - windows_total - gaps_total) / len(runs),
        "runs": runs,
        "meter_session_edges_fake_nvml": meters,
        "meters": list(spec.meters.names),
    }
    text = json.dumps(result, indent=2)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
