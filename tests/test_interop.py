"""DataFrame export: BatchResult.to_pandas and RunTable.to_pandas; pandas never on import."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import eabench

pd = pytest.importorskip("pandas", reason="pandas is in the 'pandas' and 'dev' extras")

DATA = Path(__file__).resolve().parents[1] / "data" / "eabench-data.h5"


def test_batch_to_pandas_one_row_per_config() -> None:
    bench = eabench.load("nb101-7v")
    cells = [bench.space.sample(seed=s) for s in range(6)]
    batch = bench.query_batch(cells, 36)
    df = batch.to_pandas()
    assert len(df) == 6
    assert df["config_id"].tolist() == list(batch.config_ids)
    np.testing.assert_array_equal(df["val_accuracy"].to_numpy(), batch.val_accuracy)
    np.testing.assert_array_equal(df["energy_j"].to_numpy(), batch.energy_j)
    for meter, values in batch.energy_j_by_meter.items():
        np.testing.assert_array_equal(df[f"energy_j__{meter}"].to_numpy(), values)
    assert set(df["epochs"]) == {36}
    assert df["flags"][0] == ",".join(sorted(batch.flags[0]))
    for code in batch.flags[0]:
        assert df[f"flag__{code}"].all()
    assert df.attrs["primary_meter"] == batch.primary_meter
    assert "flags" in batch.to_pandas(flag_columns=False)


def test_runtable_to_pandas_long_and_wide() -> None:
    from eabench.logs import open_dataset

    table = open_dataset(DATA).table("nb101-7v", "cifar10", "nb101_labels")
    long = table.to_pandas()
    wide = table.to_pandas(layout="wide")
    assert len(wide) == table.n_rows
    assert {"config_id", "fidelity", "val_accuracy"} <= set(long.columns)
    val = table.metric("val_accuracy")
    j = int(np.flatnonzero(table.fidelity.values == 108)[0])
    np.testing.assert_array_equal(wide["val_accuracy@108"].to_numpy(), val.values[:, j])
    assert len(long) == int(np.any([m.mask for m in table.metrics.values()], axis=0).sum())
    with pytest.raises(eabench.errors.InvalidArgumentError, match="layout"):
        table.to_pandas(layout="tall")


def test_query_path_imports_no_optimiser_nor_pandas() -> None:
    code = (
        "import sys, eabench, eabench.adapters; b = eabench.load('nb101-7v');"
        "b.query(b.space.sample(seed=0), 36);"
        "bad = [m for m in ('pandas', 'optuna', 'smac', 'syne_tune', 'torch') if m in sys.modules];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stdout + out.stderr
