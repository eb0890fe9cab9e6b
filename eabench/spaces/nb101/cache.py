"""The full 7V space, precomputed and shipped in the package (``eabench/_data/nb101_space.npz``).

The file holds all 423,624 unique cells in the canonical padded form of
:mod:`eabench.spaces.nb101.encode`, **sorted by NB101 module hash** (the order of the NB101 label
arrays such as ``test_accuracy_108.npy`` and ``flops.npy``), as compressed numpy arrays:

- ``adjacency_bits`` uint32 ``(n,)``: bit k is entry ``(i_k, j_k)`` of the padded 7x7 matrix,
  ``(i_k, j_k)`` the k-th pair of ``numpy.triu_indices(7, k=1)`` (row-major);
- ``labels`` int8 ``(n, 7)``: NB101 labels, ``-3`` for padding, output at index 6;
- ``hash_hi``, ``hash_lo`` uint64 ``(n,)``: the 128-bit hash (first/last 16 hex chars);
- ``hashes_sha256``: sha256 of the sorted hex hashes joined by ``"\\n"`` plus a trailing
  ``"\\n"`` (the check value published with the NB101 label staging);
- ``format_version``.

Regenerate with :func:`write_space_cache` (``benchmarks/bench_nb101_space.py`` times it). The cells
are derived from NAS-Bench-101 (Ying et al., ICML 2019, Apache-2.0).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from eabench._decoded import decoded_arrays
from eabench.errors import DatasetError, InvalidConfigError
from eabench.spaces.nb101.cell import MAX_VERTICES, Cell
from eabench.spaces.nb101.enumeration import cell_from_padded, enumerate_padded

__all__ = [
    "SPACE_CACHE_PATH",
    "SPACE_SIZE",
    "SpaceData",
    "load_space",
    "pack_adjacency",
    "sorted_hashes_sha256",
    "unpack_adjacency",
    "write_space_cache",
]

SPACE_CACHE_PATH = Path(__file__).resolve().parents[2] / "_data" / "nb101_space.npz"
"""The shipped cache of the full space."""
SPACE_SIZE = 423_624
"""Number of unique cells with at most 7 vertices and 9 edges (NB101)."""
_FORMAT_VERSION = 1
_IU, _JU = np.triu_indices(MAX_VERTICES, k=1)
_BIT = (1 << np.arange(len(_IU), dtype=np.uint32)).astype(np.uint32)


def pack_adjacency(matrices: np.ndarray) -> np.ndarray:
    """Pack padded ``(n, 7, 7)`` 0/1 matrices into ``uint32`` bitmasks (see module docs)."""
    bits = np.asarray(matrices)[:, _IU, _JU].astype(np.uint32)
    packed: np.ndarray = (bits * _BIT).sum(axis=1, dtype=np.uint32)
    return packed


def unpack_adjacency(bits: np.ndarray) -> np.ndarray:
    """Inverse of :func:`pack_adjacency`: ``(n,)`` uint32 -> ``(n, 7, 7)`` uint8."""
    b = np.asarray(bits, dtype=np.uint32)
    out = np.zeros((len(b), MAX_VERTICES, MAX_VERTICES), dtype=np.uint8)
    out[:, _IU, _JU] = ((b[:, None] & _BIT) != 0).astype(np.uint8)
    return out


def _split_hashes(hashes: Iterable[str]) -> tuple[np.ndarray, np.ndarray]:
    hs = list(hashes)
    hi = np.array([int(h[:16], 16) for h in hs], dtype=np.uint64)
    lo = np.array([int(h[16:], 16) for h in hs], dtype=np.uint64)
    return hi, lo


def sorted_hashes_sha256(hashes: Iterable[str]) -> str:
    """sha256 of sorted hex hashes joined by ``"\\n"`` with a trailing ``"\\n"``."""
    text = "".join(f"{h}\n" for h in sorted(hashes))
    return hashlib.sha256(text.encode("ascii")).hexdigest()


@dataclass(frozen=True, slots=True)
class SpaceData:
    """All unique 7V cells in sorted-hash order (read-only arrays; see module docs).

    The adjacency stays packed (``adjacency_bits``, 1.7 MB); :meth:`matrices_at` unpacks the rows
    asked for and :attr:`matrices` unpacks (once, 21 MB plus a temporary) the whole space for the
    callers that want it all, so that queries never hold the unpacked space in memory.

    Attributes:
        adjacency_bits: ``(n,)`` uint32 packed padded adjacency (see :func:`pack_adjacency`).
        labels: ``(n, 7)`` int8 NB101 labels (``-3`` = padding, output at index 6).
        hash_hi: ``(n,)`` uint64, first 64 bits of each hash.
        hash_lo: ``(n,)`` uint64, last 64 bits of each hash.
        hashes_sha256: the recorded sha256 of the sorted hash list.
        path: the file the data were read from.
    """

    adjacency_bits: np.ndarray
    labels: np.ndarray
    hash_hi: np.ndarray
    hash_lo: np.ndarray
    hashes_sha256: str
    path: Path
    _unpacked: list[np.ndarray] = field(default_factory=list, init=False, repr=False, compare=False)

    @property
    def matrices(self) -> np.ndarray:
        """``(n, 7, 7)`` uint8 padded canonical adjacency matrices (unpacked on first use)."""
        if not self._unpacked:
            mats = np.empty((len(self), MAX_VERTICES, MAX_VERTICES), dtype=np.uint8)
            for s in range(0, len(self), 65536):  # chunks keep the temporaries small
                mats[s : s + 65536] = unpack_adjacency(self.adjacency_bits[s : s + 65536])
            mats.setflags(write=False)
            self._unpacked.append(mats)
        return self._unpacked[0]

    def matrices_at(self, indices: np.ndarray | int) -> np.ndarray:
        """Padded matrices of the rows ``indices`` (``(k, 7, 7)``, or ``(7, 7)`` for an int)."""
        if isinstance(indices, (int, np.integer)):
            i = int(indices)
            one: np.ndarray = unpack_adjacency(self.adjacency_bits[i : i + 1])[0]
            return one
        many: np.ndarray = unpack_adjacency(
            self.adjacency_bits[np.asarray(indices, dtype=np.int64)]
        )
        return many

    def __len__(self) -> int:
        return len(self.labels)

    def hashes(self) -> list[str]:
        """The hex hashes in sorted order (built on demand, ~0.3 s)."""
        return [
            f"{h:016x}{lo:016x}"
            for h, lo in zip(self.hash_hi.tolist(), self.hash_lo.tolist(), strict=True)
        ]

    def index_of(self, hashes: str | Iterable[str]) -> int | np.ndarray:
        """Row index (position in sorted-hash order) of one hash or of many (int64 array).

        Raises:
            InvalidConfigError: for a malformed hash or one that no 7V cell has.
        """
        single = isinstance(hashes, str)
        hs = [hashes] if isinstance(hashes, str) else list(hashes)
        for h in hs:
            if not (
                isinstance(h, str) and len(h) == 32 and all(c in "0123456789abcdef" for c in h)
            ):
                raise InvalidConfigError.for_field("hash", h, "must be 32 lowercase hex chars")
        qh, ql = _split_hashes(hs)
        idx = np.searchsorted(self.hash_hi, qh, side="left").astype(np.int64)
        n = len(self)
        for k in range(len(hs)):  # equal high halves are rare: walk them exactly
            i = int(idx[k])
            while i < n and self.hash_hi[i] == qh[k] and self.hash_lo[i] != ql[k]:
                i += 1
            if i >= n or self.hash_hi[i] != qh[k]:
                raise InvalidConfigError.for_field(
                    "hash", hs[k], "is not the hash of any cell of the NB101 7V space"
                )
            idx[k] = i
        return int(idx[0]) if single else idx

    def cell(self, index: int) -> Cell:
        """The (pruned, canonical) cell at row ``index``."""
        return cell_from_padded(self.matrices_at(int(index)), self.labels[index])


def write_space_cache(path: Path, processes: int = 1) -> SpaceData:
    """Enumerate the full space and write the cache file to ``path``; return its contents."""
    mats, labels, hashes = enumerate_padded(processes=processes)
    hi, lo = _split_hashes(hashes.tolist())
    digest = sorted_hashes_sha256(hashes.tolist())
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        np.savez_compressed(
            fh,
            format_version=np.int64(_FORMAT_VERSION),
            adjacency_bits=pack_adjacency(mats),
            labels=labels,
            hash_hi=hi,
            hash_lo=lo,
            hashes_sha256=np.array(digest),
        )
    return load_space(path)


def load_space(path: Path | None = None) -> SpaceData:
    """Read the space cache (default: the one shipped in the package).

    Raises:
        DatasetError: if the file is missing or malformed.
    """
    p = SPACE_CACHE_PATH if path is None else Path(path)
    names = ("format_version", "adjacency_bits", "labels", "hash_hi", "hash_lo", "hashes_sha256")

    def decode() -> dict[str, np.ndarray]:
        with np.load(p, allow_pickle=False) as z:
            return {k: z[k] for k in names}

    try:  # decoded once per machine, then memory-mapped (eabench._decoded)
        z = decoded_arrays(p, "nb101-space", names, decode)
        version = int(z["format_version"])
        bits = z["adjacency_bits"]
        labels = z["labels"]
        hi, lo = z["hash_hi"], z["hash_lo"]
        digest = str(z["hashes_sha256"])
    except (OSError, KeyError, ValueError) as exc:
        raise DatasetError.for_field(
            "path", str(p), f"not a readable NB101 space cache ({exc})"
        ) from exc
    if version != _FORMAT_VERSION:
        raise DatasetError.for_field("format_version", version, f"expected {_FORMAT_VERSION}")
    n = len(labels)
    if not (bits.shape == (n,) and labels.shape == (n, MAX_VERTICES)):
        raise DatasetError.for_field("labels", labels.shape, "shapes of the cache do not agree")
    if not (hi.shape == lo.shape == (n,)):
        raise DatasetError.for_field("hash_hi", hi.shape, "shapes of the cache do not agree")
    return SpaceData(bits, labels, hi, lo, digest, p)
