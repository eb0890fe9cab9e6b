"""Per-epoch training checkpoints of resumable runs (``torch.save``; loaded ``weights_only``).

A checkpoint holds only tensors and plain containers (state dicts, ints, floats, strings), so it
loads with ``weights_only=True`` (no pickle of arbitrary objects). Layout:
``<output_dir>/checkpoints/<run_id>/epoch_<k>.pt``, the state *after* 0-based epoch ``k``.

Order of writes per epoch (what makes resume lose at most the in-flight epoch): the checkpoint of
epoch k is written atomically (temp file, fsync, rename) *before* epoch k's record is appended to
the run log; then older checkpoints are deleted. So whenever the log ends at epoch k, the
checkpoint of epoch k exists; a checkpoint of epoch k+1 without its log record is ignored (and
overwritten when epoch k+1 is trained again).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

from eabench._atomic import atomic_path
from eabench.errors import InvalidLogError

__all__ = ["checkpoint_dir", "load_checkpoint", "prune_checkpoints", "save_checkpoint"]

_NAME = re.compile(r"^epoch_(\d+)\.pt$")


def checkpoint_dir(output_dir: Path, run_id: str) -> Path:
    """``<output_dir>/checkpoints/<run_id>``."""
    return Path(output_dir) / "checkpoints" / run_id


def save_checkpoint(folder: Path, epoch: int, state: dict[str, Any]) -> Path:
    """Atomically write ``state`` as ``epoch_<epoch>.pt`` in ``folder``; returns the path."""
    import torch

    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"epoch_{epoch}.pt"
    with atomic_path(target) as tmp:
        torch.save(state, tmp)
    return target


def load_checkpoint(folder: Path, epoch: int, map_location: Any = None) -> dict[str, Any]:
    """Load ``epoch_<epoch>.pt`` with ``weights_only=True``.

    Raises:
        InvalidLogError: the checkpoint the run log needs to resume is missing or unreadable.
    """
    import torch

    path = folder / f"epoch_{epoch}.pt"
    if not path.is_file():
        raise InvalidLogError.for_field(
            "checkpoint", str(path), "missing: the run log ends at this epoch but its state is gone"
        )
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # a torn or foreign file
        raise InvalidLogError.for_field("checkpoint", str(path), f"unreadable: {exc}") from exc
    if not isinstance(state, dict) or state.get("epoch") != epoch:
        raise InvalidLogError.for_field("checkpoint", str(path), f"is not the state of {epoch}")
    return state


def prune_checkpoints(folder: Path, keep_epoch: int | None) -> None:
    """Delete every checkpoint except ``epoch_<keep_epoch>.pt``; ``None`` removes the folder."""
    if not folder.is_dir():
        return
    if keep_epoch is None:
        shutil.rmtree(folder, ignore_errors=True)
        return
    for p in folder.iterdir():
        m = _NAME.match(p.name)
        if (m and int(m.group(1)) != keep_epoch) or p.name.endswith(".tmp"):
            p.unlink(missing_ok=True)
