"""Raw run logs (format v1), foreign-format adapters and the consolidated HDF5 dataset."""

from __future__ import annotations

from eabench.logs.dataset import (
    Configs7V,
    Dataset,
    EnergyBlock,
    Fidelity,
    Metric,
    RunTable,
    open_dataset,
    shipped_dataset_path,
)
from eabench.logs.runlog_io import RunLogWriter, read_run_log, run_log_path
from eabench.logs.schema import EpochRecord, RunHeader, RunLog, SetupWindow

__all__ = [
    "Configs7V",
    "Dataset",
    "EnergyBlock",
    "EpochRecord",
    "Fidelity",
    "Metric",
    "RunHeader",
    "RunLog",
    "RunLogWriter",
    "RunTable",
    "SetupWindow",
    "open_dataset",
    "read_run_log",
    "run_log_path",
    "shipped_dataset_path",
]
