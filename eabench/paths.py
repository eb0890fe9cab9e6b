"""Where eabench keeps things on disk (package data, user cache), resolved without global state."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["package_data_dir", "user_cache_dir"]


def package_data_dir() -> Path:
    """The folder of data files shipped inside the package (``eabench/_data``)."""
    return Path(__file__).resolve().parent / "_data"


def user_cache_dir() -> Path:
    """eabench's own cache folder: ``$EABENCH_CACHE``, else ``$XDG_CACHE_HOME/eabench``, else
    ``~/.cache/eabench``. (Hub downloads use the standard Hugging Face cache instead.)"""
    env = os.environ.get("EABENCH_CACHE")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "eabench"
