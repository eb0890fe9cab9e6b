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

For ``nb101-7v`` also (issue 17), each in a fresh process:

- the scaling curve: ``query_batch`` of 10^3 .. 10^6 configs built as fresh objects (``Cell`` and
  plain dict; from 423,624 on, every cell of the space at least once, in random order), time per
  config, the process's peak RSS and its RSS before the batch (the configs themselves);
- 10^6 single queries in one process (fresh ``Cell`` objects, every cell at least once): p50 per
  window of 100,000, to show that latency does not climb with the number of configs seen;
- a single query of a ConfigSpace configuration (``nb101_configspace``, if ConfigSpace is
  installed) next to a ``Cell`` and a plain dict;
- the cold start of the first process on a machine (empty ``EABENCH_CACHE``: the decoded arrays
  of eabench._decoded are written then), next to the usual one;
- YAHPO Gym lcbench (the peer, ../shared/peers/yahpo) in the same run when ``--yahpo-python``
  (or ``$YAHPO_PYTHON``) names a Python with ``yahpo_gym`` installed (its own venv: it needs
  numpy<2; never a dependency of eabench): single query p50 (one config at epoch 52), a batch
  of 10,000 and the cold start, with the ratios to eabench's numbers of the same run.

Targets (issue 7): p50 <= 50 µs, batch of 10,000 <= 50 ms, cold start <= 0.5 s, RSS <= 150 MB.
Issue 17: batch time per config flat within 2x from 10^3 to 10^6, 10^6 in under 30 s, peak RSS
under 1 GB; same-run ratios to YAHPO >= 10x single, >= 70x batch of 10,000, >= 5x cold start.
Timings are written, never asserted. The machine's load average is recorded with them: on a
shared 2-core machine other jobs inflate every timing. Usage::

    python benchmarks/bench_query.py                       # every registered benchmark
    python benchmarks/bench_query.py --name nb101-7v --n-single 2000
    python benchmarks/bench_query.py --artifact DIR --loader tests.fakes:load_fake  # any folder
    python benchmarks/bench_query.py --name nb101-7v --yahpo-python /tmp/yahpo-venv/bin/python
    python benchmarks/bench_query.py --name nb101-7v --scale-max 100000   # a shorter curve
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
import tempfile
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


# ---------------------------------------------------------------------- issue 17: 7V at scale
def _templates(bench: Any) -> list[tuple[tuple[tuple[int, ...], ...], tuple[str, ...]]]:
    """Raw (matrix, ops) of every 7V cell in canonical form (what ``space.sample`` returns),
    built in numpy; rows and op tuples are shared between cells (only the configs are new)."""
    from eabench.spaces.nb101.cell import INPUT, INTERIOR_OPS, OUTPUT

    data = bench.space.data
    mats, labs = data.matrices, data.labels
    v_of = (labs != -3).sum(axis=1)
    out: list[Any] = [None] * len(data)
    intern: dict[Any, Any] = {}
    for v in range(2, 8):
        sel = np.flatnonzero(v_of == v)
        pos = [*range(v - 1), 6]
        sub = mats[sel][:, pos][:, :, pos].tolist()
        lab = labs[sel][:, pos].tolist()
        for i, m, lb in zip(sel.tolist(), sub, lab, strict=True):
            mt = tuple(intern.setdefault(tuple(r), tuple(r)) for r in m)
            ops = (INPUT, *(INTERIOR_OPS[x] for x in lb[1:-1]), OUTPUT)
            out[i] = (mt, intern.setdefault(ops, ops))
    return out


def _fresh_configs(bench: Any, n: int, kind: str, seed: int = 0) -> list[Any]:
    """``n`` new config objects (``Cell`` or plain dict): every cell once (up to ``n``), then
    random cells again, shuffled. Dicts get new outer lists; their row lists are shared."""
    from eabench.spaces.nb101.cell import Cell

    size = len(bench.space.data)
    rng = np.random.default_rng(seed)
    rows = rng.permutation(size)[:n] if n <= size else np.arange(size)
    if n > size:
        rows = np.concatenate([rows, rng.integers(0, size, n - size)])
        rng.shuffle(rows)
    tm = _templates(bench)
    for r in rng.integers(0, size, 20).tolist():  # the templates are the space's cells
        assert Cell._trusted(*tm[r]) == bench.space.data.cell(r)
    if kind == "cell":
        return [Cell._trusted(*tm[r]) for r in rows.tolist()]
    lists: dict[Any, list[int]] = {}
    return [
        {"matrix": [lists.setdefault(x, list(x)) for x in tm[r][0]], "ops": list(tm[r][1])}
        for r in rows.tolist()
    ]


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _vm_mb(field: str) -> float | None:
    """``VmRSS`` / ``VmHWM`` of this process from /proc (Linux), MB; None elsewhere."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _reset_peak() -> bool:
    """Reset the peak RSS (``VmHWM``) to the current RSS (Linux ``clear_refs`` 5)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def scale_point(n: int, kind: str) -> Any:
    """``query_batch`` of ``n`` fresh configs in this (fresh) process."""
    import gc

    import eabench

    bench = eabench.load("nb101-7v").prepare()
    bench.surrogate.load_space_outputs()
    # small batches take a few ms, within the scheduler noise of a shared machine: the median
    # of several batches, each of other new configs (a warm-up batch first: page faults of the
    # memory-mapped tables, numpy's first calls)
    repeats = max(1, min(15, 100_000 // n))
    bench.query_batch(_fresh_configs(bench, 256, kind, seed=99), bench.fidelity.max_epochs)
    times = []
    for seed in range(repeats - 1):
        more = _fresh_configs(bench, n, kind, seed=100 + seed)
        t0 = time.perf_counter()
        bench.query_batch(more, bench.fidelity.max_epochs)
        times.append(time.perf_counter() - t0)
        del more
    configs = _fresh_configs(bench, n, kind)
    gc.collect()
    reset = _reset_peak()
    rss_before = _vm_mb("VmRSS")
    t0 = time.perf_counter()
    res = bench.query_batch(configs, bench.fidelity.max_epochs)
    times.append(time.perf_counter() - t0)
    assert len(res.config_ids) == n
    dt = statistics.median(times)
    return {
        "n": n,
        "kind": kind,
        "batches": repeats,
        "batch_s": dt,
        "batch_s_max": max(times),
        "us_per_config": dt / n * 1e6,
        "distinct_cells": min(n, len(bench.space.data)),
        "rss_before_batch_mb": rss_before,
        "peak_rss_during_batch_mb": _vm_mb("VmHWM") if reset else None,
        "peak_rss_process_mb": _rss_mb(),
        "note": "rss_before_batch: the loaded benchmark plus the n config objects (built "
        "outside the timing; the process peak includes building them)",
    }


def many_singles(n: int) -> Any:
    """``n`` single queries of fresh ``Cell`` objects in one process (every cell at least once
    when ``n`` >= 423,624): p50 per window, RSS."""
    import eabench

    bench = eabench.load("nb101-7v")
    configs = _fresh_configs(bench, n, "cell", seed=1)
    t_max = bench.fidelity.max_epochs
    reset = _reset_peak()
    rss_before = _vm_mb("VmRSS")
    window = max(1, min(100_000, n // 10))
    times = np.empty(n)
    query = bench.query
    clock = time.perf_counter_ns
    t_all = time.perf_counter()
    for i, c in enumerate(configs):
        t0 = clock()
        query(c, t_max)
        times[i] = clock() - t0
    total = time.perf_counter() - t_all
    p50 = [float(np.median(times[s : s + window]) / 1e3) for s in range(0, n, window)]
    return {
        "n": n,
        "window": window,
        "p50_us_per_window": p50,
        "p90_us_all": float(np.percentile(times, 90) / 1e3),
        "total_s": total,
        "rss_before_mb": rss_before,
        "peak_rss_during_queries_mb": _vm_mb("VmHWM") if reset else None,
        "peak_rss_process_mb": _rss_mb(),
    }


def config_kinds_p50(n: int = 2000) -> Any:
    """Single-query p50 of a new ``Cell``, plain dict and ConfigSpace configuration (prepared
    instance, one per kind; the ConfigSpace one goes through ``nb101_configspace.to_cell``)."""
    import eabench

    out: dict[str, Any] = {}
    probe = eabench.load("nb101-7v")
    cells = _configs(probe, n, seed=11)
    t_max = probe.fidelity.max_epochs
    b = eabench.load("nb101-7v").prepare()
    out["cell"] = _lat_us(lambda c: b.query(c, t_max), cells)
    dicts = [c.to_dict() for c in cells]
    b = eabench.load("nb101-7v").prepare()
    out["plain_dict"] = _lat_us(lambda d: b.query(d, t_max), dicts)
    try:
        from eabench.spaces.nb101_configspace import configspace, from_cell, to_cell
    except ImportError:
        return out
    try:
        cs = configspace()
    except ImportError:
        out["configspace"] = "ConfigSpace not installed"
        return out
    confs = [from_cell(c, cs) for c in cells]
    b = eabench.load("nb101-7v").prepare()
    out["configspace_to_cell"] = _lat_us(lambda x: b.query(to_cell(x), t_max), confs)
    out["configspace_to_cell_only"] = _lat_us(to_cell, confs)
    return out


def _worker(args: list[str], timeout: float = 900) -> Any:
    cmd = [sys.executable, str(Path(__file__).resolve()), *args]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=ROOT, timeout=timeout)
    return json.loads(out.stdout.strip().splitlines()[-1])


def scale_all(scale_max: int, n_singles: int) -> Any:
    """The scaling curve and the long single-query run, each point in a fresh process."""
    sizes = [n for n in (1_000, 10_000, 100_000, 423_624, 1_000_000) if n <= scale_max]
    curve = [_worker(["--worker-scale", str(n), kind]) for kind in ("cell", "dict") for n in sizes]
    by_kind: dict[str, Any] = {}
    for kind in ("cell", "dict"):
        pts = [p for p in curve if p["kind"] == kind]
        us = [p["us_per_config"] for p in pts]
        by_kind[kind] = {"max_over_min_us_per_config": max(us) / min(us)}
    out: dict[str, Any] = {"batch_curve": curve, "flatness": by_kind}
    if n_singles:
        out["single_queries_one_process"] = _worker(["--worker-singles", str(n_singles)])
    return out


_YAHPO = r"""
import json, statistics, sys, time
t0 = time.perf_counter()
from yahpo_gym import benchmark_set, local_config
local_config.init_config()
local_config.set_data_path(sys.argv[1])
bench = benchmark_set.BenchmarkSet("lcbench", instance="3945")
space = bench.get_opt_space(drop_fidelity_params=True, seed=0)
first = space.sample_configuration().get_dictionary()
first["epoch"] = 52
bench.objective_function(first)
cold = time.perf_counter() - t0
if sys.argv[2] == "cold":
    print(json.dumps({"after_start_s": cold}))
    sys.exit()
configs = []
for c in space.sample_configuration(12000):
    d = c.get_dictionary()
    d["epoch"] = 52
    configs.append(d)
times = []
for c in configs[:2000]:
    s = time.perf_counter_ns()
    bench.objective_function(c)
    times.append(time.perf_counter_ns() - s)
s = time.perf_counter()
out = bench.objective_function(configs[2000:12000])
batch = time.perf_counter() - s
assert len(out) == 10000
times.sort()
print(json.dumps({"single_p50_us": statistics.median(times) / 1e3,
    "single_p90_us": times[int(0.9 * len(times))] / 1e3, "batch_10000_ms": batch * 1e3}))
"""


def yahpo(python: str, data: str, repeats: int = 5) -> Any:
    """YAHPO Gym lcbench (instance 3945, epoch 52) timed by its own Python (see the docs)."""
    run = [python, "-c", _YAHPO, data]
    res = subprocess.run([*run, "warm"], capture_output=True, text=True, check=True, timeout=900)
    out = json.loads(res.stdout.strip().splitlines()[-1])
    colds = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        res = subprocess.run([*run, "cold"], capture_output=True, text=True, check=True)
        wall = time.perf_counter() - t0
        colds.append((wall, json.loads(res.stdout.strip().splitlines()[-1])["after_start_s"]))
    out["cold_start_process_wall_s"] = statistics.median(w for w, _ in colds)
    out["cold_start_after_start_s"] = statistics.median(a for _, a in colds)
    version = subprocess.run(
        [
            python,
            "-c",
            "import yahpo_gym, onnxruntime, numpy; "
            "print(yahpo_gym.__version__, onnxruntime.__version__, numpy.__version__)",
        ],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    out["versions"] = dict(zip(("yahpo_gym", "onnxruntime", "numpy"), version, strict=False))
    out["what"] = (
        "lcbench instance 3945, one config at epoch 52 per call (eabench: the whole 4-point "
        "curve at 108 epochs); batch: one objective_function call with 10,000 configs"
    )
    return out


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
    with tempfile.TemporaryDirectory() as empty:  # first process on a machine
        os.environ["EABENCH_CACHE"] = empty
        try:
            result["cold_start_first_process"] = cold_start(name, artifact, args.loader, 1)
        finally:
            del os.environ["EABENCH_CACHE"]
    if name == "nb101-7v" and artifact is None:
        result["config_kinds"] = _worker(["--worker-kinds"])
        if args.scale_max:
            result["scale"] = scale_all(args.scale_max, args.n_singles_scale)
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
    p.add_argument("--scale-max", type=int, default=1_000_000, help="largest batch (0: none)")
    p.add_argument("--n-singles-scale", type=int, default=1_000_000, help="single queries")
    p.add_argument("--yahpo-python", default=os.environ.get("YAHPO_PYTHON"))
    p.add_argument("--yahpo-data", default=str(ROOT.parent / "shared" / "peers" / "yahpo" / "data"))
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--rss", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--worker-scale", nargs=2, help=argparse.SUPPRESS)
    p.add_argument("--worker-singles", type=int, help=argparse.SUPPRESS)
    p.add_argument("--worker-kinds", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker_scale:
        print(json.dumps(scale_point(int(args.worker_scale[0]), args.worker_scale[1])))
        return
    if args.worker_singles:
        print(json.dumps(many_singles(args.worker_singles)))
        return
    if args.worker_kinds:
        print(json.dumps(config_kinds_p50()))
        return
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
    if args.yahpo_python:
        try:
            peer = yahpo(args.yahpo_python, args.yahpo_data)
        except (OSError, subprocess.SubprocessError, ValueError) as exc:
            peer = {"status": "failed", "reason": repr(exc)[-2000:]}
        report["yahpo_lcbench"] = peer
        ours = next((r for r in report["results"] if r.get("benchmark") == "nb101-7v"), None)
        if ours is not None and ours.get("status") == "measured" and "status" not in peer:
            single = ours["single_query_full_curve"]["new_config_prepared"]["p50_us"]
            batch = ours["query_batch"]["new_configs_prepared_ms"]
            cold = ours["cold_start"]["process_wall_s"]
            report["ratios_yahpo_over_eabench"] = {
                "single_query_p50": peer["single_p50_us"] / single,
                "batch_10000": peer["batch_10000_ms"] / batch,
                "cold_start_process_wall": peer["cold_start_process_wall_s"] / cold,
                "cold_start_after_start": peer["cold_start_after_start_s"]
                / ours["cold_start"]["after_start_s"],
                "targets": {"single_query_p50": 10, "batch_10000": 70, "cold_start": 5},
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
