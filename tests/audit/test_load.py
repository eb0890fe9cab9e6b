"""Building AuditData from run logs, run-log folders and consolidated dataset tables."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from eabench.audit import concat_runs, from_dataset_table, from_run_logs, load_input
from eabench.audit.load import device_for
from eabench.errors import InvalidArgumentError
from eabench.logs import RunLog, RunLogWriter
from eabench.logs.build import table_from_runs, write_dataset
from eabench.logs.dataset import open_dataset


def test_from_run_logs_channels_windows_and_flags(sim_logs: list[RunLog]) -> None:
    data = from_run_logs(sim_logs[:5])
    assert data.shape == (5, 5, 6)
    assert "gpu.smi_poll/gpu" in data.channels
    assert data.components[data.channel_index("node.external/node_wall")] == "node"
    assert data.simulated
    rec = sim_logs[0].epochs[2]
    r = next(x for x in rec.readings if x.meter == "gpu.smi_poll")
    c = data.channel_index("gpu.smi_poll/gpu")
    assert data.energy_j[0, 2, c] == r.energy_j
    assert data.samples_taken[0, 2, c] == r.samples_taken
    assert data.device.max_power_w == 700.0  # the run log's power limit
    for code in r.flag_codes:
        assert data.flags[0, 2, c, data.flag_codes.index(code)]


def test_dataset_table_gives_the_same_windows(sim_logs: list[RunLog], tmp_path: Path) -> None:
    logs = sim_logs[:6]
    table = table_from_runs(
        logs, space="simulated", dataset="simulated", name="runs", description="SIMULATED"
    )
    path = write_dataset(tmp_path / "d.h5", [table], {"simulated": {"name": "SIMULATED"}})
    rt = open_dataset(path).table("simulated", "simulated", "runs")
    from_ds = from_dataset_table(rt)
    from_logs = from_run_logs(logs)
    assert from_ds.channels == from_logs.channels
    assert np.allclose(from_ds.energy_j, from_logs.energy_j, rtol=1e-9)
    assert np.allclose(from_ds.duration_s, from_logs.duration_s, rtol=1e-9)
    c = from_ds.channel_index("gpu.smi_poll/gpu")
    expected = np.floor(from_logs.duration_s[:, :, c] * 10.0)
    assert np.array_equal(from_ds.samples_expected[:, :, c], expected)
    assert np.isnan(from_ds.samples_taken).all()  # the dataset keeps no counts
    # flags are unions so far: a superset of the per-window flags
    assert np.all(from_ds.flags[..., : from_ds.flags.shape[-1]] >= 0)
    k = from_ds.flag_codes.index("UNDER_SAMPLED")
    kl = from_logs.flag_codes.index("UNDER_SAMPLED")
    assert np.all(from_ds.flags[:, :, c, k] >= from_logs.flags[:, :, c, kl])


def test_load_input_reads_runlog_folder_and_dataset(sim_logs: list[RunLog], tmp_path: Path) -> None:
    folder = tmp_path / "runs"
    for lg in sim_logs[:3]:
        with RunLogWriter.open(folder, lg.header) as w:
            for rec in lg.epochs:
                w.append(rec)
    data = load_input(folder, off_socket_bounds_w=(110.0, 130.0))
    assert data.shape[0] == 3
    assert data.off_socket_bounds_w == (110.0, 130.0)
    (tmp_path / "empty").mkdir()
    with pytest.raises(InvalidArgumentError, match=r"no \*\.runlog\.jsonl"):
        load_input(tmp_path / "empty")
    with pytest.raises(InvalidArgumentError, match="dataset file or a folder"):
        load_input(tmp_path / "missing")


def test_concat_runs_pads_and_unions_channels(sim_logs: list[RunLog]) -> None:
    a = from_run_logs(sim_logs[:2])
    b = from_run_logs(sim_logs[2:3])
    both = concat_runs([a, b])
    assert both.shape == (3, 5, 6)
    assert np.array_equal(both.energy_j[:2], a.energy_j, equal_nan=True)


def test_device_for_uses_power_limit_then_datasheet() -> None:
    assert device_for("x", 300.0).max_power_w == 300.0
    d = device_for("NVIDIA Quadro RTX 6000")
    assert d.max_power_w == 295.0
    assert "datasheet" in d.source
    assert device_for("unknown GPU").max_power_w is None


@pytest.mark.shared
def test_real_ecnas_runs_show_carbontracker_undersampling(shared_data: Path) -> None:
    """A few real EC-NAS 4V runs: 10 s polling against ~20 s epochs (implied counts)."""
    from eabench.audit.stats import sampling_stats

    root = shared_data / "ecnas" / "train_model_results" / "energy" / "4V9E"
    files = sorted(root.rglob("results.json"))[:12]
    from eabench.logs.adapters.ecnas_results import read_ecnas_results

    data = from_run_logs([read_ecnas_results(f) for f in files])
    assert data.channels == ("carbontracker/gpu+package",)
    assert data.pue_applied == pytest.approx(1.59)
    s = sampling_stats(data, "carbontracker/gpu+package")
    assert s is not None
    assert s.epoch_s_median is not None
    assert 10 < s.epoch_s_median < 60
    assert s.samples_per_epoch_median is not None
    assert s.samples_per_epoch_median < 5
    assert s.share_few_samples is not None
    assert s.share_few_samples > 0.5
    assert data.run_gpu_power_w is not None
    assert np.all(data.run_gpu_power_w > 50)


def test_utilisation_is_read_from_epoch_extra(sim_logs: list[RunLog]) -> None:
    import dataclasses

    from eabench.audit.load import UTILISATION_KEY

    logs = [
        dataclasses.replace(
            lg,
            epochs=tuple(
                dataclasses.replace(rec, extra={UTILISATION_KEY: 0.1 * (k + 1)})
                for k, rec in enumerate(lg.epochs)
            ),
        )
        for lg in sim_logs[:2]
    ]
    data = from_run_logs(logs)
    assert data.utilisation is not None
    assert np.allclose(data.utilisation[0], [0.1, 0.2, 0.3, 0.4, 0.5])
    assert from_run_logs(sim_logs[:2]).utilisation is None
