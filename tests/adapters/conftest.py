"""Fixtures of the adapter tests: the embedded nb101-7v default and a prefix (RegNet) bench."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import eabench
from eabench.loading import from_artifact
from eabench.results import Fidelity
from eabench.spaces.regnet_hpo import RegNetHPOSpace
from tests.fakes import load_fake, write_fake_artifact


@pytest.fixture(scope="session")
def nb101() -> Any:
    """The embedded default ``nb101-7v`` (real surrogate, offline)."""
    return eabench.load("nb101-7v")


@pytest.fixture(scope="session")
def regnet(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The real RegNet x HPO space over a fake linear surrogate with prefix fidelities."""
    space = RegNetHPOSpace()
    folder = write_fake_artifact(
        tmp_path_factory.mktemp("regnet") / "a",
        n_features=len(space.feature_names()),
        space="regnet-hpo",
        max_epochs=200,
    )
    fid = Fidelity("epochs", "prefix", 1, 200, (), "max_epochs")
    return from_artifact(Path(folder), loader=load_fake, space=space, fidelity=fid)
