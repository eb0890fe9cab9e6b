"""CIFAR-10 data: decode-once cache, deterministic stratified splits, batches and augmentation."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from eabench.collect.data import (
    cifar10_cache,
    data_provenance,
    decode_jpeg_pack,
    find_cifar10_pack,
    load_cifar10,
    make_splits,
)
from eabench.errors import DatasetError, InvalidArgumentError


def test_cache_decodes_once_and_matches_pillow(tiny_pack: Path, tmp_path: Path) -> None:
    data = load_cifar10(tiny_pack, tmp_path)
    assert data.train_x.shape == (200, 32, 32, 3)
    assert data.train_x.dtype == np.uint8
    assert data.test_x.shape == (100, 32, 32, 3)
    assert np.bincount(data.train_y, minlength=10).tolist() == [20] * 10
    z = np.load(tiny_pack)
    o = z["test_offsets"]
    ref = np.asarray(Image.open(io.BytesIO(z["test_jpeg"][o[7] : o[8]].tobytes())).convert("RGB"))
    np.testing.assert_array_equal(data.test_x[7], ref)
    folder = cifar10_cache(tiny_pack, tmp_path)
    stamp = (folder / "train_x.npy").stat().st_mtime_ns
    assert cifar10_cache(tiny_pack, tmp_path) == folder
    assert (folder / "train_x.npy").stat().st_mtime_ns == stamp  # not decoded again


def test_parallel_decode_equals_serial(tiny_pack: Path) -> None:
    z = np.load(tiny_pack)
    serial = decode_jpeg_pack(z["train_jpeg"], z["train_offsets"], workers=1)
    parallel = decode_jpeg_pack(z["train_jpeg"], z["train_offsets"], workers=2, chunk=64)
    np.testing.assert_array_equal(serial, parallel)


def test_splits_are_stratified_deterministic_and_disjoint(tiny_pack: Path, tmp_path: Path) -> None:
    data = load_cifar10(tiny_pack, tmp_path)
    a = make_splits(data, val_size=50, split_seed=3)
    b = make_splits(data, val_size=50, split_seed=3)
    c = make_splits(data, val_size=50, split_seed=4)
    np.testing.assert_array_equal(a.val_index, b.val_index)
    assert not np.array_equal(a.val_index, c.val_index)
    assert np.bincount(a.val_y, minlength=10).tolist() == [5] * 10
    assert not set(a.val_index) & set(a.train_index)
    assert len(a.train_index) + len(a.val_index) == 200
    small = make_splits(data, 50, 3, train_limit=40, val_limit=20, test_limit=30)
    assert (len(small.train_y), len(small.val_y), len(small.test_y)) == (40, 20, 30)
    assert set(small.train_index) <= set(a.train_index)
    assert len(set(small.train_y.tolist())) > 3  # a seeded draw, not a class-sorted prefix
    prov = data_provenance(data, small)
    assert prov["jpeg_reencoded"] is True
    assert "JPEG" in prov["note"]
    assert prov["n_train"] == 40


def test_split_errors(tiny_pack: Path, tmp_path: Path) -> None:
    data = load_cifar10(tiny_pack, tmp_path)
    with pytest.raises(InvalidArgumentError, match="class"):
        make_splits(data, val_size=200, split_seed=0)
    with pytest.raises(InvalidArgumentError, match="train_limit"):
        make_splits(data, val_size=50, split_seed=0, train_limit=10_000)


def test_missing_or_broken_pack(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no CIFAR-10 JPEG pack"):
        find_cifar10_pack(tmp_path / "nope.npz")
    bad = tmp_path / "bad.npz"
    np.savez(bad, train_jpeg=np.zeros(3, np.uint8))
    with pytest.raises(DatasetError, match="lacks arrays"):
        cifar10_cache(bad, tmp_path / "cache")


def test_device_batches_and_augmentation(tiny_pack: Path, tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    from eabench.collect.gpu_data import DeviceSplits, eval_batches, steps_per_epoch, train_batches

    splits = make_splits(load_cifar10(tiny_pack, tmp_path), 50, 0)
    dev = DeviceSplits.from_splits(splits, torch.device("cpu"))
    assert dev.train_x.shape == (150, 3, 32, 32)
    assert dev.train_x.dtype == torch.uint8

    def epoch(seed: int) -> list[torch.Tensor]:
        g = torch.Generator().manual_seed(seed)
        return [x for x, _ in train_batches(dev.train_x, dev.train_y, 64, g)]

    a, b, c = epoch(0), epoch(0), epoch(1)
    assert len(a) == steps_per_epoch(150, 64) == 2  # drop-last
    assert all(torch.equal(x, y) for x, y in zip(a, b, strict=True))
    assert not torch.equal(a[0], c[0])
    # padding shows up as exact zeros (the mean colour) in some crops; values are normalised
    assert a[0].shape == (64, 3, 32, 32)
    assert float(a[0].abs().max()) < 3.0
    ev = list(eval_batches(dev.test_x, dev.test_y, 40))
    assert [int(y.shape[0]) for _, y in ev] == [40, 40, 20]


@pytest.mark.slow
@pytest.mark.shared
def test_full_pack_decodes_into_the_cache(shared_data: Path, tmp_path: Path) -> None:
    data = load_cifar10(shared_data / "cifar10" / "cifar10_jpeg.npz", tmp_path)
    assert data.train_x.shape == (50_000, 32, 32, 3)
    assert data.test_x.shape == (10_000, 32, 32, 3)
    assert np.bincount(data.train_y, minlength=10).tolist() == [5000] * 10
    assert np.bincount(data.test_y, minlength=10).tolist() == [1000] * 10
    splits = make_splits(data, val_size=5000, split_seed=0)
    assert len(splits.train_y) == 45_000
    assert np.bincount(splits.val_y, minlength=10).tolist() == [500] * 10
    # mean colour close to the published CIFAR-10 statistics (JPEG re-encoding shifts it a bit)
    mean = data.train_x.reshape(-1, 3).mean(axis=0) / 255.0
    np.testing.assert_allclose(mean, [0.4914, 0.4822, 0.4465], atol=0.01)
