"""Building the consolidated dataset: columnar :class:`TableData`, from run logs or label tables,
and :func:`write_dataset` (deterministic bytes: gzip+shuffle, a fletcher32 checksum on every
non-empty array that HDF5 verifies on each read, no HDF5 timestamps).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from eabench._atomic import atomic_path, atomic_write_text, sha256_file
from eabench.errors import DatasetError
from eabench.logs.dataset import DATASET_FORMAT, DATASET_VERSION, SPLIT_CODES, checksum_path
from eabench.logs.schema import RunLog
from eabench.meters.provenance import SEVERITIES, MeterReading

__all__ = [
    "DEFAULT_SPLIT",
    "TableData",
    "channel_of",
    "config_id_split",
    "config_matrix_ops",
    "table_from_runs",
    "write_dataset",
]

#: name of the deterministic split by config id that every table gets
DEFAULT_SPLIT: Final = "config_id_80_10_10"
_OPS_LABEL: Final = {
    "input": -1,
    "output": -2,
    "conv3x3-bn-relu": 0,
    "conv1x1-bn-relu": 1,
    "maxpool3x3": 2,
}
_PROVENANCE_KEYS: Final = (
    "meter",
    "method",
    "quantity",
    "api_call",
    "backend",
    "backend_version",
    "scope",
    "integration",
    "power_source_kind",
    "requested_rate_hz",
    "pue_applied",
    "simulated",
    "policy_id",
)


def _err(field_name: str, value: Any, rule: str) -> DatasetError:
    exc = DatasetError.for_field(field_name, value, rule)
    assert isinstance(exc, DatasetError)
    return exc


def config_id_split(
    config_ids: Sequence[str] | npt.NDArray[np.str_],
    fractions: tuple[float, float, float] = (0.8, 0.1, 0.1),
    salt: str = "eabench-split-v1",
) -> npt.NDArray[np.int8]:
    """Deterministic train/valid/test codes (0/1/2) from the config id alone.

    u = first 8 bytes of sha256(salt + ":" + id) / 2**64; train if u < f0, valid if u < f0 + f1,
    else test. All runs of one config fall in the same part (no leakage between repeats), and
    the assignment of a config never changes when other configs are added.
    """
    if len(fractions) != 3 or abs(sum(fractions) - 1.0) > 1e-9 or min(fractions) < 0:
        raise _err("fractions", fractions, "must be 3 non-negative numbers summing to 1")
    out = np.empty(len(config_ids), dtype=np.int8)
    for i, cid in enumerate(config_ids):
        digest = hashlib.sha256(f"{salt}:{cid}".encode()).digest()
        u = int.from_bytes(digest[:8], "big") / 2.0**64
        out[i] = 0 if u < fractions[0] else (1 if u < fractions[0] + fractions[1] else 2)
    return out


def config_matrix_ops(
    configs: Sequence[Mapping[str, Any] | None],
) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int8], npt.NDArray[np.uint8]]:
    """7V config dicts -> padded (n,7,7) matrices, (n,7) NB101 labels (-3 pad), vertex counts.

    A None config gives an all-padding row with ``n_vertices = 0``.
    """
    n = len(configs)
    matrix = np.zeros((n, 7, 7), dtype=np.uint8)
    ops = np.full((n, 7), -3, dtype=np.int8)
    nv = np.zeros(n, dtype=np.uint8)
    for i, cfg in enumerate(configs):
        if cfg is None:
            continue
        try:
            m = np.asarray(cfg["matrix"], dtype=np.uint8)
            v = m.shape[0] if m.ndim == 2 else -1
            labels = [_OPS_LABEL[o] for o in cfg["ops"]]
        except (KeyError, TypeError, ValueError) as exc:
            raise _err(f"configs[{i}]", cfg, f"not a 7V config dict: {exc}") from exc
        if m.shape != (v, v) or v > 7 or len(labels) != v:
            raise _err(f"configs[{i}]", cfg, "must be a V x V matrix (V <= 7) with V ops")
        matrix[i, :v, :v] = m
        ops[i, :v] = labels
        nv[i] = v
    return matrix, ops, nv


@dataclass
class TableData:
    """One table in columnar form, ready to write (see :mod:`eabench.logs.dataset`)."""

    space: str
    dataset: str
    name: str
    description: str
    fidelity: npt.NDArray[np.int64]
    fidelity_kind: str
    row_sources: list[str]
    config_ids: npt.NDArray[np.str_] | None
    config_ids_from: str | None = None
    run_ids: npt.NDArray[np.str_] | None = None
    row_paths: npt.NDArray[np.str_] | None = None
    configs: Sequence[Mapping[str, Any] | None] | None = None
    configs_packed: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
    metrics: dict[str, npt.NDArray[np.float64]] = field(default_factory=dict)
    static: dict[str, npt.NDArray[np.float64]] = field(default_factory=dict)
    energy_j: npt.NDArray[np.float64] | None = None
    energy_flags: npt.NDArray[np.uint32] | None = None
    meters: list[str] = field(default_factory=list)
    meter_provenance: list[dict[str, Any]] = field(default_factory=list)
    flag_codes: list[str] = field(default_factory=list)
    flag_severities: dict[str, str] = field(default_factory=dict)
    splits: dict[str, npt.NDArray[np.int8]] = field(default_factory=dict)
    attrs: dict[str, Any] = field(default_factory=dict)

    @property
    def n_rows(self) -> int:
        return len(self.row_sources)


def channel_of(r: MeterReading) -> str:
    """Meter channel id: ``meter:scope`` plus the device's index/zone when it names one."""
    dev = r.device or {}
    for key in ("index", "zone", "name"):
        value = dev.get(key)
        if isinstance(value, (str, int)) and not isinstance(value, bool):
            return f"{r.meter}:{r.scope}:{value}"
    return f"{r.meter}:{r.scope}"


def _row_path(lg: RunLog) -> str:
    """``source.path`` of a run (plus ``#row`` for sources holding many runs)."""
    path = str(lg.header.source.get("path", ""))
    row = lg.header.source.get("row")
    return f"{path}#{row}" if row is not None else path


def table_from_runs(
    logs: Sequence[RunLog],
    *,
    space: str,
    dataset: str,
    name: str,
    description: str,
    source_of: Mapping[str, str] | None = None,
) -> TableData:
    """Stack run logs into one epoch-kind table.

    Fidelity axis: epochs completed, ``0..max`` (0 = the setup window, before training). At the
    end of each record's window the metrics are set (accuracies, cumulative train time) and, per
    meter channel, the cumulative train-window energy (setup window included) with the union of
    all flags so far. Fidelities inside a multi-epoch window stay missing. ``source_of`` maps a
    run id to its row source (default: the header's ``source.kind``).
    """
    if not logs:
        raise _err("logs", 0, "need at least one run log")
    for lg in logs:
        if (lg.header.space, lg.header.dataset) != (space, dataset):
            raise _err("run " + lg.run_id, (lg.header.space, lg.header.dataset), "space mismatch")
    max_e = max(lg.next_epoch for lg in logs)
    fidelity = np.arange(max_e + 1, dtype=np.int64)
    n, e = len(logs), max_e + 1
    channels: dict[str, dict[str, Any]] = {}
    codes: dict[str, str] = {}
    for lg in logs:
        setup_readings = lg.header.setup.readings if lg.header.setup else ()
        for r in (*setup_readings, *(r for rec in lg.epochs for r in rec.readings)):
            if r.window_name not in ("train", "setup"):
                continue
            ch = channel_of(r)
            if ch not in channels:
                channels[ch] = {k: getattr(r, k) for k in _PROVENANCE_KEYS}
            for fl in r.flags:
                old = codes.get(fl.code)
                if old is None or SEVERITIES.index(fl.severity) > SEVERITIES.index(old):
                    codes[fl.code] = fl.severity
    meters = sorted(channels)
    code_list = sorted(codes)
    if len(code_list) > 32:
        raise _err("flag_codes", code_list, "at most 32 distinct flag codes per table")
    m = len(meters)
    metric_names = ("train_accuracy", "val_accuracy", "test_accuracy", "train_loss", "val_loss")
    metrics = {k: np.full((n, e), np.nan) for k in (*metric_names, "test_loss", "train_time_s")}
    energy = np.full((n, e, m), np.nan)
    flags = np.zeros((n, e, m), dtype=np.uint32)
    for i, lg in enumerate(logs):
        cum_e = np.zeros(m)
        seen = np.zeros(m, dtype=bool)
        cum_f = np.zeros(m, dtype=np.uint32)
        cum_t = 0.0
        steps: list[tuple[int, Any, tuple[MeterReading, ...]]] = []
        if lg.header.setup is not None:
            steps.append((0, lg.header.setup.metrics, lg.header.setup.readings))
        for rec in lg.epochs:
            steps.append((rec.epoch + 1, rec, rec.readings))
        for col, rec, readings in steps:
            if isinstance(rec, Mapping):
                for k, v in rec.items():
                    if v is not None:
                        metrics[k][i, col] = v
            else:
                for k in (*metric_names, "test_loss"):
                    v = getattr(rec, k)
                    if v is not None:
                        metrics[k][i, col] = v
                cum_t = cum_t + rec.train_time_s if rec.train_time_s is not None else np.nan
                metrics["train_time_s"][i, col] = cum_t
            if col == 0:
                metrics["train_time_s"][i, 0] = 0.0
            for r in readings:
                if r.window_name not in ("train", "setup"):
                    continue
                k = meters.index(channel_of(r))
                seen[k] = True
                cum_e[k] = cum_e[k] + r.energy_j if r.energy_j is not None else np.nan
                for fl in r.flags:
                    cum_f[k] |= np.uint32(1 << code_list.index(fl.code))
            energy[i, col] = np.where(seen, cum_e, np.nan)
            flags[i, col] = cum_f
    sources = [(source_of or {}).get(lg.run_id, str(lg.header.source.get("kind"))) for lg in logs]
    config_ids = np.array([lg.header.config_id or lg.run_id for lg in logs], dtype=str)
    return TableData(
        space=space,
        dataset=dataset,
        name=name,
        description=description,
        fidelity=fidelity,
        fidelity_kind="epoch",
        row_sources=sources,
        config_ids=config_ids,
        run_ids=np.array([lg.run_id for lg in logs], dtype=str),
        row_paths=np.array([_row_path(lg) for lg in logs], dtype=str),
        configs=[lg.header.config for lg in logs],
        metrics={k: v for k, v in metrics.items() if np.isfinite(v).any()},
        energy_j=energy if m else None,
        energy_flags=flags if m else None,
        meters=meters,
        meter_provenance=[channels[c] for c in meters],
        flag_codes=code_list,
        flag_severities=codes,
        splits={DEFAULT_SPLIT: config_id_split(config_ids)},
    )


_COMP: Final = {"compression": "gzip", "compression_opts": 9, "shuffle": True}


def _put(g: Any, name: str, data: np.ndarray) -> None:
    if data.dtype.kind == "U":
        data = np.char.encode(data, "utf-8") if data.size else data.astype("S1")
    kwargs: dict[str, Any] = {"track_times": False}
    if data.size > 16:
        kwargs.update(_COMP)
    if data.size:
        kwargs["fletcher32"] = True  # checked by HDF5 on every read: a flipped bit fails loudly
    g.create_dataset(name, data=data, **kwargs)


def write_dataset(
    path: str | os.PathLike[str],
    tables: Sequence[TableData],
    sources: Mapping[str, Mapping[str, Any]],
) -> Path:
    """Write ``tables`` to ``path`` atomically (temp file + fsync + rename), and the file's
    sha256 to ``<path>.sha256`` (``sha256sum`` format), which :func:`open_dataset` checks before
    HDF5 parses a byte (some corruptions of HDF5 metadata hang the HDF5 library itself).

    Raises:
        DatasetError: inconsistent shapes, duplicate tables, or a row source not in ``sources``.
    """
    import h5py

    path = Path(path)
    seen: set[tuple[str, str, str]] = set()
    try:
        with atomic_path(path) as tmp, h5py.File(tmp, "w", track_order=True) as f:
            f.attrs["format"] = DATASET_FORMAT
            f.attrs["version"] = DATASET_VERSION
            f.attrs["sources"] = json.dumps(sources, sort_keys=True)
            for t in tables:
                key = (t.space, t.dataset, t.name)
                if key in seen:
                    raise _err("table", "/".join(key), "appears twice")
                seen.add(key)
                _write_table(f, t, sources)
        atomic_write_text(checksum_path(path), f"{sha256_file(path)}  {path.name}\n")
    except OSError as exc:
        raise _err("out", str(path), f"cannot write the dataset: {exc}") from exc
    return path


def _write_table(f: Any, t: TableData, sources: Mapping[str, Any]) -> None:
    n, e = t.n_rows, t.fidelity.shape[0]
    g = f.require_group(t.space).require_group(t.dataset).create_group(t.name)
    names = sorted(set(t.row_sources))
    unknown = [s for s in names if s not in sources]
    if unknown:
        raise _err("row_source", unknown, "every row source must be described in sources")
    g.attrs["description"] = t.description
    g.attrs["fidelity_kind"] = t.fidelity_kind
    g.attrs["fidelity_unit"] = "epochs"
    g.attrs["n_rows"] = n
    g.attrs["row_source_names"] = json.dumps(names)
    for k, v in t.attrs.items():
        g.attrs[k] = v if isinstance(v, (int, float, str)) else json.dumps(v, sort_keys=True)
    _put(g, "fidelity", t.fidelity.astype(np.int64))
    if t.config_ids is not None:
        if t.config_ids.shape != (n,):
            raise _err("config_ids", t.config_ids.shape, f"must be ({n},)")
        _put(g, "config_id", t.config_ids)
    else:
        g.attrs["config_ids_from"] = t.config_ids_from or ""
    if t.run_ids is not None:
        _put(g, "run_id", t.run_ids)
    if t.row_paths is not None:
        _put(g, "row_path", t.row_paths)
    index = {s: i for i, s in enumerate(names)}
    _put(g, "row_source", np.array([index[s] for s in t.row_sources], dtype=np.uint8))
    packed = t.configs_packed
    if packed is None and t.configs is not None and t.space == "nb101-7v":
        packed = config_matrix_ops(t.configs)
    if packed is not None:
        cg = g.create_group("configs")
        for key, arr in zip(("matrix", "ops", "n_vertices"), packed, strict=True):
            _put(cg, key, arr)
    elif t.configs is not None:
        cg = g.create_group("configs")
        js = [json.dumps(c, sort_keys=True) if c is not None else "null" for c in t.configs]
        _put(cg, "json", np.array(js, dtype=str))
    for group, arrays, shape in (("metrics", t.metrics, (n, e)), ("static", t.static, (n,))):
        if not arrays:
            continue
        mg = g.create_group(group)
        for key in sorted(arrays):
            arr = np.asarray(arrays[key], dtype=np.float64)
            if arr.shape != shape:
                raise _err(f"{group}/{key}", arr.shape, f"must be {shape}")
            _put(mg, key, arr)
    if t.energy_j is not None:
        m = len(t.meters)
        if t.energy_j.shape != (n, e, m) or t.energy_flags is None:
            raise _err("energy_j", t.energy_j.shape, f"must be ({n}, {e}, {m}) with flags")
        eg = g.create_group("energy")
        _put(eg, "energy_j", t.energy_j.astype(np.float64))
        _put(eg, "flags", t.energy_flags.astype(np.uint32))
        _put(eg, "meters", np.array(t.meters, dtype=str))
        eg["meters"].attrs["provenance"] = json.dumps(t.meter_provenance, sort_keys=True)
        _put(eg, "flag_codes", np.array(t.flag_codes, dtype=str).reshape(-1))
        eg["flag_codes"].attrs["severities"] = json.dumps(t.flag_severities, sort_keys=True)
    if t.splits:
        sg = g.create_group("splits")
        for key in sorted(t.splits):
            codes = np.asarray(t.splits[key], dtype=np.int8)
            if codes.shape != (n,) or not np.isin(codes, [-1, *SPLIT_CODES.values()]).all():
                raise _err(f"splits/{key}", codes, "must be (n,) codes in {-1, 0, 1, 2}")
            _put(sg, key, codes)
