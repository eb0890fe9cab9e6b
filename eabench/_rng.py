"""Explicit random-number generators: eabench never touches numpy's or Python's global RNG."""

from __future__ import annotations

import numpy as np

from eabench.errors import InvalidArgumentError

__all__ = ["as_generator"]


def as_generator(seed: int | np.random.Generator) -> np.random.Generator:
    """Return ``seed`` if it is a Generator, else a new PCG64 Generator seeded with it.

    Raises:
        InvalidArgumentError: if ``seed`` is neither a non-negative int nor a Generator.
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) and seed >= 0:
        return np.random.default_rng(int(seed))
    raise InvalidArgumentError.for_field(
        "seed", seed, "must be a non-negative int or a numpy.random.Generator"
    )
