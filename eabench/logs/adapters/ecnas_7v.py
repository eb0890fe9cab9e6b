"""EC-NAS ``7v_data.pt`` (4,310 7V cells with measured 4-epoch energy) and its seed-42 split.

``7v_data.pt`` is a tuple of 4 tensors (adjacency int64 [N,7,7] zero-padded at the end, ops
int64 [N,7] with codes 0 pad, 1 input, 2 conv1x1, 3 conv3x3, 4 maxpool, 5 output, energy
float32 [N] kWh for a 4-epoch run, params int64 [N]). It is read with
``torch.load(weights_only=True)`` (never a full unpickle); torch is imported only here.

Each row becomes a run log with one epoch record (epoch 3, ``span_epochs=4``) holding one
reading of meter ``carbontracker`` with scope ``unknown``: EC-NAS published no raw logs, time or
definition for this campaign (its energies are 0.33-0.69x the 4V/5V training energies of the
same cells), so the reading carries ``UNDOCUMENTED_DEFINITION`` (warn), ``PUE_UNKNOWN`` (warn)
and ``NO_WINDOW_TIMES`` (info), ``pue_applied`` stays None and the energy is kWh x 3.6e6
unchanged. The config id is the NB101 module hash from :mod:`eabench.spaces.nb101`.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from eabench.errors import InvalidConfigError
from eabench.logs.adapters._common import (
    INGEST_POLICY_ID,
    J_PER_KWH,
    err,
    file_sha256,
    read_bytes,
    read_text,
)
from eabench.logs.schema import EpochRecord, RunHeader, RunLog
from eabench.meters.provenance import Flag, MeterReading

__all__ = ["Ecnas7V", "ecnas_7v_run_logs", "read_ecnas_7v", "read_ecnas_splits"]

N_ROWS: Final = 4310
_PT_OPS: Final = {
    1: "input",
    2: "conv1x1-bn-relu",
    3: "conv3x3-bn-relu",
    4: "maxpool3x3",
    5: "output",
}
SPLIT_FILES: Final = (("train", 3017), ("valid", 431), ("test", 862))


@dataclass(frozen=True, slots=True)
class Ecnas7V:
    """The rows of ``7v_data.pt`` in file order.

    ``configs``: canonical dicts (padding dropped); ``config_ids``: NB101 hashes;
    ``energy_kwh``: float32 as stored (kWh, 4 epochs); ``params``; ``sha256`` of the file.
    """

    configs: tuple[dict[str, Any], ...]
    config_ids: npt.NDArray[np.str_]
    energy_kwh: npt.NDArray[np.float32]
    params: npt.NDArray[np.int64]
    sha256: str


def read_ecnas_7v(path: str | Path) -> Ecnas7V:
    """Load and validate ``7v_data.pt``; raises ``InvalidLogError`` for any problem."""
    import torch

    path = Path(path)
    raw = read_bytes(path)
    try:
        obj = torch.load(io.BytesIO(raw), weights_only=True, map_location="cpu")
    except Exception as exc:  # torch raises many types for bad input; all mean "not this format"
        raise err("7v_data.pt", str(path), f"torch.load(weights_only=True) failed: {exc}") from exc
    if not (isinstance(obj, (tuple, list)) and len(obj) == 4):
        raise err("7v_data.pt", type(obj).__name__, "must be a tuple of 4 tensors")
    if not all(isinstance(t, torch.Tensor) for t in obj):
        raise err("7v_data.pt", [type(t).__name__ for t in obj], "must be a tuple of 4 tensors")
    adj, ops, energy, params = (t.numpy() for t in obj)
    n = adj.shape[0]
    shapes = {"adjacency": (adj.shape, (n, 7, 7)), "ops": (ops.shape, (n, 7))}
    shapes.update({"energy": (energy.shape, (n,)), "params": (params.shape, (n,))})
    for name, (got, want) in shapes.items():
        if got != want:
            raise err(f"7v_data.pt.{name}", got, f"must have shape {want}")
    if not np.isfinite(energy).all() or (energy <= 0).any():
        raise err("7v_data.pt.energy", float(energy.min()), "energies must be finite and > 0")
    if (params <= 0).any():
        raise err("7v_data.pt.params", int(params.min()), "parameter counts must be > 0")
    if not np.isin(adj, [0, 1]).all():
        raise err("7v_data.pt.adjacency", "non 0/1 entries", "must be 0/1")
    from eabench.spaces.nb101 import Cell

    configs, ids = [], []
    for i in range(n):
        codes = ops[i].tolist()
        v = next((j for j, c in enumerate(codes) if c == 0), 7)
        if any(c != 0 for c in codes[v:]) or adj[i, v:].any() or adj[i, :, v:].any():
            raise err(f"7v_data.pt.ops[{i}]", codes, "padding must be at the end")
        try:
            cell = Cell(adj[i, :v, :v], [_PT_OPS[c] for c in codes[:v]])
        except KeyError as exc:
            raise err(f"7v_data.pt.ops[{i}]", codes, "op codes must be 0..5") from exc
        except InvalidConfigError as exc:
            raise err(f"7v_data.pt[{i}]", exc.value, f"not a valid 7V cell: {exc}") from exc
        configs.append(cell.to_dict())
        ids.append(cell.hash())
    if len(set(ids)) != n:
        raise err("7v_data.pt", n - len(set(ids)), "duplicate cells (by NB101 hash)")
    return Ecnas7V(
        configs=tuple(configs),
        config_ids=np.asarray(ids, dtype=str),
        energy_kwh=energy.astype(np.float32),
        params=params.astype(np.int64),
        sha256=file_sha256(raw),
    )


def read_ecnas_splits(directory: str | Path, n_rows: int = N_ROWS) -> npt.NDArray[np.int8]:
    """The seed-42 split as codes per row (0 train, 1 valid, 2 test) from the three index files.

    Raises ``InvalidLogError`` unless the parts have 3,017 / 431 / 862 distinct in-range
    indices that together cover every row exactly once.
    """
    directory = Path(directory)
    codes = np.full(n_rows, -1, dtype=np.int8)
    for code, (part, size) in enumerate(SPLIT_FILES):
        name = f"7v_seed42_{part}_indices.txt"
        lines = read_text(directory / name).split()
        try:
            idx = np.asarray([int(x) for x in lines], dtype=np.int64)
        except ValueError as exc:
            raise err(name, lines[:3], "must hold one integer per line") from exc
        if idx.shape != (size,):
            raise err(name, idx.shape[0], f"must hold {size} indices")
        if idx.min() < 0 or idx.max() >= n_rows:
            raise err(name, int(idx.max()), f"indices must be in [0, {n_rows})")
        if (codes[idx] != -1).any() or np.unique(idx).size != size:
            raise err(name, part, "indices overlap another part or repeat")
        codes[idx] = code
    if (codes == -1).any():
        raise err("splits", int((codes == -1).sum()), "rows not covered by any part")
    return codes


def ecnas_7v_run_logs(data: Ecnas7V, source_path: str = "7v_data.pt") -> list[RunLog]:
    """One run log per row (see module docstring for what the reading says and lacks)."""
    logs = []
    for i, (cfg, cid) in enumerate(zip(data.configs, data.config_ids, strict=True)):
        run_id = f"ecnas7v-{cid}"
        kwh = float(data.energy_kwh[i])
        reading = MeterReading(
            reading_id=f"{run_id}/e3/carbontracker",
            run_id=run_id,
            epoch=3,
            window_name="train",
            meter="carbontracker",
            method="polling",
            quantity="energy of a 4-epoch training run (definition not published)",
            api_call="unknown (EC-NAS 7V campaign; no raw logs published)",
            backend="carbontracker",
            scope="unknown",
            window_start_mono_ns=0,
            window_end_mono_ns=0,
            integration="ingested",
            energy_j=kwh * J_PER_KWH,
            duration_s=None,
            flags=(
                Flag("UNDOCUMENTED_DEFINITION", "warn", "0.33-0.69x the 4V/5V energies"),
                Flag("PUE_UNKNOWN", "warn", "whether PUE 1.59 is included is not documented"),
                Flag("NO_WINDOW_TIMES", "info", "window edges unknown; stored as 0"),
            ),
            policy_id=INGEST_POLICY_ID,
        )
        header = RunHeader(
            run_id=run_id,
            space="nb101-7v",
            dataset="cifar10",
            source={
                "kind": "ecnas-7v",
                "path": source_path,
                "sha256": data.sha256,
                "row": i,
                "citation": "Bakhtiarifard, Igel, Selvan. EC-NAS. ICASSP 2024. arXiv:2210.06015",
                "licence": "MIT (raghavian/surrogate-ec-nasbench)",
            },
            config=cfg,
            config_id=str(cid),
            max_epochs=4,
            hardware={"gpu_name": "NVIDIA Quadro RTX 6000 (per the EC-NAS paper)"},
            meters=({"meter": "carbontracker"},),
            missing=(
                {"field": "accuracies", "reason": "7v_data.pt has none (join NB101 labels)"},
                {"field": "train_time_s", "reason": "7v_data.pt has no times"},
                {"field": "per-epoch energy", "reason": "only the 4-epoch total"},
                {"field": "seed", "reason": "not recorded"},
            ),
            extra={"energy_kwh_raw": kwh, "trainable_params": int(data.params[i])},
        )
        rec = EpochRecord(run_id=run_id, epoch=3, span_epochs=4, readings=(reading,))
        logs.append(RunLog(header=header, epochs=(rec,)))
    return logs
