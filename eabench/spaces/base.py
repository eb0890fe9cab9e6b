"""The search-space protocol: the one extension point a new search space implements.

A search space turns plain dicts into validated, frozen config objects, gives each config a
canonical id, samples configs with an explicit random generator, proposes neighbours for local
search, and encodes batches of configs as fixed-length float feature matrices for surrogates.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any, Protocol, TypeVar, runtime_checkable

import numpy as np

__all__ = ["Accelerator", "Config", "SearchSpace"]


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
class Accelerator(Protocol):
    """A space's optional lookup table of precomputed configs (7V: the whole space, by row).

    The query path (``eabench._resolve.ConfigCache``) uses it to skip per-config hashing and
    encoding; answers never depend on it. Rows are ``int64``; ``-1`` means "not in the table".
    """

    @property
    def built(self) -> bool:
        """Whether :meth:`build` has run."""
        ...

    def build(self) -> Any:
        """Build the table (seconds, once per process); returns self."""
        ...

    def rows(self, configs: Sequence[Any]) -> np.ndarray:
        """Table rows of validated configs (-1: unknown, take the exact slow path)."""
        ...

    def row_of(self, config: Any) -> int:
        """Table row of one validated config, or -1 (the scalar :meth:`rows`)."""
        ...

    def raw_rows(self, configs: Sequence[Any]) -> np.ndarray:
        """Table rows of unvalidated configs whose raw form is known to be a valid table row
        (-1 for all others, which the caller validates)."""
        ...

    def rows_of_ids(self, ids: Sequence[str]) -> np.ndarray:
        """Table rows of config ids."""
        ...

    def ids(self, rows: np.ndarray) -> list[str]:
        """Config ids of table rows."""
        ...

    def id_of_row(self, row: int) -> str:
        """Config id of one table row."""
        ...

    def features(self, rows: np.ndarray) -> np.ndarray:
        """``(n, d)`` encoded features of table rows (equal to ``space.encode``)."""
        ...

    def plain_row(self, config: Mapping[str, Any]) -> int:
        """Row of a plain-dict config that *is* a canonical table row, else -1 (no validation
        needed for such a dict: its row identifies it)."""
        ...

    def config_from_plain(self, config: Mapping[str, Any]) -> Any:
        """The config object of a plain dict for which :meth:`plain_row` found a row."""
        ...


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

    def make_accelerator(self) -> Accelerator | None:
        """A new (unbuilt) lookup accelerator for the query path, or None if the space has none."""
        ...

    def plain_key(self, config: Mapping[str, Any]) -> Hashable | None:
        """A cheap memo key for a plain JSON dict config (equal keys: equal JSON values), or None
        to let the caller build a generic one."""
        ...
