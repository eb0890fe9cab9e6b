"""Ingestion: detect formats, convert every good file, report every bad one, write the dataset.

Formats (``--format`` names): ``runlog`` (``*.runlog.jsonl``), ``ecnas-results`` (EC-NAS
``results.json``), ``ecnas-7v`` (``7v_data.pt``), ``nb101-labels`` (a folder with
``test_accuracy_108.npy``), ``pycls-sweep`` (``sweep.json`` [+ ``sweep_energy.json``]),
``pycls-log`` (``stdout.log`` with ``json_stats`` lines), and the meter files aligned to the
runs they overlap in wall-clock time: ``power-csv``, ``codecarbon`` (``emissions.csv``),
``carbontracker`` (``*carbontracker.log``). Known auxiliary files (graphs, split index files,
READMEs, licences, EC-NAS ``_recovery`` counters) are used by their adapters or skipped.

Rules: a bad input never stops the others; its path, field, value, rule and reason go into the
report, and every good input is kept. Isolation is per file and, inside files holding many runs,
per run: a run id seen twice keeps the first and reports the second; a run whose header does not
validate (unknown ``source.kind``, a space/dataset name that is not a plain name, an epoch beyond
``MAX_EPOCHS``, a string that is not valid UTF-8), fails a consistency check
(:mod:`eabench.logs.consistency`) or would push its table past 32 distinct flag codes is
rejected alone. Paths that are not regular files (FIFOs, sockets, devices, dangling links) are
skipped with a report entry and never opened; a torn last line of a run log is reported (the run
is kept). A bad split file or graphs-file entry is reported and the runs are kept without it.
An exception outside :class:`~eabench.errors.EabenchError` while reading one input is a bug: it
is still confined to that input, reported with its type, and counted in ``report.unexpected``.
"""

from __future__ import annotations

import json
import os
import stat
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
from eabench.logs.consistency import CONSISTENCY_POLICY_ID, check_run
from eabench.logs.runlog_io import RUNLOG_SUFFIX, read_run_log
from eabench.logs.schema import RunHeader, RunLog

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
#: a table stores flags as uint32 bit sets
MAX_FLAG_CODES: Final = 32
#: bound on the dense cells (runs x epochs x arrays) of one ingested table (about 1 GiB)
MAX_TABLE_CELLS: Final = 2**27
_METRIC_ARRAYS: Final = 7
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
    """Outcome of one ingestion: runs/rows kept per table and every failed input with why.

    Each entry of ``errors`` has ``path`` and ``reason`` and, when the error names them,
    ``field``, ``value`` (its repr, shortened) and ``rule``; ``run_id`` when one run of a
    multi-run file was rejected. ``warnings`` are inputs kept with a caveat (a torn last line,
    a rejected split file). ``unexpected`` counts errors outside ``EabenchError`` (bugs).
    """

    ingested: int = 0
    failed: int = 0
    errors: list[dict[str, str]] = field(default_factory=list)
    tables: dict[str, int] = field(default_factory=dict)
    formats: dict[str, int] = field(default_factory=dict)
    out: str | None = None
    warnings: list[dict[str, str]] = field(default_factory=list)
    unexpected: int = 0
    skipped: int = 0
    consistency_policy: str = CONSISTENCY_POLICY_ID

    def fail(
        self, path: Path | str, reason: str | BaseException, *, run_id: str | None = None
    ) -> None:
        self.failed += 1
        self.errors.append(_entry(path, reason, run_id))

    def warn(self, path: Path | str, reason: str | BaseException) -> None:
        self.warnings.append(_entry(path, reason, None))

    def to_dict(self) -> dict[str, Any]:
        return {
            "ingested": self.ingested,
            "failed": self.failed,
            "errors": list(self.errors),
            "warnings": list(self.warnings),
            "skipped": self.skipped,
            "unexpected": self.unexpected,
            "consistency_policy": self.consistency_policy,
            "tables": dict(self.tables),
            "formats": dict(self.formats),
            "out": self.out,
        }


def _safe(text: str) -> str:
    """``text`` as valid UTF-8 (lone surrogates and undecodable file-name bytes escaped)."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _entry(path: Path | str, reason: str | BaseException, run_id: str | None) -> dict[str, str]:
    out = {"path": _safe(str(path))}
    if isinstance(reason, EabenchError):
        out["reason"] = _safe(f"{type(reason).__name__}: {reason}")
        if reason.field is not None:
            out["field"] = _safe(str(reason.field))
            shown = repr(reason.value)
            out["value"] = _safe(shown if len(shown) <= 200 else shown[:197] + "...")
            out["rule"] = _safe(str(reason.rule))
    elif isinstance(reason, BaseException):
        out["reason"] = _safe(f"{type(reason).__name__}: {reason}")
    else:
        out["reason"] = _safe(reason)
    if run_id is not None:
        out["run_id"] = _safe(run_id)
    return out


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
        kind = _file_kind(p)
        if kind == "dir":
            if (p / "test_accuracy_108.npy").is_file():
                files.append(p)
            for q in sorted(_walk(p, report)):
                qkind = _file_kind(q)
                if qkind == "dir":
                    if (q / "test_accuracy_108.npy").is_file():
                        files.append(q)
                elif q.name.startswith("."):
                    continue
                elif qkind == "file":
                    files.append(q)
                else:
                    report.skipped += 1
                    report.fail(q, _skip(q, qkind))
        elif kind == "file":
            files.append(p)
        elif kind == "missing":
            report.fail(p, _skip(p, "no such file or folder"))
        else:
            report.skipped += 1
            report.fail(p, _skip(p, kind))
    return files


def _skip(p: Path, why: str) -> EabenchError:
    rule = why if why == "no such file or folder" else f"skipped: {why}"
    return InvalidLogError.for_field("path", _safe(str(p)), rule)


def _walk(root: Path, report: IngestReport) -> list[Path]:
    """Every path under ``root``; symlinked folders are followed once (no loops)."""
    out: list[Path] = []
    seen: set[tuple[int, int]] = set()

    def onerror(exc: OSError) -> None:
        where = str(exc.filename or root)
        report.fail(where, InvalidLogError.for_field("path", _safe(where), f"cannot list: {exc}"))

    for dirpath, dirnames, filenames in os.walk(root, onerror=onerror, followlinks=True):
        try:
            st = Path(dirpath).stat()
        except OSError:
            dirnames[:] = []
            continue
        if (st.st_dev, st.st_ino) in seen:
            dirnames[:] = []
            continue
        seen.add((st.st_dev, st.st_ino))
        base = Path(dirpath)
        out.extend(base / d for d in dirnames)
        out.extend(base / f for f in filenames)
    return out


def _file_kind(p: Path) -> str:
    """``file``, ``dir``, ``missing`` or a reason why ``p`` is neither (it is then skipped)."""
    try:
        st = p.stat()
    except FileNotFoundError:
        if p.is_symlink():
            return "dangling symbolic link"
        return "missing"
    except OSError as exc:
        return f"cannot stat: {exc.strerror or exc}"
    if stat.S_ISREG(st.st_mode):
        return "file"
    if stat.S_ISDIR(st.st_mode):
        return "dir"
    if stat.S_ISFIFO(st.st_mode):
        return "not a regular file (FIFO); never opened"
    if stat.S_ISSOCK(st.st_mode):
        return "not a regular file (socket); never opened"
    return "not a regular file (device or special file); never opened"


def _known_sources() -> frozenset[str]:
    from eabench.logs.realdata import SOURCES

    return frozenset({*SOURCES, *_GENERIC_SOURCES})


def _admit(lg: RunLog, known: frozenset[str]) -> None:
    """Every check a run must pass before it may go into a table (raises ``EabenchError``)."""
    kind = lg.header.source.get("kind")
    if kind not in known:
        raise InvalidLogError.for_field("source.kind", kind, f"must be one of {sorted(known)}")
    header = lg.header.to_dict()
    # adapters build headers directly: validate them as if read from a file (names, bounds,
    # config vs config_id for the spaces eabench implements)
    RunHeader.from_dict(header)
    epochs = [rec.to_dict() for rec in lg.epochs]
    try:
        json.dumps([header, epochs], ensure_ascii=False, allow_nan=False).encode("utf-8")
    except UnicodeEncodeError as exc:
        bad = exc.object[exc.start : exc.end] if isinstance(exc.object, str) else "?"
        raise InvalidLogError.for_field(
            "run log", bad, "every string must be valid UTF-8 (no lone surrogates)"
        ) from exc
    except (ValueError, OverflowError) as exc:
        raise InvalidLogError.for_field("run log", str(exc)[:80], "not storable as JSON") from exc
    check_run(lg)


def _flag_codes(lg: RunLog) -> set[str]:
    """The flag codes of the train/setup readings of a run (those its table stores)."""
    setup = lg.header.setup.readings if lg.header.setup else ()
    return {
        fl.code
        for r in (*setup, *(r for rec in lg.epochs for r in rec.readings))
        if r.window_name in ("train", "setup")
        for fl in r.flags
    }


class _Collector:
    def __init__(self, report: IngestReport) -> None:
        self.report = report
        self.runs: dict[str, RunLog] = {}
        self.origin: dict[str, Path] = {}
        self.meters: list[tuple[Path, str]] = []
        self.graphs: dict[Path, tuple[dict[str, Any], dict[str, str]]] = {}
        self.ecnas7v: tuple[Ecnas7V, Path] | None = None
        self.labels: NB101Labels | None = None
        self.known = _known_sources()

    def add_runs(self, path: Path, logs: Iterable[RunLog]) -> int:
        """Admit each run alone; returns how many were kept (rejected ones are reported)."""
        kept = 0
        many = not isinstance(logs, list) or len(logs) > 1
        for lg in logs:
            run_id = lg.run_id if many else None
            if lg.run_id in self.runs:
                first = self.origin[lg.run_id]
                exc = InvalidLogError.for_field(
                    "run_id", lg.run_id, f"duplicate run id (first seen in {first})"
                )
                self.report.fail(path, exc, run_id=run_id)
                continue
            try:
                _admit(lg, self.known)
            except EabenchError as exc:
                self.report.fail(path, exc, run_id=run_id)
                continue
            self.runs[lg.run_id] = lg
            self.origin[lg.run_id] = path
            kept += 1
        return kept

    def _graphs_for(self, path: Path) -> tuple[dict[str, Any], dict[str, str]]:
        sub = ecnas_results.results_subspace(path)
        gpath = ecnas_results.find_graphs_file(path, sub) if sub else None
        if gpath is None:
            return {}, {}
        if gpath not in self.graphs:
            try:
                good, bad = ecnas_results.read_graphs(gpath)
            except EabenchError as exc:
                self.report.fail(gpath, exc)
                good, bad = {}, {}
            for _key, reason in sorted(bad.items()):
                self.report.fail(gpath, f"InvalidLogError: {reason}")
            self.graphs[gpath] = (good, bad)
        return self.graphs[gpath]

    def convert(self, path: Path, fmt: str) -> None:
        if fmt == "runlog":
            log = read_run_log(path)
            if log.torn_tail:
                self.report.warn(path, "torn last line dropped (an interrupted write)")
            self.add_runs(path, [log])
        elif fmt == "ecnas-results":
            graphs, bad = self._graphs_for(path)
            log = ecnas_results.read_ecnas_results(path, graphs, graph_errors=bad)
            self.add_runs(path, [log])
        elif fmt == "ecnas-7v":
            data = read_ecnas_7v(path)
            logs = ecnas_7v_run_logs(data, path.name)
            if self.add_runs(path, logs) == len(logs):  # the joined table needs every row
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
            trace = None
            if fmt == "power-csv":
                try:  # parsed once per file, not once per run
                    trace = meter_files.read_power_csv(path)
                except EabenchError as exc:
                    self.report.fail(path, exc)
                    continue
            for run_id, lg in list(self.runs.items()):
                try:
                    if trace is not None:
                        new = meter_files.align_power_trace(lg, trace)
                    elif fmt == "codecarbon":
                        new = meter_files.align_codecarbon(lg, path)
                    else:
                        new = meter_files.align_carbontracker(lg, path)
                    check_run(new)
                except EabenchError as exc:
                    last_error = str(exc)
                    continue
                self.runs[run_id] = new
                attached += 1
            if not attached:
                self.report.fail(path, f"InvalidLogError: {fmt}: {last_error}")


#: errors that mean a bug in an adapter; still confined to the one input (see module docstring)
_BUG_ERRORS: Final = (
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    AttributeError,
    OverflowError,
    RecursionError,
    UnicodeError,
    MemoryError,
    ArithmeticError,
    OSError,
)


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
            report.fail(path, exc)
        except _BUG_ERRORS as exc:
            report.unexpected += 1
            report.fail(path, exc)
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


def _within_budget(col: _Collector, logs: list[RunLog]) -> list[RunLog]:
    """Drop (and report) the runs with the longest epoch axis until the table's dense arrays fit
    :data:`MAX_TABLE_CELLS`: one record claiming a huge epoch must not make every row huge."""
    from eabench.logs.build import channel_of

    channels = {
        channel_of(r)
        for lg in logs
        for rec in lg.epochs
        for r in rec.readings
        if r.window_name in ("train", "setup")
    }
    per_cell = _METRIC_ARRAYS + 2 * max(len(channels), 1)
    keep = sorted(logs, key=lambda lg: (lg.next_epoch, lg.run_id))
    while keep and len(keep) * (keep[-1].next_epoch + 1) * per_cell > MAX_TABLE_CELLS:
        lg = keep.pop()
        exc = InvalidLogError.for_field(
            "epochs",
            lg.next_epoch,
            f"the table's epoch axis would need {len(keep) + 1} x {lg.next_epoch + 1} x "
            f"{per_cell} cells (> {MAX_TABLE_CELLS}); the run with the longest axis is left out",
        )
        col.report.fail(col.origin[lg.run_id], exc, run_id=lg.run_id)
    kept = {lg.run_id for lg in keep}
    return [lg for lg in logs if lg.run_id in kept]


def _tables(col: _Collector) -> list[TableData]:
    from eabench.logs.realdata import ecnas_7v_table, nb101_tables

    groups: dict[tuple[str, str, str], list[RunLog]] = {}
    codes: dict[tuple[str, str, str], set[str]] = {}
    joined_7v = col.ecnas7v is not None and col.labels is not None
    for lg in sorted(col.runs.values(), key=lambda lg: lg.run_id):
        kind = str(lg.header.source.get("kind"))
        if kind == "ecnas-7v" and joined_7v:
            continue
        name = _TABLE_OF.get(kind, kind.replace("-", "_"))
        key = (lg.header.space, lg.header.dataset, name)
        union = codes.setdefault(key, set()) | _flag_codes(lg)
        if len(union) > MAX_FLAG_CODES:
            exc = InvalidLogError.for_field(
                "flags",
                sorted(union - codes[key]),
                f"table {'/'.join(key)} would hold more than {MAX_FLAG_CODES} distinct flag codes",
            )
            col.report.fail(col.origin[lg.run_id], exc, run_id=lg.run_id)
            continue
        codes[key] = union
        groups.setdefault(key, []).append(lg)
    tables = []
    for (space, dataset, name), logs in sorted(groups.items()):
        logs = _within_budget(col, logs)
        try:
            tables.append(
                table_from_runs(
                    logs, space=space, dataset=dataset, name=name, description=f"ingested {name}"
                )
            )
        except EabenchError as exc:
            for lg in logs:
                col.report.fail(col.origin[lg.run_id], exc, run_id=lg.run_id)
    if col.labels is not None:
        if col.ecnas7v is not None:
            data, path = col.ecnas7v
            split_dir = path.parent.parent / "splits"
            splits = None
            if split_dir.is_dir():
                try:
                    splits = read_ecnas_splits(split_dir, data.config_ids.shape[0])
                except EabenchError as exc:
                    col.report.warn(split_dir, exc)
            if splits is None:
                import numpy as np

                splits = np.full(data.config_ids.shape[0], -1, dtype=np.int8)
            tables.append(ecnas_7v_table(data, col.labels, splits))
        tables.extend(nb101_tables(col.labels))
    return tables


def report_json(report: IngestReport) -> str:
    return json.dumps(report.to_dict(), indent=2)
