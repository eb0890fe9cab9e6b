"""Shared fixtures of the collection tests: the committed 300-image CIFAR-10 JPEG pack."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def tiny_pack(repo_root: Path) -> Path:
    """200 train + 100 test real CIFAR-10 JPEGs (tests/fixtures/cifar10/README.md)."""
    return repo_root / "tests" / "fixtures" / "cifar10" / "cifar10_tiny_jpeg.npz"
