"""The consolidated HDF5 dataset: layout, the loader :func:`open_dataset` and its records.

Layout (format ``eabench.dataset`` version 1; see docs/dataset.md)::

    /                            attrs: format, version, sources (JSON: id -> description)
    /<space>/<dataset>/<table>/  attrs: description, fidelity_kind ("epoch" | "budget"),
                                        fidelity_unit, n_rows, config_ids_from (optional)
        fidelity        (e,)     int   fidelity grid (completed epochs, or separate budgets)
        config_id       (n,)     S     config ids (7V: NB101 module hash); absent when
                                       config_ids_from = "nb101-space-cache" (sorted hashes)
        run_id          (n,)     S     (run tables only)
        row_path        (n,)     S     source file of each run (run tables only)
        row_source      (n,)     u1    index into the attrs list row_source_names
        configs/matrix  (n,7,7)  u1    7V adjacency, zero-padded at the end   } nb101-7v only
        configs/ops     (n,7)    i1    NB101 labels: -1 in, -2 out, 0 conv3x3, }
                                       1 conv1x1, 2 maxpool, -3 padding        }
        configs/json    (n,)     S     canonical config dict as JSON (other spaces)
        metrics/<name>  (n,e)    f8    NaN = not measured (see the mask the loader returns)
        static/<name>   (n,)     f8    per-run scalars (params, flops, ...), NaN = missing
        energy/energy_j (n,e,m)  f8    cumulative training energy in J to each fidelity, per
                                       meter channel; NaN = no reading
        energy/flags    (n,e,m)  u4    bit k set = flag code energy/flag_codes[k] on some
                                       window up to that fidelity
        energy/meters   (m,)     S     meter channel ids; attrs provenance (JSON per channel)
        energy/flag_codes (k,)   S     attrs severities (JSON code -> severity)
        splits/<name>   (n,)     i1    0 train, 1 valid, 2 test, -1 not in the split

NaN is only the on-disk encoding of "missing": the loader hands out every metric together with
an explicit boolean mask, and ingestion rejects NaN in inputs, so NaN never means a measurement.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from eabench.errors import DatasetError, EabenchError

__all__ = [
    "DATASET_FORMAT",
    "DATASET_VERSION",
    "SPLIT_CODES",
    "Configs7V",
    "Dataset",
    "EnergyBlock",
    "Fidelity",
    "Metric",
    "RunTable",
    "checksum_path",
    "open_dataset",
    "shipped_dataset_path",
]

DATASET_FORMAT: Final = "eabench.dataset"
DATASET_VERSION: Final = 1
#: Split membership codes stored in ``splits/<name>``.
SPLIT_CODES: Final[Mapping[str, int]] = {"train": 0, "valid": 1, "test": 2}
SEVERITY_CODES: Final[Mapping[str, int]] = {"info": 1, "warn": 2, "invalid": 3}

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]
StrArray = npt.NDArray[np.str_]


#: what h5py/numpy/json raise for a corrupt file (bad superblock, B-tree, filter or checksum
#: failure, missing member, undecodable attribute); every one becomes a ``DatasetError``
_H5_ERRORS: Final = (
    OSError,
    KeyError,
    RuntimeError,
    ValueError,
    TypeError,
    IndexError,
    AttributeError,
    OverflowError,
    RecursionError,
    MemoryError,
)


def _err(field_name: str, value: Any, rule: str) -> DatasetError:
    exc = DatasetError.for_field(field_name, value, rule)
    assert isinstance(exc, DatasetError)
    return exc


@dataclass(frozen=True, slots=True)
class Fidelity:
    """The fidelity grid of a table.

    ``values``: int array, ascending. ``kind``: ``"epoch"`` (prefixes of one run: epochs
    completed, 0 = before training) or ``"budget"`` (separate trainings, each with its own
    schedule of that many epochs, as NAS-Bench-101's 4/12/36/108).
    """

    values: IntArray
    kind: str
    unit: str = "epochs"

    def index(self, value: int) -> int:
        """Column of ``value`` in the grid; raises ``DatasetError`` if it is not on it."""
        hits = np.flatnonzero(self.values == value)
        if hits.size == 0:
            raise _err("fidelity", value, f"must be one of {self.values.tolist()}")
        return int(hits[0])


@dataclass(frozen=True, slots=True)
class Metric:
    """A runs x fidelities metric: ``values`` (float64, NaN where ``mask`` is False)."""

    name: str
    values: FloatArray
    mask: BoolArray


@dataclass(frozen=True, slots=True)
class Configs7V:
    """7V configs as arrays: ``matrix`` (n,7,7) uint8 and ``ops`` (n,7) int8 NB101 labels (-1
    input, -2 output, 0 conv3x3, 1 conv1x1, 2 maxpool, -3 padding), ``n_vertices`` (n,).

    Padded vertices (label -3) have all-zero rows and columns. Tables built from raw logs pad at
    the end; ``nb101_all`` uses the space cache's canonical form (output at index 6). Either
    way, :meth:`to_dict` drops the padded vertices.
    """

    matrix: npt.NDArray[np.uint8]
    ops: npt.NDArray[np.int8]
    n_vertices: npt.NDArray[np.uint8]

    def to_dict(self, i: int) -> dict[str, Any]:
        """Row ``i`` as the canonical config dict ``{"matrix": [[...]], "ops": [names]}``."""
        names = {-1: "input", -2: "output", 0: "conv3x3-bn-relu", 1: "conv1x1-bn-relu"}
        names[2] = "maxpool3x3"
        keep = np.flatnonzero(self.ops[i] != -3)
        return {
            "matrix": self.matrix[i][np.ix_(keep, keep)].astype(int).tolist(),
            "ops": [names[int(o)] for o in self.ops[i, keep]],
        }


@dataclass(frozen=True, slots=True)
class EnergyBlock:
    """Cumulative training energy per run, fidelity and meter channel, with quality flags.

    ``energy_j`` (n,e,m) float64 joules (NaN where ``mask`` is False); ``flag_bits`` (n,e,m)
    uint32, bit k = ``flag_codes[k]``; ``severity`` (n,e,m) uint8, 0 none, 1 info, 2 warn,
    3 invalid (worst flag up to that fidelity); ``meters`` channel ids; ``provenance`` one
    mapping per channel (meter, method, api_call, integration, backend, pue_applied, ...).
    """

    energy_j: FloatArray
    mask: BoolArray
    flag_bits: npt.NDArray[np.uint32]
    severity: npt.NDArray[np.uint8]
    meters: tuple[str, ...]
    flag_codes: tuple[str, ...]
    flag_severities: Mapping[str, str]
    provenance: tuple[Mapping[str, Any], ...]

    def meter(self, name: str) -> Metric:
        """The (n,e) slice of one channel as a :class:`Metric`."""
        if name not in self.meters:
            raise _err("meter", name, f"must be one of {list(self.meters)}")
        k = self.meters.index(name)
        return Metric(name, self.energy_j[:, :, k], self.mask[:, :, k])

    def has_flag(self, code: str) -> BoolArray:
        """(n,e,m) bool: where ``code`` is set (all False if the code never occurs)."""
        if code not in self.flag_codes:
            return np.zeros(self.flag_bits.shape, dtype=bool)
        bit = np.uint32(1 << self.flag_codes.index(code))
        out: BoolArray = (self.flag_bits & bit) != 0
        return out


@dataclass(frozen=True, slots=True)
class RunTable:
    """One table of one space and dataset, fully loaded as numpy arrays.

    ``config_ids`` (n,) str; ``run_ids`` (n,) str or None for label tables; ``row_sources`` (n,)
    str (source id of every row; described in ``Dataset.sources``); ``configs`` (7V) or
    ``config_json`` (other spaces); ``metrics`` name -> :class:`Metric`; ``static`` name ->
    (values (n,), mask (n,)); ``energy`` or None; ``splits`` name -> int8 codes (n,) with
    :data:`SPLIT_CODES` and -1 for rows outside the split; ``row_paths`` (n,) str: the file each
    run came from (relative to its data root; ``file#row`` for multi-run files), or None.
    """

    space: str
    dataset: str
    name: str
    description: str
    fidelity: Fidelity
    config_ids: StrArray
    run_ids: StrArray | None
    row_sources: StrArray
    configs: Configs7V | None
    config_json: StrArray | None
    metrics: Mapping[str, Metric]
    static: Mapping[str, Metric]
    energy: EnergyBlock | None
    splits: Mapping[str, npt.NDArray[np.int8]]
    attrs: Mapping[str, Any] = field(default_factory=dict)
    row_paths: StrArray | None = None

    @property
    def n_rows(self) -> int:
        return int(self.config_ids.shape[0])

    def metric(self, name: str) -> Metric:
        if name not in self.metrics:
            raise _err("metric", name, f"must be one of {sorted(self.metrics)}")
        return self.metrics[name]

    def to_pandas(self, *, layout: str = "long", include_config: bool = False) -> Any:
        """A ``pandas.DataFrame`` of this table (needs pandas; see
        :func:`eabench.interop.runtable_to_pandas` for the layouts and columns)."""
        from eabench.interop import runtable_to_pandas

        return runtable_to_pandas(self, layout=layout, include_config=include_config)

    def split_indices(self, name: str) -> dict[str, IntArray]:
        """Row indices per part, e.g. ``{"train": ..., "valid": ..., "test": ...}``."""
        if name not in self.splits:
            raise _err("split", name, f"must be one of {sorted(self.splits)}")
        codes = self.splits[name]
        return {part: np.flatnonzero(codes == c) for part, c in SPLIT_CODES.items()}


def _strs(raw: Any) -> StrArray:
    arr = np.asarray(raw)
    if arr.dtype.kind == "S":
        return np.char.decode(arr, "utf-8")
    if arr.dtype.kind == "O":
        return np.array([x.decode() if isinstance(x, bytes) else str(x) for x in arr])
    return arr.astype(str)


def _json_attr(obj: Any, key: str, default: Any) -> Any:
    raw = obj.attrs.get(key)
    if raw is None:
        return default
    return json.loads(raw.decode() if isinstance(raw, bytes) else raw)


class Dataset:
    """A handle on a consolidated dataset file; tables are read on demand by :meth:`table`.

    ``sources``: source id -> description (name, citation, licence, url). ``tables``:
    ``(space, dataset, table)`` triples present in the file.
    """

    def __init__(self, path: Path, sources: Mapping[str, Any], tables: tuple[tuple[str, ...], ...]):
        self.path = path
        self.sources = sources
        self.tables = tables

    def __repr__(self) -> str:
        return f"Dataset({str(self.path)!r}, tables={['/'.join(t) for t in self.tables]})"

    def table(self, space: str, dataset: str, name: str) -> RunTable:
        """Load one table into memory.

        Raises:
            DatasetError: no such table, or it is inconsistent.
        """
        if (space, dataset, name) not in self.tables:
            listed = ["/".join(t) for t in self.tables]
            raise _err("table", f"{space}/{dataset}/{name}", f"must be one of {listed}")
        import h5py

        where = f"{space}/{dataset}/{name}"
        try:
            with h5py.File(self.path, "r") as f:
                return _read_table(f[where], space, dataset, name)
        except EabenchError:
            raise
        except _H5_ERRORS as exc:
            raise _err(
                where, str(self.path), f"cannot read the table (corrupt file or checksum): {exc}"
            ) from exc


def _read_table(g: Any, space: str, dataset: str, name: str) -> RunTable:
    attrs = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in g.attrs.items()}
    n = int(attrs["n_rows"])
    fid = Fidelity(
        np.asarray(g["fidelity"][()], dtype=np.int64),
        str(attrs["fidelity_kind"]),
        str(attrs.get("fidelity_unit", "epochs")),
    )
    configs = None
    if "config_id" in g:
        config_ids = _strs(g["config_id"][()])
    else:
        config_ids, configs = _from_space_cache(attrs, n)
    source_names = _json_attr(g, "row_source_names", [])
    row_sources = np.asarray(source_names, dtype=str)[np.asarray(g["row_source"][()], dtype=int)]
    if "configs/matrix" in g:
        configs = Configs7V(
            np.asarray(g["configs/matrix"][()], dtype=np.uint8),
            np.asarray(g["configs/ops"][()], dtype=np.int8),
            np.asarray(g["configs/n_vertices"][()], dtype=np.uint8),
        )
    config_json = _strs(g["configs/json"][()]) if "configs/json" in g else None
    metrics = {}
    for key in g.get("metrics", {}):
        vals = np.asarray(g["metrics"][key][()], dtype=np.float64)
        metrics[key] = Metric(key, vals, np.isfinite(vals))
    static = {}
    for key in g.get("static", {}):
        vals = np.asarray(g["static"][key][()], dtype=np.float64)
        static[key] = Metric(key, vals, np.isfinite(vals))
    energy = _read_energy(g["energy"]) if "energy" in g else None
    splits = {k: np.asarray(g["splits"][k][()], dtype=np.int8) for k in g.get("splits", {})}
    table = RunTable(
        space=space,
        dataset=dataset,
        name=name,
        description=str(attrs.get("description", "")),
        fidelity=fid,
        config_ids=config_ids,
        run_ids=_strs(g["run_id"][()]) if "run_id" in g else None,
        row_sources=row_sources,
        configs=configs,
        config_json=config_json,
        metrics=metrics,
        static=static,
        energy=energy,
        splits=splits,
        attrs=attrs,
        row_paths=_strs(g["row_path"][()]) if "row_path" in g else None,
    )
    _check_shapes(table, n)
    return table


def _read_energy(g: Any) -> EnergyBlock:
    energy_j = np.asarray(g["energy_j"][()], dtype=np.float64)
    bits = np.asarray(g["flags"][()], dtype=np.uint32)
    codes = tuple(_strs(g["flag_codes"][()]).tolist()) if g["flag_codes"].shape[0] else ()
    sev_map = _json_attr(g["flag_codes"], "severities", {})
    severity = np.zeros(bits.shape, dtype=np.uint8)
    for k, code in enumerate(codes):
        level = np.uint8(SEVERITY_CODES[sev_map[code]])
        hit = (bits & np.uint32(1 << k)) != 0
        severity = np.where(hit & (severity < level), level, severity)
    return EnergyBlock(
        energy_j=energy_j,
        mask=np.isfinite(energy_j),
        flag_bits=bits,
        severity=severity.astype(np.uint8),
        meters=tuple(_strs(g["meters"][()]).tolist()),
        flag_codes=codes,
        flag_severities=sev_map,
        provenance=tuple(_json_attr(g["meters"], "provenance", [])),
    )


def _from_space_cache(attrs: Mapping[str, Any], n: int) -> tuple[StrArray, Configs7V]:
    """Config ids and configs that the file does not store because the space cache has them.

    The cache's sorted-hash sha256 must equal the one recorded when the table was built.
    """
    kind = attrs.get("config_ids_from")
    if kind != "nb101-space-cache":
        raise _err("config_ids_from", kind, "unknown source of config ids")
    from eabench.spaces.nb101.cache import load_space

    space = load_space()
    want = attrs.get("sorted_hashes_sha256")
    if space.hashes_sha256 != want or len(space) != n:
        raise _err(
            "sorted_hashes_sha256",
            space.hashes_sha256,
            f"the NB101 space cache must hold the {n} hashes with sha256 {want}",
        )
    configs = Configs7V(
        np.asarray(space.matrices, dtype=np.uint8),
        np.asarray(space.labels, dtype=np.int8),
        np.asarray((space.labels != -3).sum(axis=1), dtype=np.uint8),
    )
    return np.asarray(space.hashes(), dtype=str), configs


def _check_shapes(t: RunTable, n: int) -> None:
    e = t.fidelity.values.shape[0]
    if t.config_ids.shape != (n,) or t.row_sources.shape != (n,):
        raise _err("config_id", t.config_ids.shape, f"must have {n} rows")
    for m in t.metrics.values():
        if m.values.shape != (n, e):
            raise _err(f"metrics/{m.name}", m.values.shape, f"must be ({n}, {e})")
    for m in t.static.values():
        if m.values.shape != (n,):
            raise _err(f"static/{m.name}", m.values.shape, f"must be ({n},)")
    if t.energy is not None:
        en = t.energy
        n_m = len(en.meters)
        if en.energy_j.shape != (n, e, n_m):
            raise _err("energy/energy_j", en.energy_j.shape, f"must be ({n}, {e}, {n_m})")
        if en.flag_bits.shape != en.energy_j.shape:
            raise _err("energy/flags", en.flag_bits.shape, f"must be ({n}, {e}, {n_m})")
        if len(en.provenance) not in (0, n_m):
            raise _err("energy/meters.provenance", len(en.provenance), f"must have {n_m} entries")
    for name, arr in (("run_id", t.run_ids), ("row_path", t.row_paths)):
        if arr is not None and arr.shape != (n,):
            raise _err(name, arr.shape, f"must be ({n},)")
    if t.configs is not None:
        c = t.configs
        if c.matrix.shape != (n, 7, 7) or c.ops.shape != (n, 7) or c.n_vertices.shape != (n,):
            raise _err("configs", (c.matrix.shape, c.ops.shape), f"must hold {n} 7V cells")
    for key, codes in t.splits.items():
        if codes.shape != (n,):
            raise _err(f"splits/{key}", codes.shape, f"must be ({n},)")


def _groups(g: Any, where: str) -> list[str]:
    import h5py

    if not isinstance(g, h5py.Group):
        raise _err(where, type(g).__name__, "must be an HDF5 group (space/dataset/table)")
    return list(g)


def checksum_path(path: str | os.PathLike[str]) -> Path:
    """``<path>.sha256``: the sidecar holding the dataset file's sha256 (``sha256sum`` format)."""
    p = Path(path)
    return p.with_name(p.name + ".sha256")


def _verify_checksum(p: Path) -> None:
    """Compare the file's sha256 with its sidecar, if it has one (files written by eabench do)."""
    side = checksum_path(p)
    if not side.is_file():
        return
    from eabench.manifest import sha256_file

    try:
        want = side.read_text(encoding="utf-8").split()[0].lower()
    except (OSError, UnicodeDecodeError, IndexError) as exc:
        raise _err("sha256", str(side), f"unreadable checksum file: {exc}") from exc
    try:
        got = sha256_file(p)
    except OSError as exc:
        raise _err("path", str(p), f"cannot read the dataset file: {exc}") from exc
    if got != want:
        raise _err(
            "sha256",
            got,
            f"the dataset file's sha256 must equal {want} (from {side.name}): the file is "
            "corrupt or was changed; rebuild it or restore the original",
        )


def shipped_dataset_path() -> Path:
    """``data/eabench-data.h5`` of a source checkout (the real data; not part of the wheel)."""
    return Path(__file__).resolve().parents[2] / "data" / "eabench-data.h5"


def open_dataset(path: str | os.PathLike[str]) -> Dataset:
    """Open a consolidated dataset file (read-only) and list its tables.

    Raises:
        DatasetError: missing file, not HDF5, or not an eabench dataset of a known version.
    """
    import h5py

    p = Path(path)
    if not p.is_file():
        raise _err("path", str(p), "no such dataset file")
    _verify_checksum(p)
    try:
        with h5py.File(p, "r") as f:
            fmt = f.attrs.get("format")
            fmt = fmt.decode() if isinstance(fmt, bytes) else fmt
            if fmt != DATASET_FORMAT:
                raise _err("format", fmt, f"must be {DATASET_FORMAT!r}")
            version = f.attrs.get("version", -1)
            if not isinstance(version, (int, np.integer)) or version != DATASET_VERSION:
                raise _err("version", version, f"must be {DATASET_VERSION}")
            sources = _json_attr(f, "sources", {})
            tables: list[tuple[str, ...]] = []
            for space in f:
                for ds in _groups(f[space], space):
                    for name in _groups(f[space][ds], f"{space}/{ds}"):
                        tables.append((space, ds, name))
    except EabenchError:
        raise
    except _H5_ERRORS as exc:
        raise _err("path", str(p), f"not a readable HDF5 file: {exc}") from exc
    if not isinstance(sources, Mapping):
        raise _err("sources", type(sources).__name__, "the sources attribute must be an object")
    return Dataset(p, sources, tuple(sorted(tables)))
