"""Query speed and memory of the Benchmark API, per space; results to benchmarks/results/query.json.

For each benchmark (``nb101-7v``, ``regnet-hpo-cifar10``) it measures, each in a fresh process:

- cold start: a new ``python`` process that imports eabench, loads the benchmark and answers one
  full-curve query (process wall time, and the part after interpreter start-up);
- single-query latency of a full curve (``query(cfg, max_epochs)``), median and p90 over
  distinct configs drawn with ``space.sample``: a never-seen config (``Cell`` object, and its
  plain-dict form) on a fresh instance and on a prepared one (``bench.prepare()``; 7V: the row
  index of canonical cells is built up front), a repeated config (object and dict; with and
  without the answer cache), and the model path (no space index: features and the surrogate's
  ``predict`` per config; for 7V what every query cost before the head outputs were
  materialised);
- ``query_batch`` of 10,000 never-seen configs (Cell objects on a fresh and on a prepared
  instance, plain dicts, the model path) and of the same again;
- peak RSS (``ru_maxrss``) of a fresh process that loads one benchmark, prepares it, makes
  2,000 single queries and one batch of 10,000, and of the cold-start process; whether torch was
  imported.

Targets (issue 7): p50 <= 50 µs, batch of 10,000 <= 50 ms, cold start <= 0.5 s, RSS <= 150 MB.
Timings are written, never asserted. The machine's load average is recorded with them: on a
shared 2-core machine other jobs inflate every timing. Usage::

    python benchmarks/bench_query.py                       # every registered benchmark
    python benchmarks/bench_query.py --name nb101-7v --n-single 2000
    python benchmarks/bench_query.py --artifact DIR --loader tests.fakes:load_fake  # any folder
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "query.json"


def _load(name: str, artifact: str | None, loader: str | None) -> Any:
    import eabench

    if artifact is None:
        return eabench.load(name)
    import importlib

    from eabench.loading import from_artifact

    kwargs: dict[str, Any] = {}
    if loader:
        mod, _, attr = loader.partition(":")
        kwargs["loader"] = getattr(importlib.import_module(mod), attr)
    return from_artifact(artifact, **kwargs)


def _configs(bench: Any, n: int, seed: int) -> list[Any]:
    """``n`` distinct configs (by config id) from ``bench.space.sample`` or a rejection sampler."""
    rng = np.random.default_rng(seed)
    space = bench.space
    out: dict[str, Any] = {}
    tries = 0
    while len(out) < n and tries < 50 * n:
        tries += 1
        if hasattr(space, "sample"):
            cfg = space.sample(rng)
        else:  # NB101 7V before the space had sample(): random DAGs, invalid ones rejected
            from eabench.errors import InvalidConfigError
            from eabench.spaces.nb101 import INTERIOR_OPS, Cell

            v = int(rng.integers(3, 8))
            mat = np.triu(rng.integers(0, 2, (v, v)), k=1)
            ops = ["input", *(INTERIOR_OPS[i] for i in rng.integers(0, 3, v - 2)), "output"]
            try:
                cfg = Cell(mat, ops)
            except InvalidConfigError:
                continue
        out.setdefault(cfg.config_id(), cfg)
    return list(out.values())


def _lat_us(fn: Any, items: list[Any]) -> dict[str, float]:
    times = []
    for x in items:
        t0 = time.perf_counter_ns()
        fn(x)
        times.append(time.perf_counter_ns() - t0)
    arr = np.asarray(times) / 1e3
    return {
        "p50_us": float(np.median(arr)),
        "p90_us": float(np.percentile(arr, 90)),
        "n": len(items),
    }


def _no_accelerator(bench: Any) -> Any:
    bench._cache.accelerator = None  # measure the exact slow path on purpose
    return bench


def measure(
    name: str, n_single: int, n_batch: int, artifact: str | None, loader: str | None
) -> Any:
    """Latency, batch time and RSS in this process (run it in a fresh one)."""
    bench = _load(name, artifact, loader)
    t_max = bench.fidelity.max_epochs
    single = _configs(bench, n_single, seed=1)
    batch = _configs(bench, n_batch, seed=2)
    dicts = [c.to_dict() for c in single[: min(500, n_single)]]
    query = {}
    # 1. the default path (7V: materialised head outputs looked up by space row), fresh instance
    #    (its row index is built after 64 new configs) and prepared (index built up front)
    fresh = _load(name, artifact, loader)
    query["new_config_fresh_instance"] = _lat_us(lambda c: fresh.query(c, t_max), single)
    fast = _load(name, artifact, loader)
    t0 = time.perf_counter()
    fast.prepare()
    prepare_s = time.perf_counter() - t0
    query["new_config_prepared"] = _lat_us(lambda c: fast.query(c, t_max), single)
    query["repeat_config_answer_cache"] = _lat_us(lambda c: fast.query(c, t_max), single)
    fast_d = _load(name, artifact, loader).prepare()
    query["new_dict_config_prepared"] = _lat_us(lambda d: fast_d.query(d, t_max), dicts)
    query["repeat_dict_config_answer_cache"] = _lat_us(lambda d: fast_d.query(d, t_max), dicts)
    fast.answer_cache_size = 0
    fast._answers.clear()
    query["repeat_config_no_answer_cache"] = _lat_us(lambda c: fast.query(c, t_max), single)
    # 2. the model path: no space index, so features + the surrogate's predict() per config
    slow = _no_accelerator(_load(name, artifact, loader))
    query["new_config_model_path"] = _lat_us(lambda c: slow.query(c, t_max), single[:500])
    cfgs = [slow.space.validate(c) for c in single[:200]]
    grid = slow._grid(t_max)[0]
    feats = [slow._cache.features([c]) for c in cfgs]
    query["surrogate_predict_only"] = _lat_us(lambda x: slow.surrogate.predict(x, grid), feats)
    batches: dict[str, Any] = {"n_configs": len(batch), "prepare_s": prepare_s}
    fresh_b = _load(name, artifact, loader)
    t0 = time.perf_counter()
    fresh_b.query_batch(batch, t_max)
    batches["new_configs_fresh_instance_ms"] = (time.perf_counter() - t0) * 1e3
    fast_b = _load(name, artifact, loader).prepare()
    t0 = time.perf_counter()
    fast_b.query_batch(batch, t_max)
    batches["new_configs_prepared_ms"] = (time.perf_counter() - t0) * 1e3
    repeats = []
    for _ in range(3):
        t0 = time.perf_counter()
        fast_b.query_batch(batch, t_max)
        repeats.append(time.perf_counter() - t0)
    batches["repeat_configs_ms_median"] = statistics.median(repeats) * 1e3
    batch_dicts = [c.to_dict() for c in batch]
    dict_b = _load(name, artifact, loader).prepare()
    t0 = time.perf_counter()
    dict_b.query_batch(batch_dicts, t_max)
    batches["new_dict_configs_prepared_ms"] = (time.perf_counter() - t0) * 1e3
    t0 = time.perf_counter()
    dict_b.query_batch(batch_dicts, t_max)
    batches["repeat_dict_configs_ms"] = (time.perf_counter() - t0) * 1e3
    slow_b = _no_accelerator(_load(name, artifact, loader))
    t0 = time.perf_counter()
    slow_b.query_batch(batch, t_max)
    batches["new_configs_model_path_ms"] = (time.perf_counter() - t0) * 1e3
    return {
        "benchmark": bench.name,
        "artifact": bench.provenance.artifact_name,
        "artifact_version": bench.provenance.artifact_version,
        "artifact_manifest_sha256": bench.provenance.artifact_sha256,
        "curve_points_at_max_epochs": len(bench.query(single[0], t_max).curve.epochs),
        "single_query_full_curve": query,
        "query_batch": batches,
        "torch_imported": "torch" in sys.modules,
    }


def typical_rss(name: str, n_batch: int, artifact: str | None, loader: str | None) -> Any:
    """Peak RSS of one process that uses one benchmark the way a search does."""
    bench = _load(name, artifact, loader).prepare()
    t_max = bench.fidelity.max_epochs
    configs = _configs(bench, n_batch, seed=3)
    for cfg in configs[:2000]:
        bench.query(cfg, t_max)
    bench.query_batch(configs, t_max)
    return {
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "what": f"load, prepare(), 2,000 single queries, query_batch of {len(configs)} configs",
    }


_COLD = """
import time, sys, json
t0 = time.perf_counter()
sys.path.insert(0, {root!r})
import eabench
sys.path.insert(0, {root!r} + "/benchmarks")
from bench_query import _load
bench = _load({name!r}, {artifact!r}, {loader!r})
t1 = time.perf_counter()
cfg = {example}
res = bench.query(cfg, bench.fidelity.max_epochs)
t2 = time.perf_counter()
import resource
print(json.dumps({{"import_load_s": t1 - t0, "first_query_s": t2 - t1, "after_start_s": t2 - t0,
    "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "torch_imported": "torch" in sys.modules}}))
"""


def cold_start(name: str, artifact: str | None, loader: str | None, repeats: int = 5) -> Any:
    """New processes: import, load, first full-curve query (median of ``repeats``)."""
    from eabench.commands.query import EXAMPLES

    example = repr(EXAMPLES[name]) if name in EXAMPLES else "bench.space.sample(0)"
    code = _COLD.format(
        root=str(ROOT), name=name, artifact=artifact, loader=loader, example=example
    )
    rows = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
        )
        wall = time.perf_counter() - t0
        rows.append({"process_wall_s": wall, **json.loads(out.stdout.strip().splitlines()[-1])})
    keys = rows[0].keys()
    return {
        k: statistics.median(float(r[k]) for r in rows) for k in keys if k != "torch_imported"
    } | {
        "torch_imported": any(r["torch_imported"] for r in rows),
        "repeats": repeats,
    }


def run_one(args: argparse.Namespace, name: str, artifact: str | None) -> Any:
    """Measure benchmark ``name`` (from ``artifact`` if given) in fresh processes."""
    from eabench.errors import EabenchError

    try:
        _load(name, artifact, args.loader)
    except EabenchError as exc:
        return {"benchmark": name, "status": "not measured", "reason": str(exc)}
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--worker",
        "--name",
        name,
        "--n-single",
        str(args.n_single),
        "--n-batch",
        str(args.n_batch),
    ]
    if artifact:
        cmd += ["--artifact", artifact]
    if args.loader:
        cmd += ["--loader", args.loader]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=ROOT)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    out = subprocess.run([*cmd, "--rss"], capture_output=True, text=True, check=True, cwd=ROOT)
    result["memory"] = json.loads(out.stdout.strip().splitlines()[-1])
    result["cold_start"] = cold_start(name, artifact, args.loader)
    result["status"] = "measured"
    return result


def main() -> None:
    sys.path.insert(0, str(ROOT))
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--name", action="append", help="benchmark name (repeatable; default: all)")
    p.add_argument("--n-single", type=int, default=2000)
    p.add_argument("--n-batch", type=int, default=10_000)
    p.add_argument("--artifact", help="measure this artifact folder for the first --name")
    p.add_argument("--loader", help="module:function loading --artifact (default: the real one)")
    p.add_argument("--out", default=str(RESULTS))
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--rss", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker and args.rss:
        print(json.dumps(typical_rss(args.name[0], args.n_batch, args.artifact, args.loader)))
        return
    if args.worker:
        res = measure(args.name[0], args.n_single, args.n_batch, args.artifact, args.loader)
        print(json.dumps(res))
        return
    from eabench.registry import BENCHMARKS

    if args.artifact and not args.name:
        p.error("--artifact needs --name (the benchmark the artifact belongs to)")
    names = args.name or list(BENCHMARKS)
    report = {
        "script": "benchmarks/bench_query.py",
        "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "numpy": np.__version__,
            "cpu_count": os.cpu_count(),
            "processor": platform.processor() or platform.machine(),
            "load_average_1_5_15_before": list(os.getloadavg()),
        },
        "targets": {
            "single_query_p50_us": 50,
            "batch_10000_ms": 50,
            "cold_start_s": 0.5,
            "peak_rss_mb": 150,
        },
        "results": [
            run_one(args, n, args.artifact if i == 0 else None) for i, n in enumerate(names)
        ],
    }
    report["machine"]["load_average_1_5_15_after"] = list(os.getloadavg())
    if args.artifact:
        report["artifact_folder"] = args.artifact
        report["loader"] = args.loader or "eabench.surrogates.registry:load_surrogate"
    text = json.dumps(report, indent=2)
    print(text)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text + "\n")


if __name__ == "__main__":
    main()
