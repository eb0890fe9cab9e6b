"""eabench: an energy-aware neural architecture search benchmark.

``import eabench`` is cheap and never imports torch: the query path is numpy-only. The query API
(``eabench.load``, ``Benchmark``, ``QueryResult``, ...) is imported on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from eabench import errors, spaces

if TYPE_CHECKING:
    from eabench.benchmark import Benchmark
    from eabench.ledger import CostLedger
    from eabench.loading import load
    from eabench.results import BatchResult, QueryResult

__version__ = "0.1.0"

__all__ = [
    "BatchResult",
    "Benchmark",
    "CostLedger",
    "QueryResult",
    "__version__",
    "errors",
    "load",
    "spaces",
]

_LAZY = {
    "load": "eabench.loading",
    "Benchmark": "eabench.benchmark",
    "QueryResult": "eabench.results",
    "BatchResult": "eabench.results",
    "CostLedger": "eabench.ledger",
}


def __getattr__(name: str) -> Any:
    """Import the query API on first use (keeps ``import eabench`` fast)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'eabench' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
