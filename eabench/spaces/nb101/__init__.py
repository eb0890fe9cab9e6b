"""The NAS-Bench-101 "7V" cell space (Ying et al., ICML 2019), as used by EC-NAS.

Public names: :class:`Cell` (validated cell, ``pruned()``, ``hash()``), :class:`NB101Space` (the
``SearchSpace`` implementation, ``name = "nb101-7v"``), :func:`enumerate_cells`,
:func:`load_space` (the shipped full-space cache in sorted-hash order, with ``index_of(hash)``),
:func:`network_cost` (analytic parameters and FLOPs), the op constants and the encoding helpers.
The ConfigSpace adapter lives in :mod:`eabench.spaces.nb101_configspace` (optional dependency).
"""

from __future__ import annotations

from eabench.spaces.nb101.cache import SPACE_SIZE, SpaceData, load_space
from eabench.spaces.nb101.cell import (
    INPUT,
    INTERIOR_OPS,
    LABEL_OF_OP,
    MAX_EDGES,
    MAX_VERTICES,
    OP_OF_LABEL,
    OPS,
    OUTPUT,
    Cell,
    hash_module,
    hash_rows,
    live_vertices,
    prune_arrays,
)
from eabench.spaces.nb101.encode import PAD, canonical_padded, encode_padded, feature_names
from eabench.spaces.nb101.enumeration import cell_from_padded, enumerate_cells
from eabench.spaces.nb101.network import NetworkCost, network_cost, network_cost_padded
from eabench.spaces.nb101.space import NB101Space, padded_arrays

__all__ = [
    "INPUT",
    "INTERIOR_OPS",
    "LABEL_OF_OP",
    "MAX_EDGES",
    "MAX_VERTICES",
    "OPS",
    "OP_OF_LABEL",
    "OUTPUT",
    "PAD",
    "SPACE_SIZE",
    "Cell",
    "NB101Space",
    "NetworkCost",
    "SpaceData",
    "canonical_padded",
    "cell_from_padded",
    "encode_padded",
    "enumerate_cells",
    "feature_names",
    "hash_module",
    "hash_rows",
    "live_vertices",
    "load_space",
    "network_cost",
    "network_cost_padded",
    "padded_arrays",
    "prune_arrays",
]
