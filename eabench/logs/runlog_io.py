"""Reading and writing run logs on disk: append-only JSON Lines, fsync per epoch, resumable.

Decision (the brief left the choice open): a run log is **append-only JSON Lines**, one file per
run, named ``<run_id>.runlog.jsonl``.

* Creation is atomic: the header line is written to a temporary file in the same directory,
  fsynced, and hard-linked to the final name (``os.link`` fails if the name exists), so a run log
  never exists without a complete header and two writers can never both create it.
* Each epoch is one line, written with a single ``write`` of the whole line plus ``"\\n"``, then
  ``flush`` + ``os.fsync``. A crash can only leave a *torn last line* (no newline, or not valid
  JSON). The reader drops it and reports ``torn_tail=True``; any bad line before the last one is
  corruption and raises :class:`~eabench.errors.InvalidLogError`.
* Resuming (:meth:`RunLogWriter.open` on an existing file) checks that the header on disk equals
  the one given, truncates a torn tail, and continues at ``next_epoch``: an epoch that was fully
  written is never written again (appending it raises), so nothing is lost or duplicated.
* One writer per run: an exclusive ``fcntl.flock`` is held while the writer is open. Writers of
  different runs use different files, so they never clobber each other.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import tempfile
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Final

from eabench.errors import InvalidArgumentError, InvalidLogError
from eabench.logs.schema import EpochRecord, RunHeader, RunLog, check_sequence

__all__ = ["RUNLOG_SUFFIX", "RunLogWriter", "read_run_log", "run_log_path"]

RUNLOG_SUFFIX: Final = ".runlog.jsonl"
_RUN_ID_RE: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,199}$")


def run_log_path(directory: str | os.PathLike[str], run_id: str) -> Path:
    """``<directory>/<run_id>.runlog.jsonl``; run ids must be file-name safe."""
    if not isinstance(run_id, str) or not _RUN_ID_RE.match(run_id):
        raise InvalidArgumentError.for_field(
            "run_id", run_id, "must match [A-Za-z0-9][A-Za-z0-9._-]* (at most 200 chars)"
        )
    return Path(directory) / f"{run_id}{RUNLOG_SUFFIX}"


def _dumps(obj: dict[str, Any]) -> bytes:
    try:
        text = json.dumps(obj, allow_nan=False, ensure_ascii=False, separators=(",", ":"))
    except ValueError as exc:  # NaN/inf slipped past validation
        raise InvalidLogError(f"record is not valid JSON: {exc}") from exc
    return text.encode("utf-8") + b"\n"


def _parse_line(raw: bytes, path: Path, lineno: int) -> Any:
    try:
        return json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise InvalidLogError.for_field(
            f"{path.name}:{lineno}", raw[:80], f"not a JSON line: {exc}"
        ) from exc


def _reject_constant(name: str) -> Any:
    raise json.JSONDecodeError(f"non-finite number {name} is not allowed", name, 0)


def _scan(path: Path) -> tuple[RunLog, int]:
    """Parse a run-log file. Returns the log and the byte length of its intact prefix.

    Every line the writer committed ends in ``"\\n"`` (line and newline go out in one write), so
    a last element without a newline is a torn write and is dropped, even if it parses.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidLogError.for_field("path", str(path), f"cannot read: {exc}") from exc
    *complete, tail = data.split(b"\n")
    if not complete:
        raise InvalidLogError.for_field("header", str(path), "file has no complete header line")
    header = RunHeader.from_dict(_parse_line(complete[0], path, 1))
    records = [
        EpochRecord.from_dict(_parse_line(raw, path, i))
        for i, raw in enumerate(complete[1:], start=2)
    ]
    epochs = tuple(records)
    check_sequence(header, epochs)
    good_len = len(data) - len(tail)
    return RunLog(header=header, epochs=epochs, torn_tail=bool(tail)), good_len


def read_run_log(path: str | os.PathLike[str]) -> RunLog:
    """Read and validate one run log; an incomplete last line is dropped (``torn_tail=True``).

    Raises:
        InvalidLogError: unreadable file, bad header, a bad line before the last one, records
            out of order, duplicated or belonging to another run.
    """
    log, _ = _scan(Path(path))
    return log


class RunLogWriter:
    """Append epochs to one run's log, durably and resumably.

    Use :meth:`open` (creates or resumes) as a context manager::

        with RunLogWriter.open(directory, header) as w:
            for epoch in range(w.next_epoch, header.max_epochs):
                w.append(train_one_epoch(epoch))
    """

    def __init__(self, path: Path, header: RunHeader, log: RunLog, fh: IO[bytes]) -> None:
        self.path = path
        self.header = header
        self._records = list(log.epochs)
        self._fh: IO[bytes] | None = fh

    @classmethod
    def open(cls, directory: str | os.PathLike[str], header: RunHeader) -> RunLogWriter:
        """Create ``<directory>/<run_id>.runlog.jsonl`` or resume it.

        Raises:
            InvalidLogError: the file exists with a different header, or is corrupt.
            InvalidArgumentError: another writer holds this run open.
        """
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        path = run_log_path(directory, header.run_id)
        header_line = _dumps(header.to_dict())
        if not path.exists():
            _atomic_create(path, header_line)
        fh = open(path, "r+b")  # noqa: SIM115 - kept open for the writer's lifetime
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            fh.close()
            raise InvalidArgumentError.for_field(
                "run_id", header.run_id, "another writer has this run log open"
            ) from exc
        try:
            log, good_len = _scan(path)
            if log.header.to_dict() != RunHeader.from_dict(json.loads(header_line)).to_dict():
                raise InvalidLogError.for_field(
                    "header", str(path), "a run log with this run id but another header exists"
                )
            if log.torn_tail:
                fh.truncate(good_len)
                os.fsync(fh.fileno())
            fh.seek(0, os.SEEK_END)
        except BaseException:
            fh.close()
            raise
        return cls(path, header, log, fh)

    @property
    def next_epoch(self) -> int:
        """The 0-based index of the first epoch not yet written."""
        return self._records[-1].epoch + 1 if self._records else 0

    @property
    def records(self) -> tuple[EpochRecord, ...]:
        return tuple(self._records)

    def append(self, record: EpochRecord) -> None:
        """Validate ``record`` against the log so far, write it and fsync.

        Raises:
            InvalidLogError: wrong run id, a gap, a duplicate, or past ``max_epochs``.
        """
        if self._fh is None:
            raise InvalidArgumentError.for_field("writer", str(self.path), "is closed")
        check_sequence(self.header, (*self._records, record))
        self._fh.write(_dumps(record.to_dict()))
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._records.append(record)

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()  # closing releases the flock
            self._fh = None

    def __enter__(self) -> RunLogWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _atomic_create(path: Path, content: bytes) -> None:
    """Write ``content`` to a temp file, fsync, and link it to ``path`` unless that exists."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(content)
            f.flush()
            os.fsync(f.fileno())
        # if another process created it first, open() checks that its header is ours
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    finally:
        Path(tmp).unlink(missing_ok=True)
