"""Test configuration: opt-in markers and the location of ../shared (the staged real data).

- ``slow``: skipped unless ``--run-slow`` or ``EABENCH_RUN_SLOW=1``.
- ``gpu``: skipped unless ``--run-gpu`` and a CUDA device is visible.
- ``shared``: skipped, with the reason, when ``../shared/data`` is absent
  (override the location with ``EABENCH_SHARED=/path/to/shared``).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def shared_root() -> Path:
    """The staged shared folder: ``$EABENCH_SHARED`` or ``<repo>/../shared``."""
    env = os.environ.get("EABENCH_SHARED")
    return Path(env) if env else REPO_ROOT.parent / "shared"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--run-slow", action="store_true", help="run tests marked slow")
    parser.addoption("--run-gpu", action="store_true", help="run tests marked gpu")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    run_slow = config.getoption("--run-slow") or os.environ.get("EABENCH_RUN_SLOW") == "1"
    run_gpu = config.getoption("--run-gpu")
    have_shared = (shared_root() / "data").is_dir()
    for item in items:
        if "slow" in item.keywords and not run_slow:
            item.add_marker(pytest.mark.skip(reason="slow: run with --run-slow"))
        if "gpu" in item.keywords and not run_gpu:
            item.add_marker(pytest.mark.skip(reason="gpu: run with --run-gpu on a GPU machine"))
        if "shared" in item.keywords and not have_shared:
            item.add_marker(pytest.mark.skip(reason=f"shared: {shared_root() / 'data'} not found"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data``; tests using it must carry ``@pytest.mark.shared``."""
    return shared_root() / "data"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT
