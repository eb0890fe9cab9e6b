"""Tabular interop: query answers and dataset tables as pandas DataFrames.

pandas is optional (``pip install 'eabench[pandas]'``) and imported only inside these functions,
never on the query path. ``BatchResult.to_pandas()`` and ``RunTable.to_pandas()`` call them.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from eabench.errors import InvalidArgumentError

__all__ = ["batch_to_pandas", "runtable_to_pandas"]


def _pandas() -> Any:
    try:
        import pandas
    except ImportError as exc:
        raise ImportError("DataFrame export needs pandas: pip install 'eabench[pandas]'") from exc
    return pandas


def batch_to_pandas(batch: Any, *, flag_columns: bool = True) -> Any:
    """A ``BatchResult`` as a DataFrame, one row per config (in query order).

    Columns: ``config_id``, ``epochs``, ``val_accuracy``, ``test_accuracy`` (if any),
    ``train_time_s`` (s), ``energy_j`` (J, primary meter), ``energy_j__<meter>`` per meter (J),
    ``holistic_lower_j`` / ``holistic_upper_j`` (J, with a calibration), the predictive
    standard deviations (``val_accuracy_std``, ``energy_j_std``: ``batch.uncertainty``),
    ``flags`` (sorted codes joined by ``","``) and, with ``flag_columns``, one bool column
    ``flag__<CODE>`` per code present in the batch. ``primary_meter`` is in ``df.attrs``.
    """
    pd = _pandas()
    n = len(batch)
    data: dict[str, Any] = {
        "config_id": list(batch.config_ids),
        "epochs": np.full(n, batch.epochs, dtype=np.int64),
        "val_accuracy": np.asarray(batch.val_accuracy),
    }
    if batch.test_accuracy is not None:
        data["test_accuracy"] = np.asarray(batch.test_accuracy)
    data["train_time_s"] = np.asarray(batch.train_time_s)
    data["energy_j"] = np.asarray(batch.energy_j)
    for meter, values in batch.energy_j_by_meter.items():
        data[f"energy_j__{meter}"] = np.asarray(values)
    if batch.holistic_lower_j is not None and batch.holistic_upper_j is not None:
        data["holistic_lower_j"] = np.asarray(batch.holistic_lower_j)
        data["holistic_upper_j"] = np.asarray(batch.holistic_upper_j)
    for name, values in batch.uncertainty.items():
        data[name if name not in data else f"uncertainty__{name}"] = np.asarray(values)
    data["flags"] = [",".join(sorted(f)) for f in batch.flags]
    if flag_columns:
        for code in sorted(set().union(*batch.flags)) if n else []:
            data[f"flag__{code}"] = np.fromiter((code in f for f in batch.flags), bool, n)
    df = pd.DataFrame(data)
    df.attrs["primary_meter"] = batch.primary_meter
    return df


def runtable_to_pandas(table: Any, *, layout: str = "long", include_config: bool = False) -> Any:
    """A dataset ``RunTable`` as a DataFrame.

    Args:
        table: a :class:`eabench.logs.dataset.RunTable`.
        layout: ``"long"`` (one row per run and fidelity at which anything was measured:
            ``fidelity`` (epochs), every metric, ``energy_j__<meter>`` (J) and
            ``energy_flags__<meter>``) or ``"wide"`` (one row per run: ``<metric>@<fidelity>``
            columns, NaN where not measured).
        include_config: add a ``config`` column (the config as a JSON string).

    Both layouts carry ``config_id``, ``run_id`` (if any), ``source``, the static columns
    (NaN where masked) and one ``split__<name>`` column per split (``"train"``, ``"valid"``,
    ``"test"`` or None).
    """
    if layout not in ("long", "wide"):
        raise InvalidArgumentError.for_field("layout", layout, "must be 'long' or 'wide'")
    pd = _pandas()
    n = table.n_rows
    grid = np.asarray(table.fidelity.values)
    base: dict[str, Any] = {"config_id": np.asarray(table.config_ids)}
    if table.run_ids is not None:
        base["run_id"] = np.asarray(table.run_ids)
    base["source"] = np.asarray(table.row_sources)
    if include_config:
        if table.config_json is not None:
            base["config"] = np.asarray(table.config_json)
        elif table.configs is not None:
            base["config"] = [json.dumps(table.configs.to_dict(i)) for i in range(n)]
    for name, static in table.static.items():
        base[name] = np.where(static.mask, static.values, np.nan)
    names = {v: k for k, v in _split_codes().items()}
    for split, codes in table.splits.items():
        base[f"split__{split}"] = [names.get(int(c)) for c in codes]
    cols: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for name, metric in table.metrics.items():
        cols[name] = (metric.values, metric.mask)
    flags: dict[str, np.ndarray] = {}
    if table.energy is not None:
        block = table.energy
        for k, meter in enumerate(block.meters):
            cols[f"energy_j__{meter}"] = (block.energy_j[:, :, k], block.mask[:, :, k])
            flags[f"energy_flags__{meter}"] = block.flag_bits[:, :, k]
    if layout == "wide":
        data = dict(base)
        for name, (values, mask) in cols.items():
            for j, f in enumerate(grid):
                if mask[:, j].any():
                    data[f"{name}@{int(f)}"] = np.where(mask[:, j], values[:, j], np.nan)
        return pd.DataFrame(data)
    measured = np.zeros((n, len(grid)), dtype=bool)
    for _, mask in cols.values():
        measured |= mask
    rows, fids = np.nonzero(measured)
    data = {
        k: np.asarray(v, dtype=object)[rows] if isinstance(v, list) else v[rows]
        for k, v in base.items()
    }
    data["fidelity"] = grid[fids].astype(np.int64)
    for name, (values, mask) in cols.items():
        data[name] = np.where(mask[rows, fids], values[rows, fids], np.nan)
    if table.energy is not None:
        codes = table.energy.flag_codes
        for name, bits in flags.items():
            data[name] = [_decode(int(b), codes) for b in bits[rows, fids]]
    return pd.DataFrame(data)


def _decode(bits: int, codes: tuple[str, ...]) -> str:
    return ",".join(c for k, c in enumerate(codes) if bits & (1 << k))


def _split_codes() -> dict[str, int]:
    from eabench.logs.dataset import SPLIT_CODES

    return dict(SPLIT_CODES)
