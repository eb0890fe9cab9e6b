from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from eabench.errors import DatasetError, InvalidConfigError
from eabench.spaces.nb101 import PAD, SPACE_SIZE, load_space, padded_arrays
from eabench.spaces.nb101.cache import pack_adjacency, sorted_hashes_sha256, unpack_adjacency

from .test_enumeration import LISTED, SORTED_HASHES_SHA256


@pytest.fixture(scope="module")
def space_data() -> Any:
    return load_space()


def test_shipped_cache_matches_published_sha256_and_indices(space_data: Any) -> None:
    assert len(space_data) == SPACE_SIZE
    hashes = space_data.hashes()
    assert hashes == sorted(hashes)
    assert sorted_hashes_sha256(hashes) == SORTED_HASHES_SHA256 == space_data.hashes_sha256
    for i, h in LISTED.items():
        assert hashes[i] == h
        assert space_data.index_of(h) == i
    assert space_data.matrices.shape == (SPACE_SIZE, 7, 7)
    assert not space_data.matrices.flags.writeable


def test_cache_rows_hash_to_their_keys_and_are_canonical(space_data: Any) -> None:
    rng = np.random.default_rng(0)
    idx = np.sort(rng.choice(len(space_data), size=300, replace=False))
    hashes = space_data.hashes()
    cells = [space_data.cell(int(i)) for i in idx]
    assert [c.hash() for c in cells] == [hashes[i] for i in idx]
    assert all(c.is_pruned() for c in cells)
    mats, labels = padded_arrays(cells)
    np.testing.assert_array_equal(mats, space_data.matrices[idx])
    np.testing.assert_array_equal(labels, space_data.labels[idx])


def test_cache_subspace_equals_ecnas_5v(space_data: Any, ecnas_5v: dict[str, Any]) -> None:
    small = np.flatnonzero((space_data.labels != PAD).sum(axis=1) <= 5)
    hashes = space_data.hashes()
    assert sorted(hashes[i] for i in small) == sorted(ecnas_5v)
    np.testing.assert_array_equal(space_data.index_of(sorted(ecnas_5v)), small)


def test_index_of_errors(space_data: Any) -> None:
    with pytest.raises(InvalidConfigError, match="32 lowercase hex"):
        space_data.index_of("XYZ")
    with pytest.raises(InvalidConfigError, match="32 lowercase hex"):
        space_data.index_of(["00005c142e6f48ac74fdcf73e3439874", 5])
    with pytest.raises(InvalidConfigError, match="not the hash of any cell"):
        space_data.index_of("0" * 32)
    with pytest.raises(InvalidConfigError, match="not the hash of any cell"):
        space_data.index_of("f" * 32)  # past the end


def test_pack_roundtrip(space_data: Any) -> None:
    mats = space_data.matrices[:1000]
    np.testing.assert_array_equal(unpack_adjacency(pack_adjacency(mats)), mats)


def test_load_errors(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="not a readable NB101 space cache"):
        load_space(tmp_path / "missing.npz")
    bad = tmp_path / "bad.npz"
    np.savez(bad, format_version=np.int64(99))
    with pytest.raises(DatasetError):
        load_space(bad)
    shapes = tmp_path / "shapes.npz"
    np.savez(
        shapes,
        format_version=np.int64(1),
        adjacency_bits=np.zeros(3, np.uint32),
        labels=np.zeros((2, 7), np.int8),
        hash_hi=np.zeros(2, np.uint64),
        hash_lo=np.zeros(2, np.uint64),
        hashes_sha256=np.array("x"),
    )
    with pytest.raises(DatasetError, match="shapes"):
        load_space(shapes)


@pytest.mark.shared
def test_nasbench_vis_keys_are_sorted_hash_slices(space_data: Any, shared_data: Path) -> None:
    import json

    hashes = space_data.hashes()
    k20 = json.loads((shared_data / "nb101" / "nasbench-vis-data-20k.json").read_text())["key"]
    k10 = json.loads((shared_data / "nb101" / "nasbench-vis-data-10k.json").read_text())["key"]
    assert k20 == hashes[0:20001]
    assert k10 == hashes[36202:46202]
