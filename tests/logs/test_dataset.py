"""The shipped dataset (data/eabench-data.h5) through open_dataset: counts, units, splits.

These tests read only the repository (no ../shared).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from eabench.errors import DatasetError
from eabench.logs import open_dataset


@pytest.fixture(scope="module")
def ds(repo_root: Path):  # type: ignore[no-untyped-def]
    return open_dataset(repo_root / "data" / "eabench-data.h5")


def test_tables_and_sources_are_listed(ds) -> None:  # type: ignore[no-untyped-def]
    names = {t[2] for t in ds.tables}
    assert {"ecnas_runs", "ecnas_7v", "nb101_labels", "nb101_all"} <= names
    assert {"ecnas-results", "ecnas-7v", "nb101"} <= set(ds.sources)
    assert all("licence" in s and "citation" in s for s in ds.sources.values())


def test_ecnas_runs_all_2805_with_units(ds) -> None:  # type: ignore[no-untyped-def]
    t = ds.table("nb101-7v", "cifar10", "ecnas_runs")
    assert t.n_rows == 2805
    assert len(set(t.run_ids.tolist())) == 2805
    assert (t.static["subspace_max_vertices"].values == 4).sum() == 273
    assert len(set(t.config_ids[t.static["subspace_max_vertices"].values == 5])) == 2532
    assert t.fidelity.kind == "epoch"
    assert t.fidelity.values.tolist() == [0, 1, 2, 3, 4]
    va = t.metric("val_accuracy")
    assert va.mask[:, 4].all()
    assert va.mask[:, 0].all()
    # 4V evaluated after epoch 1, 5V after epoch 2
    four = t.static["subspace_max_vertices"].values == 4
    assert va.mask[four, 1].all()
    assert not va.mask[four, 2].any()
    assert va.mask[~four, 2].all()
    assert not va.mask[~four, 1].any()
    e = t.energy.meter("carbontracker:gpu+package")
    assert e.mask[:, 4].all()
    # cumulative energy is non-decreasing over measured columns
    final = e.values[:, 4]
    assert (final >= e.values[:, 0]).all()
    # final training energy in kWh with PUE (README range 0.00508 .. 0.0502) after removing PUE
    kwh_with_pue = final * 1.59 / 3.6e6
    assert kwh_with_pue.min() > 0.005
    assert kwh_with_pue.max() < 0.0503
    # the run totals (GPU J + CPU J) exceed the training-only energy (evaluations excluded)
    totals = t.static["run_gpu_energy_j"].values + t.static["run_cpu_energy_j"].values
    assert (totals > final).all()
    assert t.energy.has_flag("UNDER_SAMPLED")[:, 4, 0].mean() > 0.9
    assert t.energy.has_flag("PUE_APPLIED")[:, 4, 0].all()
    assert t.energy.provenance[0]["pue_applied"] == pytest.approx(1.59)


def test_ecnas_7v_join_and_split(ds) -> None:  # type: ignore[no-untyped-def]
    t = ds.table("nb101-7v", "cifar10", "ecnas_7v")
    assert t.n_rows == 4310
    assert len(set(t.config_ids.tolist())) == 4310
    assert all(cid[:2] in {"00", "01", "02"} for cid in t.config_ids)
    assert t.fidelity.values.tolist() == [4, 12, 36, 108]
    assert t.metric("val_accuracy").mask.all()
    te = t.metric("test_accuracy")
    assert te.mask[:, 3].all()
    assert not te.mask[:, :3].any()
    e = t.energy.meter("carbontracker:unknown")
    assert e.mask[:, 0].all()
    assert not e.mask[:, 1:].any()
    np.testing.assert_allclose(e.values[:, 0], t.static["energy_kwh_raw"].values * 3.6e6)
    parts = t.split_indices("ecnas_seed42")
    assert [len(parts[p]) for p in ("train", "valid", "test")] == [3017, 431, 862]
    assert set(parts["test"].tolist()) >= {1821, 2811, 3853, 4157, 1490}
    assert t.configs is not None
    cfg = t.configs.to_dict(0)
    assert cfg["ops"][0] == "input"
    assert cfg["ops"][-1] == "output"
    assert (t.row_sources == "ecnas-7v").all()


def test_nb101_labels_table(ds) -> None:  # type: ignore[no-untyped-def]
    t = ds.table("nb101-7v", "cifar10", "nb101_labels")
    assert t.n_rows == 30001
    assert t.config_ids[0] == "00005c142e6f48ac74fdcf73e3439874"
    assert t.config_ids[20000] == "0c187841d17db3b0b02791f4d7d0d93d"
    assert t.config_ids[20001] == "15f63ccf767bfa34fa4e9c9a66de8126"
    va = t.metric("val_accuracy")
    assert va.mask.all()
    assert ((va.values >= 0) & (va.values <= 1)).all()


def test_config_id_split_is_deterministic_and_shared_by_repeats(ds) -> None:  # type: ignore[no-untyped-def]
    t = ds.table("nb101-7v", "cifar10", "ecnas_runs")
    codes = t.splits["config_id_80_10_10"]
    by_id: dict[str, set[int]] = {}
    for cid, c in zip(t.config_ids.tolist(), codes.tolist(), strict=True):
        by_id.setdefault(cid, set()).add(c)
    assert all(len(v) == 1 for v in by_id.values())
    frac = np.bincount(codes, minlength=3) / codes.size
    assert abs(frac[0] - 0.8) < 0.03


def test_errors_are_typed(ds, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DatasetError, match="table"):
        ds.table("nb101-7v", "cifar10", "nope")
    t = ds.table("nb101-7v", "cifar10", "ecnas_7v")
    with pytest.raises(DatasetError, match="metric"):
        t.metric("nope")
    with pytest.raises(DatasetError, match="fidelity"):
        t.fidelity.index(5)
    with pytest.raises(DatasetError, match="no such"):
        open_dataset(tmp_path / "missing.h5")
    bad = tmp_path / "bad.h5"
    bad.write_bytes(b"not hdf5")
    with pytest.raises(DatasetError):
        open_dataset(bad)


def test_nb101_all_joins_the_space_cache(ds) -> None:  # type: ignore[no-untyped-def]
    from eabench.spaces.nb101 import Cell

    t = ds.table("nb101-7v", "cifar10", "nb101_all")
    assert t.n_rows == 423_624
    assert t.config_ids[36202] == "15f63ccf767bfa34fa4e9c9a66de8126"
    assert t.config_ids[-1] == "ffff76fafa7b0cdf545fd7feee9c8bf9"
    assert t.metric("test_accuracy").mask.all()
    assert t.static["flops"].mask.all()
    rows = np.random.default_rng(0).integers(0, t.n_rows, 20)
    assert t.configs is not None
    for i in rows.tolist():
        assert Cell.from_dict(t.configs.to_dict(i)).hash() == t.config_ids[i]
    # the 30,001 labelled cells agree with the full table
    small = ds.table("nb101-7v", "cifar10", "nb101_labels")
    pos = small.static["nb101_sorted_index"].values.astype(int)
    assert (t.config_ids[pos] == small.config_ids).all()
    np.testing.assert_array_equal(
        t.metric("test_accuracy").values[pos, 0], small.metric("test_accuracy").values[:, 3]
    )


@pytest.mark.parametrize("name", ["ecnas_7v", "ecnas_runs"])
def test_stored_configs_hash_to_their_config_ids(ds, name: str) -> None:  # type: ignore[no-untyped-def]
    from eabench.spaces.nb101 import Cell

    t = ds.table("nb101-7v", "cifar10", name)
    assert t.configs is not None
    first = {}
    for i, cid in enumerate(t.config_ids.tolist()):
        first.setdefault(cid, i)
    for cid, i in first.items():
        assert Cell.from_dict(t.configs.to_dict(i)).hash() == cid


def test_import_logs_is_light() -> None:
    import subprocess
    import sys

    code = (
        "import sys, eabench.logs; print(sorted(m for m in ('torch', 'h5py') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_shipped_dataset_path_is_the_repo_data(repo_root: Path) -> None:
    from eabench.logs import shipped_dataset_path

    assert shipped_dataset_path() == repo_root / "data" / "eabench-data.h5"
