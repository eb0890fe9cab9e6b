"""Fixtures for the NB101 space tests: hash vectors copied into tests/fixtures/nb101."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "nb101"


def _ecnas(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"generated_graphs_{name}.json").read_text())


@pytest.fixture(scope="session")
def ecnas_4v() -> dict[str, Any]:
    """EC-NAS ``{hash: [matrix, labels]}`` of the 91 cells with at most 4 vertices."""
    return _ecnas("4V9E")


@pytest.fixture(scope="session")
def ecnas_5v() -> dict[str, Any]:
    """EC-NAS ``{hash: [matrix, labels]}`` of the 2,532 cells with at most 5 vertices."""
    return _ecnas("5V9E")


@pytest.fixture(scope="session")
def vis_1k() -> list[dict[str, Any]]:
    """1,000 nasbench-vis rows: key, matrix (rows as 0/1 strings), labels, trainable_parameters."""
    data = json.loads((FIXTURES / "nb101_hash_vectors_1k.json").read_text())
    return [
        {**v, "matrix": [[int(c) for c in row] for row in v["matrix"]]} for v in data["vectors"]
    ]
