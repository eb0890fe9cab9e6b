"""SIMULATED RegNet x HPO sweeps with a known truth (test-only helper, never shipped).

Nothing here is a measurement. :func:`truth` is a deterministic, smooth, made-up function of a
:class:`~eabench.spaces.regnet_hpo.RegNetHPOConfig` that gives the noise-free per-epoch curves of
one training: validation/test/train accuracy, train loss, train and eval time, and the energy of
two GPU meters (``gpu.nvml_counter`` and ``gpu.nvml_power``) per train window, eval window and the
setup window before training. The writers turn sampled configs into raw data with seeded
observation noise, so tests can check that ingestion (and anything downstream, e.g. surrogates)
recovers the truth:

* :func:`write_runlog_sweep`: run-log format v1 files (one ``<run_id>.runlog.jsonl`` per config),
  every epoch ``1..max_epochs``, per-window :class:`~eabench.meters.provenance.MeterReading` s of
  both meters carrying ``simulated=True`` and the flags of the project's quality policy
  (:func:`eabench.meters.flags.apply_policy`, which adds ``SIMULATED``), exactly as the fake
  meters of a smoke collection do. The header says simulated in ``source``, ``hardware``,
  ``protocol``, ``meters`` and a run-level ``SIMULATED`` flag.
* :func:`write_pycls_sweep`: the same truth as an EA-HAS-Bench/pycls ``sweep.json`` plus the
  energy ("cost") rows ``sweep_energy.json`` (see :mod:`eabench.logs.adapters.pycls`). That format
  has no field for "simulated": the only marks are the ``log_file``/``err_file`` paths (under
  ``/SIMULATED/``), which ingestion drops, so a pycls-format simulated sweep is NOT marked as
  simulated in the dataset.

The model (all units SI; ``T = max_epochs``, ``u = t / T`` the schedule fraction of epoch ``t``):

* plateau ``A``: a logistic function of log FLOPs/params/acts, depth, the learning rate's distance
  to the optimizer's optimum (sgd 0.1, adam/adamw 0.003), optimizer, LR policy, cutout (helps
  long schedules, hurts 50 epochs) and ``T`` (longer schedules reach more), between chance and
  0.98.
* curve ``val(t) = chance + (A - chance) * h(u)``, ``h(u) = (1 - d) (1 - e^{-k u}) / (1 - e^{-k})
  + d u^3``: ``h(0) = 0``, ``h(1) = 1``; the speed ``k`` grows with a good learning rate and
  falls mildly with ``T`` (``k ~ (T / 50)^-0.15``); ``d`` is the end-of-schedule annealing gain
  of the LR policy. Prefix semantics: a 200-epoch run progresses more slowly per schedule
  fraction than a 50-epoch one, and much more slowly per epoch (epoch ``t`` is at ``u = t / 200``,
  well below epoch ``t`` of a shorter schedule, whose curve has already annealed).
* ``test = val * (1 - gap)``, ``gap`` in [0.6 %, 1.3 %] (larger without cutout and for more
  params); ``train`` approaches ``A + 0.6 (1 - A)``; ``train_loss`` falls from ``ln(classes)``.
* train time per epoch: ``1.8 s + 5.5 s * flops / 125M + 2.5 s * acts / 850k + 0.4 s * params /
  1.5M`` (+0.2 s for adam/adamw, +0.3 s with cutout), the first epoch 12 % longer (autotune).
* power of the counter meter: ``85 W + 190 W (flops / 125M)^0.7 (0.8 + 0.2 acts / 850k) + 25 W
  params / 1.5M``; the polled meter reads ``1.5 %..3.5 %`` higher (depends on acts). Energy per
  train window = power x time; eval windows draw 70 %, the setup window ``75 W + 25 %`` of the
  excess over 75 W.

Noise (``noise=True``; all from explicit seeded generators): accuracies + N(0, 0.004), times
x lognormal(0.02), counter energy x lognormal(0.005), polled energy x lognormal(0.015).
"""

from __future__ import annotations

import json
import math
import multiprocessing
import os
import tempfile
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt

import eabench
from eabench.logs.runlog_io import RunLogWriter, read_run_log, run_log_path
from eabench.logs.schema import EpochRecord, RunHeader, RunLog, SetupWindow
from eabench.meters.flags import apply_policy
from eabench.meters.provenance import Flag, MeterReading
from eabench.spaces.regnet_hpo import (
    RegNetHPOConfig,
    RegNetHPOSpace,
    derive_network,
    training_protocol,
)

__all__ = [
    "ACC_NOISE_SD",
    "BACKEND",
    "ENERGY_NOISE_REL",
    "METERS",
    "TIME_NOISE_REL",
    "CurveTruth",
    "sample_configs",
    "truth",
    "write_pycls_sweep",
    "write_runlog_sweep",
]

FloatArray = npt.NDArray[np.float64]

#: the two simulated meters, in the order of ``CurveTruth.power_w``
METERS: Final[tuple[str, str]] = ("gpu.nvml_counter", "gpu.nvml_power")
#: ``backend`` of every simulated reading (the SIMULATED flag's detail names it)
BACKEND: Final = "tests.simulated_regnet"
ACC_NOISE_SD: Final = 0.004
TIME_NOISE_REL: Final = 0.02
ENERGY_NOISE_REL: Final[Mapping[str, float]] = {"gpu.nvml_counter": 0.005, "gpu.nvml_power": 0.015}
POLL_RATE_HZ: Final = 10.0
_SWEEP_NAME: Final = "simulated-regnet-hpo"
_ACC_EPS: Final = 1e-4
_OPT_LOG10_LR: Final[Mapping[str, float]] = {"sgd": -1.0, "adam": -2.5, "adamw": -2.5}
_OPT_TERM: Final[Mapping[str, float]] = {"sgd": 0.0, "adamw": -0.005, "adam": -0.015}
_POLICY_TERM: Final[Mapping[str, float]] = {"cos": 0.0, "lin": -0.004, "exp": -0.012}
_POLICY_ANNEAL: Final[Mapping[str, float]] = {"cos": 0.12, "lin": 0.08, "exp": 0.03}
_T0_NS: Final = 1_000 * 10**9  # monotonic clock at the start of every run (like FakeClock)
_WALL0_NS: Final = 1_700_000_000 * 10**9
_COUNTER_OFFSET_MJ: Final = 5_000_000
_TRAIN_IMAGES: Final = 50_000
_DEVICE: Final[Mapping[str, Any]] = {
    "index": 0,
    "nvml_index": 0,
    "name": "SIMULATED NVIDIA H100 80GB HBM3",
    "uuid": "GPU-00000000-simu-0000-0000-000000000000",
    "pci_bus_id": "00000000:00:00.0",
    "arch": "hopper",
}


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


@dataclass(frozen=True, eq=False)
class CurveTruth:
    """The noise-free simulated training of one config (arrays over epochs ``1..max_epochs``).

    Per-epoch values (index ``t - 1`` for epoch ``t``): accuracies are fractions in (0, 1) after
    the epoch; ``train_time_s`` the train window's seconds; ``energy_j[meter]`` its joules.
    ``eval_time_s``/``eval_energy_j`` are per evaluation pass (after every epoch), ``setup_*``
    the window before training (where the untrained net scores ``chance``).
    """

    config: RegNetHPOConfig
    flops: int
    params: int
    acts: int
    chance: float
    plateau: float
    speed: float  # k of h(u) (see the module docstring)
    val_accuracy: FloatArray
    test_accuracy: FloatArray
    train_accuracy: FloatArray
    train_loss: FloatArray
    train_time_s: FloatArray
    eval_time_s: float
    power_w: Mapping[str, float]
    energy_j: Mapping[str, FloatArray]
    eval_energy_j: Mapping[str, float]
    setup_time_s: float
    setup_energy_j: Mapping[str, float]
    meters: tuple[str, ...] = field(default=METERS)

    @property
    def max_epochs(self) -> int:
        return int(self.val_accuracy.shape[0])

    @property
    def epochs(self) -> npt.NDArray[np.int64]:
        """``1..max_epochs`` (the table's fidelity values of the per-epoch arrays)."""
        return np.arange(1, self.max_epochs + 1, dtype=np.int64)

    def cumulative_train_time_s(self) -> FloatArray:
        """``(max_epochs + 1,)``: 0 at fidelity 0, then the summed train windows (table layout)."""
        return np.concatenate([[0.0], np.cumsum(self.train_time_s)])

    def cumulative_energy_j(self, meter: str) -> FloatArray:
        """``(max_epochs + 1,)``: setup window at fidelity 0, plus the train windows so far
        (the layout of ``energy/energy_j`` in a run table)."""
        return self.setup_energy_j[meter] + np.concatenate([[0.0], np.cumsum(self.energy_j[meter])])


def truth(config: RegNetHPOConfig | Mapping[str, Any]) -> CurveTruth:
    """The deterministic noise-free curves of ``config`` (see the module docstring)."""
    cfg = config if isinstance(config, RegNetHPOConfig) else RegNetHPOConfig.from_dict(config)
    cx = derive_network(cfg).complexity
    classes = training_protocol(cfg.dataset).num_classes
    chance = 1.0 / classes
    t_max = cfg.max_epochs
    rf, ra, rp = cx.flops / 1.25e8, cx.acts / 8.5e5, cx.params / 1.5e6
    lf, la, lp = math.log10(rf), math.log10(ra), math.log10(rp)
    lr_dist = math.log10(cfg.learning_rate) - _OPT_LOG10_LR[cfg.optimizer]
    long_schedule = math.log2(t_max / 50)
    terms = (
        0.06 * lf
        + 0.02 * lp
        - 0.01 * la
        + 0.004 * (cfg.depth - 10)
        - 0.035 * lr_dist**2
        + _OPT_TERM[cfg.optimizer]
        + _POLICY_TERM[cfg.lr_policy]
        + (0.004 * long_schedule - 0.002 if cfg.cutout else 0.0)
        + 0.012 * long_schedule
    )
    a_max = 0.98
    plateau = chance + (a_max - chance) * _sigmoid(2.3 + 15.0 * terms)
    speed = (1.5 + 4.0 * math.exp(-0.5 * lr_dist**2)) * (t_max / 50) ** -0.15
    anneal = _POLICY_ANNEAL[cfg.lr_policy]
    u = np.arange(1, t_max + 1, dtype=np.float64) / t_max
    h = (1 - anneal) * (1 - np.exp(-speed * u)) / (1 - math.exp(-speed)) + anneal * u**3
    val = chance + (plateau - chance) * h
    gap = 0.006 + (0.004 if cfg.cutout == 0 else 0.0) + 0.003 * _sigmoid(4 * lp)
    test = val * (1 - gap)
    train_top = plateau + 0.6 * (1 - plateau)
    train = chance + (train_top - chance) * h
    loss_end = 0.05 + 1.5 * (1 - train_top)
    train_loss = loss_end + (math.log(classes) - loss_end) * (1 - h)
    per_epoch = (
        1.8
        + 5.5 * rf
        + 2.5 * ra
        + 0.4 * rp
        + (0.2 if cfg.optimizer != "sgd" else 0.0)
        + (0.3 if cfg.cutout else 0.0)
    )
    time_s = np.full(t_max, per_epoch)
    time_s[0] *= 1.12
    eval_s = 0.35 + 0.09 * per_epoch
    p_counter = 85.0 + 190.0 * rf**0.7 * (0.8 + 0.2 * ra) + 25.0 * rp
    bias = 0.015 + 0.02 * _sigmoid(8 * la)
    power = {METERS[0]: p_counter, METERS[1]: p_counter * (1 + bias)}
    setup_s = 3.5 + 1.5 * rp
    setup_w = {m: 75.0 + 0.25 * (p - 75.0) for m, p in power.items()}
    return CurveTruth(
        config=cfg,
        flops=cx.flops,
        params=cx.params,
        acts=cx.acts,
        chance=chance,
        plateau=plateau,
        speed=speed,
        val_accuracy=val,
        test_accuracy=test,
        train_accuracy=train,
        train_loss=train_loss,
        train_time_s=time_s,
        eval_time_s=eval_s,
        power_w=power,
        energy_j={m: p * time_s for m, p in power.items()},
        eval_energy_j={m: 0.7 * p * eval_s for m, p in power.items()},
        setup_time_s=setup_s,
        setup_energy_j={m: w * setup_s for m, w in setup_w.items()},
    )


def sample_configs(n_runs: int, seed: int, dataset: str = "cifar10") -> list[RegNetHPOConfig]:
    """``n_runs`` distinct configs of ``RegNetHPOSpace(dataset)`` (training constraints).

    The configs depend on ``seed`` only (both writers sample the same ones for a seed)."""
    config_ss, _ = np.random.SeedSequence(seed).spawn(2)
    configs, stats = RegNetHPOSpace(dataset).sample_many(n_runs, np.random.default_rng(config_ss))
    if len(configs) != n_runs:  # pragma: no cover - sample_many has no attempt limit here
        raise AssertionError(f"sampled {len(configs)} of {n_runs} configs ({stats})")
    return configs


def _noise_seeds(n_runs: int, seed: int, stream: int) -> list[np.random.SeedSequence]:
    """One seed sequence per run (run ``i``'s noise does not depend on ``n_runs``)."""
    _, noise_ss = np.random.SeedSequence(seed).spawn(2)
    per_format = noise_ss.spawn(2)[stream]
    seeds: list[np.random.SeedSequence] = per_format.spawn(n_runs)
    return seeds


def _noisy_acc(rng: np.random.Generator, values: FloatArray, noise: bool) -> FloatArray:
    out = values + rng.normal(0.0, ACC_NOISE_SD, values.shape) if noise else values.copy()
    return np.clip(out, _ACC_EPS, 1 - _ACC_EPS)


def _rel(rng: np.random.Generator, sd: float, shape: int, noise: bool) -> FloatArray:
    return np.exp(rng.normal(0.0, sd, shape)) if noise else np.ones(shape)


# ------------------------------------------------------------------------------ run logs
@dataclass
class _Clock:
    """Simulated monotonic time of one run, in ns; the counter's raw value in mJ."""

    now_ns: int = _T0_NS
    counter_mj: int = _COUNTER_OFFSET_MJ


def _window_readings(
    run_id: str,
    epoch: int,
    window: str,
    clock: _Clock,
    duration_s: float,
    energy_j: Mapping[str, float],
    rng: np.random.Generator,
) -> tuple[MeterReading, ...]:
    """Both meters over one window starting at ``clock.now_ns`` (the clock is advanced)."""
    start = clock.now_ns
    end = start + max(1, round(duration_s * 1e9))
    dur = (end - start) / 1e9
    wall = _WALL0_NS + (start - _T0_NS)
    common: dict[str, Any] = {
        "run_id": run_id,
        "epoch": epoch,
        "window_name": window,
        "window_start_mono_ns": start,
        "window_end_mono_ns": end,
        "window_start_wall_ns": wall,
        "duration_s": dur,
        "backend": BACKEND,
        "backend_version": "simulated",
        "driver_version": "simulated",
        "nvml_version": "simulated",
        "scope": "gpu",
        "device": dict(_DEVICE),
        "uncertainty_rel": 0.05,
        "simulated": True,
    }
    # counter: whole mJ, as NVML's total-energy counter
    raw_start = clock.counter_mj
    raw_end = raw_start + round(energy_j[METERS[0]] * 1000)
    e_counter = (raw_end - raw_start) / 1000.0
    counter = MeterReading(
        reading_id=f"{run_id}/{epoch}/{window}/{METERS[0]}/0",
        meter=METERS[0],
        method="counter",
        quantity="energy_counter",
        api_call="nvmlDeviceGetTotalEnergyConsumption",
        integration="counter_delta",
        energy_j=e_counter,
        mean_power_w=e_counter / dur,
        sync_barrier="torch.cuda.synchronize",
        raw_start=raw_start,
        raw_end=raw_end,
        raw_unit="mJ",
        update_period_s=0.1,
        update_period_source="nominal",
        **common,
    )
    # polling at 10 Hz from a random phase; at most one interior poll missed
    period = 1.0 / POLL_RATE_HZ
    phase = float(rng.uniform(0.0, period))
    n_slots = math.floor((dur - phase) / period + 1e-9) + 1
    missed = int(n_slots > 2 and rng.random() < 0.3)
    taken = n_slots - missed
    last = phase + (n_slots - 1) * period
    e_poll = energy_j[METERS[1]]
    poll = MeterReading(
        reading_id=f"{run_id}/{epoch}/{window}/{METERS[1]}/0",
        meter=METERS[1],
        method="polling",
        quantity="power",
        api_call="nvmlDeviceGetFieldValues(NVML_FI_DEV_POWER_INSTANT=186)",
        integration="trapezoid" if taken > 1 else "instant_x_duration",
        energy_j=e_poll,
        mean_power_w=e_poll / dur,
        power_source_kind="instant",
        update_period_s=0.1,
        update_period_source="nominal",
        sensor_window_s=0.025,
        requested_rate_hz=POLL_RATE_HZ,
        achieved_rate_hz=(taken - 1) / (last - phase) if taken > 1 else None,
        samples_expected=math.floor(dur * POLL_RATE_HZ + 1e-9),
        samples_taken=taken,
        samples_unique=taken,
        poll_errors=0,
        max_gap_s=(2 if missed else 1) * period if taken > 1 else None,
        edge_gap_start_s=phase,
        edge_gap_end_s=max(0.0, dur - last),
        **common,
    )
    clock.now_ns = end
    clock.counter_mj = raw_end
    return apply_policy((counter, poll))


def _run_id(cfg: RegNetHPOConfig, seed: int) -> str:
    return f"sim-regnet-hpo-{cfg.config_id()[:16]}-e{cfg.max_epochs}-s{seed}"


def _simulated_runlog(
    cfg: RegNetHPOConfig, tr: CurveTruth, seed: int, rng: np.random.Generator, noise: bool
) -> RunLog:
    run_id = _run_id(cfg, seed)
    t_max = cfg.max_epochs
    val = _noisy_acc(rng, tr.val_accuracy, noise)
    test = _noisy_acc(rng, tr.test_accuracy, noise)
    train = _noisy_acc(rng, tr.train_accuracy, noise)
    loss = tr.train_loss * _rel(rng, TIME_NOISE_REL, t_max, noise)
    time_rel = _rel(rng, TIME_NOISE_REL, t_max + 1, noise)  # [0]: setup window
    eval_rel = _rel(rng, TIME_NOISE_REL, t_max, noise)
    e_rel = np.stack([_rel(rng, ENERGY_NOISE_REL[m], t_max + 1, noise) for m in METERS])
    setup_acc = _noisy_acc(rng, np.full(3, tr.chance), noise)
    clock = _Clock()

    setup_s = tr.setup_time_s * float(time_rel[0])
    setup_e = {
        m: tr.setup_energy_j[m] * float(time_rel[0] * e_rel[k, 0]) for k, m in enumerate(METERS)
    }
    setup = SetupWindow(
        wall_time_s=setup_s,
        readings=_window_readings(run_id, 0, "setup", clock, setup_s, setup_e, rng),
        metrics={
            "train_accuracy": float(setup_acc[0]),
            "val_accuracy": float(setup_acc[1]),
            "test_accuracy": float(setup_acc[2]),
        },
    )
    records: list[EpochRecord] = []
    for i in range(t_max):
        clock.now_ns += 50_000_000  # 50 ms between windows (data loader, logging)
        dt = float(tr.train_time_s[i] * time_rel[i + 1])
        energy = {
            m: float(tr.energy_j[m][i] * time_rel[i + 1] * e_rel[k, i + 1])
            for k, m in enumerate(METERS)
        }
        readings = _window_readings(run_id, i, "train", clock, dt, energy, rng)
        eval_s = tr.eval_time_s * float(eval_rel[i])
        clock.now_ns += round(eval_s * 1e9)
        records.append(
            EpochRecord(
                run_id=run_id,
                epoch=i,
                train_accuracy=float(train[i]),
                val_accuracy=float(val[i]),
                test_accuracy=float(test[i]),
                train_loss=float(loss[i]),
                train_time_s=readings[0].duration_s,
                eval_time_s=eval_s,
                readings=readings,
            )
        )
    proto = training_protocol(cfg.dataset)
    header = RunHeader(
        run_id=run_id,
        space=RegNetHPOSpace.name,
        dataset=cfg.dataset,
        source={
            "kind": "eabench",
            "sweep": _SWEEP_NAME,
            "simulated": True,
            "generator": BACKEND,
            "seed": seed,
        },
        config=cfg.to_dict(),
        config_id=cfg.config_id(),
        seed=proto.seed,
        max_epochs=t_max,
        hardware={
            "device": "cuda",
            "simulated": True,
            "hostname": "SIMULATED",
            "gpu_name": _DEVICE["name"],
            "gpu_uuid": _DEVICE["uuid"],
            "host_fingerprint": "SIMULATED",
        },
        software={"eabench": eabench.__version__, "generator": BACKEND},
        protocol={
            "simulated": True,
            "schedule_epochs": t_max,
            "batch_size": proto.batch_size_train,
            "noise": {
                "enabled": noise,
                "acc_sd": ACC_NOISE_SD,
                "time_rel": TIME_NOISE_REL,
                "energy_rel": dict(ENERGY_NOISE_REL),
            },
        },
        meters=(
            {"meter": METERS[0], "available": True, "reason": "simulated", "simulated": True},
            {
                "meter": METERS[1],
                "available": True,
                "reason": "simulated",
                "simulated": True,
                "requested_rate_hz": POLL_RATE_HZ,
            },
        ),
        flags=(Flag("SIMULATED", "invalid", f"synthetic run from {BACKEND}; not a measurement"),),
        setup=setup,
    )
    return RunLog(header=header, epochs=tuple(records))


def _json_line(obj: dict[str, Any]) -> bytes:
    """One run-log line, byte-identical to what :class:`RunLogWriter` writes."""
    text = json.dumps(obj, allow_nan=False, ensure_ascii=False, separators=(",", ":"))
    return text.encode("utf-8") + b"\n"


def _write_complete(directory: Path, log: RunLog) -> Path:
    """The whole run log in one atomic write (temp file + rename; no per-epoch fsync)."""
    path = run_log_path(directory, log.run_id)
    body = b"".join(
        [_json_line(log.header.to_dict()), *(_json_line(r.to_dict()) for r in log.epochs)]
    )
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(body)
        Path(tmp).replace(path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return path


def _write_one(
    out: Path,
    cfg: RegNetHPOConfig,
    seed: int,
    noise_seed: np.random.SeedSequence,
    noise: bool,
    writer: str,
    verify: bool,
) -> None:
    """Simulate and write one run (top level so that worker processes can run it)."""
    log = _simulated_runlog(cfg, truth(cfg), seed, np.random.default_rng(noise_seed), noise)
    if writer == "runlog_writer":
        with RunLogWriter.open(out, log.header) as w:
            for rec in log.epochs:
                w.append(rec)
        path = w.path
    else:
        path = _write_complete(out, log)
    if verify:
        back = read_run_log(path)
        assert back.header.to_dict() == log.header.to_dict()
        assert [r.to_dict() for r in back.epochs] == [r.to_dict() for r in log.epochs]
        assert back.complete
        assert not back.torn_tail


def write_runlog_sweep(
    out_dir: str | os.PathLike[str],
    n_runs: int,
    seed: int,
    *,
    noise: bool = True,
    writer: Literal["direct", "runlog_writer"] = "direct",
    verify: bool = False,
    workers: int = 1,
) -> list[tuple[RegNetHPOConfig, CurveTruth]]:
    """Write ``n_runs`` SIMULATED run logs (format v1) of distinct sampled configs.

    Args:
        out_dir: folder for the ``<run_id>.runlog.jsonl`` files (created).
        n_runs: number of configs (each one run, every epoch ``1..max_epochs``).
        seed: seeds the configs and the observation noise (deterministic output, whatever
            ``writer`` and ``workers``).
        noise: False writes the truth itself (counter energies rounded to whole mJ).
        writer: ``"runlog_writer"`` appends through :class:`RunLogWriter` (an fsync per epoch);
            ``"direct"`` writes each run's validated :class:`RunLog` (header, records and
            readings built and checked by the schema classes, flags by ``apply_policy``) as
            one complete file, atomically (temp file + rename), in the writer's exact line
            format (the tests check that both give identical bytes).
        verify: read every file back with :func:`read_run_log` and compare with what was built.
        workers: processes that write runs in parallel (1: in this process).

    Returns:
        ``(config, truth)`` per run, in the order the configs were sampled.
    """
    if writer not in ("direct", "runlog_writer"):
        raise ValueError(f"writer must be 'direct' or 'runlog_writer', not {writer!r}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    configs = sample_configs(n_runs, seed)
    seeds = _noise_seeds(n_runs, seed, stream=0)
    jobs = [
        (out, cfg, seed, ss, noise, writer, verify) for cfg, ss in zip(configs, seeds, strict=True)
    ]
    if workers > 1 and n_runs > 1:
        ctx = multiprocessing.get_context("forkserver")
        with ProcessPoolExecutor(workers, mp_context=ctx) as pool:
            list(pool.map(_write_one, *zip(*jobs, strict=True), chunksize=8))
    else:
        for job in jobs:
            _write_one(*job)
    return [(cfg, truth(cfg)) for cfg in configs]


# ------------------------------------------------------------------------------ pycls sweep
def _lr_schedule(cfg: RegNetHPOConfig) -> FloatArray:
    """pycls learning rate at the start of each epoch (5-epoch linear warm-up from 0.1 x)."""
    proto = training_protocol(cfg.dataset)
    e = np.arange(cfg.max_epochs, dtype=np.float64)
    u = e / cfg.max_epochs
    if cfg.lr_policy == "cos":
        base = 0.5 * (1 + np.cos(np.pi * u))
    elif cfg.lr_policy == "lin":
        base = 1 - u
    else:
        base = proto.min_lr_ratio**u
    lr = cfg.learning_rate * np.maximum(base, proto.min_lr_ratio)
    w = proto.warmup_epochs
    alpha = np.clip(e / w, 0.0, 1.0)
    warm = proto.warmup_factor * (1 - alpha) + alpha
    return lr * np.where(e < w, warm, 1.0)


def _r4(x: float) -> float:
    """pycls logs floats with 4 decimals (``logging.float_to_decimal``)."""
    return round(float(x), 4)


def _eta(seconds: float) -> str:
    s = round(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def _pycls_job(
    i: int, seed: int, cfg: RegNetHPOConfig, tr: CurveTruth, rng: np.random.Generator
) -> tuple[dict[str, Any], dict[str, Any]]:
    proto = training_protocol(cfg.dataset)
    t_max = cfg.max_epochs
    iters = _TRAIN_IMAGES // proto.batch_size_train  # drop_last
    train = _noisy_acc(rng, tr.train_accuracy, True)
    ema = _noisy_acc(rng, tr.test_accuracy, True)  # EMA model: the benchmark's test curve
    plain = _noisy_acc(rng, tr.test_accuracy - 0.003, True)
    loss = tr.train_loss * _rel(rng, TIME_NOISE_REL, t_max, True)
    time_epoch = [_r4(x) for x in tr.train_time_s * _rel(rng, TIME_NOISE_REL, t_max, True)]
    eval_epoch = [_r4(tr.eval_time_s * x) for x in _rel(rng, TIME_NOISE_REL, t_max, True)]
    poll = METERS[1]  # EA-HAS-Bench's GPUTracer polls nvidia-smi: the polled meter's truth
    e_rel = _rel(rng, ENERGY_NOISE_REL[poll], t_max, True)
    train_wh = [float(tr.power_w[poll] * time_epoch[k] * e_rel[k] / 3600.0) for k in range(t_max)]
    eval_rel = _rel(rng, ENERGY_NOISE_REL[poll], t_max, True)
    test_wh = [float(tr.eval_energy_j[poll] * eval_rel[k] / 3600.0) for k in range(t_max)]
    err_train = [_r4(100 * (1 - a)) for a in train]
    err_ema = [_r4(100 * (1 - a)) for a in ema]
    err_plain = [_r4(100 * (1 - a)) for a in plain]

    def top5(errs: list[float]) -> list[float]:
        return [_r4(e * 0.3) for e in errs]

    epochs = [f"{k + 1}/{t_max}" for k in range(t_max)]
    index = list(range(t_max))
    mem = int(300 + tr.acts / 800)
    remaining = np.cumsum(time_epoch[::-1])[::-1] - np.asarray(time_epoch)
    train_block = {
        "epoch": epochs,
        "epoch_ind": index,
        "epoch_max": [t_max] * t_max,
        "top1_err": err_train,
        "top5_err": top5(err_train),
        "loss": [_r4(x) for x in loss],
        "lr": [float(f"{x:.6g}") for x in _lr_schedule(cfg)],
        "time_avg": [_r4(t / iters) for t in time_epoch],
        "time_epoch": time_epoch,
        "eta": [_eta(float(s)) for s in remaining],
        "mem": [mem] * t_max,
    }

    def test_block(errs: list[float]) -> dict[str, Any]:
        t5 = top5(errs)
        return {
            "epoch": epochs,
            "epoch_ind": index,
            "epoch_max": [t_max] * t_max,
            "top1_err": errs,
            "top5_err": t5,
            "min_top1_err": np.minimum.accumulate(errs).tolist(),
            "min_top5_err": np.minimum.accumulate(t5).tolist(),
            "time_avg": [_r4(t / 10) for t in eval_epoch],
            "time_epoch": eval_epoch,
            "mem": [mem] * t_max,
        }

    per_iter = float(tr.train_time_s[-1]) / iters
    job = {
        "cfg": {
            "MODEL": {"TYPE": "anynet", "NUM_CLASSES": proto.num_classes},
            "REGNET": {
                "DEPTH": cfg.depth,
                "W0": cfg.w0,
                "WA": cfg.wa,
                "WM": cfg.wm,
                "GROUP_W": cfg.group_width,
                "BOT_MUL": proto.bottleneck_multiplier,
                "SE_ON": True,
                "STEM_W": proto.stem_width,
            },
            "OPTIM": {
                "BASE_LR": cfg.learning_rate,
                "MAX_EPOCH": t_max,
                "OPTIMIZER": cfg.optimizer,
                "LR_POLICY": cfg.lr_policy,
                "MOMENTUM": proto.sgd_momentum,
                "NESTEROV": proto.sgd_nesterov,
                "WEIGHT_DECAY": proto.weight_decay,
                "WARMUP_EPOCHS": proto.warmup_epochs,
            },
            "TRAIN": {
                "DATASET": cfg.dataset,
                "BATCH_SIZE": proto.batch_size_train,
                "IM_SIZE": proto.input_size_px,
                "CUTOUT_LENGTH": cfg.cutout,
                "MIXED_PRECISION": proto.mixed_precision,
            },
            "TEST": {"BATCH_SIZE": proto.batch_size_test},
            "RNG_SEED": proto.seed,
        },
        "complexity": {"flops": tr.flops, "params": tr.params, "acts": tr.acts},
        "iter_times": {
            "test_fw_time": _r4(tr.eval_time_s / 10),
            "train_fw_time": _r4(per_iter / 3),
            "train_bw_time": _r4(2 * per_iter / 3),
            "train_fw_bw_time": _r4(per_iter),
            "train_loader_time": _r4(per_iter / 50),
        },
        "epoch_times": {
            "test_fw_time": _r4(tr.eval_time_s),
            "train_fw_bw_time": _r4(per_iter * iters),
            "train_loader_time": _r4(per_iter * iters / 50),
        },
        "train_epoch": train_block,
        "test_epoch": test_block(err_plain),
        "test_ema_epoch": test_block(err_ema),
        # the format has no "simulated" field: the paths are the only mark (dropped on ingest)
        "log_file": f"/SIMULATED/{BACKEND}/seed{seed}/logs/{i:06d}/stdout.log",
        "err_file": f"/SIMULATED/{BACKEND}/seed{seed}/logs/{i:06d}/stderr.log",
        "err": "",
    }
    energy = {
        "cons": {"train_cons": train_wh, "test_cons": test_wh},
        "train_epoch": {"time_epoch": time_epoch},
    }
    return job, energy


def write_pycls_sweep(
    path: str | os.PathLike[str], n_runs: int, seed: int
) -> list[tuple[RegNetHPOConfig, CurveTruth]]:
    """Write a SIMULATED EA-HAS-Bench/pycls sweep into the folder ``path``.

    Files: ``sweep.json`` (one job per config, as ``tools/sweep_collect.py`` writes it) and
    ``sweep_energy.json`` (the energy rows, paired by position; watt-hours of the polled meter
    ``gpu.nvml_power`` truth, ingested as ``gpu.smi_poll``). Same configs as
    :func:`write_runlog_sweep` for the same seed; noise is always on; values are rounded to 4
    decimals like pycls logs, except the energies. Returns ``(config, truth)`` in row order.
    """
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    configs = sample_configs(n_runs, seed)
    seeds = _noise_seeds(n_runs, seed, stream=1)
    jobs, rows, result = [], [], []
    for i, (cfg, ss) in enumerate(zip(configs, seeds, strict=True)):
        tr = truth(cfg)
        job, row = _pycls_job(i, seed, cfg, tr, np.random.default_rng(ss))
        jobs.append(job)
        rows.append(row)
        result.append((cfg, tr))
    (folder / "sweep.json").write_text(json.dumps(jobs))
    (folder / "sweep_energy.json").write_text(json.dumps(rows))
    return result
