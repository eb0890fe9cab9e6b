"""Search spaces: the NAS-Bench-101 7V cell space and the EA-HAS-Bench RegNet x HPO space."""

from __future__ import annotations

from eabench.spaces import nb101
from eabench.spaces.base import Config, SearchSpace

__all__ = ["Config", "SearchSpace", "nb101"]
