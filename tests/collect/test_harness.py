"""End to end: the committed smoke sweep trains 2 tiny RegNets on real CIFAR-10 images with fake
meters, writes valid run logs, is idempotent, extends prefixes, runs through submitit's debug
executor, and reports failures with reasons."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from eabench.collect.harness import collect, plan_status
from eabench.collect.spec import SweepSpec, parse_spec
from eabench.logs import read_run_log

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

pytest.importorskip("torch")


def smoke_raw(repo_root: Path, name: str = "smoke_regnet_hpo") -> dict[str, Any]:
    path = repo_root / "data_collection" / "sweeps" / f"{name}.toml"
    return tomllib.loads(path.read_text())


def smoke_spec(repo_root: Path, out: Path, **protocol: Any) -> SweepSpec:
    """The committed smoke spec, writing into ``out`` (and caching decoded images there)."""
    raw = smoke_raw(repo_root)
    raw["sweep"]["output_dir"] = str(out)
    raw["data"]["cache_dir"] = str(out / "cache")
    raw["protocol"].update(protocol)
    return parse_spec(raw, base_dir=repo_root / "data_collection" / "sweeps")


def _logs(out: Path) -> dict[str, Any]:
    return {p.name: read_run_log(p) for p in sorted((out / "logs").glob("*.runlog.jsonl"))}


def test_smoke_sweep_end_to_end_then_idempotent(repo_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    spec = smoke_spec(repo_root, out, epoch_limit=1)
    summary = collect(spec, progress=False)
    assert summary.counts["trained"] == 2, summary.render()
    assert summary.epochs_trained == 2
    assert set(summary.energy_j_by_meter) == {"gpu.nvml_counter", "gpu.nvml_power"}
    assert summary.simulated_meters == ("gpu.nvml_counter", "gpu.nvml_power")
    assert "(SIMULATED)" in summary.render()
    assert summary.cpu_hours > 0
    assert summary.gpu_hours == 0
    logs = _logs(out)
    assert len(logs) == 2
    for log in logs.values():
        h = log.header
        assert h.space == "regnet-hpo"
        assert h.max_epochs == 50
        assert h.protocol["version"] == "eabench-collect-protocol-1"
        assert h.protocol["data"]["jpeg_reencoded"] is True
        assert h.protocol["fixed_settings"]["label_smoothing"] == pytest.approx(0.1)
        assert [e.epoch for e in log.epochs] == [0]
        for e in log.epochs:
            for name in ("train_accuracy", "val_accuracy", "test_accuracy"):
                assert 0.0 <= getattr(e, name) <= 1.0
            assert e.train_loss is not None
            assert e.train_loss > 0
            assert e.train_time_s > 0
            assert e.eval_time_s > 0
            windows = {(r.meter, r.window_name) for r in e.readings}
            assert windows == {
                (m, w) for m in ("gpu.nvml_counter", "gpu.nvml_power") for w in ("train", "eval")
            }
            assert all(r.simulated and "SIMULATED" in r.flag_codes for r in e.readings)
            assert e.extra["ema_test_accuracy"] is not None  # the EMA model is evaluated too
        # a 1-epoch prefix of a 50-epoch schedule keeps its checkpoint for later extension
        assert (out / "checkpoints" / h.run_id / "epoch_0.pt").is_file()
    # every line validates against the run-log JSON Schema (format v1)
    jsonschema = pytest.importorskip("jsonschema")
    schema_path = repo_root / "eabench" / "logs" / "runlog.schema.json"
    validator = jsonschema.Draft202012Validator(json.loads(schema_path.read_text()))
    for path in (out / "logs").iterdir():
        for line in path.read_text().splitlines():
            validator.validate(json.loads(line))
    before = {p: p.read_bytes() for p in (out / "logs").iterdir()}

    again = collect(spec, progress=False)
    assert again.counts["already_done"] == 2
    assert again.epochs_trained == 0
    assert {p: p.read_bytes() for p in (out / "logs").iterdir()} == before
    doc = json.loads((out / "sweeps" / "smoke_regnet_hpo.summary.json").read_text())
    assert doc["counts"]["already_done"] == 2

    # the logs are what `eabench ingest` consumes
    from eabench.logs import open_dataset
    from eabench.logs.ingest import ingest

    report = ingest([out / "logs"], tmp_path / "ds.h5")
    assert report.ingested == 2
    table = open_dataset(tmp_path / "ds.h5").table("regnet-hpo", "cifar10", "runs")
    assert table.n_rows == 2
    assert table.energy is not None
    assert {m.split(":")[0] for m in table.energy.meters} == {"gpu.nvml_counter", "gpu.nvml_power"}
    assert "SIMULATED" in table.energy.flag_codes

    longer = collect(smoke_spec(repo_root, out, epoch_limit=2), progress=False)
    assert longer.counts["trained"] == 2
    assert longer.epochs_trained == 2
    assert {o.resumed_from_epoch for o in longer.outcomes} == {1}
    for log in _logs(out).values():
        assert [e.epoch for e in log.epochs] == [0, 1]
        assert (out / "checkpoints" / log.run_id / "epoch_1.pt").is_file()
        assert not (out / "checkpoints" / log.run_id / "epoch_0.pt").exists()


def test_submitit_debug_executor_runs_the_real_task(repo_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    spec = smoke_spec(repo_root, out, epoch_limit=1).with_executor("submitit-debug")
    summary = collect(spec, progress=False)
    assert summary.counts["trained"] == 2, summary.render()
    assert all(len(log.epochs) == 1 for log in _logs(out).values())


def test_failures_are_reported_with_reasons(repo_root: Path, tmp_path: Path) -> None:
    raw = smoke_raw(repo_root)
    raw["sweep"]["output_dir"] = str(tmp_path / "sweep")
    raw["data"] = {"source": str(tmp_path / "missing.npz"), "cache_dir": str(tmp_path / "c")}
    spec = parse_spec(raw, base_dir=tmp_path)
    planned = plan_status(spec)
    assert len(planned) == 2
    assert not any(p.finished for p in planned)
    with pytest.raises(Exception, match="no CIFAR-10 JPEG pack"):
        collect(spec, progress=False)  # the data is prepared once, before any worker starts
    # on SLURM there is no preparation step: each task fails alone, with the reason
    from eabench.collect.runner import run_task

    outcome = run_task(planned[0].task)
    assert outcome.status == "failed"
    assert "no CIFAR-10 JPEG pack" in (outcome.error or "")
    failures = (tmp_path / "sweep" / "sweeps" / "smoke_regnet_hpo.failures.jsonl").read_text()
    failures = failures.splitlines()
    assert json.loads(failures[0])["run_id"] == planned[0].task.run_id


@pytest.mark.shared
def test_smoke_sweep_on_a_subset_of_the_real_pack(
    repo_root: Path, tmp_path: Path, shared_data: Path
) -> None:
    import numpy as np

    pack = np.load(shared_data / "cifar10" / "cifar10_jpeg.npz")
    rng = np.random.default_rng(0)
    sub: dict[str, Any] = {"classes": pack["classes"]}
    for split, n in (("train", 200), ("test", 50)):
        y, jpeg, off = pack[f"{split}_labels"], pack[f"{split}_jpeg"], pack[f"{split}_offsets"]
        idx = np.sort(rng.choice(len(y), size=n, replace=False))
        blobs = [jpeg[off[i] : off[i + 1]] for i in idx]
        sub[f"{split}_jpeg"] = np.concatenate(blobs)
        sub[f"{split}_offsets"] = np.concatenate([[0], np.cumsum([len(b) for b in blobs])])
        sub[f"{split}_labels"] = y[idx]
    np.savez(tmp_path / "subset.npz", **sub)
    raw = smoke_raw(repo_root)
    raw["sweep"]["output_dir"] = str(tmp_path / "sweep")
    raw["data"] = {"source": str(tmp_path / "subset.npz"), "cache_dir": str(tmp_path / "c")}
    raw["protocol"].update(epoch_limit=1)
    summary = collect(parse_spec(raw, base_dir=tmp_path), progress=False)
    assert summary.counts["trained"] == 2, summary.render()


def test_7v_smoke_sweep_trains_each_budget_as_a_full_schedule(
    repo_root: Path, tmp_path: Path
) -> None:
    raw = smoke_raw(repo_root, "smoke_nb101_7v")
    raw["sweep"]["output_dir"] = str(tmp_path / "sweep")
    raw["data"]["cache_dir"] = str(tmp_path / "cache")
    raw["protocol"]["budgets"] = [1]
    spec = parse_spec(raw, base_dir=repo_root / "data_collection" / "sweeps")
    summary = collect(spec, progress=False)
    assert summary.counts["trained"] == 2, summary.render()
    for log in _logs(tmp_path / "sweep").values():
        assert log.header.space == "nb101-7v"
        assert log.header.max_epochs == 1
        assert log.complete
        assert log.header.protocol["fixed_settings"]["optimizer"] == "rmsprop"
        assert log.header.protocol["fixed_settings"]["network"]["stem_channels"] == 16
        assert 0.0 <= log.epochs[0].test_accuracy <= 1.0
        # the whole schedule is done: nothing is left to resume, the checkpoint is gone
        assert not (tmp_path / "sweep" / "checkpoints" / log.run_id).exists()


def test_calibration_profile_adds_holistic_bounds(repo_root: Path, tmp_path: Path) -> None:
    from eabench.collect.environment import hardware_info
    from eabench.meters.calibration import CalibrationRun, build_profile

    profile = build_profile(
        CalibrationRun("idle", 60.0, p_wall_mean_w=150.0, p_on_mean_w=100.0),
        [CalibrationRun("prime", 60.0, p_wall_mean_w=600.0, p_on_mean_w=400.0)],
        fingerprint=str(hardware_info("cpu")["host_fingerprint"]),
    )
    profile.save(tmp_path / "profile.json")
    raw = smoke_raw(repo_root)
    raw["sweep"]["output_dir"] = str(tmp_path / "sweep")
    raw["data"]["cache_dir"] = str(tmp_path / "cache")
    raw["sampler"]["configs"] = raw["sampler"]["configs"][:1]
    raw["protocol"]["epoch_limit"] = 1
    raw["calibration"] = {"profile": str(tmp_path / "profile.json")}
    summary = collect(parse_spec(raw, base_dir=repo_root / "data_collection" / "sweeps"))
    assert summary.counts["trained"] == 1, summary.render()
    (log,) = _logs(tmp_path / "sweep").values()
    assert any(m["meter"] == "node.holistic" for m in log.header.meters)
    holistic = [r for r in log.epochs[0].readings if r.meter == "node.holistic"]
    assert {r.window_name for r in holistic} == {"train", "eval"}
    for r in holistic:
        params = r.model["params"]
        assert "CALIBRATION_APPLIED" in r.flag_codes
        if r.energy_j is not None:  # the fake counter can read 0 J in a short window
            assert params["lower_j"] <= r.energy_j <= params["upper_j"]
