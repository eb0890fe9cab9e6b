"""The product's real data: EC-NAS and NAS-Bench-101 tables built from ../shared/data.

``build_real_dataset(shared_data, out)`` writes (deterministically: same inputs, same bytes)::

    nb101-7v/cifar10/ecnas_runs    2,805 EC-NAS 4V/5V results.json runs (epoch axis 0..4)
    nb101-7v/cifar10/ecnas_7v      4,310 rows of 7v_data.pt joined by hash with NB101 labels
                                   (budget axis 4/12/36/108; splits ecnas_seed42 + by config id)
    nb101-7v/cifar10/nb101_labels  30,001 NB101 cells with val acc at 4/12/36/108 (budget axis)
    nb101-7v/cifar10/nb101_all     423,624 cells: test acc at 108 and FLOPs, sorted-hash order
                                   (config ids from the space cache of eabench.spaces.nb101)

Run ``python -m eabench.logs.realdata [--shared ../shared/data] [--out data/eabench-data.h5]``
to rebuild ``data/`` (see data/README.md).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import numpy as np

from eabench.errors import DatasetError
from eabench.logs.adapters.ecnas_7v import (
    Ecnas7V,
    ecnas_7v_run_logs,
    read_ecnas_7v,
    read_ecnas_splits,
)
from eabench.logs.adapters.ecnas_results import load_graphs, read_ecnas_results
from eabench.logs.adapters.nb101_labels import BUDGETS, NB101Labels, read_nb101_labels
from eabench.logs.build import (
    DEFAULT_SPLIT,
    TableData,
    config_id_split,
    table_from_runs,
    write_dataset,
)
from eabench.logs.schema import RunLog

__all__ = ["SOURCES", "build_real_dataset", "ecnas_7v_table", "ecnas_run_logs", "nb101_tables"]

SPACE: Final = "nb101-7v"
#: sha256 of the 423,624 sorted NB101 hashes joined by "\n" plus "\n" (nb101/README.md)
SORTED_HASHES_SHA256: Final = "53e1438d11675d9eb3899166c29ca07fe0c4b81af9d99d5aec3ecd31bd5bca7f"
DATASET: Final = "cifar10"
_ECNAS_CITE: Final = (
    "Bakhtiarifard, Igel, Selvan. EC-NAS: Energy Consumption Aware Tabular Benchmarks for "
    "Neural Architecture Search. ICASSP 2024. arXiv:2210.06015"
)
_NB101_CITE: Final = (
    "Ying, Klein, Real, Christiansen, Murphy, Hutter. NAS-Bench-101: Towards Reproducible "
    "Neural Architecture Search. ICML 2019"
)
SOURCES: Final[dict[str, dict[str, str]]] = {
    "ecnas-results": {
        "name": "EC-NAS raw training runs (results.json, Carbontracker, Quadro RTX 6000)",
        "url": "https://github.com/PedramBakh/EC-NAS-Bench"
        " @ 1a82fdde59bf61cb6a2b9d41bc984c3edbd2b2bf",
        "licence": "Apache-2.0 (see data/licenses/EC-NAS-Bench_NOTICE.md)",
        "citation": _ECNAS_CITE,
    },
    "ecnas-7v": {
        "name": "EC-NAS 7V measured 4-epoch energy (7v_data.pt); accuracies joined from NB101",
        "url": "https://github.com/raghavian/surrogate-ec-nasbench"
        " @ a5141f04124ca76aecd2529ae39680e3925b6bab",
        "licence": "MIT (surrogate-ec-nasbench); NB101 labels Apache-2.0",
        "citation": f"{_ECNAS_CITE}; {_NB101_CITE}",
    },
    "nb101": {
        "name": "NAS-Bench-101 labels via ObfuNAS (test acc, FLOPs) and nasbench-vis (val acc)",
        "url": "https://github.com/Tongzhou0101/ObfuNAS; https://github.com/tiga1231/nasbench-vis",
        "licence": "Apache-2.0 (NAS-Bench-101); MIT (ObfuNAS); ISC (nasbench-vis)",
        "citation": _NB101_CITE,
    },
}


def ecnas_run_logs(ecnas_root: Path) -> list[RunLog]:
    """All EC-NAS results.json runs under ``ecnas_root`` (sorted by path), as run logs."""
    graphs = {}
    for sub in ("4V9E", "5V9E"):
        graphs.update(load_graphs(ecnas_root / "graphs" / f"generated_graphs_{sub}.json"))
    files = sorted(
        ecnas_root.glob("train_model_results/energy/*/*_epochs/*/*/repeat_*/results.json")
    )
    return [read_ecnas_results(f, graphs, rel_to=ecnas_root) for f in files]


def _budget_grid() -> tuple[np.ndarray, dict[int, int]]:
    grid = np.asarray(BUDGETS, dtype=np.int64)
    return grid, {b: i for i, b in enumerate(BUDGETS)}


def ecnas_7v_table(data: Ecnas7V, labels: NB101Labels, split_codes: np.ndarray) -> TableData:
    """The 7V energy rows (file order, so the seed-42 row indices apply) joined with NB101."""
    n = data.config_ids.shape[0]
    where = {k: i for i, k in enumerate(labels.keys.tolist())}
    missing = [k for k in data.config_ids.tolist() if k not in where]
    if missing:
        raise DatasetError.for_field("config_id", missing[:3], "7V cells not in the NB101 labels")
    j = np.asarray([where[k] for k in data.config_ids.tolist()], dtype=np.int64)
    if not (labels.params[j] == data.params).all():
        bad = int(np.flatnonzero(labels.params[j] != data.params)[0])
        raise DatasetError.for_field("params", int(data.params[bad]), "differ from NB101's")
    grid, col = _budget_grid()
    test = np.full((n, 4), np.nan)
    test[:, col[108]] = labels.test_accuracy_108[labels.positions[j]]
    ttime = np.full((n, 4), np.nan)
    ttime[:, col[108]] = labels.train_time_108_s[j]
    logs = ecnas_7v_run_logs(data)
    reading_flags = logs[0].epochs[0].readings[0].flags
    codes = sorted(f.code for f in reading_flags)
    energy = np.full((n, 4, 1), np.nan)
    energy[:, col[4], 0] = data.energy_kwh.astype(np.float64) * 3.6e6
    bits = np.zeros((n, 4, 1), dtype=np.uint32)
    bits[:, col[4], 0] = sum(1 << codes.index(f.code) for f in reading_flags)
    r0 = logs[0].epochs[0].readings[0]
    prov = {k: getattr(r0, k) for k in ("meter", "method", "quantity", "api_call", "backend")}
    prov.update(
        scope=r0.scope, integration=r0.integration, pue_applied=None, policy_id=r0.policy_id
    )
    return TableData(
        space=SPACE,
        dataset=DATASET,
        name="ecnas_7v",
        description=(
            "EC-NAS 7V cells (7v_data.pt, file row order) with measured 4-epoch training energy, "
            "joined by NB101 hash with NAS-Bench-101 validation accuracy (4/12/36/108 budgets, "
            "one run each), test accuracy at 108 and 108-epoch training time (TPU, NB101)."
        ),
        fidelity=grid,
        fidelity_kind="budget",
        row_sources=["ecnas-7v"] * n,
        config_ids=data.config_ids,
        run_ids=np.asarray([lg.run_id for lg in logs], dtype=str),
        row_paths=np.asarray([f"surrogate-ec-nasbench/7v_data.pt#{i}" for i in range(n)]),
        configs=list(data.configs),
        metrics={
            "val_accuracy": labels.val_accuracy[j],
            "test_accuracy": test,
            "train_time_s": ttime,
        },
        static={
            "params": data.params.astype(np.float64),
            "flops": labels.flops[labels.positions[j]],
            "energy_kwh_raw": data.energy_kwh.astype(np.float64),
            "nb101_sorted_index": labels.positions[j].astype(np.float64),
        },
        energy_j=energy,
        energy_flags=bits,
        meters=["carbontracker:unknown"],
        meter_provenance=[prov],
        flag_codes=codes,
        flag_severities={f.code: f.severity for f in reading_flags},
        splits={"ecnas_seed42": split_codes, DEFAULT_SPLIT: config_id_split(data.config_ids)},
        attrs={
            "metric_sources": {
                "val_accuracy": "nb101",
                "test_accuracy": "nb101",
                "train_time_s": "nb101 (108-epoch schedule on TPU)",
                "energy": "ecnas-7v",
            },
            "source_sha256": {"7v_data.pt": data.sha256, **labels.sources},
        },
    )


def _check_positions(labels: NB101Labels) -> None:
    """The nasbench-vis keys sit at their positions in the space cache's sorted hash list."""
    from eabench.spaces.nb101.cache import SPACE_SIZE, load_space

    space = load_space()
    if space.hashes_sha256 != SORTED_HASHES_SHA256 or len(space) != SPACE_SIZE:
        raise DatasetError.for_field("space cache", space.hashes_sha256, "unexpected hash list")
    idx = np.asarray(space.index_of(labels.keys.tolist()))
    if not np.array_equal(idx, labels.positions):
        bad = int(np.flatnonzero(idx != labels.positions)[0])
        raise DatasetError.for_field(
            "nb101 key", str(labels.keys[bad]), "is not at its sorted-hash position"
        )


def nb101_tables(labels: NB101Labels) -> list[TableData]:
    """``nb101_labels`` (the 30,001 cells with all budgets) and ``nb101_all`` (423,624 cells)."""
    n = labels.keys.shape[0]
    _check_positions(labels)
    grid, col = _budget_grid()
    test = np.full((n, 4), np.nan)
    test[:, col[108]] = labels.test_accuracy_108[labels.positions]
    ttime = np.full((n, 4), np.nan)
    ttime[:, col[108]] = labels.train_time_108_s
    small = TableData(
        space=SPACE,
        dataset=DATASET,
        name="nb101_labels",
        description=(
            "NAS-Bench-101 cells with validation accuracy at the 4/12/36/108-epoch budgets "
            "(nasbench-vis: one run each), test accuracy at 108 (ObfuNAS) and 108-epoch "
            "training time (TPU). Rows in ascending hash order."
        ),
        fidelity=grid,
        fidelity_kind="budget",
        row_sources=["nb101"] * n,
        config_ids=labels.keys,
        metrics={"val_accuracy": labels.val_accuracy, "test_accuracy": test, "train_time_s": ttime},
        static={
            "params": labels.params.astype(np.float64),
            "flops": labels.flops[labels.positions],
            "nb101_sorted_index": labels.positions.astype(np.float64),
        },
        splits={DEFAULT_SPLIT: config_id_split(labels.keys)},
        attrs={"source_sha256": labels.sources},
    )
    n_all = labels.test_accuracy_108.shape[0]
    full = TableData(
        space=SPACE,
        dataset=DATASET,
        name="nb101_all",
        description=(
            "All 423,624 NAS-Bench-101 cells in ascending order of the module hash: test "
            "accuracy after the 108-epoch schedule (one run) and FLOPs (ObfuNAS). Config ids "
            "and configs come from the eabench.spaces.nb101 space cache."
        ),
        fidelity=np.asarray([108], dtype=np.int64),
        fidelity_kind="budget",
        row_sources=["nb101"] * n_all,
        config_ids=None,
        config_ids_from="nb101-space-cache",
        metrics={"test_accuracy": labels.test_accuracy_108.reshape(-1, 1)},
        static={"flops": labels.flops},
        attrs={
            "source_sha256": labels.sources,
            "sorted_hashes_sha256": SORTED_HASHES_SHA256,
        },
    )
    return [small, full]


def build_real_dataset(shared_data: Path, out: Path) -> dict[str, Any]:
    """Convert ``shared_data/{ecnas,nb101}`` into ``out``; returns row counts per table."""
    ecnas = shared_data / "ecnas"
    labels = read_nb101_labels(shared_data / "nb101")
    runs = ecnas_run_logs(ecnas)
    runs_table = table_from_runs(
        runs,
        space=SPACE,
        dataset=DATASET,
        name="ecnas_runs",
        description=(
            "EC-NAS raw 4-epoch training runs (4V9E: 91 cells x 3 repeats; 5V9E: 2,532 cells), "
            "one row per results.json. Energies in J with PUE 1.59 divided out; fidelity 0 is "
            "the setup window (graph build + init step + untrained evaluation)."
        ),
    )
    runs_table.static = {
        "params": np.asarray([lg.header.extra["trainable_params"] for lg in runs], dtype=float),
        "total_time_s": np.asarray([lg.header.extra["total_time_s"] for lg in runs]),
        "run_gpu_energy_j": np.asarray([sum(lg.header.extra["run_gpu_energy_j"]) for lg in runs]),
        "run_cpu_energy_j": np.asarray([sum(lg.header.extra["run_cpu_energy_j"]) for lg in runs]),
        "repeat": np.asarray([lg.header.source["repeat"] for lg in runs], dtype=float),
        "subspace_max_vertices": np.asarray(
            [int(str(lg.header.source["subspace"])[0]) for lg in runs], dtype=float
        ),
    }
    data7v = read_ecnas_7v(ecnas / "surrogate-ec-nasbench" / "7v_data.pt")
    splits = read_ecnas_splits(ecnas / "splits", data7v.config_ids.shape[0])
    tables = [runs_table, ecnas_7v_table(data7v, labels, splits), *nb101_tables(labels)]
    write_dataset(out, tables, SOURCES)
    return {t.name: t.n_rows for t in tables}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Rebuild data/eabench-data.h5 from ../shared")
    parser.add_argument("--shared", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=Path("data/eabench-data.h5"))
    args = parser.parse_args(argv)
    counts = build_real_dataset(args.shared, args.out)
    for name, n in counts.items():
        print(f"{name}: {n} rows")
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
