"""NAS-Bench-101 labels (staged copies from ObfuNAS and nasbench-vis) -> one columnar record.

Inputs (../shared/data/nb101, see its README):

* ``test_accuracy_108.npy``, ``flops.npy``: float64[423,624], no keys; element i belongs to the
  i-th cell in ascending order of the NB101 module hash. Loaded with ``allow_pickle=False``.
* ``nasbench-vis-data-20k.json`` / ``-10k.json``: dicts of lists with ``key`` (hash), validation
  accuracy at 4/12/36/108 epochs, ``final_training_time`` (s, 108-epoch schedule, TPU) and
  ``trainable_parameters``. Their keys are the sorted hashes [0:20001] and [36202:46202], so
  these 30,001 cells get their positions in the sorted order without enumerating the space; the
  adapter checks that each key list is strictly ascending and that the two ranges do not overlap.
"""

from __future__ import annotations

import io
import itertools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from eabench.logs.adapters._common import err, file_sha256, read_bytes

__all__ = ["BUDGETS", "N_CELLS", "NB101Labels", "read_nb101_labels"]

N_CELLS: Final = 423_624
BUDGETS: Final = (4, 12, 36, 108)
#: (file, first position in the sorted-hash order)
VIS_FILES: Final = (("nasbench-vis-data-20k.json", 0), ("nasbench-vis-data-10k.json", 36_202))
_HEX: Final = frozenset("0123456789abcdef")


@dataclass(frozen=True, slots=True)
class NB101Labels:
    """NB101 labels. Full-space arrays are indexed by sorted-hash position.

    ``test_accuracy_108`` (423,624,) fraction; ``flops`` (423,624,) multiply-accumulates.
    For the 30,001 labelled cells: ``keys`` (hashes), ``positions`` (their sorted-hash index),
    ``val_accuracy`` (30,001, 4) at :data:`BUDGETS`, ``train_time_108_s``, ``params``.
    ``sources``: file name -> sha256.
    """

    test_accuracy_108: npt.NDArray[np.float64]
    flops: npt.NDArray[np.float64]
    keys: npt.NDArray[np.str_]
    positions: npt.NDArray[np.int64]
    val_accuracy: npt.NDArray[np.float64]
    train_time_108_s: npt.NDArray[np.float64]
    params: npt.NDArray[np.int64]
    sources: dict[str, str]


def _load_npy(path: Path, sources: dict[str, str]) -> npt.NDArray[np.float64]:
    raw = read_bytes(path)
    sources[path.name] = file_sha256(raw)
    try:
        arr = np.load(io.BytesIO(raw), allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise err(path.name, str(path), f"not a numpy .npy array: {exc}") from exc
    if arr.shape != (N_CELLS,) or arr.dtype.kind != "f":
        raise err(path.name, (arr.shape, str(arr.dtype)), f"must be float[{N_CELLS}]")
    if not np.isfinite(arr).all():
        raise err(path.name, int((~np.isfinite(arr)).sum()), "non-finite values")
    out: npt.NDArray[np.float64] = arr.astype(np.float64)
    return out


def _column(data: dict[str, Any], key: str, n: int, where: str) -> list[Any]:
    col = data.get(key)
    if not isinstance(col, list) or len(col) != n:
        raise err(f"{where}.{key}", type(col).__name__, f"must be a list of {n} values")
    return col


def _numbers(col: list[Any], where: str, lo: float, hi: float) -> npt.NDArray[np.float64]:
    for i, v in enumerate(col):
        if not isinstance(v, (int, float)) or isinstance(v, bool):
            raise err(f"{where}[{i}]", v, "must be a number")
    arr = np.asarray(col, dtype=np.float64)
    bad = ~(np.isfinite(arr) & (arr >= lo) & (arr <= hi))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise err(f"{where}[{i}]", col[i], f"must be finite and in [{lo:g}, {hi:g}]")
    return arr


def read_nb101_labels(root: str | Path) -> NB101Labels:
    """Read and validate the NB101 label files in ``root``; raises ``InvalidLogError``."""
    root = Path(root)
    sources: dict[str, str] = {}
    test = _load_npy(root / "test_accuracy_108.npy", sources)
    flops = _load_npy(root / "flops.npy", sources)
    if not ((test >= 0) & (test <= 1)).all():
        raise err("test_accuracy_108.npy", float(test.max()), "accuracies must be in [0, 1]")
    keys: list[str] = []
    pos: list[int] = []
    val: list[npt.NDArray[np.float64]] = []
    ttime: list[npt.NDArray[np.float64]] = []
    params: list[npt.NDArray[np.float64]] = []
    prev_last = ""
    for name, start in VIS_FILES:
        raw = read_bytes(root / name)
        sources[name] = file_sha256(raw)
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise err(name, str(root / name), f"not a JSON file: {exc}") from exc
        if not isinstance(data, dict) or not isinstance(data.get("key"), list):
            raise err(name, type(data).__name__, "must be a dict of lists with a 'key' list")
        k = data["key"]
        n = len(k)
        if not all(isinstance(h, str) and len(h) == 32 and set(h) <= _HEX for h in k):
            raise err(f"{name}.key", k[:3], "every key must be a 32-char lowercase hex hash")
        if any(a >= b for a, b in itertools.pairwise(k)) or (k and k[0] <= prev_last):
            raise err(f"{name}.key", k[:3], "keys must be strictly ascending, after earlier files")
        prev_last = k[-1] if k else prev_last
        keys.extend(k)
        pos.extend(range(start, start + n))
        val.append(
            np.stack(
                [
                    _numbers(_column(data, f"{b}_final_validation_accuracy", n, name), name, 0, 1)
                    for b in BUDGETS
                ],
                axis=1,
            )
        )
        ttime.append(_numbers(_column(data, "final_training_time", n, name), name, 0, 1e7))
        params.append(_numbers(_column(data, "trainable_parameters", n, name), name, 1, 1e10))
    positions = np.asarray(pos, dtype=np.int64)
    if positions.max() >= N_CELLS:
        raise err("positions", int(positions.max()), f"must be < {N_CELLS}")
    return NB101Labels(
        test_accuracy_108=test,
        flops=flops,
        keys=np.asarray(keys, dtype=str),
        positions=positions,
        val_accuracy=np.concatenate(val),
        train_time_108_s=np.concatenate(ttime),
        params=np.concatenate(params).astype(np.int64),
        sources=sources,
    )
