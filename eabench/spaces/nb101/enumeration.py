"""Enumerate every unique NAS-Bench-101 cell, fast.

NB101's ``generate_graphs.py`` loops over every upper-triangular bitmask and every labelling and
hashes each (matrix, labels) pair: about 1.3 million MD5 Weisfeiler-Lehman hashes and ten minutes
of plain Python for the 7-vertex space. Here:

1. all bitmasks of ``V(V-1)/2`` edges are expanded with numpy and filtered to "full DAGs" (every
   non-output vertex has an out-edge and every non-input vertex an in-edge, i.e. already pruned)
   with at most ``max_edges`` edges;
2. of these unlabelled DAGs only the canonical ones are kept (the adjacency code is minimal over all
   interior-vertex permutations that keep the matrix upper-triangular); their automorphisms are
   exactly the permutations that reproduce the same matrix;
3. for each canonical DAG, the labellings (3 ops per interior vertex) are reduced to one per orbit
   of its automorphism group (the smallest label code). The resulting (matrix, labels) pairs are
   exactly one representative per isomorphism class, already in the canonical padded form of
   :mod:`eabench.spaces.nb101.encode`;
4. only those representatives are hashed (optionally in worker processes), and the pairs are
   deduplicated by hash (NB101's criterion; there are no hash collisions in this space, so the
   dedup removes nothing) and sorted by hash.
"""

from __future__ import annotations

import itertools
import os

import numpy as np

from eabench.errors import InvalidArgumentError
from eabench.spaces.nb101.cell import MAX_EDGES, MAX_VERTICES, Cell, hash_rows
from eabench.spaces.nb101.encode import PAD, canonical_keys, interior_perms, pad_positions

__all__ = ["cell_from_padded", "enumerate_cells", "enumerate_padded", "hash_padded"]


def _full_dags(n: int, max_edges: int) -> np.ndarray:
    """All full DAGs on n vertices with at most ``max_edges`` edges, ``(k, n, n)`` uint8."""
    iu, ju = np.triu_indices(n, k=1)
    e = len(iu)
    masks = np.arange(1 << e, dtype=np.int64)
    bits = ((masks[:, None] >> np.arange(e, dtype=np.int64)) & 1).astype(np.uint8)
    bits = bits[bits.sum(axis=1) <= max_edges]
    mats = np.zeros((len(bits), n, n), dtype=np.uint8)
    mats[:, iu, ju] = bits
    has_out = np.any(mats[:, : n - 1, :], axis=2)
    has_in = np.any(mats[:, :, 1:], axis=1)
    full = np.all(has_out, axis=1) & np.all(has_in, axis=1)
    kept: np.ndarray = mats[full]
    return kept


def _canonical_labelled(n: int, max_edges: int, chunk: int = 2048) -> tuple[np.ndarray, np.ndarray]:
    """One canonical (matrix, labels) per isomorphism class of n-vertex cells."""
    mats = _full_dags(n, max_edges)
    perms = interior_perms(n)
    labellings = np.array(list(itertools.product(range(3), repeat=n - 2)), dtype=np.int8)
    labellings = labellings.reshape(3 ** (n - 2), n - 2)  # lexicographic order
    full_labels = np.concatenate(
        [
            np.full((len(labellings), 1), -1, np.int8),
            labellings,
            np.full((len(labellings), 1), -2, np.int8),
        ],
        axis=1,
    )
    out_m: list[np.ndarray] = []
    out_l: list[np.ndarray] = []
    zero_lab = np.zeros((1, 1, n), dtype=np.int8)
    for s in range(0, len(mats), chunk):
        a = mats[s : s + chunk]
        pa = a[:, perms[:, :, None], perms[:, None, :]]
        key = canonical_keys(pa, zero_lab)  # adjacency part only (all labels 0)
        own = canonical_keys(a[:, None], zero_lab)[:, 0]
        canonical = key.min(axis=1) == own
        for k in np.flatnonzero(canonical).tolist():
            auts = perms[key[k] == own[k]]  # automorphisms of this DAG
            codes = canonical_keys(np.broadcast_to(a[k], (1, n, n)), full_labels[:, auts])
            keep = codes.min(axis=1) == codes[:, 0]  # identity comes first in ``perms``
            out_l.append(full_labels[keep])
            out_m.append(np.broadcast_to(a[k], (int(keep.sum()), n, n)))
    if not out_m:
        return np.zeros((0, n, n), np.uint8), np.zeros((0, n), np.int8)
    return np.concatenate(out_m), np.concatenate(out_l)


def hash_padded(matrices: np.ndarray, labels: np.ndarray) -> list[str]:
    """NB101 hashes of cells in padded form (``(m, 7, 7)`` and ``(m, 7)`` with ``PAD``)."""
    matrices = np.asarray(matrices)
    labels = np.asarray(labels)
    out: list[str] = [""] * len(labels)
    sizes = (labels != PAD).sum(axis=1)
    for n in np.unique(sizes).tolist():
        idx = np.flatnonzero(sizes == n)
        pos = pad_positions(n)
        rows = matrices[idx[:, None, None], pos[None, :, None], pos[None, None, :]].tolist()
        labs = labels[idx[:, None], pos[None, :]].tolist()
        for i, r, lab in zip(idx.tolist(), rows, labs, strict=True):
            out[i] = hash_rows(r, lab)
    return out


def enumerate_padded(
    max_vertices: int = MAX_VERTICES,
    max_edges: int = MAX_EDGES,
    processes: int = 1,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every unique cell with at most ``max_vertices`` vertices, sorted by NB101 hash.

    Returns ``(matrices uint8 (m, 7, 7), labels int8 (m, 7), hashes '<U32' (m,))`` in the
    canonical padded form. ``processes > 1`` hashes in that many worker processes.
    """
    if not 2 <= max_vertices <= MAX_VERTICES:
        raise InvalidArgumentError.for_field(
            "max_vertices", max_vertices, f"must be between 2 and {MAX_VERTICES}"
        )
    if not 1 <= max_edges <= MAX_EDGES:
        raise InvalidArgumentError.for_field(
            "max_edges", max_edges, f"must be between 1 and {MAX_EDGES}"
        )
    if processes < 1:
        raise InvalidArgumentError.for_field("processes", processes, "must be >= 1")
    mats: list[np.ndarray] = []
    labs: list[np.ndarray] = []
    for n in range(2, max_vertices + 1):
        cm, cl = _canonical_labelled(n, max_edges)
        pm = np.zeros((len(cm), MAX_VERTICES, MAX_VERTICES), dtype=np.uint8)
        pl = np.full((len(cm), MAX_VERTICES), PAD, dtype=np.int8)
        pos = pad_positions(n)
        pm[:, pos[:, None], pos[None, :]] = cm
        pl[:, pos] = cl
        mats.append(pm)
        labs.append(pl)
    all_m = np.concatenate(mats)
    all_l = np.concatenate(labs)
    processes = min(processes, os.cpu_count() or 1)
    if processes == 1 or len(all_m) < 10_000:
        hashes = hash_padded(all_m, all_l)
    else:
        bounds = np.linspace(0, len(all_m), 8 * processes + 1).astype(int)
        parts = [(all_m[a:b], all_l[a:b]) for a, b in itertools.pairwise(bounds)]
        from concurrent.futures import ProcessPoolExecutor  # lazy: not on the query path

        with ProcessPoolExecutor(max_workers=processes) as pool:
            hashes = [h for part in pool.map(hash_padded, *zip(*parts, strict=True)) for h in part]
    harr = np.array(hashes, dtype="<U32")
    uniq, first = np.unique(harr, return_index=True)  # sorted by hash; first kept on a tie
    return all_m[first], all_l[first], uniq


def cell_from_padded(matrix: np.ndarray, labels: np.ndarray) -> Cell:
    """The :class:`Cell` of one padded row (padding vertices removed)."""
    lab = np.asarray(labels)
    pos = pad_positions(int((lab != PAD).sum()))
    return Cell(np.asarray(matrix)[np.ix_(pos, pos)], lab[pos].tolist())


def enumerate_cells(
    max_vertices: int = MAX_VERTICES, max_edges: int = MAX_EDGES, processes: int = 1
) -> list[Cell]:
    """Every unique valid cell (pruned, NB101's representative), sorted by NB101 hash.

    Counts: 91 for ``max_vertices=4``, 2,532 for 5, 423,624 for 7 (about a minute on 2 cores;
    ``eabench.spaces.nb101.load_space()`` reads the same 7-vertex space from the shipped cache).
    """
    mats, labels, _ = enumerate_padded(max_vertices, max_edges, processes)
    return [cell_from_padded(m, lab) for m, lab in zip(mats, labels, strict=True)]
