"""Search spaces by name: the one place that maps a space name to its class.

Artifacts, recipes and datasets name their space (``"nb101-7v"``, ``"regnet-hpo"``);
:func:`make_space` builds it with the options an artifact's manifest records
(``space_options``, keyword arguments of the class). A new space adds one line here and its own
package; nothing else in eabench names a concrete space class.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final

from eabench.errors import InvalidArgumentError
from eabench.spaces.base import SearchSpace

__all__ = ["SPACES", "make_space"]

SPACES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "nb101-7v": "eabench.spaces.nb101:NB101Space",
        "regnet-hpo": "eabench.spaces.regnet_hpo:RegNetHPOSpace",
    }
)
"""Space name -> ``"module:Class"``; the class takes keyword options only."""


def make_space(name: str, options: Mapping[str, Any] | None = None) -> SearchSpace[Any]:
    """A new instance of space ``name`` built with ``options`` (keyword arguments).

    Raises:
        InvalidArgumentError: unknown name, or options the space refuses.
    """
    target = SPACES.get(name) if isinstance(name, str) else None
    if target is None:
        raise InvalidArgumentError.for_field(
            "space", name, f"must be one of {', '.join(sorted(SPACES))}"
        )
    module, _, attr = target.partition(":")
    cls = getattr(importlib.import_module(module), attr)
    opts = dict(options or {})
    try:
        space: SearchSpace[Any] = cls(**opts)
    except TypeError as exc:
        raise InvalidArgumentError.for_field(
            "space_options", opts, f"not accepted by {name}: {exc}"
        ) from exc
    return space
