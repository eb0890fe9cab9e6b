"""Adapters that turn foreign measurement files into eabench run logs (or label tables)."""

from __future__ import annotations
