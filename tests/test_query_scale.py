"""Caching semantics behind query speed at scale (issue 17): least-recently-used eviction in every
cache, batches resolved by row without cache entries, decoded arrays memory-mapped from the user
cache. Speed itself is measured in benchmarks/bench_query.py, never asserted here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import eabench
from eabench import _decoded
from eabench._resolve import ConfigCache
from eabench.errors import InvalidConfigError
from eabench.registry import embedded_dir, get_spec
from eabench.spaces.nb101 import Cell, NB101Space
from eabench.spaces.nb101.index import NB101Index, cell_key, plain_key

needs_artifact = pytest.mark.skipif(
    embedded_dir(get_spec("nb101-7v")) is None, reason="no embedded nb101-7v artifact"
)


@pytest.fixture(scope="module")
def space() -> NB101Space:
    return NB101Space()


@pytest.fixture(scope="module")
def cells(space: NB101Space) -> list[Cell]:
    rng = np.random.default_rng(17)
    return [space.sample(rng) for _ in range(300)]


def test_config_cache_is_a_bounded_lru(space: NB101Space, cells: list[Cell]) -> None:
    cache = ConfigCache(space, capacity=50, accelerator=space.make_accelerator())
    first = cells[0]
    for i, c in enumerate(cells):
        cache.config_ids([c])
        cache.config_ids([first])  # used again after every new config: never the oldest
        if i % 50 == 0:
            assert first in [hit[0] for hit in cache._by_object.values()]
    for table in (cache._entries, cache._by_object, cache._by_row, cache._config_of_row):
        assert len(table) <= 50
    assert id(first) in cache._by_object
    assert id(cells[1]) not in cache._by_object  # long unused: evicted


def test_dict_memo_is_a_bounded_lru(space: NB101Space, cells: list[Cell]) -> None:
    cache = ConfigCache(space, capacity=20)  # no accelerator: the validated-dict memo
    dicts = [c.to_dict() for c in cells[:60]]
    kept = cache.validate(dicts[0])
    for d in dicts[1:]:
        cache.validate(d)
        assert cache.validate(dicts[0]) is kept
    assert len(cache._validated) <= 20


def test_capacity_zero_keeps_nothing(space: NB101Space, cells: list[Cell]) -> None:
    cache = ConfigCache(space, capacity=0, accelerator=space.make_accelerator())
    cache.accelerator.build()  # type: ignore[union-attr]
    ids = cache.config_ids(cells[:100])
    assert ids == [c.hash() for c in cells[:100]]
    assert len(cache._by_row) == len(cache._by_object) == len(cache._entries) == 0


def test_raw_rows_key_cells_and_strict_dicts_only(space: NB101Space, cells: list[Cell]) -> None:
    index = NB101Index(space).build()
    odd: list[Any] = [
        {"matrix": [[0, True], [0, 0]], "ops": ["input", "output"]},  # bool entry
        {"matrix": [[0, 1.0], [0, 0]], "ops": ["input", "output"]},  # float entry
        {"matrix": [[0, 1], [1, 0]], "ops": ["input", "output"]},  # below the diagonal
        {"matrix": [[0, 1, 0], [0, 0]], "ops": ["input", "output"]},  # ragged
        {"matrix": [[0, 1], [0, 0]], "ops": ["input", "output"], "x": 1},  # extra key
        ("not", "a", "config"),
        None,
    ]
    rows = index.raw_rows([*cells, *(c.to_dict() for c in cells), *odd])
    want = [space.data.index_of(c.hash()) for c in cells]
    assert rows[: len(cells)].tolist() == want
    assert rows[len(cells) : 2 * len(cells)].tolist() == want
    assert (rows[2 * len(cells) :] == -1).all()
    for d in odd[:5]:
        assert plain_key(d) == -1
    two = {"matrix": [[0, 1], [0, 0]], "ops": ["input", "output"]}
    assert plain_key(two) == cell_key(Cell(two["matrix"], two["ops"]))


def test_vectorised_ids_equal_the_formatted_hashes(space: NB101Space) -> None:
    index = NB101Index(space).build()
    rows = np.random.default_rng(0).integers(0, len(space.data), 5000)
    data = space.data
    want = [f"{int(data.hash_hi[r]):016x}{int(data.hash_lo[r]):016x}" for r in rows.tolist()]
    assert index.ids(rows) == want
    assert index.ids(rows[:3]) == want[:3]


@needs_artifact
def test_answer_cache_is_a_bounded_lru(cells: list[Cell]) -> None:
    bench = eabench.load("nb101-7v")
    bench.answer_cache_size = 10
    kept = bench.query(cells[0], 108)
    for c in cells[1:40]:
        bench.query(c, 108)
        assert bench.query(cells[0], 108) is kept  # recently used: stays
    assert len(bench._answers) == 10


@needs_artifact
def test_batch_by_row_equals_loop_and_leaves_the_cache_alone(cells: list[Cell]) -> None:
    bench = eabench.load("nb101-7v").prepare()
    bench.batch_chunk = bench.row_chunk = 64  # several chunks
    other = Cell(  # a valid cell whose raw form is no table row (vertex 2 is pruned)
        [[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0], [0, 0, 0, 0]],
        ["input", "conv3x3-bn-relu", "maxpool3x3", "output"],
    )
    configs: list[Any] = [*cells[:150], *(c.to_dict() for c in cells[150:]), other]
    configs.append(other.to_dict())
    before = len(bench._cache)
    batch = bench.query_batch(configs, 108)
    assert len(bench._cache) == before + 1  # only the validated (non-canonical) one
    loop = [bench.query(c, 108) for c in configs]
    assert list(batch.config_ids) == [r.config_id for r in loop]
    assert batch.config_ids[-1] == other.hash()
    np.testing.assert_array_equal(batch.val_accuracy, [r.val_accuracy for r in loop])
    np.testing.assert_array_equal(batch.test_accuracy, [r.test_accuracy for r in loop])
    np.testing.assert_array_equal(batch.energy_j, [r.energy_j for r in loop])
    np.testing.assert_array_equal(batch.train_time_s, [r.train_time_s for r in loop])
    assert list(batch.flags) == [r.flags for r in loop]
    for k, v in batch.uncertainty.items():
        np.testing.assert_array_equal(v, [r.uncertainty[k] for r in loop])


@needs_artifact
def test_batch_by_row_raises_the_first_invalid_config(cells: list[Cell]) -> None:
    bench = eabench.load("nb101-7v").prepare()
    bad = {"matrix": [[0, 1], [0, 0]], "ops": ["input", "nope"]}
    with pytest.raises(InvalidConfigError) as got:
        bench.query_batch([*cells[:100], bad, 42], 108)
    with pytest.raises(InvalidConfigError) as want:
        bench.space.validate(bad)
    assert str(got.value) == f"configs[100]: {want.value}"  # the first bad one, by index


def test_decoded_arrays_are_cached_mapped_and_equal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EABENCH_CACHE", str(tmp_path / "cache"))
    src = tmp_path / "src.npz"
    big = np.arange(100_000, dtype=np.float32).reshape(-1, 4)
    np.savez_compressed(src, big=big, tag=np.array("x"))
    calls: list[int] = []

    def decode() -> dict[str, np.ndarray]:
        calls.append(1)
        with np.load(src) as z:
            return {"big": z["big"], "tag": z["tag"]}

    first = _decoded.decoded_arrays(src, "t", ("big", "tag"), decode)
    again = _decoded.decoded_arrays(src, "t", ("big", "tag"), decode)
    assert len(calls) == 1
    assert not again["big"].flags.owndata  # a view of the memory map
    assert str(again["tag"]) == "x"
    assert again["tag"].shape == ()
    for got in (first, again):
        np.testing.assert_array_equal(got["big"], big)
        assert not got["big"].flags.writeable
    folder = next((tmp_path / "cache" / "decoded").iterdir())
    (folder / "big.npy").write_bytes(b"garbage")  # unreadable: decoded and written again
    np.testing.assert_array_equal(
        _decoded.decoded_arrays(src, "t", ("big", "tag"), decode)["big"], big
    )
    assert len(calls) == 2


def test_decoded_arrays_without_a_writable_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("EABENCH_CACHE", str(blocker / "cache"))
    src = tmp_path / "src.npz"
    np.savez_compressed(src, a=np.arange(10))
    got = _decoded.decoded_arrays(src, "t", ("a",), lambda: {"a": np.arange(10)})
    np.testing.assert_array_equal(got["a"], np.arange(10))
    assert not got["a"].flags.writeable


def test_configspace_vector_read_equals_the_mapping_read(space: NB101Space) -> None:
    pytest.importorskip("ConfigSpace")
    from eabench.spaces.nb101_configspace import configspace, from_cell, to_cell

    cs = configspace(seed=5)
    for c in [space.sample(s) for s in range(30)]:
        cell = to_cell(from_cell(c, cs))
        assert cell == c  # canonical: the query path finds it without hashing
    for _ in range(100):
        conf = cs.sample_configuration()
        try:
            got: Any = to_cell(conf)
        except InvalidConfigError as exc:
            got = str(exc)
        try:
            want: Any = to_cell(dict(conf))
        except InvalidConfigError as exc:
            want = str(exc)
        assert got == want
