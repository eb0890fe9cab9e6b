"""The EA-HAS-Bench RegNet x HPO joint search space."""

from __future__ import annotations
