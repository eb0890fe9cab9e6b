"""Training data of a ``curve-bcs`` surrogate: the epoch tables of a consolidated dataset.

Every epoch-kind table of ``<space>/<dataset>`` (or the ones a recipe names) is read with
:func:`eabench.logs.open_dataset`; rows are runs. Per run: the config (from ``configs/json``,
validated by the space), its run length T (the config's ``max_epochs_field``), the observed prefix
length L (consecutive epochs 1..L with a validation accuracy), the accuracy curves over 1..L, the
mean training seconds and joules per epoch over the observed epochs (per meter, device channels of
one meter summed), the setup-window energy (fidelity 0) and the split part of its config id.
Runs without one observed epoch are skipped and counted (``skipped``), never silently.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from eabench.errors import DatasetError, EabenchError
from eabench.logs import open_dataset
from eabench.logs.build import DEFAULT_SPLIT, config_id_split
from eabench.logs.dataset import RunTable
from eabench.spaces.base import SearchSpace

__all__ = ["CurveData", "MeterData", "load_curve_data", "meter_of_channel"]

#: Primary-meter preference: the first of these with data is the primary meter.
METER_PREFERENCE = ("gpu.nvml_counter", "gpu.nvml_power", "gpu.smi_poll", "cpu.rapl")


def meter_of_channel(channel: str) -> str:
    """Meter id of a dataset energy channel ``meter:scope[:device]``."""
    return channel.split(":", 1)[0]


@dataclass(frozen=True, slots=True)
class MeterData:
    """One meter's training data: per-run mean joules per epoch (NaN: no reading), setup joules,
    provenance of its channels, and how many runs carry each flag code."""

    per_epoch_j: np.ndarray
    setup_j: np.ndarray
    provenance: tuple[Mapping[str, Any], ...]
    flag_counts: Mapping[str, int]
    flag_severities: Mapping[str, str]
    simulated: bool


@dataclass(frozen=True, slots=True)
class CurveData:
    """Runs x features and curves of one space and dataset (see the module docstring)."""

    space_name: str
    dataset: str
    tables: tuple[str, ...]
    config_ids: np.ndarray
    configs: tuple[Any, ...]
    features: np.ndarray
    run_length: np.ndarray
    observed: np.ndarray
    val_curves: tuple[np.ndarray, ...]
    test_curves: tuple[np.ndarray | None, ...]
    per_epoch_s: np.ndarray
    meters: Mapping[str, MeterData]
    split: np.ndarray
    simulated: bool
    row_sources: np.ndarray
    skipped: Mapping[str, int] = field(default_factory=dict)
    val_from_test: bool = False
    """True when the tables record test accuracy only (EA-HAS-Bench/pycls logs): the
    "validation" curves are then the test curves, and answers say so."""

    @property
    def n_runs(self) -> int:
        return int(self.config_ids.shape[0])


def _observed_length(values: np.ndarray) -> int:
    """Consecutive finite values from epoch 1 (column 1) on."""
    finite = np.isfinite(values[1:])
    return int(finite.size if finite.all() else np.argmin(finite))


def _check_table(t: RunTable) -> None:
    if t.config_json is None:
        raise DatasetError.for_field(t.name, "configs/json", "runs need their config dicts")
    if "val_accuracy" not in t.metrics and "test_accuracy" not in t.metrics:
        raise DatasetError.for_field(t.name, "metrics", "needs val_accuracy or test_accuracy")
    if not np.array_equal(t.fidelity.values, np.arange(t.fidelity.values.size)):
        raise DatasetError.for_field(t.name, "fidelity", "must be epochs 0..E (an epoch table)")


def load_curve_data(
    dataset: str | Path,
    space: SearchSpace[Any],
    dataset_name: str,
    tables: Sequence[str] | None = None,
    max_epochs_field: str | None = "max_epochs",
    space_name: str | None = None,
) -> CurveData:
    """Read the epoch tables of ``space`` / ``dataset_name`` from a consolidated dataset.

    Raises:
        DatasetError: no such tables, no usable run, or a table without configs.
    """
    ds = open_dataset(dataset)
    sname = space_name or space.name
    names = [t[2] for t in ds.tables if t[0] == sname and t[1] == dataset_name]
    if tables is not None:
        missing = [n for n in tables if n not in names]
        if missing:
            raise DatasetError.for_field("tables", missing, f"must be among {names}")
        names = list(tables)
    if not names:
        raise DatasetError.for_field("space/dataset", f"{sname}/{dataset_name}", "has no tables")
    rows: dict[str, list[Any]] = {k: [] for k in ("cid", "cfg", "T", "L", "val", "test", "sec")}
    rows.update(src=[], split=[])
    per_meter: dict[str, dict[str, Any]] = {}
    skipped: dict[str, int] = {}
    sim_any = False
    from_test_seen: bool | None = None
    for name in names:
        t = ds.table(sname, dataset_name, name)
        _check_table(t)
        assert t.config_json is not None
        test = t.metrics["test_accuracy"].values if "test_accuracy" in t.metrics else None
        from_test = "val_accuracy" not in t.metrics
        if from_test_seen is not None and from_test != from_test_seen:
            raise DatasetError.for_field("tables", names, "mix val-accuracy and test-only tables")
        from_test_seen = from_test
        val = t.metrics["test_accuracy" if from_test else "val_accuracy"].values
        if from_test:
            test = None
        time = t.metrics["train_time_s"].values if "train_time_s" in t.metrics else None
        energy = t.energy
        sim_table = any("simulated" in str(s).lower() for s in t.row_sources)
        if energy is not None:
            sim_table |= any(bool(p.get("simulated")) for p in energy.provenance)
            sim_table |= "SIMULATED" in energy.flag_codes
        sim_any |= sim_table
        for i in range(t.n_rows):
            length = _observed_length(val[i])
            if length == 0:
                skipped["no observed epoch"] = skipped.get("no observed epoch", 0) + 1
                continue
            try:
                cfg = space.validate(json.loads(t.config_json[i]))
            except (EabenchError, ValueError) as exc:
                key = f"invalid config ({type(exc).__name__})"
                skipped[key] = skipped.get(key, 0) + 1
                continue
            as_dict = cfg.to_dict()
            run_len = int(as_dict[max_epochs_field]) if max_epochs_field in as_dict else length
            length = min(length, run_len)
            rows["cid"].append(cfg.config_id())
            rows["cfg"].append(cfg)
            rows["T"].append(run_len)
            rows["L"].append(length)
            rows["val"].append(val[i, 1 : length + 1].copy())
            tc = None if test is None else test[i, 1 : length + 1]
            rows["test"].append(tc.copy() if tc is not None and np.isfinite(tc).all() else None)
            # cumulative train time is 0 before training (column 0 is missing without a setup)
            start = 0.0 if time is None or not np.isfinite(time[i, 0]) else time[i, 0]
            sec = np.nan if time is None else (time[i, length] - start) / length
            rows["sec"].append(sec)
            rows["src"].append(str(t.row_sources[i]))
            rows["split"].append(
                int(t.splits[DEFAULT_SPLIT][i]) if DEFAULT_SPLIT in t.splits else -9
            )
            if energy is None:
                continue
            for k, ch in enumerate(energy.meters):
                m = meter_of_channel(ch)
                md = per_meter.setdefault(
                    m, {"per": {}, "setup": {}, "prov": [], "flags": {}, "sev": {}, "sim": False}
                )
                if energy.provenance[k] not in md["prov"]:
                    md["prov"].append(energy.provenance[k])
                md["sim"] |= bool(energy.provenance[k].get("simulated"))
                run = len(rows["cid"]) - 1
                e0, e_l = energy.energy_j[i, 0, k], energy.energy_j[i, length, k]
                md["per"][run] = md["per"].get(run, 0.0) + (e_l - (e0 if np.isfinite(e0) else 0.0))
                md["setup"][run] = md["setup"].get(run, 0.0) + (e0 if np.isfinite(e0) else 0.0)
                bits = int(energy.flag_bits[i, length, k])
                for b, code in enumerate(energy.flag_codes):
                    if bits >> b & 1:
                        md["flags"].setdefault(code, set()).add(run)
                        md["sev"][code] = energy.flag_severities.get(code, "info")
    n = len(rows["cid"])
    if n == 0:
        raise DatasetError.for_field("runs", 0, f"no usable run in {names} ({skipped})")
    lengths = np.asarray(rows["L"], dtype=np.float64)
    meters: dict[str, MeterData] = {}
    for m, md in per_meter.items():
        per = np.array([md["per"].get(r, np.nan) for r in range(n)]) / lengths
        per[~np.isfinite(per) | (per <= 0)] = np.nan
        meters[m] = MeterData(
            per_epoch_j=per,
            setup_j=np.array([md["setup"].get(r, np.nan) for r in range(n)]),
            provenance=tuple(md["prov"]),
            flag_counts={c: len(runs) for c, runs in sorted(md["flags"].items())},
            flag_severities=dict(md["sev"]),
            simulated=bool(md["sim"]),
        )
    order = sorted(meters, key=lambda m: (m not in METER_PREFERENCE, _rank(m), m))
    ids = np.asarray(rows["cid"], dtype=str)
    split = np.asarray(rows["split"], dtype=np.int8)
    if np.any(split == -9):  # tables written before the default split: recompute it
        split = config_id_split(ids)
    return CurveData(
        space_name=sname,
        dataset=dataset_name,
        tables=tuple(names),
        config_ids=ids,
        configs=tuple(rows["cfg"]),
        features=np.asarray(space.encode(rows["cfg"]), dtype=np.float64),
        run_length=np.asarray(rows["T"], dtype=np.float64),
        observed=lengths,
        val_curves=tuple(rows["val"]),
        test_curves=tuple(rows["test"]),
        per_epoch_s=np.asarray(rows["sec"], dtype=np.float64),
        meters={m: meters[m] for m in order},
        split=split,
        simulated=sim_any,
        row_sources=np.asarray(rows["src"], dtype=str),
        skipped=skipped,
        val_from_test=bool(from_test_seen),
    )


def _rank(meter: str) -> int:
    return METER_PREFERENCE.index(meter) if meter in METER_PREFERENCE else len(METER_PREFERENCE)
