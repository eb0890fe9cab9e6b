"""ConfigSpace adapter for the NB101 7V space (optional: ``pip install eabench[configspace]``).

Encoding (26 hyperparameters, the usual NB101 one, e.g. in EC-NAS baselines and HPOBench):

- ``edge_i_j`` for ``0 <= i < j <= 6`` (21 of them): categorical ``{0, 1}``, the entry ``(i, j)``
  of a 7x7 strictly upper-triangular adjacency matrix (vertex 0 is the input, 6 the output);
- ``op_1`` .. ``op_5`` (5 of them): categorical over ``conv3x3-bn-relu``, ``conv1x1-bn-relu``,
  ``maxpool3x3``: the ops of the interior vertices.

A configuration becomes ``Cell(matrix, ["input", op_1, ..., op_5, "output"])``, which the cell
then prunes (vertices on no input-to-output path are dropped, so their ops do not matter).
ConfigSpace cannot express the DAG constraints (a path from input to output, at most 9 edges after
pruning), so many samples are not cells: :func:`to_cell` raises ``InvalidConfigError`` for them
naming the broken rule; :func:`sample_cell` rejects and redraws. Note that rejection sampling
from this encoding is **not** uniform over the unique cells (large, symmetric cells have many
encodings); use ``NB101Space.sample`` for that. :func:`from_cell` writes the cell's canonical
pruned form, with unused vertices disconnected and set to ``conv3x3-bn-relu``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from eabench._rng import as_generator
from eabench.errors import InvalidArgumentError, InvalidConfigError
from eabench.spaces.nb101.cell import INPUT, INTERIOR_OPS, MAX_VERTICES, OUTPUT, Cell
from eabench.spaces.nb101.encode import PAD, canonical_padded

__all__ = ["EDGE_NAMES", "OP_NAMES", "configspace", "from_cell", "sample_cell", "to_cell"]

_N = MAX_VERTICES
EDGE_NAMES: tuple[str, ...] = tuple(f"edge_{i}_{j}" for i in range(_N) for j in range(i + 1, _N))
OP_NAMES: tuple[str, ...] = tuple(f"op_{v}" for v in range(1, _N - 1))


def _cs() -> Any:
    try:
        import ConfigSpace
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "the NB101 ConfigSpace adapter needs ConfigSpace: pip install 'eabench[configspace]'"
        ) from exc
    return ConfigSpace


def configspace(seed: int | None = None) -> Any:
    """The ``ConfigSpace.ConfigurationSpace`` of the 26-hyperparameter encoding (module docs)."""
    cs_mod = _cs()
    space = cs_mod.ConfigurationSpace(name="nb101-7v", seed=seed)
    space.add([cs_mod.Categorical(name, [0, 1], default=0) for name in EDGE_NAMES])
    space.add([cs_mod.Categorical(name, list(INTERIOR_OPS)) for name in OP_NAMES])
    return space


def to_cell(config: Mapping[str, Any]) -> Cell:
    """The cell of a configuration (a ``Configuration`` or a plain mapping of the 26 values),
    pruned: vertices on no input-to-output path are dropped (the same config id). For a
    configuration written by :func:`from_cell` this is the cell's canonical form, which the
    query path finds in the space cache without hashing.

    A ``Configuration`` is read from its numeric vector (``get_array``: ~0.1 µs, against
    ~50 µs for ``dict(config)``), with the choices of its own space's hyperparameters.

    Raises:
        InvalidConfigError: if a value is missing or not allowed, or the graph is not a 7V cell.
    """
    values = _fast_values(config)
    if values is None:
        values = dict(config)
    missing = [k for k in (*EDGE_NAMES, *OP_NAMES) if k not in values]
    if missing:
        raise InvalidConfigError.for_field("config", sorted(values), f"misses {missing}")
    matrix = [[0] * _N for _ in range(_N)]
    for name, (i, j) in zip(EDGE_NAMES, _EDGE_IJ, strict=True):
        value = values[name]
        if isinstance(value, bool) or value not in (0, 1):
            raise InvalidConfigError.for_field(name, value, "must be 0 or 1")
        matrix[i][j] = int(value)
    ops = [INPUT, *(str(values[name]) for name in OP_NAMES), OUTPUT]
    try:
        return Cell(matrix, ops).pruned()
    except InvalidConfigError as exc:
        raise InvalidConfigError(
            f"ConfigSpace sample is not a valid 7V cell: {exc}",
            field=exc.field,
            value=exc.value,
            rule=exc.rule,
        ) from exc


_EDGE_IJ = tuple((int(n.split("_")[1]), int(n.split("_")[2])) for n in EDGE_NAMES)
_LAYOUT: list[tuple[Any, Any]] = []  # (space, [(name, position, choices)]) of the last space


def _fast_values(config: Any) -> dict[str, Any] | None:
    """The 26 values of a ``Configuration`` from its vector, or None (then ``dict(config)``):
    every one of the names must be a categorical of the configuration's space."""
    space = getattr(config, "config_space", None)
    get_array = getattr(config, "get_array", None)
    if space is None or get_array is None:
        return None
    if not _LAYOUT or _LAYOUT[0][0] is not space:
        try:
            names = list(space.keys())
            layout = []
            for name in (*EDGE_NAMES, *OP_NAMES):
                choices = tuple(space[name].choices)  # categoricals only
                layout.append((name, names.index(name), choices))
        except (AttributeError, KeyError, ValueError, TypeError):
            return None
        _LAYOUT[:] = [(space, layout)]
    vec = np.asarray(get_array(), dtype=np.float64).tolist()
    out = {}
    for name, pos, choices in _LAYOUT[0][1]:
        x = vec[pos]
        if not (x == x and 0 <= x < len(choices) and x == int(x)):  # NaN: inactive
            return None
        out[name] = choices[int(x)]
    return out


def from_cell(cell: Cell | Mapping[str, Any], space: Any | None = None) -> Any:
    """A ``Configuration`` (of ``space``, default :func:`configspace`) encoding ``cell``."""
    cs_mod = _cs()
    p = Cell.coerce(cell).pruned()
    mats, labels = canonical_padded([p.matrix_array()], [p.labels()])
    values: dict[str, Any] = {}
    for name in EDGE_NAMES:
        _, i, j = name.split("_")
        values[name] = int(mats[0, int(i), int(j)])
    for v, name in enumerate(OP_NAMES, start=1):
        lab = int(labels[0, v])
        values[name] = INTERIOR_OPS[lab] if lab != PAD else INTERIOR_OPS[0]
    return cs_mod.Configuration(configspace() if space is None else space, values=values)


def sample_cell(space: Any, seed: int | np.random.Generator, max_tries: int = 10_000) -> Cell:
    """Rejection-sample ``space`` (from :func:`configspace`) until the sample is a valid cell.

    Raises:
        InvalidArgumentError: if no valid cell was drawn in ``max_tries`` samples.
    """
    rng = as_generator(seed)
    for _ in range(max_tries):
        space.seed(int(rng.integers(2**31 - 1)))
        try:
            return to_cell(space.sample_configuration())
        except InvalidConfigError:
            continue
    raise InvalidArgumentError.for_field("max_tries", max_tries, "no valid cell was sampled")
