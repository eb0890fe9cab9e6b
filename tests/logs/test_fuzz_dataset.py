"""Corrupted dataset files: every h5py failure is a DatasetError, flipped bits are caught.

A small dataset is built from the EC-NAS fixtures (every non-empty array carries a fletcher32
checksum, and the file's sha256 goes into ``<file>.sha256``); hypothesis then flips bits, zeroes
blocks, overwrites and truncates copies of it. Properties: with the sidecar, every changed copy
is refused by ``open_dataset`` with ``DatasetError`` before HDF5 parses it (some zeroed metadata
blocks hang the HDF5 library itself, so nothing else is safe); without it, a flipped bit inside
any array's stored bytes (compressed or not) still raises ``DatasetError`` (fletcher32), and
``open_dataset``, ``Dataset.table`` and the audit input loader raise nothing outside
``EabenchError`` for corruptions of the arrays.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from pathlib import Path
from typing import Any

import h5py
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eabench.errors import DatasetError, EabenchError
from eabench.logs import open_dataset
from eabench.logs.dataset import checksum_path
from eabench.logs.ingest import ingest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "raw" / "ecnas"


@pytest.fixture(scope="module")
def built(tmp_path_factory: Any) -> bytes:
    out = tmp_path_factory.mktemp("ds") / "small.h5"
    report = ingest([FIXTURES], out)
    assert report.failed == 0
    assert checksum_path(out).read_text().split()[0] == hashlib.sha256(out.read_bytes()).hexdigest()
    return out.read_bytes()


def _data_extents(path: Path) -> list[tuple[str, int, int]]:
    """(dataset name, byte offset, size) of the stored bytes of every dataset."""
    out: list[tuple[str, int, int]] = []

    def visit(name: str, obj: Any) -> None:
        if not isinstance(obj, h5py.Dataset) or obj.size == 0:
            return
        assert obj.fletcher32, name
        if obj.chunks is None:
            out.append((name, obj.id.get_offset(), obj.id.get_storage_size()))
        else:
            for i in range(obj.id.get_num_chunks()):
                info = obj.id.get_chunk_info(i)
                out.append((name, info.byte_offset, info.size))

    with h5py.File(path, "r") as f:
        f.visititems(visit)
    return out


def _read_everything(path: Path) -> None:
    """Everything a user can read from a dataset file; only EabenchError may escape."""
    from eabench.audit.inputs import load_input

    try:
        ds = open_dataset(path)
    except EabenchError:
        return
    for t in ds.tables:
        with contextlib.suppress(EabenchError):
            ds.table(*t)
    with contextlib.suppress(EabenchError):
        load_input(path)


def test_every_array_has_a_checksum_and_a_flipped_bit_is_caught(
    built: bytes, tmp_path: Path
) -> None:
    path = tmp_path / "ds.h5"
    path.write_bytes(built)
    extents = _data_extents(path)
    assert len(extents) > 10
    table = ("nb101-7v", "cifar10", "ecnas_runs")
    for _name, offset, size in extents:
        raw = bytearray(built)
        raw[offset + size // 2] ^= 0x10
        path.write_bytes(bytes(raw))
        with pytest.raises(DatasetError):
            open_dataset(path).table(*table)


@settings(
    max_examples=int(os.environ.get("EABENCH_FUZZ_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_corrupted_copies_are_refused_before_parsing(
    built: bytes, tmp_path_factory: Any, data: Any
) -> None:
    folder = tmp_path_factory.mktemp("corrupt")
    path = folder / "ds.h5"
    raw = bytearray(built)
    kind = data.draw(st.sampled_from(["flip", "zero", "truncate", "garbage"]))
    pos = data.draw(st.integers(0, len(raw) - 1))
    if kind == "flip":
        for _ in range(data.draw(st.integers(1, 8))):
            raw[data.draw(st.integers(0, len(raw) - 1))] ^= 1 << data.draw(st.integers(0, 7))
    elif kind == "zero":
        n = data.draw(st.integers(1, 512))
        raw[pos : pos + n] = bytes(len(raw[pos : pos + n]))
    elif kind == "truncate":
        raw = raw[:pos]
    else:
        n = data.draw(st.integers(1, 64))
        raw[pos : pos + n] = data.draw(st.binary(min_size=n, max_size=n))[: len(raw[pos : pos + n])]
    path.write_bytes(bytes(raw))
    checksum_path(path).write_text(f"{hashlib.sha256(built).hexdigest()}  ds.h5\n")
    if bytes(raw) == built:
        open_dataset(path)
    else:
        with pytest.raises(DatasetError, match="sha256"):
            open_dataset(path)
        _read_everything(path)
