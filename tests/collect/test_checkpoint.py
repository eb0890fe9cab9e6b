"""Checkpoints: atomic per-epoch state, ``weights_only`` loading, pruning."""

from __future__ import annotations

from pathlib import Path

import pytest

from eabench.collect.checkpoint import load_checkpoint, prune_checkpoints, save_checkpoint
from eabench.errors import InvalidLogError

torch = pytest.importorskip("torch")


class _NotATensor:
    pass


def test_round_trip_prune_and_errors(tmp_path: Path) -> None:
    state = {"epoch": 3, "model": {"w": torch.arange(4.0)}, "generator": torch.ByteTensor([1, 2])}
    save_checkpoint(tmp_path, 3, state)
    save_checkpoint(tmp_path, 4, {**state, "epoch": 4})
    back = load_checkpoint(tmp_path, 3)
    assert torch.equal(back["model"]["w"], torch.arange(4.0))
    assert not list(tmp_path.glob("*.tmp"))
    prune_checkpoints(tmp_path, keep_epoch=4)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["epoch_4.pt"]
    with pytest.raises(InvalidLogError, match="missing"):
        load_checkpoint(tmp_path, 3)
    (tmp_path / "epoch_5.pt").write_bytes(b"torn")
    with pytest.raises(InvalidLogError, match="unreadable"):
        load_checkpoint(tmp_path, 5)
    save_checkpoint(tmp_path, 6, {"epoch": 7})
    with pytest.raises(InvalidLogError, match="not the state"):
        load_checkpoint(tmp_path, 6)
    prune_checkpoints(tmp_path, keep_epoch=None)
    assert not tmp_path.exists()


def test_arbitrary_objects_are_refused_by_weights_only(tmp_path: Path) -> None:
    torch.save({"epoch": 0, "obj": _NotATensor()}, tmp_path / "epoch_0.pt")
    with pytest.raises(InvalidLogError, match="unreadable"):
        load_checkpoint(tmp_path, 0)
