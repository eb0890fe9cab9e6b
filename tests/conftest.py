"""Test configuration: opt-in markers and the location of ../shared (the staged real data).

- ``slow``: skipped unless ``--run-slow`` or ``EABENCH_RUN_SLOW=1``.
- ``gpu``: skipped unless ``--run-gpu`` and a CUDA device is visible.
- ``shared``: skipped, with the reason, when ``../shared/data`` is absent
  (override the location with ``EABENCH_SHARED=/path/to/shared``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from eabench.loading import from_artifact
from eabench.results import Fidelity
from eabench.spaces.nb101 import NB101Space
from tests.fakes import PrefixSpace, load_fake, write_fake_artifact

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


LEDGER_CELL = {
    "matrix": [[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]],
    "ops": ["input", "conv3x3-bn-relu", "maxpool3x3", "output"],
}
"""A small valid 7V cell for ledger tests."""


@pytest.fixture
def schedule_bench(tmp_path: Path) -> Any:
    """A 7V-schedule benchmark on the fake artifact kind (tests/fakes.py)."""
    folder = write_fake_artifact(tmp_path / "s", n_features=len(NB101Space().feature_names()))
    return from_artifact(folder, loader=load_fake)


@pytest.fixture
def prefix_bench(tmp_path: Path) -> Any:
    """A prefix-fidelity benchmark (PrefixSpace) on the fake artifact kind."""
    folder = write_fake_artifact(tmp_path / "p", n_features=2, space="prefix-test", max_epochs=200)
    fid = Fidelity("epochs", "prefix", 1, 200, (), "max_epochs")
    return from_artifact(folder, loader=load_fake, space=PrefixSpace(), fidelity=fid)
