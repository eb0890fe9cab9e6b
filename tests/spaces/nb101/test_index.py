"""The 7V fast path: canonical cells -> precomputed ids/features; answers equal the slow path."""

from __future__ import annotations

import enum
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from eabench.errors import InvalidConfigError
from eabench.loading import from_artifact
from eabench.spaces.nb101 import Cell, NB101Space
from eabench.spaces.nb101.cache import load_space
from eabench.spaces.nb101.index import NB101Index, cell_key, data_keys, plain_key
from tests.fakes import load_fake, write_fake_artifact

VECTORS = Path(__file__).resolve().parents[2] / "fixtures" / "nb101" / "nb101_hash_vectors_1k.json"


@pytest.fixture(scope="module")
def small_space(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A space cache with every 100th cell of the shipped one (same format, 4,237 rows)."""
    full = load_space()
    keep = np.arange(0, len(full), 100)
    path = tmp_path_factory.mktemp("space") / "small.npz"
    np.savez_compressed(
        path,
        format_version=np.int64(1),
        adjacency_bits=full.adjacency_bits[keep],
        labels=full.labels[keep],
        hash_hi=full.hash_hi[keep],
        hash_lo=full.hash_lo[keep],
        hashes_sha256=np.array("subset-for-tests"),
    )
    return path


def test_cell_keys_equal_row_keys_for_canonical_cells(small_space: Path) -> None:
    data = load_space(small_space)
    keys = data_keys(data.matrices, data.labels)
    assert len(np.unique(keys)) == len(keys)
    for i in range(0, len(data), 7):
        assert cell_key(data.cell(i)) == keys[i]


def _bench(folder: Path, space: NB101Space, fast: bool) -> Any:
    b = from_artifact(folder, loader=load_fake, space=space)
    if fast:
        b.prepare()
    else:
        b._cache.accelerator = None
    return b


@pytest.fixture
def benches(
    small_space: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[NB101Space, Any, Any]:
    """The small space and two benchmarks on a fake artifact: with and without the index."""
    monkeypatch.setenv("EABENCH_CACHE", str(tmp_path / "cache"))
    space = NB101Space(cache_path=small_space)
    folder = write_fake_artifact(tmp_path / "a", n_features=len(space.feature_names()))
    fast, slow = _bench(folder, space, True), _bench(folder, space, False)
    return space, fast, slow


def _given(n: int) -> list[Cell]:
    """Cells of the NB101 hash vectors, in their own (not canonical) vertex order."""
    raw = json.loads(VECTORS.read_text())["vectors"][:n]
    return [Cell([[int(c) for c in r] for r in v["matrix"]], v["labels"]) for v in raw]


def test_fast_path_gives_the_same_answers(benches: tuple[NB101Space, Any, Any]) -> None:
    space, fast, slow = benches
    canonical = [space.data.cell(i) for i in range(0, len(space.data), 50)]
    given = _given(60)
    configs = canonical + given + [c.to_dict() for c in given[:10]]
    configs += canonical[:3] + given[:3] + [space.data.cell(0), space.data.cell(0)]  # repeats
    assert fast._cache.accelerator.rows(canonical).min() >= 0
    for cfg in configs:
        assert fast.query(cfg, 36) == slow.query(cfg, 36)
    assert fast.query_batch(configs, 108) == slow.query_batch(configs, 108)
    assert [fast.query(c, 4).config_id for c in canonical[:5]] == [c.hash() for c in canonical[:5]]


def test_feature_table_is_cached_and_checked(
    small_space: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    space = NB101Space(cache_path=small_space)
    index = NB101Index(space, cache_dir=tmp_path).build()
    assert not list(tmp_path.glob("*.npy"))  # the feature table is made on first use only
    rows = np.array([0, 5, len(space.data) - 1])
    np.testing.assert_array_equal(index.features(rows), space.encode_indices(rows))
    [table] = list(tmp_path.glob("nb101_features_v1_*.npy"))
    reopened = NB101Index(space, cache_dir=tmp_path).build()
    reopened.features(rows)
    assert isinstance(reopened._features, np.memmap)
    arr = np.load(table)
    arr[:] = 0  # a corrupted table is detected and rebuilt
    np.save(table, arr)
    again = NB101Index(space, cache_dir=tmp_path).build()
    np.testing.assert_array_equal(again.features(rows), space.encode_indices(rows))


def _plain(cell: Cell) -> dict[str, Any]:
    return {"matrix": [list(r) for r in cell.matrix], "ops": list(cell.ops)}


def test_plain_keys_equal_cell_keys_and_refuse_anything_not_strict(small_space: Path) -> None:
    data = load_space(small_space)
    for i in range(0, len(data), 37):
        cell = data.cell(i)
        assert plain_key(_plain(cell)) == cell_key(cell)
    good = _plain(data.cell(5))
    n = len(good["ops"])
    lower = json.loads(json.dumps(good))
    lower["matrix"][n - 1][0] = 1  # a lower-triangle edge: ignored by the bit table, refused
    as_bool = json.loads(json.dumps(good))
    as_bool["matrix"][0] = [bool(x) for x in as_bool["matrix"][0]]
    as_float = json.loads(json.dumps(good))
    as_float["matrix"][0] = [float(x) for x in as_float["matrix"][0]]
    as_labels = {"matrix": good["matrix"], "ops": [-1, *[0] * (n - 2), -2]}
    bad_op = {"matrix": good["matrix"], "ops": ["input", *["conv5x5"] * (n - 2), "output"]}
    for cfg in (
        lower,
        as_bool,
        as_float,
        as_labels,
        bad_op,
        {**good, "extra": 1},
        {"matrix": [tuple(r) for r in good["matrix"]], "ops": good["ops"]},
        {"matrix": np.array(good["matrix"]), "ops": good["ops"]},
        {"matrix": good["matrix"][:-1], "ops": good["ops"]},
        {"matrix": good["matrix"], "ops": ["input", *[["conv3x3-bn-relu"]] * (n - 2), "output"]},
        {"matrix": [[[0]] * n for _ in range(n)], "ops": good["ops"]},
        [good],
    ):
        assert plain_key(cfg) == -1


class _Op(str, enum.Enum):
    INPUT = "input"
    CONV3 = "conv3x3-bn-relu"
    CONV1 = "conv1x1-bn-relu"
    POOL = "maxpool3x3"
    OUTPUT = "output"


class _Explosive:
    def __bool__(self) -> bool:
        raise RuntimeError("no truth value")

    def __ne__(self, other: object) -> bool:
        raise RuntimeError("no comparison")

    __hash__ = object.__hash__


def test_plain_key_refuses_look_alike_types_before_comparing_them(
    benches: tuple[NB101Space, Any, Any],
) -> None:
    """str subclasses, numpy scalars and objects that raise in comparisons take the Cell path:
    the fast path neither accepts what validation rejects nor leaks non-eabench errors."""
    space, fast, slow = benches
    good = _plain(space.data.cell(7))
    n = len(good["ops"])
    enum_ops = {"matrix": good["matrix"], "ops": [_Op(o) for o in good["ops"]]}
    np_ops = {"matrix": good["matrix"], "ops": list(np.array(good["ops"]))}
    array_entry = json.loads(json.dumps(good))
    array_entry["matrix"][0][0] = np.array([0, 0])
    explosive = json.loads(json.dumps(good))
    explosive["matrix"][n - 1][0] = _Explosive()
    explosive_op = {"matrix": good["matrix"], "ops": [_Explosive(), *good["ops"][1:]]}
    for cfg in (enum_ops, np_ops, array_entry, explosive, explosive_op):
        assert plain_key(cfg) == -1
    for cfg in (enum_ops, array_entry, explosive, explosive_op):
        with pytest.raises(InvalidConfigError):
            slow.query(cfg, 4)
        with pytest.raises(InvalidConfigError):
            fast.query(cfg, 4)
    # a numpy-str dict is valid; its cell must not leak np.str_ into the shared cache
    assert fast.query(np_ops, 4) == slow.query(good, 4)
    cell = fast._cache.validate(good)
    assert [type(o) for o in cell.ops] == [str] * n


def test_plain_dicts_take_the_row_and_answer_like_cells(
    benches: tuple[NB101Space, Any, Any],
) -> None:
    space, fast, slow = benches
    canonical = [space.data.cell(i) for i in range(0, len(space.data), 41)]
    dicts = [_plain(c) for c in canonical]
    index = fast._cache.accelerator
    assert [index.plain_row(d) for d in dicts] == list(range(0, len(space.data), 41))
    for d, c in zip(dicts, canonical, strict=True):
        assert fast._cache.validate(d) == c
        assert fast.query(d, 12) == slow.query(d, 12) == slow.query(c, 12)
    assert fast.query_batch(dicts, 108) == slow.query_batch(canonical, 108)
    # the same dict again returns the same config object (no re-validation)
    assert fast._cache.validate(dicts[0]) is fast._cache.validate(json.loads(json.dumps(dicts[0])))
    # dicts that are not canonical rows take Cell validation, with its errors
    for c in _given(20):
        assert fast.query(c.to_dict(), 36) == slow.query(c, 36)
    bad = json.loads(json.dumps(dicts[1]))
    bad["matrix"][-1][0] = 1
    with pytest.raises(InvalidConfigError) as err:
        fast.query(bad, 4)
    assert err.value.field == "matrix"
    assert "upper-triangular" in str(err.value)
