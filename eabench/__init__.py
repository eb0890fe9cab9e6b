"""eabench: an energy-aware neural architecture search benchmark.

``import eabench`` is cheap and never imports torch: the query path is numpy-only.
"""

from __future__ import annotations

from eabench import errors, spaces

__version__ = "0.1.0"

__all__ = ["__version__", "errors", "spaces"]
