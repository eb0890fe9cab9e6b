"""Surrogate input features for NAS-Bench-101 7V cells, computed in numpy (vectorised over cells).

Input: the 45-column encoding of ``eabench.spaces.nb101.NB101Space.encode`` (canonical padded
form, output at vertex 6); its first 36 columns (21 upper-triangle edge bits, 5x3 interior op
one-hots) determine the cell, so isomorphic cells get identical features.

Derived features (see :data:`FEATURE_NAMES`): the 21 upper-triangle edge bits and 5x3 op one-hots
in a layout with the output moved to vertex 6, op counts, vertex/edge counts, depth, number of
input->output paths, paths through each op type, and the analytic size of the NAS-Bench-101
network built from the cell (stem 128 channels, 3 stacks x 3 cells, channels doubling and 2x2
max-pool between stacks, 10-way dense head): trainable parameters (conv weights, batch-norm
gamma and beta, dense weights and bias, as TensorFlow counts them) and multiply-accumulates on
one 32x32 image. The parameter count equals NB101's ``trainable_parameters`` (checked in tests).
"""

from __future__ import annotations

import numpy as np

from eabench.errors import InvalidConfigError

__all__ = [
    "ENCODED_WIDTH",
    "FEATURE_NAMES",
    "cell_features",
    "network_size",
    "to_output_at_6",
    "vertex_channels",
]

ENCODED_WIDTH = 45
_SIZE_KEYS = (
    "params",
    "macs",
    "macs_conv3x3",
    "macs_conv1x1",
    "macs_proj",
    "act_interior",
    "act_maxpool",
    "n_layers",
)
_IU = np.triu_indices(7, k=1)
FEATURE_NAMES: tuple[str, ...] = (
    *(f"edge_{i}_{j}" for i, j in zip(*_IU, strict=True)),
    *(f"op{v}_{o}" for v in range(1, 6) for o in ("conv3x3", "conv1x1", "maxpool")),
    "n_conv3x3",
    "n_conv1x1",
    "n_maxpool",
    "n_vertices",
    "n_edges",
    "depth",
    "log_n_paths",
    "paths_conv3x3",
    "paths_conv1x1",
    "paths_maxpool",
    "max_conv3x3_on_path",
    *(f"log10_{k}" for k in _SIZE_KEYS[:-1]),
    "n_layers",
)


def to_output_at_6(encoded: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rebuild cells from the 7V space encoding (``NB101Space.encode``, 45 columns).

    Returns ``adj`` (n, 7, 7) int with the output at vertex 6 and ``onehot`` (n, 7, 3) of interior
    ops (conv3x3, conv1x1, maxpool); padding vertices have no edges and no op.

    Raises:
        InvalidConfigError: wrong width or a non-0/1 edge or op column.
    """
    enc = np.atleast_2d(np.asarray(encoded, dtype=np.float64))
    if enc.ndim != 2 or enc.shape[1] != ENCODED_WIDTH:
        raise InvalidConfigError.for_field(
            "features", enc.shape, f"need (n, {ENCODED_WIDTH}) from NB101Space.encode"
        )
    head = enc[:, :36]
    if not np.all((head == 0) | (head == 1)):
        raise InvalidConfigError.for_field("features[:, :36]", "values", "must be 0/1")
    n = enc.shape[0]
    a6 = np.zeros((n, 7, 7), dtype=np.int64)
    a6[:, _IU[0], _IU[1]] = head[:, :21]
    onehot = np.zeros((n, 7, 3))
    onehot[:, 1:6, :] = head[:, 21:36].reshape(n, 5, 3)
    return a6, onehot


def vertex_channels(a6: np.ndarray, c_in: int, c_out: int) -> np.ndarray:
    """NB101 ``compute_vertex_channels`` for output at 6: ``(n, 7)`` channels (0 for padding)."""
    n = a6.shape[0]
    ch = np.zeros((n, 7), dtype=np.int64)
    ch[:, 0] = c_in
    ch[:, 6] = c_out
    to_out = a6[:, 1:6, 6]
    k = np.maximum(to_out.sum(axis=1), 1)
    interior = c_out // k
    corr = c_out % k
    rank = np.cumsum(to_out, axis=1)  # 1-based rank among to-output vertices
    ch[:, 1:6] = np.where(to_out == 1, interior[:, None] + (rank <= corr[:, None]), 0)
    for v in range(4, 0, -1):
        succ = a6[:, v, v + 1 : 6] * ch[:, v + 1 : 6]
        best = succ.max(axis=1) if succ.shape[1] else np.zeros(n, dtype=np.int64)
        ch[:, v] = np.where(to_out[:, v - 1] == 1, ch[:, v], best)
    return ch


def network_size(a6: np.ndarray, onehot: np.ndarray) -> dict[str, np.ndarray]:
    """Size of the NB101 network built from each cell, one ``(n,)`` array per key.

    Keys: ``params`` (trainable, as TensorFlow counts them), ``macs`` (multiply-accumulates on one
    32x32x3 image), its parts ``macs_conv3x3``, ``macs_conv1x1``, ``macs_proj`` (1x1 input
    projections), ``act_interior`` (activation elements written by interior vertices),
    ``act_maxpool`` (elements through max-pool vertices), ``n_layers`` (conv + projection layers).
    """
    n = a6.shape[0]
    out = {k: np.zeros(n) for k in _SIZE_KEYS}
    out["params"] += 3 * 9 * 128 + 2 * 128 + 512 * 10 + 10
    out["macs_conv3x3"] += 32 * 32 * 9 * 3 * 128
    out["n_layers"] += 1
    conv3, conv1, pool = onehot[:, :, 0], onehot[:, :, 1], onehot[:, :, 2]
    c_prev = 128
    for stack, c in enumerate((128, 256, 512)):
        hw = (32 >> stack) ** 2
        for cell in range(3):
            c_in = c_prev if cell == 0 else c
            ch = vertex_channels(a6, c_in, c).astype(np.float64)[:, 1:6]
            a0 = a6[:, 0, 1:6]
            proj = (a0 * (c_in * ch)).sum(1) + a6[:, 0, 6] * c_in * c
            out["params"] += (
                proj
                + ((9 * conv3[:, 1:6] + conv1[:, 1:6]) * ch**2).sum(1)
                + (2 * ch * (a0 + conv3[:, 1:6] + conv1[:, 1:6])).sum(1)
                + a6[:, 0, 6] * 2 * c
            )
            out["macs_conv3x3"] += hw * 9 * (conv3[:, 1:6] * ch**2).sum(1)
            out["macs_conv1x1"] += hw * (conv1[:, 1:6] * ch**2).sum(1)
            out["macs_proj"] += hw * proj
            out["act_interior"] += hw * ch.sum(1)
            out["act_maxpool"] += hw * (pool[:, 1:6] * ch).sum(1)
            out["n_layers"] += (a0 + conv3[:, 1:6] + conv1[:, 1:6]).sum(1) + a6[:, 0, 6]
        c_prev = c
    out["macs"] = out["macs_conv3x3"] + out["macs_conv1x1"] + out["macs_proj"] + 512 * 10
    return out


def cell_features(encoded: np.ndarray) -> np.ndarray:
    """``(n, len(FEATURE_NAMES))`` float64 features from ``NB101Space.encode`` output."""
    a6, onehot = to_output_at_6(encoded)
    n = a6.shape[0]
    af = a6.astype(np.float64)
    paths_in = np.zeros((n, 7))
    paths_in[:, 0] = 1.0
    depth = np.full((n, 7), -np.inf)
    depth[:, 0] = 0.0
    conv_depth = np.full((n, 7), -np.inf)
    conv_depth[:, 0] = 0.0
    for v in range(1, 7):
        paths_in[:, v] = np.einsum("nu,nu->n", af[:, :v, v], paths_in[:, :v])
        has = af[:, :v, v] > 0
        depth[:, v] = np.where(has, depth[:, :v] + 1, -np.inf).max(axis=1)
        conv_depth[:, v] = np.where(has, conv_depth[:, :v], -np.inf).max(axis=1) + onehot[:, v, 0]
    paths_out = np.zeros((n, 7))
    paths_out[:, 6] = 1.0
    for v in range(5, -1, -1):
        paths_out[:, v] = np.einsum("nw,nw->n", af[:, v, v + 1 :], paths_out[:, v + 1 :])
    through = paths_in * paths_out
    size = network_size(a6, onehot)
    n_vert = 2 + onehot.sum(axis=(1, 2))
    cols = [
        af[:, _IU[0], _IU[1]],
        onehot[:, 1:6, :].reshape(n, 15),
        onehot.sum(axis=1),
        n_vert[:, None],
        af.sum(axis=(1, 2))[:, None],
        depth[:, 6:7],
        np.log(np.maximum(paths_in[:, 6:7], 1.0)),
        np.einsum("nv,nvo->no", through, onehot),
        np.maximum(conv_depth[:, 6:7], 0.0),
        *(np.log10(np.maximum(size[k], 1.0))[:, None] for k in _SIZE_KEYS[:-1]),
        size["n_layers"][:, None],
    ]
    return np.concatenate(cols, axis=1)
