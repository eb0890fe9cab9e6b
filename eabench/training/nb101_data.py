"""Training data for the nb101-7v surrogate: the consolidated dataset plus the 7V space cache.

Labels come from ``data/eabench-data.h5`` (``eabench.logs.open_dataset``): EC-NAS 7V measured
4-epoch energy (published kWh, PUE 1.59 included) with its seed-42 split, NAS-Bench-101
validation accuracy at 4/12/36/108 and 108-epoch TPU time for 30,001 cells, and test accuracy at
108 for all 423,624 cells. Cell structures come from the shipped space cache
(``eabench.spaces.nb101.cache.load_space``, canonical padded form in sorted-hash order).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from eabench.errors import DatasetError
from eabench.logs import open_dataset
from eabench.spaces.nb101 import encode_padded
from eabench.spaces.nb101.cache import load_space

__all__ = ["PUE_ECNAS", "Nb101Data", "ecnas_mlp_inputs", "energy_extrapolation", "load_nb101_7v"]

PUE_ECNAS = 1.59


@dataclass(frozen=True, slots=True)
class Nb101Data:
    """Arrays over all cells in sorted-hash order plus the multi-budget and energy subsets.

    Attributes:
        hashes: ``(N,)`` sorted NB101 hashes; ``encoded`` ``(N, 45)`` NB101Space encoding.
        test_acc_108: ``(N,)`` NB101 test accuracy at 108 epochs (fraction).
        mb_index: ``(M,)`` rows of the multi-budget cells; ``val_acc`` ``(M, 4)`` at 4/12/36/108;
            ``time_108_s`` ``(M,)`` 108-epoch TPU training time.
        en_index: ``(K,)`` rows of the 4,310 EC-NAS cells (7v_data order);
            ``energy_4ep_wh`` ``(K,)``
            measured 4-epoch training energy in Wh, PUE 1.59 included (as published).
        split: ``{"train", "valid", "test"}`` -> indices into the EC-NAS rows (seed-42 split).
    """

    hashes: np.ndarray
    encoded: np.ndarray
    test_acc_108: np.ndarray
    mb_index: np.ndarray
    val_acc: np.ndarray
    time_108_s: np.ndarray
    en_index: np.ndarray
    energy_4ep_wh: np.ndarray
    split: dict[str, np.ndarray]
    ecnas_inputs: np.ndarray | None = None
    energy_extrapolation: tuple[float, float] | None = None
    """(setup-window share of 4-epoch energy, sd of the log doubling error) of the raw EC-NAS
    5V runs (:func:`energy_extrapolation`)."""


_ECNAS_CODE = {-3: 0, -1: 1, 1: 2, 0: 3, 2: 4, -2: 5}


def ecnas_mlp_inputs(matrix: np.ndarray, ops: np.ndarray, params: np.ndarray) -> np.ndarray:
    """EC-NAS MLP inputs exactly as surrogate-ec-nasbench builds them from ``7v_data.pt``.

    ``adj[np.triu_indices(7)]`` (28 entries, diagonal included) of the matrix padded at the end,
    the 7 op codes (0 pad, 1 input, 2 conv1x1, 3 conv3x3, 4 maxpool, 5 output) as floats, and
    params / 1e6: ``(n, 36)``.
    """
    iu = np.triu_indices(7)
    adj = np.asarray(matrix, np.float64)[:, iu[0], iu[1]]
    codes = np.vectorize(_ECNAS_CODE.__getitem__)(np.asarray(ops)).astype(np.float64)
    return np.column_stack([adj, codes, np.asarray(params, np.float64) / 1e6])


def energy_extrapolation(dataset: Path) -> tuple[float, float]:
    """Median setup-window share ``E0 / E4`` and the sd of the log doubling error
    ``log((E4 - E0) / (2 (E2 - E0)))`` over the raw 5V EC-NAS runs (epochs 0, 2 and 4 measured):
    how 4-epoch energy extends to longer runs."""
    runs = open_dataset(dataset).table("nb101-7v", "cifar10", "ecnas_runs")
    if runs.energy is None:
        raise DatasetError.for_field("ecnas_runs", "energy", "table must hold energy")
    e = runs.energy.energy_j[:, :, 0]
    five = np.isfinite(e[:, 2]) & np.isfinite(e[:, 4]) & np.isfinite(e[:, 0])
    share = float(np.median(e[five, 0] / e[five, 4]))
    doubling = np.log((e[five, 4] - e[five, 0]) / (2.0 * (e[five, 2] - e[five, 0])))
    return share, float(np.std(doubling))


def load_nb101_7v(dataset: Path) -> Nb101Data:
    """Read the nb101-7v training data from the consolidated dataset and the 7V space cache.

    Labels come from ``eabench.logs.open_dataset(dataset)`` tables ``ecnas_7v`` (energy, seed-42
    split) and ``nb101_labels`` (multi-budget); ``nb101_all`` (test accuracy at 108 for every
    cell, rows in sorted-hash order) is read with h5py and joined by row after checking that the
    space cache's sorted-hash sha256 equals the one the dataset records.
    """
    import h5py

    space = load_space()
    hashes = np.array(space.hashes())
    digest = space.hashes_sha256
    ds = open_dataset(dataset)
    with h5py.File(dataset, "r") as f:
        grp = f["nb101-7v/cifar10/nb101_all"]
        want = str(grp.attrs["sorted_hashes_sha256"])
        test_acc = np.asarray(grp["metrics/test_accuracy"][:, -1], dtype=np.float64)
    if digest != want:
        raise DatasetError.for_field(
            "space cache sha256", digest, f"must equal the dataset's {want}"
        )
    encoded = encode_padded(space.matrices, space.labels)
    ec = ds.table("nb101-7v", "cifar10", "ecnas_7v")
    lab = ds.table("nb101-7v", "cifar10", "nb101_labels")
    en_index = _rows(hashes, np.asarray(ec.config_ids).astype(str), "ecnas_7v")
    mb_index = _rows(hashes, np.asarray(lab.config_ids).astype(str), "nb101_labels")
    energy = ec.energy
    if ec.configs is None:
        raise DatasetError.for_field("ecnas_7v", "configs", "table must hold cell configs")
    if energy is None:
        raise DatasetError.for_field("ecnas_7v", "energy", "table must hold energy")
    if not np.all(energy.mask[:, 0, 0]):
        raise DatasetError.for_field("ecnas_7v energy", "mask", "budget 4 must be measured")
    val = lab.metric("val_accuracy")
    tt = lab.metric("train_time_s")
    if not (np.all(val.mask) and np.all(tt.mask[:, -1])):
        raise DatasetError.for_field("nb101_labels", "mask", "val acc and time must be present")
    return Nb101Data(
        hashes=hashes,
        encoded=encoded,
        test_acc_108=test_acc,
        mb_index=mb_index,
        val_acc=np.asarray(val.values, np.float64),
        time_108_s=np.asarray(tt.values[:, -1], np.float64),
        en_index=en_index,
        energy_4ep_wh=np.asarray(energy.energy_j[:, 0, 0], np.float64) / 3600.0,
        split={k: np.asarray(v) for k, v in ec.split_indices("ecnas_seed42").items()},
        ecnas_inputs=ecnas_mlp_inputs(
            ec.configs.matrix, ec.configs.ops, ec.static["params"].values
        ),
        energy_extrapolation=energy_extrapolation(dataset),
    )


def _rows(hashes: np.ndarray, ids: np.ndarray, what: str) -> np.ndarray:
    pos = np.searchsorted(hashes, ids)
    ok = (pos < hashes.size) & (hashes[np.minimum(pos, hashes.size - 1)] == ids)
    if not np.all(ok):
        raise DatasetError.for_field(what, ids[~ok][:3].tolist(), "config ids must be 7V hashes")
    return pos
