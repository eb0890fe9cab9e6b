"""Small builders for run-log tests (real-looking records, no I/O)."""

from __future__ import annotations

from typing import Any

from eabench.logs import EpochRecord, RunHeader
from eabench.meters import MeterReading
from eabench.spaces.nb101 import Cell

CONFIG = {"matrix": [[0, 1], [0, 0]], "ops": ["input", "output"]}


def header(run_id: str = "run-1", max_epochs: int | None = 5, **kw: Any) -> RunHeader:
    base: dict[str, Any] = {
        "run_id": run_id,
        "space": "nb101-7v",
        "dataset": "cifar10",
        "source": {"kind": "eabench"},
        "config": CONFIG,
        "config_id": Cell.from_dict(CONFIG).hash(),
        "seed": 0,
        "max_epochs": max_epochs,
        "meters": ({"meter": "gpu.nvml_counter"},),
    }
    base.update(kw)
    return RunHeader(**base)


def reading(run_id: str, epoch: int, energy_j: float = 100.0) -> MeterReading:
    start = 10_000_000_000 * epoch
    return MeterReading(
        reading_id=f"{run_id}/e{epoch}/gpu0",
        run_id=run_id,
        epoch=epoch,
        window_name="train",
        meter="gpu.nvml_counter",
        method="counter",
        quantity="energy_counter",
        api_call="nvmlDeviceGetTotalEnergyConsumption",
        backend="nvidia-ml-py",
        scope="gpu",
        device={"index": 0},
        window_start_mono_ns=start,
        window_end_mono_ns=start + 9_000_000_000,
        integration="counter_delta",
        energy_j=energy_j,
        duration_s=9.0,
        raw_start=0,
        raw_end=int(energy_j * 1000),
        raw_unit="mJ",
        sync_barrier="torch.cuda.synchronize",
    )


def record(run_id: str, epoch: int, pad: int = 0) -> EpochRecord:
    return EpochRecord(
        run_id=run_id,
        epoch=epoch,
        val_accuracy=0.1 + 0.8 * epoch / (epoch + 10),
        train_loss=2.0 / (epoch + 1),
        train_time_s=9.0,
        readings=(reading(run_id, epoch, 100.0 + epoch),),
        extra={"pad": "x" * pad} if pad else {},
    )
