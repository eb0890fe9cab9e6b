"""Raw run logs (format v1), foreign-format adapters and the consolidated HDF5 dataset."""

from __future__ import annotations

from eabench.logs.runlog_io import RunLogWriter, read_run_log, run_log_path
from eabench.logs.schema import EpochRecord, RunHeader, RunLog, SetupWindow

__all__ = [
    "EpochRecord",
    "RunHeader",
    "RunLog",
    "RunLogWriter",
    "SetupWindow",
    "read_run_log",
    "run_log_path",
]
