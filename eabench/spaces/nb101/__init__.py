"""The NAS-Bench-101 "7V" cell space (Ying et al., ICML 2019), as used by EC-NAS.

Public names: :class:`Cell` (validated cell, ``pruned()``, ``hash()``), :class:`NB101Space` (the
``SearchSpace`` implementation, ``name = "nb101-7v"``), the op constants and the encoding helpers.
"""

from __future__ import annotations

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
    prune_arrays,
)
from eabench.spaces.nb101.encode import PAD, canonical_padded, encode_padded, feature_names
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
    "Cell",
    "NB101Space",
    "canonical_padded",
    "encode_padded",
    "feature_names",
    "hash_module",
    "padded_arrays",
    "prune_arrays",
]
