"""EA-HAS-Bench / pycls logs -> run logs (reference/ea-has-bench.md section 2).

No real EA-HAS-Bench raw file is published, so this adapter is written from the spec and tested
on small fixtures written from it (tests/fixtures/pycls/, marked as such). Three inputs:

* ``stdout.log`` of one job: lines ``json_stats: {..., "_type": T}`` (any logging prefix before
  ``json_stats:``), ``T`` in ``train_epoch``, ``test_epoch``, ``test_ema_epoch``, ``complexity``,
  ``iter_times``, ``epoch_times``; ``train_iter``/``test_iter`` are skipped. No config in it.
* ``sweep.json`` from ``tools/sweep_collect.py``: a list of job records ``{cfg, complexity,
  train_epoch: {metric: [per epoch]}, test_epoch, test_ema_epoch, log_file, err, ...}``.
* the energy ("cost") sweep: rows with ``cons.train_cons`` / ``cons.test_cons`` (one value per
  epoch, **watt-hours** from the ``GPUTracer``: mean of ``nvidia-smi -q -x`` power samples x
  CUDA-event time / 3600, though it prints "KWh") and ``train_epoch.time_epoch``; nested
  (``{"cons": {"train_cons": [...]}}``) or dotted keys. The original is a Feather file; we read
  JSON (``sweep_energy.json`` next to ``sweep.json``). EA-HAS-Bench pairs these rows with the
  accuracy rows **by position only**; we do the same, check that epoch counts and
  ``time_epoch`` agree, and flag ``JOINED_BY_POSITION`` (warn).

Mapping: errors are percent, accuracy = 1 - top1_err / 100. ``test_accuracy`` is the EMA
model's test accuracy (the benchmark's learning curve); the plain model's is kept in
``extra["model_test_accuracy"]``. There is no validation split (``val_accuracy`` missing).
Energy readings: meter ``gpu.smi_poll`` (train and eval windows); sample counts were never
logged, so they are None and the reading carries ``SAMPLES_UNKNOWN`` (warn) besides
``SMI_POLLING``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from eabench.errors import InvalidLogError
from eabench.logs.adapters._common import (
    err,
    file_sha256,
    get_number,
    read_bytes,
    read_text,
    with_derived_flags,
)
from eabench.logs.schema import EpochRecord, RunHeader, RunLog
from eabench.meters.provenance import Flag, MeterReading

__all__ = ["parse_json_stats", "read_pycls_log", "read_pycls_sweep", "regnet_config"]

_KEEP: Final = ("train_epoch", "test_epoch", "test_ema_epoch", "complexity", "iter_times")
_SKIP: Final = ("train_iter", "test_iter")
_J_PER_WH: Final = 3600.0


def parse_json_stats(text: str, where: str = "stdout.log") -> dict[str, list[dict[str, Any]]]:
    """Group the ``json_stats`` records of a pycls log by ``_type`` (in file order)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for lineno, line in enumerate(text.splitlines(), start=1):
        pos = line.find("json_stats: ")
        if pos < 0:
            continue
        try:
            rec = json.loads(line[pos + len("json_stats: ") :])
        except json.JSONDecodeError as exc:
            raise err(f"{where}:{lineno}", line[:80], f"json_stats is not JSON: {exc}") from exc
        if not isinstance(rec, dict) or not isinstance(rec.get("_type"), str):
            raise err(f"{where}:{lineno}", line[:80], "json_stats must be an object with _type")
        if rec["_type"] in _SKIP:
            continue
        out.setdefault(rec["_type"], []).append(rec)
    return out


def _columns(records: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """Per-epoch records -> ``{metric: [value per epoch]}`` sorted by ``epoch_ind``."""
    recs = sorted(records, key=lambda r: r.get("epoch_ind", 0))
    keys = {k for r in recs for k in r if k != "_type"}
    return {k: [r.get(k) for r in recs] for k in sorted(keys)}


def regnet_config(cfg: Mapping[str, Any]) -> dict[str, Any]:
    """The RegNet x HPO config dict (DESIGN.md names) from a pycls ``cfg``."""
    try:
        regnet, optim, train = cfg["REGNET"], cfg["OPTIM"], cfg["TRAIN"]
        return {
            "depth": int(regnet["DEPTH"]),
            "w0": int(regnet["W0"]),
            "wa": float(regnet["WA"]),
            "wm": float(regnet["WM"]),
            "group_width": int(regnet["GROUP_W"]),
            "learning_rate": float(optim["BASE_LR"]),
            "max_epochs": int(optim["MAX_EPOCH"]),
            "optimizer": str(optim["OPTIMIZER"]),
            "lr_policy": str(optim["LR_POLICY"]),
            "cutout": int(train.get("CUTOUT_LENGTH", 0)),
            "dataset": str(train["DATASET"]),
        }
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise err("cfg", str(exc), "must hold REGNET.*, OPTIM.* and TRAIN.* of the space") from exc


def _config_id(config: Mapping[str, Any]) -> str:
    """Provisional id: sha256 of the canonical JSON, 32 hex chars (until the RegNet space's)."""
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:32]


def _acc(err_pct: Any, where: str) -> float | None:
    if err_pct is None:
        return None
    return 1.0 - get_number({"v": err_pct}, "v", where, hi=100.0) / 100.0


def _energy(row: Mapping[str, Any] | None, key: str) -> list[Any] | None:
    if row is None:
        return None
    cons = row.get("cons")
    value = cons.get(key) if isinstance(cons, Mapping) else row.get(f"cons.{key}")
    if value is None:
        return None
    if not isinstance(value, list):
        raise err(f"cons.{key}", value, "must be a list with one value per epoch")
    return value


def _reading(run_id: str, epoch: int, window: str, wh: Any, t0: float, dt: float) -> MeterReading:
    energy_j = None if wh is None else get_number({"v": wh}, "v", f"cons[{epoch}]") * _J_PER_WH
    r = MeterReading(
        reading_id=f"{run_id}/e{epoch}/{window}/gpu.smi_poll",
        run_id=run_id,
        epoch=epoch,
        window_name=window,
        meter="gpu.smi_poll",
        method="polling",
        quantity="power.draw (nvidia-smi -q -x)",
        api_call="subprocess nvidia-smi -q -x every 0.1 s + query latency",
        backend="EA-HAS-Bench tracer.py GPUTracer",
        scope="gpu",
        device={"index": 0, "note": "physical GPU 0 regardless of the job's GPU"},
        window_start_mono_ns=int(t0 * 1e9),
        window_end_mono_ns=int((t0 + dt) * 1e9),
        integration="rectangle_mean",
        energy_j=energy_j,
        duration_s=dt,
        mean_power_w=None if energy_j is None or dt <= 0 else energy_j / dt,
        requested_rate_hz=10.0,
    )
    extra: tuple[Flag, ...] = (
        Flag("SAMPLES_UNKNOWN", "warn", "the tracer logged no sample counts"),
    )
    if energy_j is None:
        extra = (*extra, Flag("NO_READING", "invalid", "the tracer returned None"))
    return with_derived_flags(r, extra)


def _run_from(
    job: Mapping[str, Any],
    energy_row: Mapping[str, Any] | None,
    *,
    run_id: str,
    source: dict[str, Any],
) -> RunLog:
    if not isinstance(job, Mapping):
        raise err("job", type(job).__name__, "must be an object")
    cfg = job.get("cfg")
    config = regnet_config(cfg) if isinstance(cfg, Mapping) else None
    train = job.get("train_epoch")
    if not isinstance(train, Mapping) or not isinstance(train.get("top1_err"), list):
        raise err("train_epoch", train, "must map metrics to per-epoch lists")
    n = len(train["top1_err"])
    if n == 0:
        raise err("train_epoch.top1_err", [], "no epochs")
    cols: dict[str, Mapping[str, Any]] = {"train_epoch": train}
    for name in ("test_epoch", "test_ema_epoch"):
        block = job.get(name, {})
        if not isinstance(block, Mapping):
            raise err(name, block, "must map metrics to per-epoch lists")
        cols[name] = block

    def col(block: str, key: str, i: int) -> Any:
        values = cols[block].get(key)
        if values is None:
            return None
        if not isinstance(values, list) or len(values) != n:
            raise err(f"{block}.{key}", values, f"must be a list of {n} values")
        return values[i]

    train_cons, test_cons = _energy(energy_row, "train_cons"), _energy(energy_row, "test_cons")
    for name, values in (("train_cons", train_cons), ("test_cons", test_cons)):
        if values is not None and len(values) != n:
            raise err(f"cons.{name}", len(values), f"must have one value per epoch ({n})")
    if energy_row is not None:
        et = energy_row.get("train_epoch")
        times = et.get("time_epoch") if isinstance(et, Mapping) else None
        times = energy_row.get("train_epoch.time_epoch", times)
        if times is not None and times != train.get("time_epoch"):
            raise err("train_epoch.time_epoch", times, "energy row does not match its job")
    records = []
    t = 0.0
    for i in range(n):
        where = f"train_epoch[{i}]"
        dt = get_number({"v": col("train_epoch", "time_epoch", i)}, "v", f"{where}.time_epoch")
        ev = col("test_epoch", "time_epoch", i)
        dt_eval = None if ev is None else get_number({"v": ev}, "v", f"test_epoch[{i}]")
        readings = []
        if train_cons is not None:
            readings.append(_reading(run_id, i, "train", train_cons[i], t, dt))
        if test_cons is not None:
            readings.append(_reading(run_id, i, "eval", test_cons[i], t + dt, dt_eval or 0.0))
        loss = col("train_epoch", "loss", i)
        records.append(
            EpochRecord(
                run_id=run_id,
                epoch=i,
                train_accuracy=_acc(col("train_epoch", "top1_err", i), where),
                test_accuracy=_acc(col("test_ema_epoch", "top1_err", i), f"test_ema[{i}]"),
                train_loss=None if loss is None else get_number({"v": loss}, "v", where),
                train_time_s=dt,
                eval_time_s=dt_eval,
                readings=tuple(readings),
                extra={
                    "model_test_accuracy": _acc(col("test_epoch", "top1_err", i), where),
                    "lr": col("train_epoch", "lr", i),
                },
            )
        )
        t += dt + (dt_eval or 0.0)
    missing = [{"field": "val_accuracy", "reason": "pycls has no validation split"}]
    if config is None:
        missing.append({"field": "config", "reason": "no cfg in this input"})
    if energy_row is None:
        missing.append({"field": "readings", "reason": "no energy (cost) sweep row"})
    flags = (Flag("JOINED_BY_POSITION", "warn", "energy row paired by position"),)
    complexity = job.get("complexity", {})
    header = RunHeader(
        run_id=run_id,
        space="regnet-hpo",
        dataset=str(config["dataset"]) if config else "unknown",
        source=source,
        config=config,
        config_id=_config_id(config) if config else None,
        seed=1,
        max_epochs=int(config["max_epochs"]) if config else None,
        protocol={"batch_size": 1024, "amp": True, "ema": True},
        meters=({"meter": "gpu.smi_poll", "period_s": 0.1},) if energy_row is not None else (),
        missing=tuple(missing),
        flags=flags if energy_row is not None else (),
        extra={"complexity": dict(complexity) if isinstance(complexity, Mapping) else {}},
    )
    return RunLog(header=header, epochs=tuple(records))


def read_pycls_log(path: str | Path, run_id: str | None = None) -> RunLog:
    """One job's ``stdout.log`` (json_stats lines) -> RunLog (no config, no energy)."""
    path = Path(path)
    raw = read_bytes(path)
    stats = parse_json_stats(read_text(path), path.name)
    if "train_epoch" not in stats:
        raise err("json_stats", path.name, "no train_epoch records")
    job: dict[str, Any] = {k: _columns(v) for k, v in stats.items() if k.endswith("_epoch")}
    if "complexity" in stats:
        job["complexity"] = {k: v for k, v in stats["complexity"][0].items() if k != "_type"}
    rid = run_id or f"pycls-{file_sha256(raw)[:16]}"
    source = {"kind": "pycls-log", "path": path.name, "sha256": file_sha256(raw)}
    return _run_from(job, None, run_id=rid, source=source)


def read_pycls_sweep(path: str | Path, energy_path: str | Path | None = None) -> list[RunLog]:
    """``sweep.json`` (+ optional energy sweep, paired by row position) -> one RunLog per job.

    Without ``energy_path``, ``sweep_energy.json`` next to ``sweep.json`` is used if present.
    """
    path = Path(path)
    raw = read_bytes(path)
    try:
        jobs = json.loads(read_text(path))
    except json.JSONDecodeError as exc:
        raise err("sweep.json", str(path), f"is not JSON: {exc}") from exc
    if not isinstance(jobs, list) or not jobs:
        raise err("sweep.json", type(jobs).__name__, "must be a non-empty list of jobs")
    epath = Path(energy_path) if energy_path else path.with_name("sweep_energy.json")
    energy: Sequence[Any] | None = None
    if energy_path is not None or epath.is_file():
        try:
            energy = json.loads(read_text(epath))
        except json.JSONDecodeError as exc:
            raise err("energy sweep", str(epath), f"is not JSON: {exc}") from exc
        if not isinstance(energy, list) or len(energy) != len(jobs):
            raise err("energy sweep", str(epath), f"must be a list of {len(jobs)} rows")
    sha = file_sha256(raw)
    logs = []
    for i, job in enumerate(jobs):
        row = energy[i] if energy is not None else None
        if row is not None and not isinstance(row, Mapping):
            raise err(f"energy sweep[{i}]", row, "must be an object")
        source = {"kind": "pycls-sweep", "path": path.name, "sha256": sha, "row": i}
        try:
            logs.append(_run_from(job, row, run_id=f"pycls-{sha[:12]}-{i:06d}", source=source))
        except InvalidLogError as exc:
            raise err(f"sweep.json[{i}]", exc.value, str(exc)) from exc
    return logs
