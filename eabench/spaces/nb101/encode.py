"""Canonical padded form of cells and the vectorised fixed-length feature encoding.

**Padded form** (used by the encoding, the space cache and the network cost model): a pruned
cell with V vertices is stored as a 7x7 ``uint8`` matrix and 7 ``int8`` NB101 labels. Vertices
``0 .. V-2`` keep their (canonical) positions, the output always sits at index 6 and the unused
positions ``V-1 .. 5`` are padding (label ``PAD = -3``, no edges).

**Canonical vertex order**: isomorphic cells must encode identically, so before padding the interior
vertices are reordered: among all permutations of the interior vertices that keep the matrix
strictly upper-triangular (every isomorphism between two such cells is one of them, since input
and output are fixed), we take the one minimising ``(adjacency bitmask, label code)``
(see :func:`canonical_keys`). This is exactly the representative that NB101's
``generate_graphs.py`` keeps for each hash (it loops over bitmasks, then labellings, in
increasing order and keeps the first member of each class), so canonical cells have the same
matrices as NB101's ``module_adjacency``; this matters for the parameter count, which depends on
the vertex order (which output feeder receives the extra channel). This is an exact canonical
form: two pruned cells have the same padded canonical form if and only if they are isomorphic.

**Features** (``feature_names()``, 45 float64 columns): the 21 strict upper-triangle entries of
the padded matrix, one-hot interior ops for positions 1..5 (all zero for padding), then
``num_edges``, ``num_vertices``, ``depth`` (edges on the longest input-to-output path),
``count_<op>`` for the three ops, and ``longest_path_<op>``: how many vertices with that op lie on
at least one longest input-to-output path.
"""

from __future__ import annotations

import itertools
from functools import cache

import numpy as np

from eabench.spaces.nb101.cell import MAX_VERTICES

__all__ = [
    "PAD",
    "canonical_keys",
    "canonical_padded",
    "encode_padded",
    "feature_names",
    "interior_perms",
    "pad_positions",
]

PAD = -3
"""Label of a padding vertex in the padded form (the nasbench-vis convention)."""
_N = MAX_VERTICES
_OP_SHORT = ("conv3x3", "conv1x1", "maxpool3x3")
_IU, _JU = np.triu_indices(_N, k=1)


def feature_names() -> list[str]:
    """Names of the 45 encoded feature columns, in order."""
    names = [f"adj_{i}_{j}" for i, j in zip(_IU.tolist(), _JU.tolist(), strict=True)]
    names += [f"op_{v}_{op}" for v in range(1, _N - 1) for op in _OP_SHORT]
    names += ["num_edges", "num_vertices", "depth"]
    names += [f"count_{op}" for op in _OP_SHORT]
    names += [f"longest_path_{op}" for op in _OP_SHORT]
    return names


@cache
def interior_perms(n: int) -> np.ndarray:
    """All permutations of ``range(n)`` fixing 0 and n-1, shape ``(P, n)``."""
    rows = [(0, *p, n - 1) for p in itertools.permutations(range(1, n - 1))]
    return np.array(rows if n > 1 else [(0,)], dtype=np.intp)


def canonical_keys(pa: np.ndarray, plab: np.ndarray) -> np.ndarray:
    """Ordering key of permuted n-vertex cells; ``iinfo(int64).max`` where not upper-triangular.

    ``pa`` is ``(..., n, n)``, ``plab`` the matching ``(..., n)`` labels. The key is
    ``bitmask * 3**(n-2) + label_code`` with NB101's bitmask (edge ``i -> j`` is bit
    ``i + j*(j-1)/2``, i.e. the upper triangle column by column from the least significant bit)
    and the interior labels read as base-3 digits, first interior vertex most significant (the
    order of ``itertools.product``).
    """
    n = pa.shape[-1]
    iu, ju = np.triu_indices(n, k=1)
    il, jl = np.tril_indices(n, k=-1)
    adj_w = np.left_shift(1, iu + ju * (ju - 1) // 2).astype(np.int64)
    lab_w = 3 ** np.arange(n - 3, -1, -1, dtype=np.int64) if n > 2 else np.zeros(0, np.int64)
    adj = pa[..., iu, ju].astype(np.int64) @ adj_w
    lab = plab[..., 1 : n - 1].astype(np.int64) @ lab_w
    key = adj * 3 ** max(n - 2, 0) + lab
    ok = ~pa[..., il, jl].any(axis=-1)
    return np.where(ok, key, np.iinfo(np.int64).max)


def _canonical_same_size(mats: np.ndarray, labels: np.ndarray, chunk: int) -> np.ndarray:
    """Canonical permutation for each of ``m`` pruned n-vertex cells; returns ``(m, n)``."""
    m, n = labels.shape
    perms = interior_perms(n)
    out = np.empty((m, n), dtype=np.intp)
    for s in range(0, m, chunk):
        a = mats[s : s + chunk]
        pa = a[:, perms[:, :, None], perms[:, None, :]]  # (c, P, n, n): new[i,j] = old[p_i, p_j]
        key = canonical_keys(pa, labels[s : s + chunk][:, perms])
        out[s : s + chunk] = perms[key.argmin(axis=1)]
    return out


def pad_positions(n: int) -> np.ndarray:
    """Positions of the n vertices of a pruned cell in the padded 7-vertex form."""
    return np.append(np.arange(n - 1, dtype=np.intp), np.intp(_N - 1))


def canonical_padded(
    matrices: list[np.ndarray], labels: list[list[int]], chunk: int = 4096
) -> tuple[np.ndarray, np.ndarray]:
    """Canonical padded form of pruned cells given as lists of ``(V, V)`` arrays and labels.

    Returns ``(matrices uint8 (m, 7, 7), labels int8 (m, 7))``.
    """
    m = len(matrices)
    out_m = np.zeros((m, _N, _N), dtype=np.uint8)
    out_l = np.full((m, _N), PAD, dtype=np.int8)
    sizes = np.array([len(lab) for lab in labels], dtype=np.intp)
    for n in np.unique(sizes).tolist():
        idx = np.flatnonzero(sizes == n)
        mats = np.stack([np.asarray(matrices[i], dtype=np.uint8) for i in idx])
        labs = np.array([labels[i] for i in idx], dtype=np.int8)
        perm = _canonical_same_size(mats, labs, chunk)
        rows = np.arange(len(idx))[:, None]
        pm = mats[rows[:, :, None], perm[:, :, None], perm[:, None, :]]
        pl = labs[rows, perm]
        pos = pad_positions(n)
        out_m[idx[:, None, None], pos[None, :, None], pos[None, None, :]] = pm
        out_l[idx[:, None], pos[None, :]] = pl
    return out_m, out_l


def encode_padded(matrices: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Features of cells in padded form: ``(m, 7, 7)`` 0/1 and ``(m, 7)`` labels -> ``(m, 45)``."""
    a = np.asarray(matrices).astype(bool)
    lab = np.asarray(labels)
    m = a.shape[0]
    real = lab != PAD
    onehot = np.stack([lab[:, 1 : _N - 1] == k for k in range(3)], axis=2).reshape(m, 3 * (_N - 2))
    neg = -(10**6)
    d_in = np.full((m, _N), neg, dtype=np.int64)
    d_in[:, 0] = 0
    for j in range(1, _N):
        d_in[:, j] = np.where(a[:, :j, j], d_in[:, :j] + 1, neg).max(axis=1)
    d_out = np.full((m, _N), neg, dtype=np.int64)
    d_out[:, _N - 1] = 0
    for i in range(_N - 2, -1, -1):
        d_out[:, i] = np.where(a[:, i, i + 1 :], d_out[:, i + 1 :] + 1, neg).max(axis=1)
    depth = d_in[:, _N - 1]
    on_lp = real & (d_in + d_out == depth[:, None])
    counts = np.stack([(lab == k).sum(axis=1) for k in range(3)], axis=1)
    lp = np.stack([((lab == k) & on_lp).sum(axis=1) for k in range(3)], axis=1)
    derived = np.column_stack([a.sum(axis=(1, 2)), real.sum(axis=1), depth, counts, lp])
    return np.column_stack([a[:, _IU, _JU], onehot, derived]).astype(np.float64)
