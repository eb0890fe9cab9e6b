"""Find and read what ``eabench audit`` is pointed at: a dataset file or a folder of runs.

- a file (HDF5, any name): :func:`eabench.logs.open_dataset`; every run table with an energy
  block is audited (stacked), or only the one named ``space/dataset/table``;
- a folder with ``*.runlog.jsonl`` files (searched recursively): eabench run logs;
- a folder in the EC-NAS layout (``<4V9E|5V9E>/<N>_epochs/<hh>/<hash>/repeat_<r>/results.json``):
  read through the EC-NAS adapter of :mod:`eabench.logs` (nothing is written).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from eabench.audit.data import AuditData, DeviceInfo
from eabench.audit.load import concat_runs, from_dataset_table, from_run_logs
from eabench.errors import InvalidArgumentError

__all__ = ["load_input"]


def load_input(
    path: str | Path,
    *,
    table: str | None = None,
    device: DeviceInfo | None = None,
    off_socket_bounds_w: tuple[float, float] | None = None,
    reference_channel: str | None = None,
) -> AuditData:
    """Read ``path`` into an :class:`AuditData` (see the module docstring for what is accepted).

    Raises:
        InvalidArgumentError: the path does not exist or holds nothing auditable.
        DatasetError, InvalidLogError: from the readers, for malformed inputs.
    """
    p = Path(path)
    kw: dict[str, Any] = {
        "device": device,
        "off_socket_bounds_w": off_socket_bounds_w,
        "reference_channel": reference_channel,
    }
    if p.is_file():
        from eabench.logs.dataset import open_dataset

        ds = open_dataset(p)
        names = [t for t in ds.tables if table is None or "/".join(t) == table]
        if table is not None and not names:
            listed = ["/".join(t) for t in ds.tables]
            raise InvalidArgumentError.for_field("table", table, f"must be one of {listed}")
        parts = []
        for t in names:
            rt = ds.table(*t)
            if rt.energy is None or rt.run_ids is None or rt.fidelity.kind != "epoch":
                continue
            parts.append(_from_table(rt, f"{p.name}:{'/'.join(t)}", kw))
        if not parts:
            raise InvalidArgumentError.for_field(
                "path", str(p), "the dataset has no run table with per-epoch energy"
            )
        return concat_runs(parts, source=f"{p.name} ({', '.join('/'.join(t) for t in names)})")
    if p.is_dir():
        from eabench.logs import read_run_log

        runlogs = sorted(p.rglob("*.runlog.jsonl"))
        if runlogs:
            return from_run_logs([read_run_log(f) for f in runlogs], source=str(p), **kw)
        ecnas = sorted(p.rglob("results.json"))
        if ecnas:
            from eabench.logs.adapters.ecnas_results import read_ecnas_results

            graphs: dict[str, dict[str, tuple[list[list[int]], list[str]]]] = {}
            logs = []
            for f in ecnas:
                logs.append(read_ecnas_results(f, graphs=_graphs_for(f, graphs)))
            return from_run_logs(logs, source=str(p), **kw)
        raise InvalidArgumentError.for_field(
            "path", str(p), "folder holds no *.runlog.jsonl and no EC-NAS results.json"
        )
    raise InvalidArgumentError.for_field("path", str(p), "must be a dataset file or a folder")


def _from_table(rt: Any, source: str, kw: dict[str, Any]) -> AuditData:
    """:func:`from_dataset_table`, with a malformed table's content as a ``DatasetError``."""
    from eabench.errors import DatasetError, EabenchError

    try:
        return from_dataset_table(rt, source=source, **kw)
    except EabenchError:
        raise
    except (KeyError, IndexError, TypeError, ValueError, AttributeError, OverflowError) as exc:
        raise DatasetError.for_field(
            "table", source, f"inconsistent content, cannot be audited: {exc!r}"
        ) from exc


def _graphs_for(
    f: Path, cache: dict[str, dict[str, tuple[list[list[int]], list[str]]]]
) -> dict[str, tuple[list[list[int]], list[str]]] | None:
    """The EC-NAS graph table for ``f``'s subspace, loaded once per subspace."""
    from eabench.logs.adapters.ecnas_results import find_graphs_file, load_graphs

    sub = next((part for part in f.parts if part.endswith(("V9E",))), None)
    if sub is None:
        return None
    if sub not in cache:
        gpath = find_graphs_file(f, sub)
        cache[sub] = load_graphs(gpath) if gpath is not None else {}
    return cache[sub]
