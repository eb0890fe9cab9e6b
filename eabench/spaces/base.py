"""The search-space protocol: the one extension point a new search space implements.

A search space turns plain dicts into validated, frozen config objects, gives each config a
canonical id, samples configs with an explicit random generator, proposes neighbours for local
search, and encodes batches of configs as fixed-length float feature matrices for surrogates.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, TypeVar, runtime_checkable

import numpy as np

__all__ = ["Config", "SearchSpace"]


@runtime_checkable
class Config(Protocol):
    """A frozen, validated configuration of some search space."""

    def to_dict(self) -> dict[str, Any]:
        """Return the plain-dict (JSON-serialisable) form accepted by ``SearchSpace.validate``."""
        ...

    def config_id(self) -> str:
        """Return the canonical id: equal ids if and only if the configs are the same model+HPs."""
        ...


C = TypeVar("C", bound=Config)


@runtime_checkable
class SearchSpace(Protocol[C]):
    """What every search space provides (``spaces.nb101``, ``spaces.regnet_hpo``)."""

    name: str
    """Short id of the space, e.g. ``"nb101-7v"``."""

    def validate(self, config: C | Mapping[str, Any]) -> C:
        """Return the validated frozen config; raise ``InvalidConfigError`` if invalid."""
        ...

    def sample(self, seed: int | np.random.Generator) -> C:
        """Draw one config with an explicit seed or generator (never the global RNG)."""
        ...

    def neighbours(self, config: C | Mapping[str, Any]) -> list[C]:
        """All valid, deduplicated configs one mutation away (for local search)."""
        ...

    def mutate(self, config: C | Mapping[str, Any], seed: int | np.random.Generator) -> C:
        """One random valid neighbour (for evolution)."""
        ...

    def encode(self, configs: Sequence[C | Mapping[str, Any]]) -> np.ndarray:
        """Encode configs as a float64 matrix of shape ``(n_configs, n_features)``."""
        ...

    def feature_names(self) -> list[str]:
        """Names of the encoded feature columns, in order."""
        ...
