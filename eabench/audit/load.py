"""Build :class:`~eabench.audit.data.AuditData` from run logs or a consolidated dataset table.

Two inputs, and what each can tell:

- **Run logs** (``*.runlog.jsonl``, or foreign files an :mod:`eabench.logs` adapter reads, such as
  EC-NAS ``results.json``): everything per window and meter reading: energy, duration, sample
  counts, flags; per-run GPU/CPU totals where the source only splits per run (EC-NAS header
  ``extra.run_gpu_energy_j``/``run_cpu_energy_j``/``run_gpu_power_w``).
- **A consolidated dataset table** (:func:`eabench.logs.open_dataset`): cumulative energy per
  fidelity and channel, with the union of flags so far. Window energy is the difference of
  consecutive measured fidelities and the window duration the difference of cumulative
  ``train_time_s``. The dataset keeps no sample counts, so the expected count is implied from the
  duration and the channel's requested rate (``floor(duration x rate)``: what a poller that kept
  its rate would have taken, an upper bound on what it did take). Window flags are the union up
  to the window (a flag once set stays set), so flag shares from a dataset are upper bounds.

Only train windows are audited (a setup window before training and evaluation windows are
skipped). Channels are ``"<meter>/<scope>"``, summed over devices.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

import numpy as np

from eabench.audit.data import AuditData, DeviceInfo, component_of
from eabench.errors import InvalidArgumentError
from eabench.logs.dataset import RunTable
from eabench.logs.schema import RunLog
from eabench.meters.provenance import SEVERITIES, MeterReading

__all__ = [
    "KNOWN_GPUS",
    "UTILISATION_KEY",
    "concat_runs",
    "device_for",
    "from_dataset_table",
    "from_run_logs",
]

#: ``EpochRecord.extra`` key of the window's mean GPU utilisation (fraction in [0, 1]), read when
#: a collector records it (NVML ``nvmlDeviceGetUtilizationRates().gpu / 100``).
UTILISATION_KEY: Final = "gpu_utilisation"

#: Datasheet maximum board power (W) of GPUs met in foreign data, used when a log records no
#: power limit. Idle power is not in datasheets; it needs a calibration run (None here).
KNOWN_GPUS: Final[dict[str, tuple[float, str]]] = {
    "Quadro RTX 6000": (295.0, "NVIDIA Quadro RTX 6000 datasheet: max power consumption 295 W"),
}


def device_for(
    name: str | None,
    power_limit_w: float | None = None,
    idle_power_w: float | None = None,
) -> DeviceInfo:
    """The GPU's :class:`DeviceInfo`: the recorded power limit, else the datasheet table."""
    if power_limit_w is not None:
        src = "power limit recorded in the run log (NVML)"
        return DeviceInfo(name, idle_power_w, float(power_limit_w), src)
    if name is not None:
        key = name.removeprefix("NVIDIA ").strip()
        if key in KNOWN_GPUS:
            watts, src = KNOWN_GPUS[key]
            return DeviceInfo(name, idle_power_w, watts, src)
    return DeviceInfo(name, idle_power_w, None, "unknown")


def _channel(r: MeterReading) -> str:
    return f"{r.meter}/{r.scope}"


def from_run_logs(
    logs: Sequence[RunLog],
    *,
    device: DeviceInfo | None = None,
    off_socket_bounds_w: tuple[float, float] | None = None,
    reference_channel: str | None = None,
    source: str = "",
) -> AuditData:
    """Stack the train windows of ``logs`` into an :class:`AuditData` (see module docstring)."""
    if not logs:
        raise InvalidArgumentError.for_field("logs", 0, "need at least one run log")
    chans: dict[str, tuple[str, str]] = {}
    codes: dict[str, str] = {}
    for lg in logs:
        for rec in lg.epochs:
            for r in rec.readings:
                if r.window_name != "train":
                    continue
                chans.setdefault(_channel(r), (r.method, component_of(r.scope, r.method)))
                for fl in r.flags:
                    old = codes.get(fl.code)
                    if old is None or SEVERITIES.index(fl.severity) > SEVERITIES.index(old):
                        codes[fl.code] = fl.severity
    names = sorted(chans)
    code_list = sorted(codes)
    n, w, c, f = len(logs), max(len(lg.epochs) for lg in logs), len(names), len(code_list)
    energy = np.full((n, w, c), np.nan)
    dur = np.full((n, w, c), np.nan)
    taken = np.full((n, w, c), np.nan)
    expected = np.full((n, w, c), np.nan)
    flags = np.zeros((n, w, c, f), dtype=bool)
    span = np.full((n, w), np.nan)
    util = np.full((n, w), np.nan)
    pue: set[float] = set()
    for i, lg in enumerate(logs):
        for k, rec in enumerate(lg.epochs):
            span[i, k] = rec.span_epochs
            u = _num(rec.extra.get(UTILISATION_KEY))
            if u is not None and 0.0 <= u <= 1.0:
                util[i, k] = u
            groups: dict[int, list[MeterReading]] = {}
            for r in rec.readings:
                if r.window_name == "train":
                    groups.setdefault(names.index(_channel(r)), []).append(r)
            for j, rs in groups.items():
                es = [r.energy_j for r in rs]
                energy[i, k, j] = np.nan if any(e is None for e in es) else sum(es)  # type: ignore[arg-type]
                ds = [r.duration_s for r in rs if r.duration_s is not None]
                dur[i, k, j] = max(ds) if ds else np.nan
                polled = [r for r in rs if r.samples_taken is not None]
                if polled:
                    worst = min(polled, key=lambda r: r.samples_taken or 0)
                    taken[i, k, j] = worst.samples_taken
                    if worst.samples_expected is not None:
                        expected[i, k, j] = worst.samples_expected
                for r in rs:
                    for fl in r.flags:
                        flags[i, k, j, code_list.index(fl.code)] = True
                    if r.pue_applied is not None:
                        pue.add(r.pue_applied)
    run_components, run_gpu_power = _run_level(logs)
    first = logs[0].header.hardware
    if device is None:
        device = device_for(_str_or_none(first.get("gpu_name")), _num(first.get("power_limit_w")))
    return AuditData(
        run_ids=tuple(lg.run_id for lg in logs),
        channels=tuple(names),
        methods=tuple(chans[x][0] for x in names),
        components=tuple(chans[x][1] for x in names),
        energy_j=energy,
        duration_s=dur,
        samples_taken=taken,
        samples_expected=expected,
        flag_codes=tuple(code_list),
        flag_severities=tuple(codes[x] for x in code_list),
        flags=flags,
        span_epochs=span,
        utilisation=util if np.isfinite(util).any() else None,
        run_components_j=run_components,
        run_gpu_power_w=run_gpu_power,
        device=device,
        off_socket_bounds_w=off_socket_bounds_w,
        pue_applied=pue.pop() if len(pue) == 1 else None,
        reference_channel=reference_channel,
        source=source,
        simulated=any(r.simulated for lg in logs for rec in lg.epochs for r in rec.readings),
    )


def _num(v: Any) -> float | None:
    if isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v):
        return float(v)
    return None


def _str_or_none(v: Any) -> str | None:
    return v if isinstance(v, str) and v else None


def _run_level(
    logs: Sequence[RunLog],
) -> tuple[dict[str, np.ndarray] | None, np.ndarray | None]:
    """Per-run GPU/CPU totals from ``header.extra`` (EC-NAS), if every run has them."""
    keys = {"gpu": "run_gpu_energy_j", "cpu": "run_cpu_energy_j"}
    extras = [lg.header.extra for lg in logs]
    if not all(all(isinstance(x.get(k), list) for k in keys.values()) for x in extras):
        return None, None
    comps = {c: np.array([sum(x[k]) for x in extras], dtype=np.float64) for c, k in keys.items()}
    power = None
    if all(isinstance(x.get("run_gpu_power_w"), list) for x in extras):
        power = np.array([sum(x["run_gpu_power_w"]) for x in extras], dtype=np.float64)
    return comps, power


def from_dataset_table(
    table: RunTable,
    *,
    device: DeviceInfo | None = None,
    off_socket_bounds_w: tuple[float, float] | None = None,
    reference_channel: str | None = None,
    source: str = "",
) -> AuditData:
    """Per-window arrays from a dataset run table's cumulative energy (see module docstring)."""
    eb = table.energy
    if eb is None or table.run_ids is None:
        raise InvalidArgumentError.for_field(
            "table", table.name, "must be a run table with an energy block"
        )
    if table.fidelity.kind != "epoch":
        raise InvalidArgumentError.for_field(
            "table.fidelity.kind", table.fidelity.kind, "must be 'epoch' (prefix runs)"
        )
    if "train_time_s" not in table.metrics:
        raise InvalidArgumentError.for_field(
            "table.metrics", sorted(table.metrics), "must hold train_time_s for window durations"
        )
    groups: dict[str, list[int]] = {}
    prov: dict[str, Mapping[str, Any]] = {}
    for k, p in enumerate(eb.provenance):
        name = f"{p.get('meter')}/{p.get('scope')}"
        groups.setdefault(name, []).append(k)
        prov.setdefault(name, p)
    names = sorted(groups)
    cum = np.stack(
        [
            np.where(
                np.all(eb.mask[:, :, groups[x]], axis=2),
                eb.energy_j[:, :, groups[x]].sum(2),
                np.nan,
            )
            for x in names
        ],
        axis=2,
    )
    bits = np.stack([np.bitwise_or.reduce(eb.flag_bits[:, :, groups[x]], axis=2) for x in names], 2)
    t_cum = table.metrics["train_time_s"].values
    fid = table.fidelity.values
    # windows end at fidelities > 0 where the time and some channel are measured
    ends = [(c, int(fid[c])) for c in range(len(fid)) if fid[c] > 0]
    n, c = cum.shape[0], len(names)
    win_cols: list[list[int]] = []
    for i in range(n):
        cols = [
            col for col, _ in ends if np.isfinite(t_cum[i, col]) and np.isfinite(cum[i, col]).any()
        ]
        win_cols.append(cols)
    w = max((len(x) for x in win_cols), default=0)
    if w == 0:
        raise InvalidArgumentError.for_field("table", table.name, "has no measured train window")
    energy = np.full((n, w, c), np.nan)
    dur = np.full((n, w, c), np.nan)
    span = np.full((n, w), np.nan)
    flags = np.zeros((n, w, c, len(eb.flag_codes)), dtype=bool)
    bit_vals = np.array([1 << b for b in range(len(eb.flag_codes))], dtype=np.uint32)
    for i, cols in enumerate(win_cols):
        prev = 0
        for k, col in enumerate(cols):
            start = cum[i, prev] if np.isfinite(cum[i, prev]).any() else np.zeros(c)
            energy[i, k] = cum[i, col] - start
            dt = t_cum[i, col] - (t_cum[i, prev] if np.isfinite(t_cum[i, prev]) else 0.0)
            dur[i, k] = np.where(np.isfinite(energy[i, k]), dt, np.nan)
            span[i, k] = fid[col] - fid[prev]
            flags[i, k] = (bits[i, col][:, None] & bit_vals[None, :]) != 0
            prev = col
    rates = np.array([_num(prov[x].get("requested_rate_hz")) or np.nan for x in names])
    polling = np.array([prov[x].get("method") == "polling" for x in names])
    expected = np.where(polling & np.isfinite(rates), np.floor(dur * rates), np.nan)
    taken = np.full_like(expected, np.nan)
    pues = {_num(prov[x].get("pue_applied")) for x in names} - {None}
    run_comp, run_gpu_p = _static_run_level(table)
    return AuditData(
        run_ids=tuple(str(x) for x in table.run_ids),
        channels=tuple(names),
        methods=tuple(str(prov[x].get("method")) for x in names),
        components=tuple(
            component_of(str(prov[x].get("scope")), str(prov[x].get("method"))) for x in names
        ),
        energy_j=np.where(energy < 0, np.nan, energy),
        duration_s=dur,
        samples_taken=taken,
        samples_expected=expected,
        flag_codes=tuple(eb.flag_codes),
        flag_severities=tuple(eb.flag_severities.get(x, "info") for x in eb.flag_codes),
        flags=flags,
        span_epochs=span,
        run_components_j=run_comp,
        run_gpu_power_w=run_gpu_p,
        device=device or DeviceInfo(),
        off_socket_bounds_w=off_socket_bounds_w,
        pue_applied=pues.pop() if len(pues) == 1 else None,
        reference_channel=reference_channel,
        source=source,
        simulated=any(bool(p.get("simulated")) for p in eb.provenance),
        notes=(
            "input is a consolidated dataset: window flags are the union of flags up to the "
            "window (flag shares are upper bounds)",
            "the dataset keeps no sample counts: counts are implied as floor(duration x "
            "requested rate), an upper bound on the samples a poller took",
            "window durations are differences of cumulative train_time_s (training only): "
            "where a meter integrated over a longer wall-clock window, power = energy / "
            "duration reads high",
        ),
    )


def _static_run_level(
    table: RunTable,
) -> tuple[dict[str, np.ndarray] | None, np.ndarray | None]:
    """Per-run GPU/CPU totals from the table's ``static/run_{gpu,cpu}_energy_j`` (EC-NAS), and
    the mean GPU power ``run_gpu_energy_j / total_time_s`` when the run time is stored."""
    st = table.static
    if "run_gpu_energy_j" not in st or "run_cpu_energy_j" not in st:
        return None, None
    comps = {"gpu": st["run_gpu_energy_j"].values, "cpu": st["run_cpu_energy_j"].values}
    power = None
    if "total_time_s" in st:
        t = st["total_time_s"].values
        with np.errstate(divide="ignore", invalid="ignore"):
            power = np.where(t > 0, comps["gpu"] / t, np.nan)
    return comps, power


def concat_runs(parts: Sequence[AuditData], *, source: str = "") -> AuditData:
    """Stack several :class:`AuditData` along the run axis (union of channels and flag codes;
    shorter runs padded with NaN windows). Device, bounds and PUE must agree or become unknown."""
    if not parts:
        raise InvalidArgumentError.for_field("parts", 0, "need at least one AuditData")
    if len(parts) == 1:
        return parts[0]
    chans: dict[str, tuple[str, str]] = {}
    codes: dict[str, str] = {}
    for d in parts:
        for c, m, k in zip(d.channels, d.methods, d.components, strict=True):
            chans.setdefault(c, (m, k))
        for code, sev in zip(d.flag_codes, d.flag_severities, strict=True):
            old = codes.get(code)
            if old is None or SEVERITIES.index(sev) > SEVERITIES.index(old):
                codes[code] = sev
    names, code_list = sorted(chans), sorted(codes)
    w = max(d.shape[1] for d in parts)
    arrays: dict[str, list[np.ndarray]] = {k: [] for k in ("e", "t", "st", "se", "f", "s")}
    for d in parts:
        r = d.shape[0]
        cmap = [names.index(c) for c in d.channels]
        fmap = [code_list.index(c) for c in d.flag_codes]
        for key, src in (
            ("e", d.energy_j),
            ("t", d.duration_s),
            ("st", d.samples_taken),
            ("se", d.samples_expected),
        ):
            arr = np.full((r, w, len(names)), np.nan)
            arr[:, : src.shape[1], cmap] = src
            arrays[key].append(arr)
        fl = np.zeros((r, w, len(names), len(code_list)), dtype=bool)
        if fmap:
            fl[:, : d.shape[1], np.array(cmap)[:, None], np.array(fmap)[None, :]] = d.flags
        arrays["f"].append(fl)
        sp = np.full((r, w), np.nan)
        if d.span_epochs is not None:
            sp[:, : d.shape[1]] = d.span_epochs
        arrays["s"].append(sp)

    def same(values: list[Any]) -> Any:
        return values[0] if all(v == values[0] for v in values) else None

    run_comp = None
    if all(d.run_components_j for d in parts):
        keys = set.intersection(*(set(d.run_components_j or {}) for d in parts))
        run_comp = {
            k: np.concatenate([np.asarray((d.run_components_j or {})[k]) for d in parts])
            for k in sorted(keys)
        }
    gpu_p = None
    if all(d.run_gpu_power_w is not None for d in parts):
        gpu_p = np.concatenate([np.asarray(d.run_gpu_power_w) for d in parts])
    return AuditData(
        run_ids=tuple(x for d in parts for x in d.run_ids),
        channels=tuple(names),
        methods=tuple(chans[x][0] for x in names),
        components=tuple(chans[x][1] for x in names),
        energy_j=np.concatenate(arrays["e"]),
        duration_s=np.concatenate(arrays["t"]),
        samples_taken=np.concatenate(arrays["st"]),
        samples_expected=np.concatenate(arrays["se"]),
        flag_codes=tuple(code_list),
        flag_severities=tuple(codes[x] for x in code_list),
        flags=np.concatenate(arrays["f"]),
        span_epochs=np.concatenate(arrays["s"]),
        run_components_j=run_comp,
        run_gpu_power_w=gpu_p,
        device=same([d.device for d in parts]) or DeviceInfo(),
        off_socket_bounds_w=same([d.off_socket_bounds_w for d in parts]),
        pue_applied=same([d.pue_applied for d in parts]),
        reference_channel=same([d.reference_channel for d in parts]),
        source=source or "; ".join(d.source for d in parts),
        simulated=any(d.simulated for d in parts),
        notes=tuple(dict.fromkeys(n for d in parts for n in d.notes)),
    )
