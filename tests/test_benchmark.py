"""The query API: Benchmark.query / query_batch, flags, fidelity semantics, kinds, load()."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import eabench
from eabench.errors import (
    ArtifactError,
    ChecksumMismatchError,
    FidelityError,
    InvalidArgumentError,
    InvalidConfigError,
    UnknownBenchmarkError,
)
from eabench.loading import from_artifact
from eabench.manifest import sha256_file as hub_sha256
from eabench.results import (
    CLIPPED,
    ENERGY_EXTRAPOLATED,
    FIDELITY_INTERPOLATED,
    HIGH_UNCERTAINTY,
    HOLISTIC_CALIBRATED,
    MEASURED,
    OUTSIDE_TRAINING_SUPPORT,
    SIMULATED,
    QueryResult,
)
from eabench.spaces.nb101 import Cell, NB101Space
from tests.fakes import PrefixSpace, load_fake, write_fake_artifact

VECTORS = Path(__file__).resolve().parent / "fixtures" / "nb101" / "nb101_hash_vectors_1k.json"
N_FEATURES = len(NB101Space().feature_names())


def nb101_cells(n: int) -> list[tuple[Cell, str]]:
    """(cell, NB101 hash) pairs from the 1k hash-vector fixture."""
    data = json.loads(VECTORS.read_text())["vectors"][:n]
    return [(Cell([[int(c) for c in r] for r in v["matrix"]], v["labels"]), v["key"]) for v in data]


@pytest.fixture(scope="module")
def cells() -> list[tuple[Cell, str]]:
    return nb101_cells(40)


@pytest.fixture
def bench(tmp_path: Path) -> Any:
    folder = write_fake_artifact(tmp_path / "art", n_features=N_FEATURES)
    return from_artifact(folder, loader=load_fake)


def test_query_returns_frozen_result_with_curve_over_budgets(bench: Any, cells: Any) -> None:
    cell, key = cells[0]
    res = bench.query(cell, 108)
    assert isinstance(res, QueryResult)
    assert res.config_id == key
    np.testing.assert_array_equal(res.curve.epochs, [4, 12, 36, 108])
    assert 0.0 <= res.val_accuracy <= 1.0
    assert res.val_accuracy == res.curve.val_accuracy[-1]
    assert res.energy_j == res.energy_by_meter["carbontracker"].energy_j == res.curve.energy_j[-1]
    assert res.primary_meter == "carbontracker"
    assert res.energy_by_meter["carbontracker"].per_epoch_j == pytest.approx(res.energy_j / 108)
    assert FIDELITY_INTERPOLATED not in res.flags
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.energy_j = 0.0  # type: ignore[misc]
    with pytest.raises(ValueError, match="read-only"):
        res.curve.energy_j[0] = 0.0
    json.dumps(res.to_dict())


def test_values_are_the_surrogates_predictions(bench: Any, cells: Any) -> None:
    cell, _ = cells[1]
    res = bench.query(cell, 36)
    raw = bench.surrogate.predict(NB101Space().encode([cell]), np.array([4.0, 12.0, 36.0]))
    np.testing.assert_allclose(res.curve.val_accuracy, raw.val_accuracy[0])
    np.testing.assert_allclose(res.curve.train_time_s, raw.train_time_s[0])
    assert (
        res.energy_by_meter["gpu.nvml_counter"].energy_j == raw.energy_j["gpu.nvml_counter"][0, -1]
    )
    assert res.uncertainty["val_accuracy_std"] == pytest.approx(0.01)


def test_dict_config_equals_cell_and_isomorphic_cells_share_id(bench: Any, cells: Any) -> None:
    cell, _ = cells[2]
    assert bench.query(cell.to_dict(), 12) == bench.query(cell, 12)


def test_curves_are_cumulative_non_decreasing(bench: Any, cells: Any) -> None:
    for cell, _ in cells[:10]:
        res = bench.query(cell, 108)
        assert np.all(np.diff(res.curve.energy_j) >= 0)
        assert np.all(np.diff(res.curve.train_time_s) >= 0)


def test_other_epoch_counts_are_interpolated_and_flagged(bench: Any, cells: Any) -> None:
    res = bench.query(cells[0][0], 50)
    np.testing.assert_array_equal(res.curve.epochs, [4, 12, 36, 50])
    assert FIDELITY_INTERPOLATED in res.flags
    assert FIDELITY_INTERPOLATED in res.energy_by_meter["gpu.nvml_counter"].flags


@pytest.mark.parametrize("epochs", [3, 109, 0, -4, 12.5, "12", True, None])
def test_bad_epochs_raise_fidelity_error(bench: Any, cells: Any, epochs: Any) -> None:
    with pytest.raises(FidelityError, match="epochs"):
        bench.query(cells[0][0], epochs)


def test_integral_float_epochs_are_accepted(bench: Any, cells: Any) -> None:
    assert bench.query(cells[0][0], 12.0) == bench.query(cells[0][0], 12)


def test_invalid_config_raises(bench: Any) -> None:
    with pytest.raises(InvalidConfigError, match="ops"):
        bench.query({"matrix": [[0, 1], [0, 0]], "ops": ["input", "bogus"]}, 4)
    with pytest.raises(InvalidConfigError):
        bench.query_batch([{"matrix": [[0]], "ops": ["input"]}], 4)
    with pytest.raises(InvalidArgumentError, match="configs"):
        bench.query_batch({"matrix": [[0, 1], [0, 0]], "ops": ["input", "output"]}, 4)


@pytest.mark.parametrize("epochs", [4, 50, 108])
def test_query_batch_equals_a_loop_of_query(bench: Any, cells: Any, epochs: int) -> None:
    configs = [c for c, _ in cells]
    batch = bench.query_batch(configs, epochs)
    assert len(batch) == len(configs)
    assert batch.val_accuracy.shape == (len(configs),)
    for i, cfg in enumerate(configs):
        res = bench.query(cfg, epochs)
        assert batch.config_ids[i] == res.config_id
        assert batch.val_accuracy[i] == pytest.approx(res.val_accuracy, rel=1e-12)
        assert batch.test_accuracy is not None
        assert batch.test_accuracy[i] == pytest.approx(res.test_accuracy, rel=1e-12)
        assert batch.train_time_s[i] == pytest.approx(res.train_time_s, rel=1e-12)
        assert batch.energy_j[i] == pytest.approx(res.energy_j, rel=1e-12)
        for m, est in res.energy_by_meter.items():
            assert batch.energy_j_by_meter[m][i] == pytest.approx(est.energy_j, rel=1e-12)
        assert batch.flags[i] == res.flags
        assert batch.uncertainty["energy_j_std"][i] == pytest.approx(
            res.uncertainty["energy_j_std"]
        )
    json.dumps(batch.to_dict())


def test_meter_flags_of_training_data_are_summarised(bench: Any, cells: Any) -> None:
    res = bench.query(cells[0][0], 4)
    assert {"UNDER_SAMPLED", "PUE_APPLIED"} <= res.flags  # primary meter = carbontracker
    est = res.energy_by_meter["carbontracker"]
    assert est.provenance.sample_period_s == 10.0
    assert "10 s polling" in est.provenance.flag_notes["UNDER_SAMPLED"]
    assert "UNDER_SAMPLED" not in res.energy_by_meter["gpu.nvml_counter"].flags
    assert SIMULATED not in res.flags
    assert bench.card.licence == "Apache-2.0"
    assert bench.metrics["energy_j"].direction == "minimize"
    assert bench.fidelity.semantics == "schedule"


def test_support_uncertainty_simulated_and_calibration_flags(tmp_path: Path, cells: Any) -> None:
    folder = write_fake_artifact(
        tmp_path / "a",
        n_features=N_FEATURES,
        acc_std=0.2,
        simulated=True,
        training_support={"feature_min": [0.0] * N_FEATURES, "feature_max": [0.0] * N_FEATURES},
        uncertainty_thresholds={"val_accuracy_std": 0.1},
        calibration={"calibration_id": "cal-1", "p_off_lo_w": 50.0, "p_off_hi_w": 80.0},
    )
    b = from_artifact(folder, loader=load_fake)
    res = b.query(cells[0][0], 108)
    assert {OUTSIDE_TRAINING_SUPPORT, HIGH_UNCERTAINTY, SIMULATED, HOLISTIC_CALIBRATED} <= res.flags
    assert res.holistic_energy_j == pytest.approx(
        (res.energy_j + 50.0 * res.train_time_s, res.energy_j + 80.0 * res.train_time_s)
    )
    batch = b.query_batch([cells[0][0]], 108)
    assert batch.holistic_lower_j is not None
    assert batch.holistic_lower_j[0] == pytest.approx(res.holistic_energy_j[0])
    assert batch.flags[0] == res.flags


def test_measured_epochs_and_answer_flags_from_the_manifest(tmp_path: Path, cells: Any) -> None:
    folder = write_fake_artifact(tmp_path / "a", n_features=N_FEATURES)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["meters"]["carbontracker"]["measured_epochs"] = [4, 4]
    manifest["answer_flags"] = {"TIME_OTHER_HARDWARE": "time and energy from other hardware"}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    b = from_artifact(folder, loader=load_fake)
    assert b.answer_flags == {"TIME_OTHER_HARDWARE": "time and energy from other hardware"}
    assert b.meters["carbontracker"].measured_epochs == (4, 4)
    cell = cells[0][0]
    at4, at108 = b.query(cell, 4), b.query(cell, 108)
    assert "TIME_OTHER_HARDWARE" in at4.flags
    assert "TIME_OTHER_HARDWARE" in at108.flags
    assert ENERGY_EXTRAPOLATED not in at4.flags
    assert ENERGY_EXTRAPOLATED in at108.flags  # carbontracker (primary) measured 4 epochs only
    assert ENERGY_EXTRAPOLATED in at108.energy_by_meter["carbontracker"].flags
    # the counter meter states no measured range, and answer flags stay off the meter estimates
    assert ENERGY_EXTRAPOLATED not in at108.energy_by_meter["gpu.nvml_counter"].flags
    assert "TIME_OTHER_HARDWARE" not in at108.energy_by_meter["carbontracker"].flags
    assert b.query_batch([cell], 108).flags[0] == at108.flags


@pytest.mark.parametrize(
    ("key", "value"),
    [("answer_flags", ["TIME_OTHER_HARDWARE"]), ("answer_flags", {"X": 1}), ("measured", [4])],
)
def test_malformed_answer_flags_or_measured_epochs_are_refused(
    tmp_path: Path, key: str, value: Any
) -> None:
    folder = write_fake_artifact(tmp_path / "a", n_features=N_FEATURES)
    manifest = json.loads((folder / "manifest.json").read_text())
    if key == "measured":
        manifest["meters"]["carbontracker"]["measured_epochs"] = value
        field = "meter_info.carbontracker.measured_epochs"
    else:
        manifest[key] = value
        field = key
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ArtifactError) as info:
        from_artifact(folder, loader=load_fake)
    assert info.value.field == field


def test_clipped_outputs_are_flagged(tmp_path: Path, cells: Any) -> None:
    # the fake's test accuracy is val - 0.01, clipped at 0 where val < 0.01 (t=4, tau=20 ->
    # val >= 0.18 * a); with a tiny a (very negative bias) clipping happens.
    folder = write_fake_artifact(tmp_path / "a", n_features=N_FEATURES)
    b = from_artifact(folder, loader=load_fake)
    b.surrogate.w["b_acc"] = np.array([-8.0])
    assert CLIPPED in b.query(cells[0][0], 4).flags


def test_tampered_artifact_is_refused(tmp_path: Path) -> None:
    folder = write_fake_artifact(tmp_path / "a", n_features=N_FEATURES)
    with open(folder / "weights.npz", "ab") as fh:
        fh.write(b"x")
    with pytest.raises(ChecksumMismatchError, match=r"weights\.npz"):
        from_artifact(folder, loader=load_fake)
    with pytest.raises(ArtifactError, match="manifest"):
        from_artifact(tmp_path / "nothing", loader=load_fake)


def test_table_kind_answers_measured_configs_and_says_so(tmp_path: Path, cells: Any) -> None:
    measured = cells[:5]
    n = len(measured)
    val = np.tile([0.5, 0.6, 0.7, 0.8], (n, 1))
    energy = np.full((n, 4), np.nan)
    energy[:, 0] = [1000.0, 2000.0, 3000.0, 4000.0, 5000.0]  # energy measured at 4 epochs only
    table = {
        "config_ids": [k for _, k in measured],
        "epochs": [4, 12, 36, 108],
        "values": {
            "val_accuracy": val,
            "test_accuracy": val - 0.05,
            "train_time_s": np.tile([10.0, 30.0, 90.0, 270.0], (n, 1)),
            "energy_j__carbontracker": energy,
            "energy_j__gpu.nvml_counter": energy / 2,
        },
    }
    folder = write_fake_artifact(tmp_path / "a", n_features=N_FEATURES, table=table)
    tb = from_artifact(folder, kind="table", loader=load_fake)
    res = tb.query(measured[1][0], 4)
    assert MEASURED in res.flags
    assert res.energy_j == 2000.0
    assert res.val_accuracy == 0.5
    assert res.provenance.kind == "table"
    assert not any(f.startswith("PREDICTED_") for f in res.flags)
    res108 = tb.query(measured[1][0], 108)
    assert res108.val_accuracy == 0.8  # measured
    assert "PREDICTED_ENERGY_J_CARBONTRACKER" in res108.flags  # not measured: from the surrogate
    sur = from_artifact(folder, loader=load_fake).query(measured[1][0], 108)
    assert res108.energy_j == pytest.approx(sur.energy_j)
    batch = tb.query_batch([c for c, _ in measured], 108)
    assert batch.flags[1] == res108.flags
    assert batch.val_accuracy[1] == res108.val_accuracy
    with pytest.raises(InvalidConfigError, match="not measured"):
        tb.query(cells[10][0], 4)


def test_prefix_fidelity_semantics(tmp_path: Path) -> None:
    from eabench.results import Fidelity

    folder = write_fake_artifact(tmp_path / "p", n_features=2, space="prefix-test", max_epochs=200)
    fid = Fidelity("epochs", "prefix", 1, 200, (), "max_epochs")
    b = from_artifact(folder, loader=load_fake, space=PrefixSpace(), fidelity=fid)
    res = b.query({"width": 16, "max_epochs": 50}, 30)
    np.testing.assert_array_equal(res.curve.epochs, np.arange(1, 31))
    assert FIDELITY_INTERPOLATED not in res.flags
    with pytest.raises(FidelityError, match="prefixes of one 50-epoch run"):
        b.query({"width": 16, "max_epochs": 50}, 51)
    with pytest.raises(FidelityError, match="50-epoch"):
        b.query_batch([{"width": 16, "max_epochs": 100}, {"width": 16, "max_epochs": 50}], 60)


def test_load_names_and_missing_artifacts() -> None:
    with pytest.raises(UnknownBenchmarkError, match="unknown benchmark"):
        eabench.load("nb201")
    with pytest.raises(UnknownBenchmarkError) as info:
        eabench.load("regnet-hpo-cifar10")
    msg = str(info.value)
    assert "eabench download regnet-hpo-cifar10" in msg
    assert "eabench train" in msg
    with pytest.raises(InvalidArgumentError, match="kind"):
        eabench.load("nb101-7v", kind="live")


def test_known_meter_notes_fill_manifests_without_flags(tmp_path: Path, cells: Any) -> None:
    folder = write_fake_artifact(
        tmp_path / "a",
        n_features=N_FEATURES,
        meters={"carbontracker": {"trained_on": "EC-NAS 7V, 4,310 cells", "pue_removed": 1.59}},
    )
    res = from_artifact(folder, loader=load_fake).query(cells[0][0], 4)
    prov = res.energy_by_meter["carbontracker"].provenance
    assert {"UNDER_SAMPLED", "PUE_REMOVED"} <= res.flags
    assert "PUE_APPLIED" not in res.flags
    assert prov.sample_period_s == 10.0
    assert prov.pue_applied is None
    assert prov.description.startswith("EC-NAS 7V, 4,310 cells; EC-NAS training energy")
    assert res.energy_by_meter["gpu.nvml_counter"].provenance.training_data_flags == frozenset()


@settings(max_examples=25, deadline=None)
@given(seeds=st.lists(st.integers(0, 2**31), min_size=1, max_size=12), epochs=st.integers(4, 108))
def test_batch_equals_loop_property(tmp_path_factory: Any, seeds: list[int], epochs: int) -> None:
    folder = tmp_path_factory.getbasetemp() / "prop-artifact"
    if not (folder / "manifest.json").is_file():
        write_fake_artifact(folder, n_features=N_FEATURES)
    b = from_artifact(folder, loader=load_fake)
    configs = [b.space.sample(s) for s in seeds]
    batch = b.query_batch(configs, epochs)
    for i, cfg in enumerate(configs):
        res = b.query(cfg, epochs)
        assert (batch.config_ids[i], batch.flags[i]) == (res.config_id, res.flags)
        assert batch.energy_j[i] == pytest.approx(res.energy_j, rel=1e-12)
        assert batch.val_accuracy[i] == pytest.approx(res.val_accuracy, rel=1e-12)
        assert res.curve.epochs[-1] == epochs


def test_dict_configs_are_memoised_but_still_validated(bench: Any, cells: Any) -> None:
    d = cells[3][0].to_dict()
    first = bench.query(d, 12)
    assert bench.query(json.loads(json.dumps(d)), 12) == first
    bad = json.loads(json.dumps(d))
    bad["ops"][1] = "conv5x5"
    with pytest.raises(InvalidConfigError, match="conv5x5"):
        bench.query(bad, 12)
    with pytest.raises(InvalidConfigError):
        bench.query(bad, 12)  # errors are not memoised
    assert bench.query({**d, "matrix": np.array(d["matrix"])}, 12) == first
    # the memo key does not alias True/1 or 1.0/1: such leaves are validated on their own
    labels = [Cell.from_dict(d).labels()[i] for i in range(len(d["ops"]))]
    as_ints = {**d, "ops": labels}
    assert bench.query(as_ints, 12) == first
    bools = {**d, "ops": [bool(x) if x in (0, 1) else x for x in labels]}
    if bools["ops"] != labels or any(type(x) is bool for x in bools["ops"]):
        with pytest.raises(InvalidConfigError):
            bench.query(bools, 12)
    floats = {**d, "matrix": [[float(x) for x in row] for row in d["matrix"]]}
    assert bench.query(floats, 12) == first  # 0.0/1.0 are accepted by validation


def test_table_in_the_7v_artifact_budget_layout(tmp_path: Path, cells: Any) -> None:
    measured = cells[:3]
    folder = write_fake_artifact(
        tmp_path / "a",
        n_features=N_FEATURES,
        meters=["carbontracker", "gpu.nvml_counter"],
        meter_info={"carbontracker": {"trained_on": "EC-NAS 7V", "pue_removed": 1.59}},
    )
    np.savez(
        folder / "table.npz",
        config_id=np.array([k for _, k in measured]),
        budgets=np.array([4.0, 12.0, 36.0, 108.0]),
        val_acc=np.tile([0.5, 0.6, 0.7, 0.8], (3, 1)),
        test_acc_108=np.array([0.79, 0.78, 0.77]),
        energy_4ep_wh=np.array([1.59, 3.18, 4.77]),
    )
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["files"]["table.npz"] = {"sha256": hub_sha256(folder / "table.npz")}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    tb = from_artifact(folder, kind="table", loader=load_fake)
    res = tb.query(measured[1][0], 4)
    assert res.energy_j == pytest.approx(2 * 3600.0)  # 3.18 Wh / PUE 1.59 = 2 Wh
    assert res.val_accuracy == 0.5
    assert {"MEASURED", "PREDICTED_TRAIN_TIME_S", "PREDICTED_TEST_ACCURACY"} <= res.flags
    assert "PUE_REMOVED" in res.flags
    res108 = tb.query(measured[2][0], 108)
    assert res108.test_accuracy == 0.77
    assert "PREDICTED_TEST_ACCURACY" not in res108.flags
    assert "PREDICTED_ENERGY_J_CARBONTRACKER" in res108.flags


def test_query_batch_in_chunks_gives_the_same_answers(bench: Any, cells: Any) -> None:
    configs = [c for c, _ in cells]
    whole = bench.query_batch(configs, 36)
    bench.batch_chunk = 7
    parts = bench.query_batch(configs, 36)
    assert parts.config_ids == whole.config_ids
    assert parts.flags == whole.flags
    for name in ("val_accuracy", "test_accuracy", "train_time_s", "energy_j"):
        np.testing.assert_allclose(getattr(parts, name), getattr(whole, name), rtol=1e-12)
    np.testing.assert_allclose(
        parts.uncertainty["energy_j_std"], whole.uncertainty["energy_j_std"], rtol=1e-12
    )


def test_batch_errors_name_the_index_of_the_bad_config() -> None:
    bench = eabench.load("nb101-7v")
    good = bench.space.sample(seed=0)
    bad = {"matrix": [[0, 1], [0, 0]], "ops": ["input", "conv9x9"]}
    with pytest.raises(InvalidConfigError, match=r"^configs\[2\]: ") as info:
        bench.query_batch([good, good.to_dict(), bad], 108)
    assert info.value.index == 2  # type: ignore[attr-defined]
    bench.prepare()  # the accelerated (row) path names it too
    with pytest.raises(InvalidConfigError, match=r"^configs\[1\]: "):
        bench.query_batch([good, bad, good], 108)
