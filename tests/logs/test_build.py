"""Dataset building: split by config id, missing energy never becomes 0."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from eabench.errors import DatasetError
from eabench.logs import RunLog, open_dataset
from eabench.logs.build import config_id_split, table_from_runs, write_dataset
from eabench.meters import Flag
from tests.logs.helpers import header, record

ids = st.lists(st.text("0123456789abcdef", min_size=32, max_size=32), unique=True, max_size=50)


@given(a=ids, b=ids)
def test_split_depends_only_on_the_id(a: list[str], b: list[str]) -> None:
    both = a + [x for x in b if x not in a]
    codes_a = config_id_split(a)
    codes_both = config_id_split(both)
    assert codes_a.tolist() == codes_both[: len(a)].tolist()
    assert set(codes_both.tolist()) <= {0, 1, 2}


def test_split_fractions_are_close_and_validated() -> None:
    codes = config_id_split([f"{i:032x}" for i in range(20000)], (0.7, 0.1, 0.2))
    frac = np.bincount(codes, minlength=3) / codes.size
    np.testing.assert_allclose(frac, [0.7, 0.1, 0.2], atol=0.02)
    with pytest.raises(DatasetError):
        config_id_split(["a"], (0.5, 0.5, 0.5))


def test_missing_energy_stays_missing_with_its_flag(tmp_path: Path) -> None:
    recs = [record("run-1", e) for e in range(3)]
    r = recs[1].readings[0]
    bad = dataclasses.replace(r, energy_j=None, flags=(Flag("NO_READING", "invalid"),))
    recs[1] = dataclasses.replace(recs[1], readings=(bad,))
    log = RunLog(header(max_epochs=3), tuple(recs))
    t = table_from_runs([log], space="nb101-7v", dataset="cifar10", name="runs", description="x")
    write_dataset(tmp_path / "d.h5", [t], {"eabench": {"name": "test"}})
    tab = open_dataset(tmp_path / "d.h5").table("nb101-7v", "cifar10", "runs")
    e = tab.energy
    assert e is not None
    m = e.meter(e.meters[0])
    assert m.mask[0].tolist() == [False, True, False, False]  # epoch 2 and later unknown
    assert np.isnan(m.values[0, 2:]).all()
    assert e.has_flag("NO_READING")[0, 2:, 0].all()
    assert e.severity[0, 2, 0] == 3
    assert tab.metric("val_accuracy").mask[0].tolist() == [False, True, True, True]


def test_unknown_row_source_is_refused(tmp_path: Path) -> None:
    log = RunLog(header(max_epochs=3), (record("run-1", 0),))
    t = table_from_runs([log], space="nb101-7v", dataset="cifar10", name="runs", description="x")
    with pytest.raises(DatasetError, match="row source"):
        write_dataset(tmp_path / "d.h5", [t], {})
    assert not (tmp_path / "d.h5").exists()
