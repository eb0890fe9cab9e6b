"""What one run task returned (:class:`RunOutcome`) and the end-of-sweep :class:`SweepSummary`."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["STATUSES", "RunOutcome", "SweepSummary", "summarise"]

STATUSES: tuple[str, ...] = ("trained", "already_done", "busy", "failed", "deferred")


@dataclass(frozen=True, slots=True)
class RunOutcome:
    """Result of executing one run task.

    Attributes:
        run_id: the run.
        status: ``trained`` (epochs were trained now), ``already_done`` (its log was complete, so
            nothing was trained), ``busy`` (another process holds the run's lock), ``failed``,
            ``deferred`` (not started: the sweep's time budget would have run out first).
        epochs_trained: epochs trained by this execution (0 unless ``trained``).
        epochs_done: epochs in the run log after this execution.
        resumed_from_epoch: the first epoch trained now when the run resumed (else None).
        device: ``"cuda"`` or ``"cpu"`` (None when nothing was trained).
        wall_s: wall time of the trained epochs (train + eval windows), seconds.
        energy_j_by_meter: energy of the trained epochs summed per meter id (train + eval windows;
            meters that returned null for a window are left out of that window's sum).
        error: ``"ExceptionType: message"`` when ``failed``.
        simulated_meters: meter ids whose readings were simulated (fake hardware).
    """

    run_id: str
    status: str
    epochs_trained: int = 0
    epochs_done: int = 0
    resumed_from_epoch: int | None = None
    device: str | None = None
    wall_s: float = 0.0
    energy_j_by_meter: Mapping[str, float] = field(default_factory=dict)
    error: str | None = None
    simulated_meters: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "run_id": self.run_id,
            "status": self.status,
            "epochs_trained": self.epochs_trained,
            "epochs_done": self.epochs_done,
            "resumed_from_epoch": self.resumed_from_epoch,
            "device": self.device,
            "wall_s": self.wall_s,
            "energy_j_by_meter": dict(self.energy_j_by_meter),
            "error": self.error,
            "simulated_meters": list(self.simulated_meters),
        }


@dataclass(frozen=True, slots=True)
class SweepSummary:
    """End-of-sweep numbers: counts per status, failures with reasons, device hours, energy.

    ``gpu_hours`` counts wall time of runs trained on CUDA, ``cpu_hours`` of runs trained on CPU
    (one process each); ``energy_j_by_meter`` sums every trained epoch's readings per meter.
    """

    sweep: str
    runs: int
    counts: Mapping[str, int]
    failures: tuple[tuple[str, str], ...]
    epochs_trained: int
    gpu_hours: float
    cpu_hours: float
    energy_j_by_meter: Mapping[str, float]
    outcomes: tuple[RunOutcome, ...] = ()
    simulated_meters: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (with every outcome)."""
        return {
            "sweep": self.sweep,
            "runs": self.runs,
            "counts": dict(self.counts),
            "failures": [{"run_id": r, "reason": why} for r, why in self.failures],
            "epochs_trained": self.epochs_trained,
            "gpu_hours": self.gpu_hours,
            "cpu_hours": self.cpu_hours,
            "energy_j_by_meter": dict(self.energy_j_by_meter),
            "simulated_meters": list(self.simulated_meters),
            "outcomes": [o.to_dict() for o in self.outcomes],
        }

    def write(self, path: Path) -> None:
        """Write :meth:`to_dict` as JSON (unique temp file + fsync + rename)."""
        from eabench._atomic import atomic_write_text

        atomic_write_text(path, json.dumps(self.to_dict(), indent=2) + "\n")

    def render(self) -> str:
        """A few human-readable lines for the terminal."""
        shown = [k for k in STATUSES if k != "deferred" or self.counts.get(k, 0)]
        counts = ", ".join(f"{k} {self.counts.get(k, 0)}" for k in shown)
        lines = [
            f"sweep {self.sweep}: {self.runs} runs ({counts}); "
            f"{self.epochs_trained} epochs trained",
            f"device time: {self.gpu_hours:.4f} GPU-hours, {self.cpu_hours:.4f} CPU-hours",
        ]
        if self.energy_j_by_meter:
            parts = [
                f"{m} {j / 3.6e6:.6f} kWh" + (" (SIMULATED)" if m in self.simulated_meters else "")
                for m, j in sorted(self.energy_j_by_meter.items())
            ]
            lines.append("energy by meter: " + ", ".join(parts))
        else:
            lines.append("energy by meter: none measured")
        for run_id, reason in self.failures:
            lines.append(f"FAILED {run_id}: {reason}")
        return "\n".join(lines)


def summarise(sweep: str, outcomes: Iterable[RunOutcome]) -> SweepSummary:
    """Aggregate outcomes into a :class:`SweepSummary`."""
    outs = tuple(outcomes)
    counts = {s: sum(1 for o in outs if o.status == s) for s in STATUSES}
    energy: dict[str, float] = {}
    for o in outs:
        for meter, j in o.energy_j_by_meter.items():
            energy[meter] = energy.get(meter, 0.0) + j
    return SweepSummary(
        sweep=sweep,
        runs=len(outs),
        counts=counts,
        failures=tuple((o.run_id, o.error or "unknown") for o in outs if o.status == "failed"),
        epochs_trained=sum(o.epochs_trained for o in outs),
        gpu_hours=sum(o.wall_s for o in outs if o.device == "cuda") / 3600.0,
        cpu_hours=sum(o.wall_s for o in outs if o.device == "cpu") / 3600.0,
        energy_j_by_meter=energy,
        outcomes=outs,
        simulated_meters=tuple(sorted({m for o in outs for m in o.simulated_meters})),
    )
