"""The measured table of an artifact (``table.npz``): the values its training data measured.

Format (numpy ``.npz``, no pickles; ``allow_pickle=False`` on load):

- ``config_id``: unicode array ``(n,)``, canonical config ids (unique);
- ``epochs``: int array ``(k,)``, ascending epoch counts at which something was measured;
- ``val_accuracy``, ``test_accuracy``, ``train_time_s``: float64 ``(n, k)`` (test/time optional);
- ``energy_j__<meter id>``: float64 ``(n, k)``, cumulative joules of that meter;
- NaN means "not measured" (for example NB101 7V: energy only at 4 epochs, test accuracy only
  at 108): the table kind never returns it as a number (see ``TableBenchmark``).

The 7V surrogate artifact (``eabench.training.nb101_publish``) writes its measured rows in a budget
layout instead, which :func:`read_table` converts: ``config_id`` (n,), ``budgets`` (4,),
``val_acc`` (n, 4), ``test_acc_108`` (n,) and ``energy_4ep_wh`` (n,) as published by EC-NAS (Wh,
PUE included). Energy becomes joules of the manifest's first meter at 4 epochs, divided by that
meter's ``pue_removed`` (as the surrogate's energy head is), test accuracy sits at 108 epochs,
and there is no measured training time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from eabench.errors import ArtifactError

__all__ = ["ENERGY_PREFIX", "MeasuredTable", "read_table", "write_table"]

ENERGY_PREFIX = "energy_j__"
_FIELDS = ("val_accuracy", "test_accuracy", "train_time_s")


@dataclass(frozen=True, slots=True)
class MeasuredTable:
    """Measured values per config and epoch.

    Attributes:
        config_ids: ``(n,)`` canonical ids.
        index: config id -> row.
        epochs: ``(k,)`` measured epoch counts.
        values: field name (``val_accuracy``, ``test_accuracy``, ``train_time_s``,
            ``energy_j__<meter>``) -> ``(n, k)`` float64 with NaN for "not measured".
    """

    config_ids: np.ndarray
    index: Mapping[str, int]
    epochs: np.ndarray
    values: Mapping[str, np.ndarray]

    @property
    def meters(self) -> tuple[str, ...]:
        """Meter ids that have an energy column."""
        return tuple(k[len(ENERGY_PREFIX) :] for k in self.values if k.startswith(ENERGY_PREFIX))

    def measured_epochs(self, name: str) -> list[int]:
        """Epoch counts at which field ``name`` was measured for at least one config."""
        arr = self.values[name]
        return [
            int(e) for e, ok in zip(self.epochs, ~np.all(np.isnan(arr), axis=0), strict=False) if ok
        ]


_BUDGET_LAYOUT = {"config_id", "budgets", "val_acc", "test_acc_108", "energy_4ep_wh"}


def _from_budget_layout(data: dict[str, np.ndarray], manifest: Mapping[str, Any]) -> None:
    """Rewrite the 7V artifact's budget-layout arrays into the layout above (in place)."""
    budgets = np.asarray(data.pop("budgets"), dtype=np.float64)
    if not np.array_equal(budgets, np.round(budgets)):
        raise ArtifactError.for_field("table.budgets", budgets.tolist(), "must be whole epochs")
    epochs = budgets.astype(np.int64)
    n, k = len(data["config_id"]), len(epochs)
    if 4 not in epochs or 108 not in epochs:
        raise ArtifactError.for_field("table.budgets", epochs.tolist(), "must include 4 and 108")
    meters = manifest.get("meters") or []
    meter = meters[0] if isinstance(meters, list) and meters else "carbontracker"
    info = (manifest.get("meter_info") or {}).get(meter, {})
    pue = float(info.get("pue_removed") or 1.0)
    energy = np.full((n, k), np.nan)
    energy[:, int(np.flatnonzero(epochs == 4)[0])] = data.pop("energy_4ep_wh") * 3600.0 / pue
    test = np.full((n, k), np.nan)
    test[:, int(np.flatnonzero(epochs == 108)[0])] = data.pop("test_acc_108")
    data["epochs"] = epochs
    data["val_accuracy"] = data.pop("val_acc")
    data["test_accuracy"] = test
    data[ENERGY_PREFIX + str(meter)] = energy


def read_table(path: str | Path, manifest: Mapping[str, Any] | None = None) -> MeasuredTable:
    """Load and check a ``table.npz``; raises ``ArtifactError`` naming what is wrong.

    ``manifest`` (the artifact's) is needed for the budget layout of the 7V artifact.
    """
    p = Path(path)
    try:
        with np.load(p, allow_pickle=False) as npz:
            data = {k: npz[k] for k in npz.files}
    except (OSError, ValueError) as exc:
        raise ArtifactError.for_field(
            "table", str(p), f"is not a readable npz file ({exc})"
        ) from exc
    if set(data) == _BUDGET_LAYOUT:
        _from_budget_layout(data, manifest or {})
    for key in ("config_id", "epochs", "val_accuracy"):
        if key not in data:
            raise ArtifactError.for_field("table", str(p), f"has no {key!r} array")
    ids = data.pop("config_id").astype(str)
    epochs = data.pop("epochs")
    n, k = len(ids), len(epochs)
    if len(set(ids.tolist())) != n:
        raise ArtifactError.for_field("table.config_id", str(p), "ids must be unique")
    if k == 0 or np.any(np.diff(epochs) <= 0):
        raise ArtifactError.for_field("table.epochs", epochs.tolist(), "must ascend strictly")
    values: dict[str, np.ndarray] = {}
    for name, arr in data.items():
        if name not in _FIELDS and not name.startswith(ENERGY_PREFIX):
            raise ArtifactError.for_field("table", name, "unknown array")
        if arr.shape != (n, k):
            raise ArtifactError.for_field(f"table.{name}", arr.shape, f"must have shape {(n, k)}")
        arr = arr.astype(np.float64)
        arr.flags.writeable = False
        values[name] = arr
    if not any(name.startswith(ENERGY_PREFIX) for name in values):
        raise ArtifactError.for_field("table", str(p), "has no energy_j__<meter> array")
    return MeasuredTable(
        config_ids=ids,
        index={cid: i for i, cid in enumerate(ids.tolist())},
        epochs=epochs.astype(np.int64),
        values=values,
    )


def write_table(
    path: str | Path,
    config_ids: list[str],
    epochs: list[int],
    values: Mapping[str, np.ndarray],
) -> Path:
    """Write a ``table.npz`` in the format above (field names as in :class:`MeasuredTable`)."""
    p = Path(path)
    arrays = {
        "config_id": np.asarray(config_ids, dtype=str),
        "epochs": np.asarray(epochs, dtype=np.int64),
    }
    arrays.update({k: np.asarray(v, dtype=np.float64) for k, v in values.items()})
    np.savez(p, **arrays)  # type: ignore[arg-type]
    return p
