"""Third-party meter outputs aligned to a run log's epoch windows.

* external power meter CSV (``timestamp, watts``; ISO 8601 or Unix seconds) -> ``node.external``
  readings: trapezoid integration of the samples inside each epoch's train window, with the power
  linearly interpolated at the window edges; samples taken/expected, achieved rate, max gap and
  edge gaps are recorded so the polling flags apply.
* CodeCarbon ``emissions.csv`` (one row per tracker run or task: ``timestamp`` = end, ``duration``
  s, ``cpu/gpu/ram_energy`` kWh, ``cpu/gpu/ram_power`` W, optional ``pue``) -> ``codecarbon``
  readings per component for the epoch window each row overlaps most (at least half the row);
  a row that covers most of the whole run instead becomes a ``window_name="run"`` reading on
  the last epoch record (whole-run windows are kept in the log but are not per-epoch energy).
  PUE, if the CSV has it and it is not 1, is divided out (``pue_applied``); RAM is a model
  (ESTIMATED_COMPONENT), and CPU carries METHOD_UNKNOWN because no column says whether RAPL or a
  TDP model was used.
* Carbontracker ``*carbontracker.log`` (``Epoch N:`` / ``Duration: H:MM:SS.ff`` / ``Average
  power usage (W) for <comp>: [w ...]``) -> ``carbontracker`` readings per component and device,
  epoch N -> our epoch N-1; energy = mean power x duration (its rectangle rule), implied sample
  counts from the poll period.

The run's epoch windows come from its train readings' ``window_start_wall_ns`` and monotonic
edges; a run log without wall-clock times cannot be aligned (InvalidLogError).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from eabench.logs.adapters._common import J_PER_KWH, err, read_text, with_derived_flags
from eabench.logs.schema import RunLog
from eabench.meters.provenance import Flag, MeterReading

__all__ = [
    "PowerTrace",
    "align_carbontracker",
    "align_codecarbon",
    "align_power_trace",
    "attach_readings",
    "epoch_windows",
    "read_power_csv",
]


@dataclass(frozen=True, slots=True)
class PowerTrace:
    """Power samples: ``t_ns`` wall-clock ns (ascending), ``watts`` (>= 0)."""

    t_ns: npt.NDArray[np.int64]
    watts: npt.NDArray[np.float64]
    source: str


def _parse_ts(value: str, where: str) -> int:
    """ISO 8601 (naive = UTC) or Unix seconds -> ns."""
    v = value.strip()
    try:
        return round(float(v) * 1e9)
    except ValueError:
        pass
    try:
        t = dt.datetime.fromisoformat(v.replace("Z", "+00:00"))
    except ValueError as exc:
        raise err(where, value, "must be ISO 8601 or Unix seconds") from exc
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.timezone.utc)
    return round(t.timestamp() * 1e9)


def _float(value: str, where: str) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError) as exc:
        raise err(where, value, "must be a number") from exc
    if not math.isfinite(x) or x < 0:
        raise err(where, value, "must be finite and >= 0")
    return x


def _rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    text = read_text(path)
    try:
        reader = csv.DictReader(io.StringIO(text))
        rows = list(reader)
    except csv.Error as exc:
        raise err(path.name, str(path), f"not a CSV file: {exc}") from exc
    return list(reader.fieldnames or []), rows


def read_power_csv(path: str | Path) -> PowerTrace:
    """Read an external power meter's CSV with a timestamp and a watts column."""
    path = Path(path)
    fields, rows = _rows(path)
    lower = {f.strip().lower(): f for f in fields}
    tcol = next((lower[k] for k in ("timestamp", "time", "t") if k in lower), None)
    wcol = next((lower[k] for k in ("watts", "power_w", "power", "w") if k in lower), None)
    if tcol is None or wcol is None:
        raise err(f"{path.name}.header", fields, "needs a timestamp and a watts column")
    if len(rows) < 2:
        raise err(path.name, len(rows), "needs at least 2 samples")
    t = np.asarray(
        [_parse_ts(r[tcol] or "", f"{path.name}[{i}].{tcol}") for i, r in enumerate(rows)]
    )
    w = np.asarray([_float(r[wcol], f"{path.name}[{i}].{wcol}") for i, r in enumerate(rows)])
    if (np.diff(t) <= 0).any():
        i = int(np.flatnonzero(np.diff(t) <= 0)[0]) + 1
        raise err(f"{path.name}[{i}].{tcol}", rows[i][tcol], "timestamps must increase")
    return PowerTrace(t.astype(np.int64), w.astype(np.float64), path.name)


def epoch_windows(log: RunLog) -> dict[int, tuple[int, int]]:
    """epoch -> (wall start ns, wall end ns) of its train window (from the run's readings)."""
    out: dict[int, tuple[int, int]] = {}
    for rec in log.epochs:
        train = [r for r in rec.readings if r.window_name == "train"]
        walls = [r for r in train if r.window_start_wall_ns is not None]
        if not walls:
            continue
        r = min(walls, key=lambda x: x.window_start_wall_ns or 0)
        assert r.window_start_wall_ns is not None
        out[rec.epoch] = (
            r.window_start_wall_ns,
            r.window_start_wall_ns + r.window_end_mono_ns - r.window_start_mono_ns,
        )
    if not out:
        raise err("run " + log.run_id, None, "no wall-clock window times; cannot align meters")
    return out


def _mono_starts(log: RunLog) -> dict[int, int]:
    """epoch -> monotonic start ns of its earliest train reading."""
    out = {}
    for rec in log.epochs:
        train = [r.window_start_mono_ns for r in rec.readings if r.window_name == "train"]
        if train:
            out[rec.epoch] = min(train)
    return out


def attach_readings(log: RunLog, extra: Mapping[int, Sequence[MeterReading]]) -> RunLog:
    """A copy of ``log`` with ``extra[epoch]`` readings appended to those epoch records."""
    recs = []
    for rec in log.epochs:
        add = tuple(extra.get(rec.epoch, ()))
        recs.append(replace(rec, readings=(*rec.readings, *add)) if add else rec)
    return RunLog(header=log.header, epochs=tuple(recs), torn_tail=log.torn_tail)


def _interp(trace: PowerTrace, t: int) -> float:
    return float(np.interp(t, trace.t_ns, trace.watts))


def align_power_trace(log: RunLog, trace: PowerTrace, meter: str = "node.external") -> RunLog:
    """Integrate ``trace`` over every epoch window of ``log`` (see module docstring)."""
    windows = epoch_windows(log)
    mono = _mono_starts(log)
    period_s = float(np.median(np.diff(trace.t_ns))) / 1e9
    out: dict[int, list[MeterReading]] = {}
    for epoch, (a, b) in windows.items():
        if b <= trace.t_ns[0] or a >= trace.t_ns[-1]:
            continue
        inside = (trace.t_ns > a) & (trace.t_ns < b)
        ts = np.concatenate([[a], trace.t_ns[inside], [b]])
        ws = np.concatenate([[_interp(trace, a)], trace.watts[inside], [_interp(trace, b)]])
        energy = float(np.sum((ws[1:] + ws[:-1]) * np.diff(ts) / 2e9))
        dur = (b - a) / 1e9
        n = int(inside.sum())
        gaps = np.diff(ts) / 1e9
        edge_start = float(gaps[0]) if a >= trace.t_ns[0] else math.inf
        edge_end = float(gaps[-1]) if b <= trace.t_ns[-1] else math.inf
        flags: tuple[Flag, ...] = ()
        if not (math.isfinite(edge_start) and math.isfinite(edge_end)):
            flags = (Flag("PARTIAL_COVERAGE", "invalid", "trace does not cover the window"),)
        r = MeterReading(
            reading_id=f"{log.run_id}/e{epoch}/{meter}",
            run_id=log.run_id,
            epoch=epoch,
            window_name="train",
            meter=meter,
            method="external",
            quantity="wall power (W)",
            api_call=f"CSV {trace.source}",
            backend="external power meter",
            scope="node_wall",
            window_start_mono_ns=mono[epoch],
            window_end_mono_ns=mono[epoch] + (b - a),
            window_start_wall_ns=a,
            integration="trapezoid",
            energy_j=energy if not flags else None,
            duration_s=dur,
            mean_power_w=energy / dur if dur > 0 and not flags else None,
            requested_rate_hz=1.0 / period_s if period_s > 0 else None,
            achieved_rate_hz=(n - 1) / ((trace.t_ns[inside][-1] - trace.t_ns[inside][0]) / 1e9)
            if n >= 2
            else None,
            samples_expected=int(dur / period_s) if period_s > 0 else None,
            samples_taken=n,
            max_gap_s=float(gaps.max()),
            edge_gap_start_s=edge_start if math.isfinite(edge_start) else None,
            edge_gap_end_s=edge_end if math.isfinite(edge_end) else None,
        )
        out[epoch] = [with_derived_flags(r, flags)]
    if not out:
        raise err(trace.source, None, f"covers no epoch window of run {log.run_id}")
    return attach_readings(log, out)


_CC_COMPONENTS: Final = (
    ("gpu", "gpu", "counter"),
    ("cpu", "package", "counter"),
    ("ram", "memory", "model"),
)


def align_codecarbon(log: RunLog, path: str | Path) -> RunLog:
    """Attach CodeCarbon ``emissions.csv`` rows to the epoch windows they overlap most."""
    path = Path(path)
    fields, rows = _rows(path)
    need = {"timestamp", "duration", "cpu_energy", "gpu_energy", "ram_energy"}
    if not need <= set(fields):
        raise err(f"{path.name}.header", sorted(need - set(fields)), "missing CodeCarbon columns")
    windows = epoch_windows(log)
    mono = _mono_starts(log)
    out: dict[int, list[MeterReading]] = {}
    for i, row in enumerate(rows):
        where = f"{path.name}[{i}]"
        end = _parse_ts(row["timestamp"], f"{where}.timestamp")
        dur = _float(row["duration"], f"{where}.duration")
        start = end - int(dur * 1e9)
        best, best_overlap = None, 0
        for epoch, (a, b) in windows.items():
            overlap = min(b, end) - max(a, start)
            if overlap > best_overlap:
                best, best_overlap = epoch, overlap
        window = "train"
        run_a, run_b = min(a for a, _ in windows.values()), max(b for _, b in windows.values())
        if best is None or best_overlap < 0.5 * (end - start):
            # a row for the whole run (e.g. one tracker around training): a "run" window
            run_overlap = min(run_b, end) - max(run_a, start)
            if run_overlap < 0.5 * (end - start) or run_overlap < 0.5 * (run_b - run_a):
                continue
            best, window = max(windows), "run"
        pue = _float(row.get("pue") or "1.0", f"{where}.pue")
        if pue <= 0:
            raise err(f"{where}.pue", row.get("pue"), "must be > 0")
        for comp, scope, method in _CC_COMPONENTS:
            kwh = _float(row[f"{comp}_energy"], f"{where}.{comp}_energy")
            extra: tuple[Flag, ...] = ()
            if comp == "cpu":
                extra = (Flag("METHOD_UNKNOWN", "warn", "RAPL or TDP model: not recorded"),)
            r = MeterReading(
                reading_id=f"{log.run_id}/e{best}/codecarbon/{comp}/{i}",
                run_id=log.run_id,
                epoch=best,
                window_name=window,
                meter="codecarbon",
                method=method,
                quantity=f"{comp}_energy (kWh)",
                api_call=f"emissions.csv {comp}_energy",
                backend="codecarbon",
                backend_version=row.get("codecarbon_version") or None,
                scope=scope,
                window_start_mono_ns=mono.get(best, 0),
                window_end_mono_ns=mono.get(best, 0) + (end - start),
                window_start_wall_ns=max(start, 0),
                integration="model" if method == "model" else "counter_delta",
                energy_j=kwh * J_PER_KWH / pue,
                duration_s=dur,
                pue_applied=pue if pue != 1.0 else None,
                model={"name": "codecarbon_ram"} if method == "model" else None,
            )
            out.setdefault(best, []).append(with_derived_flags(r, extra))
    if not out:
        raise err(path.name, len(rows), f"no row overlaps an epoch window of run {log.run_id}")
    return attach_readings(log, out)


_CT_LINE: Final = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) - (.*)$")
_CT_DUR: Final = re.compile(r"^Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)$")
_CT_POWER: Final = re.compile(r"^Average power usage \(W\) for (\w+): (\[.*\]|None)$")


def align_carbontracker(log: RunLog, path: str | Path, poll_period_s: float = 10.0) -> RunLog:
    """Attach a ``carbontracker.log``'s per-epoch component powers (epoch N -> epoch N-1)."""
    path = Path(path)
    epochs: dict[int, dict[str, Any]] = {}
    current: int | None = None
    for lineno, line in enumerate(read_text(path).splitlines(), start=1):
        m = _CT_LINE.match(line.strip())
        if not m:
            continue
        msg = m.group(2).strip()
        if msg.startswith("Epoch ") and msg.endswith(":"):
            try:
                current = int(msg[6:-1]) - 1
            except ValueError as exc:
                raise err(f"{path.name}:{lineno}", msg, "must read 'Epoch <N>:'") from exc
            if current < 0 or current in epochs:
                raise err(f"{path.name}:{lineno}", msg, "epoch numbers must be unique and >= 1")
            epochs[current] = {"time": m.group(1), "power": {}}
        elif current is not None and (d := _CT_DUR.match(msg)):
            h, mi, s = int(d.group(1)), int(d.group(2)), float(d.group(3))
            epochs[current]["duration_s"] = h * 3600 + mi * 60 + s
        elif current is not None and (p := _CT_POWER.match(msg)):
            vals = None if p.group(2) == "None" else p.group(2)[1:-1].replace(",", " ").split()
            watts = None if vals is None else [_float(v, f"{path.name}:{lineno}") for v in vals]
            epochs[current]["power"][p.group(1)] = watts
    if not epochs:
        raise err(path.name, str(path), "no 'Epoch N:' blocks (not a carbontracker log)")
    known = {rec.epoch: rec for rec in log.epochs}
    out: dict[int, list[MeterReading]] = {}
    for epoch, block in sorted(epochs.items()):
        if epoch not in known:
            raise err(f"{path.name} epoch", epoch + 1, f"run {log.run_id} has no such epoch")
        dur = block.get("duration_s")
        if dur is None:
            raise err(f"{path.name} epoch {epoch + 1}", None, "has no Duration line")
        start = known[epoch].readings[0].window_start_mono_ns if known[epoch].readings else 0
        for comp, watts in block["power"].items():
            for k, w in enumerate(watts or [None]):
                r = MeterReading(
                    reading_id=f"{log.run_id}/e{epoch}/carbontracker/{comp}{k}",
                    run_id=log.run_id,
                    epoch=epoch,
                    window_name="train",
                    meter="carbontracker",
                    method="polling",
                    quantity=f"average power (W) for {comp}",
                    api_call="nvmlDeviceGetPowerUsage" if comp == "gpu" else "RAPL energy_uj",
                    backend="carbontracker",
                    scope="gpu" if comp == "gpu" else "package",
                    device={"index": k, "component": comp},
                    window_start_mono_ns=start,
                    window_end_mono_ns=start + int(dur * 1e9),
                    integration="rectangle_mean",
                    energy_j=None if w is None else w * dur,
                    duration_s=dur,
                    mean_power_w=w,
                    requested_rate_hz=1.0 / poll_period_s,
                    samples_expected=int(dur // poll_period_s),
                    samples_taken=max(1, int(dur // poll_period_s)) if w is not None else 0,
                )
                extra = () if w is not None else (Flag("NO_READING", "invalid", "None logged"),)
                out.setdefault(epoch, []).append(with_derived_flags(r, extra))
    return attach_readings(log, out)
