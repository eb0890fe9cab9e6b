"""The trainer: one run task -> one resumable run log, epoch by epoch, with every meter watching.

Per epoch ``k`` (0-based), in this order:

1. **train window**: CUDA sync, every meter ``begin``s window ``(run_id, k, "train")``; one epoch of
   shuffled, augmented, device-resident batches (AMP on CUDA); CUDA sync; meters ``end`` and give
   one :class:`~eabench.meters.MeterReading` each per device/domain.
2. **eval window** (``"eval"``, when evaluating this epoch): validation split and test set,
   with the same meters.
3. checkpoint of the state after epoch ``k`` (atomic), then the epoch record appended to the run
   log (fsync), then older checkpoints deleted (:mod:`eabench.collect.checkpoint`).

Accuracies are fractions; ``train_accuracy``/``train_loss`` are running means over the epoch's
augmented training batches (as pycls reports them), val/test are measured after the epoch on
unaugmented images. A non-finite loss (a diverged run, kept as EA-HAS-Bench keeps them) is stored
as null with a ``NON_FINITE_LOSS`` flag, never as NaN. Model initialisation runs inside
``torch.random.fork_rng`` seeded with the run seed, and shuffling/augmentation use an explicit
``torch.Generator``, so the global RNGs are never touched and a seed fixes the run.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from eabench.collect.checkpoint import (
    checkpoint_dir,
    load_checkpoint,
    prune_checkpoints,
    save_checkpoint,
)
from eabench.collect.data import data_provenance, load_cifar10, make_splits
from eabench.collect.environment import hardware_info, software_info
from eabench.collect.outcome import RunOutcome
from eabench.collect.plan import RunTask
from eabench.errors import InvalidArgumentError, InvalidLogError
from eabench.logs import EpochRecord, RunHeader, RunLogWriter
from eabench.meters.provenance import Flag, MeterReading

if TYPE_CHECKING:
    import torch

__all__ = ["logs_dir", "select_device", "train_task"]


def logs_dir(task: RunTask) -> Any:
    """Folder of the sweep's run logs: ``<output_dir>/logs``."""
    return task.spec.output_dir / "logs"


def select_device(requested: str) -> torch.device:
    """``cuda`` if requested or (``auto`` and available), else ``cpu``; ``cuda`` without a GPU
    raises :class:`~eabench.errors.InvalidArgumentError`."""
    import torch

    if requested == "cuda" and not torch.cuda.is_available():
        raise InvalidArgumentError.for_field("protocol.device", requested, "no CUDA device here")
    if requested in ("cuda", "auto") and torch.cuda.is_available():
        return torch.device("cuda")
    return torch.device("cpu")


@dataclass(slots=True)
class _EpochStats:
    loss: float | None
    accuracy: float | None


def _sync(device: torch.device) -> None:
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None


def _evaluate(model: Any, x: Any, y: Any, batch: int, amp: bool, device: Any) -> _EpochStats:
    import torch

    from eabench.collect.gpu_data import eval_batches

    if int(y.shape[0]) == 0:
        return _EpochStats(None, None)
    model.eval()
    loss_sum = torch.zeros((), device=device, dtype=torch.float64)
    correct = torch.zeros((), device=device, dtype=torch.int64)
    with torch.no_grad(), torch.autocast(device.type, dtype=torch.float16, enabled=amp):
        for xb, yb in eval_batches(x, y, batch):
            out = model(xb)
            loss_sum += torch.nn.functional.cross_entropy(out.float(), yb, reduction="sum")
            correct += (out.argmax(1) == yb).sum()
    n = int(y.shape[0])
    return _EpochStats(_finite(float(loss_sum) / n), int(correct) / n)


@dataclass(slots=True)
class _TrainStats:
    loss: float | None
    accuracy: float | None
    seen: int
    seconds: float


def _train_epoch(
    recipe: Any,
    dev: Any,
    batch_size: int,
    gen: Any,
    scaler: Any,
    amp: bool,
    device: Any,
    epoch: int,
) -> _TrainStats:
    """One epoch of training (synchronised at both ends); running loss and accuracy."""
    import torch

    from eabench.collect.gpu_data import steps_per_epoch, train_batches

    steps = steps_per_epoch(int(dev.train_y.shape[0]), batch_size)
    recipe.model.train()
    _sync(device)
    t0 = time.perf_counter()
    loss_sum = torch.zeros((), device=device, dtype=torch.float64)
    correct = torch.zeros((), device=device, dtype=torch.int64)
    seen = 0
    batches = train_batches(dev.train_x, dev.train_y, batch_size, gen, recipe.cutout)
    for step, (xb, yb) in enumerate(batches):
        if step == 0 or recipe.per_step_lr:
            recipe.set_lr(epoch + step / steps if recipe.per_step_lr else epoch)
        with torch.autocast(device.type, dtype=torch.float16, enabled=amp):
            out = recipe.model(xb)
            loss = recipe.criterion(out, yb)
        recipe.optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(recipe.optimizer)
        scaler.update()
        recipe.after_step(epoch, step)
        loss_sum += loss.detach().double() * yb.shape[0]
        correct += (out.detach().argmax(1) == yb).sum()
        seen += int(yb.shape[0])
    _sync(device)
    seconds = time.perf_counter() - t0
    if not seen:
        return _TrainStats(None, None, 0, seconds)
    return _TrainStats(_finite(float(loss_sum) / seen), int(correct) / seen, seen, seconds)


def _energy_by_meter(readings: tuple[MeterReading, ...]) -> dict[str, float]:
    out: dict[str, float] = {}
    for r in readings:
        if r.energy_j is not None:
            out[r.meter] = out.get(r.meter, 0.0) + r.energy_j
    return out


def _header(
    task: RunTask, device: str, recipe_settings: Mapping[str, Any], meters: Any, data: Any
) -> RunHeader:
    spec = task.spec
    protocol = spec.protocol.to_dict()
    protocol["fixed_settings"] = dict(recipe_settings)
    protocol["schedule_epochs"] = task.schedule_epochs
    protocol["amp_effective"] = bool(spec.protocol.amp and device == "cuda")
    protocol["data"] = data
    protocol["calibration_profile"] = (
        None if spec.calibration_profile is None else str(spec.calibration_profile)
    )
    return RunHeader(
        run_id=task.run_id,
        space=spec.space,
        dataset=spec.dataset,
        source={"kind": "eabench", "sweep": spec.name},
        config=task.config,
        config_id=task.config_id,
        seed=task.seed,
        max_epochs=task.schedule_epochs,
        hardware=hardware_info(device),
        software=software_info(),
        protocol=protocol,
        meters=tuple(meters),
    )


def train_task(task: RunTask, existing: RunHeader | None) -> RunOutcome:
    """Train ``task`` from its first missing epoch up to ``task.target_epochs``.

    ``existing`` is the header of the run log already on disk (resume), which is reused as is:
    the log keeps the facts of the process that started the run; each epoch record's ``extra``
    names the host that trained it.
    """
    import torch

    from eabench.collect.gpu_data import DeviceSplits, steps_per_epoch
    from eabench.collect.meter_session import open_meters
    from eabench.collect.recipes import build_recipe

    spec, proto = task.spec, task.spec.protocol
    device = select_device(proto.device)
    if proto.num_threads is not None:
        torch.set_num_threads(proto.num_threads)
    amp = proto.amp and device.type == "cuda"
    cifar = load_cifar10(spec.data.source, spec.data.cache_dir)
    splits = make_splits(
        cifar,
        proto.val_size,
        proto.split_seed,
        proto.train_limit,
        proto.val_limit,
        proto.test_limit,
    )
    dev = DeviceSplits.from_splits(splits, device)
    steps = steps_per_epoch(len(splits.train_y), proto.batch_size)
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(task.seed)
        recipe = build_recipe(task, device)
    meters = open_meters(spec.meters, spec.calibration_profile, device, task.run_id)
    host = hardware_info(device.type)["host_fingerprint"]
    header = existing or _header(
        task, device.type, recipe.settings, meters.settings(), data_provenance(cifar, splits)
    )
    ckpt = checkpoint_dir(spec.output_dir, task.run_id)
    gen = torch.Generator(device=device).manual_seed(task.seed)
    scaler = torch.amp.GradScaler(device.type, enabled=amp)
    energy: dict[str, float] = {}
    simulated: set[str] = set()
    wall_s = 0.0
    with RunLogWriter.open(spec.output_dir / "logs", header) as writer, meters:
        start = writer.next_epoch
        if start > 0:
            state = load_checkpoint(ckpt, start - 1, map_location=device)
            recipe.load_state_dict(state["recipe"])
            scaler.load_state_dict(state["scaler"])
            gen.set_state(state["generator"].cpu())
        for epoch in range(start, task.target_epochs):
            meters.begin(epoch, "train")
            train = _train_epoch(recipe, dev, proto.batch_size, gen, scaler, amp, device, epoch)
            readings = meters.end()
            errors = {f"train:{k}": v for k, v in meters.last_errors.items()}
            val = test = _EpochStats(None, None)
            extra_metrics: dict[str, float | None] = {}
            eval_s: float | None = None
            if proto.eval_every_epoch or epoch == task.target_epochs - 1:
                meters.begin(epoch, "eval")
                t1 = time.perf_counter()
                results = {
                    name: (
                        _evaluate(net, dev.val_x, dev.val_y, proto.eval_batch_size, amp, device),
                        _evaluate(net, dev.test_x, dev.test_y, proto.eval_batch_size, amp, device),
                    )
                    for name, net in recipe.eval_models().items()
                }
                _sync(device)
                eval_s = time.perf_counter() - t1
                readings = readings + meters.end()
                errors.update({f"eval:{k}": v for k, v in meters.last_errors.items()})
                val, test = results.pop("model")
                for name, (v, t) in results.items():
                    extra_metrics[f"{name}_val_accuracy"] = v.accuracy
                    extra_metrics[f"{name}_val_loss"] = v.loss
                    extra_metrics[f"{name}_test_accuracy"] = t.accuracy
                    extra_metrics[f"{name}_test_loss"] = t.loss
            flags: tuple[Flag, ...] = ()
            if train.seen and train.loss is None:
                flags = (
                    Flag("NON_FINITE_LOSS", "warn", f"train loss not finite at epoch {epoch}"),
                )
            save_checkpoint(
                ckpt,
                epoch,
                {
                    "epoch": epoch,
                    "recipe": recipe.state_dict(),
                    "scaler": scaler.state_dict(),
                    "generator": gen.get_state(),
                },
            )
            writer.append(
                EpochRecord(
                    run_id=task.run_id,
                    epoch=epoch,
                    train_accuracy=train.accuracy,
                    val_accuracy=val.accuracy,
                    test_accuracy=test.accuracy,
                    train_loss=train.loss,
                    val_loss=val.loss,
                    test_loss=test.loss,
                    train_time_s=train.seconds,
                    eval_time_s=eval_s,
                    readings=readings,
                    flags=flags,
                    extra={
                        "host_fingerprint": host,
                        "device": device.type,
                        "lr_end": recipe.current_lr(),
                        "train_images": train.seen,
                        "optimizer_steps": steps,
                        **extra_metrics,
                        **({"meter_errors": errors} if errors else {}),
                    },
                )
            )
            prune_checkpoints(ckpt, epoch)
            wall_s += train.seconds + (eval_s or 0.0)
            for meter, j in _energy_by_meter(readings).items():
                energy[meter] = energy.get(meter, 0.0) + j
            simulated.update(r.meter for r in readings if r.simulated)
        done = writer.next_epoch
    if done >= task.schedule_epochs:
        prune_checkpoints(ckpt, None)  # the full schedule is done: nothing left to resume
    return RunOutcome(
        run_id=task.run_id,
        status="trained",
        epochs_trained=done - start,
        epochs_done=done,
        resumed_from_epoch=start if start > 0 else None,
        device=device.type,
        wall_s=wall_s,
        energy_j_by_meter=energy,
        simulated_meters=tuple(sorted(simulated)),
    )


def check_header(task: RunTask, header: RunHeader) -> None:
    """Raise :class:`InvalidLogError` unless an existing log belongs to ``task``."""
    for name, want in (
        ("config_id", task.config_id),
        ("seed", task.seed),
        ("space", task.spec.space),
    ):
        got = getattr(header, name)
        if got != want:
            raise InvalidLogError.for_field(
                f"header.{name}", got, f"must be {want!r} for {task.run_id}"
            )
