"""Ingestion: detect formats, convert every good file, report every bad one, write the dataset.

Formats (``--format`` names): ``runlog`` (``*.runlog.jsonl``), ``ecnas-results`` (EC-NAS
``results.json``), ``ecnas-7v`` (``7v_data.pt``), ``nb101-labels`` (a folder with
``test_accuracy_108.npy``), ``pycls-sweep`` (``sweep.json`` [+ ``sweep_energy.json``]),
``pycls-log`` (``stdout.log`` with ``json_stats`` lines), and the meter files aligned to the
runs they overlap in wall-clock time: ``power-csv``, ``codecarbon`` (``emissions.csv``),
``carbontracker`` (``*carbontracker.log``). Known auxiliary files (graphs, split index files,
READMEs, licences, EC-NAS ``_recovery`` counters) are used by their adapters or skipped.

Rules: a bad file never stops the others; its path and reason go into the report. A run id seen
twice keeps the first and reports the second. Only :class:`~eabench.errors.EabenchError` is
caught per file; anything else is a bug and propagates.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from eabench.errors import (
    EabenchError,
    InvalidArgumentError,
    InvalidLogError,
    UnknownFormatError,
)
from eabench.logs.adapters import ecnas_results, meter_files, pycls
from eabench.logs.adapters.ecnas_7v import (
    Ecnas7V,
    ecnas_7v_run_logs,
    read_ecnas_7v,
    read_ecnas_splits,
)
from eabench.logs.adapters.nb101_labels import NB101Labels, read_nb101_labels
from eabench.logs.build import TableData, table_from_runs, write_dataset
from eabench.logs.runlog_io import RUNLOG_SUFFIX, read_run_log
from eabench.logs.schema import RunLog

__all__ = ["FORMATS", "IngestReport", "detect_format", "ingest"]

FORMATS: Final = (
    "runlog",
    "ecnas-results",
    "ecnas-7v",
    "nb101-labels",
    "pycls-sweep",
    "pycls-log",
    "power-csv",
    "codecarbon",
    "carbontracker",
)
_METER_FORMATS: Final = ("power-csv", "codecarbon", "carbontracker")
_AUX_NAMES: Final = frozenset(
    {"readme.md", "notice", "license", "sweep_energy.json", "flops.npy", "test_accuracy_108.npy"}
)
_TABLE_OF: Final = {
    "ecnas-results": "ecnas_runs",
    "ecnas-7v": "ecnas_7v",
    "eabench": "runs",
    "pycls-sweep": "pycls_runs",
    "pycls-log": "pycls_runs",
}
_GENERIC_SOURCES: Final = {
    "eabench": {"name": "eabench collection run logs", "licence": "see the run's source"},
    "pycls-sweep": {"name": "EA-HAS-Bench / pycls sweep.json", "licence": "unknown"},
    "pycls-log": {"name": "EA-HAS-Bench / pycls stdout.log", "licence": "unknown"},
}


@dataclass
class IngestReport:
    """Outcome of one ingestion: runs/rows kept per table and every failed file with why."""

    ingested: int = 0
    failed: int = 0
    errors: list[dict[str, str]] = field(default_factory=list)
    tables: dict[str, int] = field(default_factory=dict)
    formats: dict[str, int] = field(default_factory=dict)
    out: str | None = None

    def fail(self, path: Path | str, reason: str) -> None:
        self.failed += 1
        self.errors.append({"path": str(path), "reason": reason})

    def to_dict(self) -> dict[str, Any]:
        return {
            "ingested": self.ingested,
            "failed": self.failed,
            "errors": list(self.errors),
            "tables": dict(self.tables),
            "formats": dict(self.formats),
            "out": self.out,
        }


def _is_aux(path: Path) -> bool:
    name = path.name.lower()
    if name in _AUX_NAMES or name.startswith(("license", "licence")):
        return True
    if name.startswith("generated_graphs_") and name.endswith(".json"):
        return True
    if name.startswith("7v_seed42_") and name.endswith("_indices.txt"):
        return True
    if name.startswith("nasbench-vis-data-") or "_recovery" in path.parts:
        return True
    if name.endswith("carbontracker_output.log"):  # summary of the per-epoch log
        return True
    return "licenses" in path.parts or name.endswith((".md", ".txt"))


def detect_format(path: Path) -> str:
    """The format name of one file (or nb101 label folder); raises ``UnknownFormatError``."""
    name = path.name.lower()
    if path.is_dir():
        if (path / "test_accuracy_108.npy").is_file():
            return "nb101-labels"
        raise UnknownFormatError.for_field("path", str(path), "folder of no known format")
    if name.endswith(RUNLOG_SUFFIX):
        return "runlog"
    if name == "results.json":
        return "ecnas-results"
    if name.endswith(".pt"):
        return "ecnas-7v"
    if name == "sweep.json":
        return "pycls-sweep"
    if name.endswith("carbontracker.log"):
        return "carbontracker"
    if name.endswith((".log", ".txt")) and _head(path).find(b"json_stats:") >= 0:
        return "pycls-log"
    if name.endswith(".csv"):
        head = _head(path).split(b"\n", 1)[0].lower()
        if b"cpu_energy" in head and b"gpu_energy" in head:
            return "codecarbon"
        if b"watt" in head or b"power" in head:
            return "power-csv"
    raise UnknownFormatError.for_field("path", str(path), "no adapter recognises this file")


def _head(path: Path, n: int = 65536) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read(n)
    except OSError:
        return b""


def _expand(sources: Sequence[str | os.PathLike[str]], report: IngestReport) -> list[Path]:
    files: list[Path] = []
    for src in sources:
        p = Path(src)
        if not p.exists():
            report.fail(p, "no such file or folder")
        elif p.is_dir():
            if (p / "test_accuracy_108.npy").is_file():
                files.append(p)
            for q in sorted(p.rglob("*")):
                is_labels = q.is_dir() and (q / "test_accuracy_108.npy").is_file()
                if is_labels or (q.is_file() and not q.name.startswith(".")):
                    files.append(q)
        else:
            files.append(p)
    return files


class _Collector:
    def __init__(self, report: IngestReport) -> None:
        self.report = report
        self.runs: dict[str, RunLog] = {}
        self.origin: dict[str, Path] = {}
        self.meters: list[tuple[Path, str]] = []
        self.graphs: dict[Path, dict[str, Any]] = {}
        self.ecnas7v: tuple[Ecnas7V, Path] | None = None
        self.labels: NB101Labels | None = None

    def add_runs(self, path: Path, logs: Iterable[RunLog]) -> None:
        logs = list(logs)
        dup = [lg.run_id for lg in logs if lg.run_id in self.runs]
        if dup:
            raise InvalidLogError.for_field(
                "run_id", dup[0], f"duplicate run id (first seen in {self.origin[dup[0]]})"
            )
        for lg in logs:
            self.runs[lg.run_id] = lg
            self.origin[lg.run_id] = path

    def convert(self, path: Path, fmt: str) -> None:
        if fmt == "runlog":
            self.add_runs(path, [read_run_log(path)])
        elif fmt == "ecnas-results":
            graphs: dict[str, Any] = {}
            sub = ecnas_results.results_subspace(path)
            gpath = ecnas_results.find_graphs_file(path, sub) if sub else None
            if gpath is not None:
                if gpath not in self.graphs:
                    self.graphs[gpath] = ecnas_results.load_graphs(gpath)
                graphs = self.graphs[gpath]
            self.add_runs(path, [ecnas_results.read_ecnas_results(path, graphs)])
        elif fmt == "ecnas-7v":
            data = read_ecnas_7v(path)
            self.add_runs(path, ecnas_7v_run_logs(data, path.name))
            self.ecnas7v = (data, path)
        elif fmt == "nb101-labels":
            self.labels = read_nb101_labels(path)
        elif fmt == "pycls-sweep":
            self.add_runs(path, pycls.read_pycls_sweep(path))
        elif fmt == "pycls-log":
            self.add_runs(path, [pycls.read_pycls_log(path, run_id=f"pycls-{path.parent.name}")])
        elif fmt in _METER_FORMATS:
            self.meters.append((path, fmt))
        else:
            raise InvalidArgumentError.for_field("format", fmt, f"must be one of {FORMATS}")

    def align_meters(self) -> None:
        for path, fmt in self.meters:
            attached = 0
            last_error = "no run log with wall-clock windows overlaps it"
            for run_id, lg in list(self.runs.items()):
                try:
                    if fmt == "power-csv":
                        new = meter_files.align_power_trace(lg, meter_files.read_power_csv(path))
                    elif fmt == "codecarbon":
                        new = meter_files.align_codecarbon(lg, path)
                    else:
                        new = meter_files.align_carbontracker(lg, path)
                except EabenchError as exc:
                    last_error = str(exc)
                    continue
                self.runs[run_id] = new
                attached += 1
            if not attached:
                self.report.fail(path, f"{fmt}: {last_error}")


def ingest(
    sources: Sequence[str | os.PathLike[str]],
    out: str | os.PathLike[str],
    *,
    fmt: str | None = None,
    progress: Callable[[Iterable[Path], int], Iterable[Path]] | None = None,
) -> IngestReport:
    """Convert ``sources`` (files or folders) into the dataset ``out``; returns the report.

    ``fmt`` forces one format for every file (auxiliary files are still skipped). ``progress``
    wraps the file iterator (e.g. a tqdm bar). Writes ``out`` only if something was ingested.
    """
    if fmt is not None and fmt not in FORMATS:
        raise InvalidArgumentError.for_field("format", fmt, f"must be one of {FORMATS}")
    report = IngestReport()
    files = _expand(sources, report)
    col = _Collector(report)
    iterator: Iterable[Path] = progress(files, len(files)) if progress else files
    for path in iterator:
        if path.is_file() and _is_aux(path):
            continue
        try:
            this = fmt or detect_format(path)
            col.convert(path, this)
            report.formats[this] = report.formats.get(this, 0) + 1
        except EabenchError as exc:
            report.fail(path, f"{type(exc).__name__}: {exc}")
    col.align_meters()
    tables = _tables(col)
    for t in tables:
        report.tables[f"{t.space}/{t.dataset}/{t.name}"] = t.n_rows
    report.ingested = len(col.runs) + (col.labels.keys.shape[0] if col.labels else 0)
    if tables:
        from eabench.logs.realdata import SOURCES

        write_dataset(out, tables, {**SOURCES, **_GENERIC_SOURCES})
        report.out = str(out)
    return report


def _tables(col: _Collector) -> list[TableData]:
    from eabench.logs.realdata import ecnas_7v_table, nb101_tables

    groups: dict[tuple[str, str, str], list[RunLog]] = {}
    joined_7v = col.ecnas7v is not None and col.labels is not None
    for lg in col.runs.values():
        kind = str(lg.header.source.get("kind"))
        if kind == "ecnas-7v" and joined_7v:
            continue
        name = _TABLE_OF.get(kind, kind.replace("-", "_"))
        groups.setdefault((lg.header.space, lg.header.dataset, name), []).append(lg)
    tables = []
    for (space, dataset, name), logs in sorted(groups.items()):
        logs.sort(key=lambda lg: lg.run_id)
        tables.append(
            table_from_runs(
                logs, space=space, dataset=dataset, name=name, description=f"ingested {name}"
            )
        )
    if col.labels is not None:
        if col.ecnas7v is not None:
            data, path = col.ecnas7v
            split_dir = path.parent.parent / "splits"
            splits = read_ecnas_splits(split_dir) if split_dir.is_dir() else None
            if splits is None:
                import numpy as np

                splits = np.full(data.config_ids.shape[0], -1, dtype=np.int8)
            tables.append(ecnas_7v_table(data, col.labels, splits))
        tables.extend(nb101_tables(col.labels))
    return tables


def report_json(report: IngestReport) -> str:
    return json.dumps(report.to_dict(), indent=2)
