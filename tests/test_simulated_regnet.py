"""The SIMULATED RegNet x HPO sweep generators (tests/simulated_regnet.py) and their ingestion.

Where SIMULATED shows up in the dataset of a run-log sweep (table ``regnet-hpo/cifar10/runs``):

* ``table.energy.flag_codes`` holds ``"SIMULATED"`` with severity ``"invalid"``
  (``energy/flag_codes`` attrs ``severities``), and its bit is set in ``energy/flags`` at every
  run, fidelity (0 included: the setup window) and meter channel that has energy, so
  ``table.energy.severity`` is 3 (invalid) there;
* ``table.energy.provenance[k]["simulated"]`` is True and ``["backend"]`` is
  ``"tests.simulated_regnet"`` for both channels (``energy/meters`` attrs ``provenance``).

The header's ``source``/``hardware``/``protocol`` marks and its run-level SIMULATED flag stay in
the raw logs (ingestion does not copy them into the table). The pycls format has no place for a
simulated mark, so that table carries none (asserted below).
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest

from eabench.cli import main
from eabench.logs import open_dataset
from eabench.logs.dataset import RunTable
from eabench.logs.ingest import IngestReport, ingest
from eabench.logs.runlog_io import RUNLOG_SUFFIX, read_run_log
from eabench.spaces.regnet_hpo import RegNetHPOConfig, RegNetHPOSpace
from tests.simulated_regnet import (
    ACC_NOISE_SD,
    BACKEND,
    ENERGY_NOISE_REL,
    METERS,
    TIME_NOISE_REL,
    CurveTruth,
    sample_configs,
    truth,
    write_pycls_sweep,
    write_runlog_sweep,
)

N_RUNS = 30
SEED = 7
CHANNELS = {m: f"{m}:gpu:0" for m in METERS}
Sweep = tuple[list[tuple[RegNetHPOConfig, CurveTruth]], IngestReport, RunTable, Path]


@pytest.fixture(scope="module")
def runlog_sweep(tmp_path_factory: pytest.TempPathFactory) -> Sweep:
    root = tmp_path_factory.mktemp("sim_runlogs")
    runs = write_runlog_sweep(root / "logs", N_RUNS, SEED)
    report = ingest([root / "logs"], root / "ds.h5")
    table = open_dataset(root / "ds.h5").table("regnet-hpo", "cifar10", "runs")
    return runs, report, table, root / "logs"


@pytest.fixture(scope="module")
def pycls_sweep(tmp_path_factory: pytest.TempPathFactory) -> Sweep:
    root = tmp_path_factory.mktemp("sim_pycls")
    runs = write_pycls_sweep(root / "sweep", N_RUNS, SEED)
    report = ingest([root / "sweep"], root / "ds.h5")
    table = open_dataset(root / "ds.h5").table("regnet-hpo", "cifar10", "pycls_runs")
    return runs, report, table, root / "sweep"


def _row_of_run(table: RunTable, cfg: RegNetHPOConfig) -> int:
    assert table.run_ids is not None
    want = f"sim-regnet-hpo-{cfg.config_id()[:16]}-e{cfg.max_epochs}-s{SEED}"
    hits = np.flatnonzero(table.run_ids == want)
    assert hits.size == 1
    return int(hits[0])


def _per_epoch(cumulative: np.ndarray, t_max: int) -> np.ndarray:
    """Per-epoch increments of a cumulative table row over fidelities 0..t_max."""
    return np.diff(cumulative[: t_max + 1])


# ----------------------------------------------------------------------------- the truth
def test_truth_is_deterministic_smooth_and_in_range() -> None:
    configs = sample_configs(40, 1)
    configs += RegNetHPOSpace("cifar10", constraints=None).sample_many(20, 2)[0]
    configs += RegNetHPOSpace("tinyimagenet", constraints=None).sample_many(20, 3)[0]
    for cfg in configs:
        tr, again = truth(cfg), truth(cfg.to_dict())
        assert tr.max_epochs == cfg.max_epochs
        np.testing.assert_array_equal(tr.epochs, np.arange(1, cfg.max_epochs + 1))
        for name in ("val_accuracy", "test_accuracy", "train_accuracy", "train_loss"):
            np.testing.assert_array_equal(getattr(tr, name), getattr(again, name))
        for acc in (tr.val_accuracy, tr.test_accuracy, tr.train_accuracy):
            assert acc.shape == (cfg.max_epochs,)
            assert np.all((acc > 0) & (acc < 1))
        assert np.all(np.diff(tr.val_accuracy) > 0)  # smooth saturating curve
        assert np.all(tr.test_accuracy < tr.val_accuracy)
        assert tr.val_accuracy[0] > tr.chance
        assert tr.val_accuracy[-1] == pytest.approx(tr.plateau)
        assert np.all(tr.train_time_s > 0)
        assert tr.eval_time_s > 0
        assert tr.setup_time_s > 0
        ratio = tr.energy_j[METERS[1]] / tr.energy_j[METERS[0]]
        assert np.all((ratio > 1.01) & (ratio < 1.04))  # the polled meter reads a few % high
        for m in METERS:
            np.testing.assert_allclose(tr.energy_j[m], tr.power_w[m] * tr.train_time_s)
            assert tr.setup_energy_j[m] > 0
            assert tr.eval_energy_j[m] > 0
            cum = tr.cumulative_energy_j(m)
            assert cum[0] == tr.setup_energy_j[m]
            assert cum[-1] == pytest.approx(tr.setup_energy_j[m] + tr.energy_j[m].sum())


def test_truth_prefix_semantics_and_hpo_effects() -> None:
    base = sample_configs(1, 0)[0].to_dict()
    base.update(optimizer="sgd", learning_rate=0.1, lr_policy="cos", cutout=16)
    short = truth({**base, "max_epochs": 50})
    long = truth({**base, "max_epochs": 200})
    # epoch 50 of a 200-epoch schedule is far behind the end of a 50-epoch schedule ...
    assert long.val_accuracy[49] < short.val_accuracy[49] - 0.02
    # ... and behind per schedule fraction (normalised progress at u = 1/4, 1/2, 3/4) ...
    for u in (0.25, 0.5, 0.75):
        p_short = (short.val_accuracy[round(50 * u) - 1] - short.chance) / (
            short.plateau - short.chance
        )
        p_long = (long.val_accuracy[round(200 * u) - 1] - long.chance) / (
            long.plateau - long.chance
        )
        assert p_long < p_short
    assert long.speed < short.speed
    # ... but the longer schedule ends higher
    assert long.val_accuracy[-1] > short.val_accuracy[-1]
    # a learning rate far from the optimizer's optimum lowers the plateau and slows learning
    bad_lr = truth({**base, "max_epochs": 50, "learning_rate": 0.001})
    assert bad_lr.plateau < short.plateau - 0.05
    assert bad_lr.speed < short.speed
    for key, value in (("optimizer", "adam"), ("lr_policy", "exp")):
        assert truth({**base, "max_epochs": 50, key: value}).plateau < short.plateau
    # cutout helps a long schedule, hurts a short one
    assert truth({**base, "max_epochs": 200, "cutout": 0}).plateau < long.plateau
    assert truth({**base, "max_epochs": 50, "cutout": 0}).plateau > short.plateau


# ----------------------------------------------------------------------------- run logs
def test_runlog_sweep_ingests_with_zero_failures(runlog_sweep: Sweep) -> None:
    runs, report, table, logs = runlog_sweep
    assert report.failed == 0
    assert report.errors == []
    assert report.ingested == N_RUNS
    assert report.formats == {"runlog": N_RUNS}
    assert report.tables == {"regnet-hpo/cifar10/runs": N_RUNS}
    assert len(list(logs.glob(f"*{RUNLOG_SUFFIX}"))) == N_RUNS
    assert {cfg.config_id() for cfg, _ in runs} == set(table.config_ids.tolist())
    assert {cfg.max_epochs for cfg, _ in runs} == {50, 100, 200}  # the space's mix


def test_runlog_cli_ingest_strict(runlog_sweep: Sweep, tmp_path: Path) -> None:
    _, _, _, logs = runlog_sweep
    out = tmp_path / "cli.h5"
    assert main(["ingest", str(logs), "--out", str(out), "--strict"]) == 0
    doc = json.loads(Path(f"{out}.ingest-report.json").read_text())
    assert doc["failed"] == 0
    assert doc["ingested"] == N_RUNS


def test_runlog_table_holds_the_truth_within_noise(runlog_sweep: Sweep) -> None:
    runs, _, table, _ = runlog_sweep
    assert table.energy is not None
    assert table.config_json is not None
    e_cols = table.fidelity.values.shape[0]
    assert table.fidelity.kind == "epoch"
    assert e_cols == 1 + max(cfg.max_epochs for cfg, _ in runs)
    for cfg, tr in runs:
        i, t_max = _row_of_run(table, cfg), cfg.max_epochs
        assert json.loads(table.config_json[i]) == cfg.to_dict()
        assert table.config_ids[i] == cfg.config_id()
        for name, want in (
            ("val_accuracy", tr.val_accuracy),
            ("test_accuracy", tr.test_accuracy),
            ("train_accuracy", tr.train_accuracy),
        ):
            m = table.metric(name)
            assert m.mask[i, : t_max + 1].all()
            assert not m.mask[i, t_max + 1 :].any()
            dev = m.values[i, 1 : t_max + 1] - want
            assert np.abs(dev).max() < 5 * ACC_NOISE_SD
            assert abs(dev.mean()) < 4 * ACC_NOISE_SD / np.sqrt(t_max)
            assert abs(m.values[i, 0] - tr.chance) < 5 * ACC_NOISE_SD  # the untrained net
        times = _per_epoch(table.metric("train_time_s").values[i], t_max)
        log_dev = np.log(times / tr.train_time_s)
        assert np.abs(log_dev).max() < 5 * TIME_NOISE_REL
        assert abs(log_dev.mean()) < 4 * TIME_NOISE_REL / np.sqrt(t_max)
        for meter in METERS:
            k = table.energy.meters.index(CHANNELS[meter])
            cum = table.energy.energy_j[i, :, k]
            assert table.energy.mask[i, : t_max + 1, k].all()
            assert not table.energy.mask[i, t_max + 1 :, k].any()
            sd = float(np.hypot(TIME_NOISE_REL, ENERGY_NOISE_REL[meter]))
            assert abs(np.log(cum[0] / tr.setup_energy_j[meter])) < 5 * sd
            log_dev = np.log(_per_epoch(cum, t_max) / tr.energy_j[meter])
            assert np.abs(log_dev).max() < 5 * sd
            assert abs(log_dev.mean()) < 4 * sd / np.sqrt(t_max)
            total = cum[t_max] / tr.cumulative_energy_j(meter)[-1]
            assert abs(np.log(total)) < 5 * sd / np.sqrt(t_max) + 1e-3


def test_noise_free_sweep_is_the_truth(tmp_path: Path) -> None:
    runs = write_runlog_sweep(tmp_path / "logs", 4, SEED, noise=False)
    report = ingest([tmp_path / "logs"], tmp_path / "ds.h5")
    assert report.failed == 0
    table = open_dataset(tmp_path / "ds.h5").table("regnet-hpo", "cifar10", "runs")
    assert table.energy is not None
    for cfg, tr in runs:
        i, t_max = _row_of_run(table, cfg), cfg.max_epochs
        for name in ("val_accuracy", "test_accuracy", "train_accuracy", "train_loss"):
            got = table.metric(name).values[i, 1 : t_max + 1]
            np.testing.assert_array_equal(got, getattr(tr, name))
        np.testing.assert_allclose(
            table.metric("train_time_s").values[i, : t_max + 1],
            tr.cumulative_train_time_s(),
            rtol=0,
            atol=1e-9 * (t_max + 1),  # windows are whole nanoseconds
        )
        for meter, atol in ((METERS[0], 5e-4 * (t_max + 1)), (METERS[1], 1e-6)):
            k = table.energy.meters.index(CHANNELS[meter])
            np.testing.assert_allclose(  # the counter counts whole mJ
                table.energy.energy_j[i, : t_max + 1, k],
                tr.cumulative_energy_j(meter),
                rtol=1e-9,
                atol=atol,
            )


def test_simulated_marking_is_visible_in_the_dataset(runlog_sweep: Sweep) -> None:
    _, _, table, _ = runlog_sweep
    energy = table.energy
    assert energy is not None
    assert energy.meters == tuple(sorted(CHANNELS.values()))
    assert "SIMULATED" in energy.flag_codes
    assert energy.flag_severities["SIMULATED"] == "invalid"
    hit = energy.has_flag("SIMULATED")
    assert hit[energy.mask].all()  # every run, fidelity (0 = setup) and channel with energy
    assert (energy.severity[energy.mask] == 3).all()
    for prov in energy.provenance:
        assert prov["simulated"] is True
        assert prov["backend"] == BACKEND
        assert prov["policy_id"] == "eabench-quality-v1"
    # no flag beyond what the policy derives for these simulated meters
    assert set(energy.flag_codes) == {
        "PART_TIME_SENSOR",  # H100 instant power: the sensor sees 25 ms of every 100 ms
        "POLLING_WHERE_COUNTER_AVAILABLE",
        "SIMULATED",
        "WARMUP",  # epoch 0 and the setup window
    }


def test_runlog_files_are_valid_and_internally_consistent(
    runlog_sweep: Sweep, repo_root: Path
) -> None:
    _, _, _, logs = runlog_sweep
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((repo_root / "eabench" / "logs" / "runlog.schema.json").read_text())
    validator = jsonschema.Draft202012Validator(schema)
    paths = sorted(logs.glob(f"*{RUNLOG_SUFFIX}"))
    for path in paths[:3]:
        for line in path.read_text().splitlines():
            validator.validate(json.loads(line))
    for path in paths:
        log = read_run_log(path)
        h = log.header
        assert log.complete
        assert not log.torn_tail
        assert h.source["simulated"] is True
        assert h.source["kind"] == "eabench"
        assert h.hardware["simulated"] is True
        assert [f.code for f in h.flags] == ["SIMULATED"]
        assert all(m["simulated"] for m in h.meters)
        assert h.setup is not None
        windows = [h.setup.readings, *(rec.readings for rec in log.epochs)]
        prev_end = 0
        for rec_readings in windows:
            assert [r.meter for r in rec_readings] == list(METERS)
            counter, poll = rec_readings
            for r in rec_readings:
                assert r.simulated
                assert "SIMULATED" in r.flag_codes
                assert r.duration_s == (r.window_end_mono_ns - r.window_start_mono_ns) / 1e9
                assert r.energy_j is not None
                assert r.mean_power_w == pytest.approx(r.energy_j / r.duration_s)
                assert r.window_start_mono_ns >= prev_end
            assert counter.window_start_mono_ns == poll.window_start_mono_ns
            assert counter.raw_start is not None
            assert counter.raw_end is not None
            assert counter.energy_j == (counter.raw_end - counter.raw_start) / 1000
            assert poll.samples_expected is not None
            assert poll.samples_taken is not None
            assert poll.requested_rate_hz is not None
            assert poll.duration_s is not None
            assert poll.samples_expected == int(poll.duration_s * poll.requested_rate_hz + 1e-9)
            assert poll.samples_expected - 1 <= poll.samples_taken <= poll.samples_expected + 1
            assert poll.edge_gap_start_s is not None
            assert poll.edge_gap_end_s is not None
            assert max(poll.edge_gap_start_s, poll.edge_gap_end_s) <= 1 / poll.requested_rate_hz
            prev_end = counter.window_end_mono_ns
        # the counter keeps counting across windows
        raws = [(w[0].raw_start, w[0].raw_end) for w in windows]
        assert all(a[1] == b[0] for a, b in itertools.pairwise(raws))
        for rec in log.epochs:
            assert rec.train_time_s == rec.readings[0].duration_s


def test_writers_give_identical_bytes_and_are_deterministic(tmp_path: Path) -> None:
    direct = write_runlog_sweep(tmp_path / "direct", 3, 11, verify=True)
    write_runlog_sweep(tmp_path / "writer", 3, 11, writer="runlog_writer")
    write_runlog_sweep(tmp_path / "again", 3, 11, workers=2)
    names = sorted(p.name for p in (tmp_path / "direct").iterdir())
    assert len(names) == 3
    for other in ("writer", "again"):
        assert sorted(p.name for p in (tmp_path / other).iterdir()) == names
        for name in names:
            want = (tmp_path / "direct" / name).read_bytes()
            assert (tmp_path / other / name).read_bytes() == want
    other_seed = write_runlog_sweep(tmp_path / "other", 3, 12)
    assert [c for c, _ in other_seed] != [c for c, _ in direct]
    # the same configs for both formats and any prefix of n_runs
    assert [c for c, _ in direct] == sample_configs(3, 11) == sample_configs(5, 11)[:3]


# ----------------------------------------------------------------------------- pycls
def test_pycls_sweep_follows_the_fixture_layout(pycls_sweep: Sweep, repo_root: Path) -> None:
    _, _, _, folder = pycls_sweep
    fixture = repo_root / "tests" / "fixtures" / "pycls"
    want_job = json.loads((fixture / "sweep.json").read_text())[0]
    want_row = json.loads((fixture / "sweep_energy.json").read_text())[0]
    job = json.loads((folder / "sweep.json").read_text())[0]
    row = json.loads((folder / "sweep_energy.json").read_text())[0]

    def keys(obj: object, prefix: str = "") -> set[str]:
        if not isinstance(obj, dict):
            return {prefix}
        return {k for key, v in obj.items() for k in keys(v, f"{prefix}.{key}")}

    assert keys(job) == keys(want_job)
    assert keys(row) == keys(want_row)
    assert row["train_epoch"]["time_epoch"] == job["train_epoch"]["time_epoch"]
    assert job["log_file"].startswith("/SIMULATED/")


def test_pycls_sweep_ingests_and_matches_the_truth(pycls_sweep: Sweep) -> None:
    runs, report, table, _ = pycls_sweep
    assert report.failed == 0
    assert report.ingested == N_RUNS
    assert report.formats == {"pycls-sweep": 1}
    assert report.tables == {"regnet-hpo/cifar10/pycls_runs": N_RUNS}
    assert table.row_paths is not None
    assert table.config_json is not None
    energy = table.energy
    assert energy is not None
    assert energy.meters == ("gpu.smi_poll:gpu:0",)
    assert "val_accuracy" not in table.metrics  # pycls has no validation split
    sd = float(np.hypot(TIME_NOISE_REL, ENERGY_NOISE_REL[METERS[1]]))
    for row, (cfg, tr) in enumerate(runs):
        hits = np.flatnonzero(table.row_paths == f"sweep.json#{row}")
        assert hits.size == 1
        i, t_max = int(hits[0]), cfg.max_epochs
        assert json.loads(table.config_json[i]) == cfg.to_dict()
        for name, want in (
            ("test_accuracy", tr.test_accuracy),
            ("train_accuracy", tr.train_accuracy),
        ):
            m = table.metric(name)
            assert not m.mask[i, 0]
            assert m.mask[i, 1 : t_max + 1].all()
            dev = m.values[i, 1 : t_max + 1] - want
            assert np.abs(dev).max() < 5 * ACC_NOISE_SD
            assert abs(dev.mean()) < 4 * ACC_NOISE_SD / np.sqrt(t_max)
        # no setup window in this format: nothing at fidelity 0
        assert not table.metric("train_time_s").mask[i, 0]
        assert not energy.mask[i, 0, 0]
        times = np.diff(table.metric("train_time_s").values[i, 1 : t_max + 1], prepend=0.0)
        assert np.abs(np.log(times / tr.train_time_s)).max() < 5 * TIME_NOISE_REL
        per_epoch = np.diff(energy.energy_j[i, 1 : t_max + 1, 0], prepend=0.0)
        log_dev = np.log(per_epoch / tr.energy_j[METERS[1]])  # the polled meter's truth
        assert np.abs(log_dev).max() < 5 * sd
        assert abs(log_dev.mean()) < 4 * sd / np.sqrt(t_max)
    # the format cannot say "simulated": nothing in the table does
    assert "SIMULATED" not in energy.flag_codes
    assert all(p["simulated"] is False for p in energy.provenance)
