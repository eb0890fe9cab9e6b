"""Training data for the nb101-7v surrogate, read from the staged shared data (ADAPTER).

``load_nb101_7v_shared`` is the clearly named adapter the recipe uses because the consolidated
dataset (``eabench.logs.open_dataset`` over ``data/``) was not available when this surrogate was
trained; swap it for the dataset reader when that lands. It reads only public files:

* ``nb101/test_accuracy_108.npy`` (test accuracy at 108 epochs, all 423,624 cells, sorted-hash
  order) and ``nb101/nasbench-vis-data-{20k,10k}.json`` (validation accuracy at 4/12/36/108,
  108-epoch TPU training time, params, for 30,001 cells): NAS-Bench-101, Apache-2.0;
* ``ecnas/surrogate-ec-nasbench/7v_data.pt`` (4,310 cells, measured 4-epoch energy, kWh with PUE
  1.59; loaded with ``torch.load(weights_only=True)``) and ``ecnas/splits`` (the seed-42 split):
  EC-NAS, MIT;
* a cell cache ``.npz`` (``hashes`` sorted, ``adj`` (n, 7, 7) padded at the end, ``ops`` NB101
  labels, -3 padding) of the enumerated space, written by :func:`enumerate_cells`.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from eabench.errors import DatasetError
from eabench.spaces.nb101 import canonical_padded, encode_padded
from eabench.spaces.nb101.cell import hash_module

__all__ = ["Nb101Data", "enumerate_cells", "load_nb101_7v_shared"]

PUE_ECNAS = 1.59
_ECNAS_OPS = np.array([-3, -1, 1, 0, 2, -2])  # 7v_data.pt op codes -> NB101 labels


@dataclass(frozen=True, slots=True)
class Nb101Data:
    """Arrays over all cells in sorted-hash order plus the multi-budget and energy subsets.

    Attributes:
        hashes: ``(N,)`` sorted NB101 hashes; ``encoded`` ``(N, 45)`` NB101Space encoding.
        test_acc_108: ``(N,)`` NB101 test accuracy at 108 epochs (fraction).
        mb_index: ``(M,)`` rows of the multi-budget cells; ``val_acc`` ``(M, 4)`` at 4/12/36/108;
            ``time_108_s`` ``(M,)`` 108-epoch TPU training time.
        en_index: ``(K,)`` rows of the 4,310 EC-NAS cells (7v_data order); ``energy_4ep_wh`` ``(K,)``
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


def enumerate_cells(out: Path) -> None:
    """Enumerate the 423,624 7V cells (NB101 generator order, first labelling per hash) into ``out``.

    Plain Python, about 10-15 minutes on 2 cores; the result is cached by the caller.
    """
    buckets: dict[str, tuple[np.ndarray, list[int]]] = {}
    for nv in range(2, 8):
        iu = [(x, y) for y in range(1, nv) for x in range(y)]
        for bits in range(2 ** len(iu)):
            if bin(bits).count("1") > 9:
                continue
            m = np.zeros((nv, nv), np.int64)
            for b, (x, y) in enumerate(iu):
                m[x, y] = (bits >> b) & 1
            if not (m[:-1].any(axis=1).all() and m[:, 1:].any(axis=0).all()):
                continue
            for lab in itertools.product(range(3), repeat=nv - 2):
                labels = [-1, *lab, -2]
                buckets.setdefault(hash_module(m, labels), (m, labels))
    keys = sorted(buckets)
    adj = np.zeros((len(keys), 7, 7), np.uint8)
    ops = np.full((len(keys), 7), -3, np.int8)
    for i, k in enumerate(keys):
        m, labels = buckets[k]
        adj[i, : len(labels), : len(labels)] = m
        ops[i, : len(labels)] = labels
    np.savez_compressed(out, hashes=np.array(keys), adj=adj, ops=ops)


def _encode(adj: np.ndarray, ops: np.ndarray) -> np.ndarray:
    mats, labs = [], []
    for a, o in zip(adj, ops, strict=True):
        v = int(np.sum(o != -3))
        mats.append(np.asarray(a[:v, :v]))
        labs.append([int(x) for x in o[:v]])
    cm, cl = canonical_padded(mats, labs)
    return encode_padded(cm, cl)


def load_nb101_7v_shared(shared_data: Path, cells_npz: Path) -> Nb101Data:
    """Read and join everything the nb101-7v recipe needs (see the module docstring)."""
    import torch  # training-side only

    nb, ec = shared_data / "nb101", shared_data / "ecnas"
    if not cells_npz.is_file():
        raise DatasetError.for_field("cells_npz", str(cells_npz), "run enumerate_cells first")
    cells = np.load(cells_npz)
    hashes = cells["hashes"].astype(str)
    if hashes.size != 423_624 or np.any(hashes[1:] <= hashes[:-1]):
        raise DatasetError.for_field("cells_npz", hashes.size, "need 423,624 sorted hashes")
    encoded = _encode(cells["adj"], cells["ops"])
    test_acc = np.load(nb / "test_accuracy_108.npy")
    keys: list[str] = []
    cols: dict[str, list[float]] = {}
    for part in ("20k", "10k"):
        d = json.loads((nb / f"nasbench-vis-data-{part}.json").read_text())
        keys += d["key"]
        for c in ("4", "12", "36", "108"):
            cols.setdefault(c, []).extend(d[f"{c}_final_validation_accuracy"])
        cols.setdefault("time", []).extend(d["final_training_time"])
    mb_index = np.searchsorted(hashes, np.array(keys))
    if not np.array_equal(hashes[mb_index], np.array(keys)):
        raise DatasetError.for_field("nasbench-vis keys", len(keys), "must all be 7V hashes")
    val_acc = np.column_stack([np.asarray(cols[c], np.float64) for c in ("4", "12", "36", "108")])
    adj, ops, energy, _params = torch.load(
        ec / "surrogate-ec-nasbench" / "7v_data.pt", weights_only=True
    )
    en_cells = _ECNAS_OPS[ops.numpy()]
    en_hash = []
    for a, o in zip(adj.numpy(), en_cells, strict=True):
        v = int(np.sum(o != -3))
        en_hash.append(hash_module(a[:v, :v], [int(x) for x in o[:v]]))
    en_index = np.searchsorted(hashes, np.array(en_hash))
    if not np.array_equal(hashes[en_index], np.array(en_hash)):
        raise DatasetError.for_field("7v_data.pt", len(en_hash), "cells must be 7V hashes")
    split = {
        k: np.loadtxt(ec / "splits" / f"7v_seed42_{k}_indices.txt", dtype=np.int64)
        for k in ("train", "valid", "test")
    }
    return Nb101Data(
        hashes=hashes,
        encoded=encoded,
        test_acc_108=test_acc,
        mb_index=mb_index,
        val_acc=val_acc,
        time_108_s=np.asarray(cols["time"], np.float64),
        en_index=en_index,
        energy_4ep_wh=energy.numpy().astype(np.float64) * 1000.0,
        split=split,
    )
