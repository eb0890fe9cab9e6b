"""The measured table of an artifact (``table.npz``): the values its training data measured.

Format (numpy ``.npz``, no pickles; ``allow_pickle=False`` on load):

- ``config_id``: unicode array ``(n,)``, canonical config ids (unique);
- ``epochs``: int array ``(k,)``, ascending epoch counts at which something was measured;
- ``val_accuracy``, ``test_accuracy``, ``train_time_s``: float64 ``(n, k)`` (test/time optional);
- ``energy_j__<meter id>``: float64 ``(n, k)``, cumulative joules of that meter;
- NaN means "not measured" (for example NB101 7V: energy only at 4 epochs, test accuracy only
  at 108): the table kind never returns it as a number (see ``TableBenchmark``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

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


def read_table(path: str | Path) -> MeasuredTable:
    """Load and check a ``table.npz``; raises ``ArtifactError`` naming what is wrong."""
    p = Path(path)
    try:
        with np.load(p, allow_pickle=False) as npz:
            data = {k: npz[k] for k in npz.files}
    except (OSError, ValueError) as exc:
        raise ArtifactError.for_field(
            "table", str(p), f"is not a readable npz file ({exc})"
        ) from exc
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
