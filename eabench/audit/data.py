"""The audit's input: per-epoch, per-channel measurements as plain numpy arrays.

An audit looks at one dataset as a cube ``runs x windows x channels``. A *channel* is one meter
measuring one scope (``"gpu.nvml_counter/gpu"``, ``"carbontracker/package"``, ...), summed over the
devices of that scope (all GPUs of a run, both CPU sockets). A *window* is one training-epoch
window of a run log (``span_epochs`` epochs; EC-NAS windows hold 1, 2 or 3 epochs).

Missing values are NaN inside these arrays (a window that a channel did not measure, or a run with
fewer windows than the longest run); they are never 0. Building the arrays from records is the job
of :mod:`eabench.audit.load`; everything in :mod:`eabench.audit.stats` and friends is a pure
function of an :class:`AuditData`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

import numpy as np

from eabench.errors import InvalidArgumentError

__all__ = ["COMPONENTS", "AuditData", "DeviceInfo", "component_of"]

#: Cost components of a holistic energy account (``reference/energy-meters.md`` 5.4).
COMPONENTS: Final[tuple[str, ...]] = (
    "gpu",
    "cpu",
    "dram",
    "estimated",
    "node",
    "combined",
    "other",
)

_SCOPE_COMPONENT: Final[dict[str, str]] = {
    "gpu": "gpu",
    "module": "gpu",
    "package": "cpu",
    "core": "cpu",
    "psys": "cpu",
    "cpu": "cpu",
    "dram": "dram",
    "memory": "dram",
    "node_wall": "node",
    "node": "node",
}


def component_of(scope: str, method: str) -> str:
    """The cost component of a channel (one of :data:`COMPONENTS`).

    Model-based readings are ``estimated`` whatever their scope; a scope that joins several
    scopes with ``+`` (a tracker that reports GPU and CPU energy as one number) is ``combined``.
    """
    if method == "model":
        return "estimated"
    if "+" in scope:  # one number for several scopes, e.g. Carbontracker's "gpu+package"
        return "combined"
    return _SCOPE_COMPONENT.get(scope, "other")


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    """The GPU the runs used: its name, idle power and maximum power (W), where known.

    ``idle_power_w`` comes from a calibration idle run or a measurement; ``max_power_w`` from the
    power limit (NVML) or the datasheet's board power. ``source`` says where both came from.
    """

    name: str | None = None
    idle_power_w: float | None = None
    max_power_w: float | None = None
    source: str = "unknown"

    def __post_init__(self) -> None:
        for name in ("idle_power_w", "max_power_w"):
            v = getattr(self, name)
            if v is not None and not (np.isfinite(v) and v >= 0):
                raise InvalidArgumentError.for_field(name, v, "must be finite and >= 0 or None")
        if (
            self.idle_power_w is not None
            and self.max_power_w is not None
            and self.idle_power_w >= self.max_power_w
        ):
            raise InvalidArgumentError.for_field(
                "idle_power_w", self.idle_power_w, f"must be < max_power_w ({self.max_power_w})"
            )


@dataclass(frozen=True, slots=True, eq=False)
class AuditData:
    """Measurements of ``R`` runs x ``W`` windows x ``C`` channels (NaN = not measured).

    Attributes:
        run_ids: ``(R,)`` run identifiers.
        channels: ``(C,)`` channel names ``"<meter>/<scope>"``.
        methods: ``(C,)`` measurement method per channel (counter, polling, model, external).
        components: ``(C,)`` cost component per channel (see :data:`COMPONENTS`).
        energy_j: ``(R, W, C)`` energy of each window in joules, PUE removed.
        duration_s: ``(R, W, C)`` window duration in seconds as the channel saw it.
        samples_taken: ``(R, W, C)`` polling samples taken (NaN for counters and models).
        samples_expected: ``(R, W, C)`` samples a poller at its requested rate should have taken.
        flag_codes: ``(F,)`` quality-flag codes present in the data.
        flag_severities: ``(F,)`` severity of each code (info, warn, invalid).
        flags: ``(R, W, C, F)`` True where the window's reading carries that flag.
        span_epochs: ``(R, W)`` training epochs per window (NaN for padding).
        utilisation: ``(R, W)`` mean GPU utilisation fraction in [0, 1], or None if not recorded.
        run_components_j: per-run energy ``(R,)`` by cost component, for sources that split GPU
            and CPU energy only per run (EC-NAS); None when the windows carry the split.
        run_gpu_power_w: ``(R,)`` per-run mean GPU power (W) for the same sources, or None.
        device: the GPU, with idle and maximum power where known.
        off_socket_bounds_w: calibration bounds ``(lower, upper)`` on off-socket power in W.
        pue_applied: PUE that the source had multiplied in (already divided out), or None.
        reference_channel: the channel treated as ground truth for agreement (e.g. an external
            meter's GPU share), or None.
        source: where the data came from (a path or a description).
        simulated: True for synthetic data (never to be published as measurements).
        notes: caveats of the input that the report must show (e.g. what a loader could not
            recover exactly).
    """

    run_ids: tuple[str, ...]
    channels: tuple[str, ...]
    methods: tuple[str, ...]
    components: tuple[str, ...]
    energy_j: np.ndarray
    duration_s: np.ndarray
    samples_taken: np.ndarray
    samples_expected: np.ndarray
    flag_codes: tuple[str, ...] = ()
    flag_severities: tuple[str, ...] = ()
    flags: np.ndarray = field(default_factory=lambda: np.zeros((0, 0, 0, 0), dtype=bool))
    span_epochs: np.ndarray | None = None
    utilisation: np.ndarray | None = None
    run_components_j: Mapping[str, np.ndarray] | None = None
    run_gpu_power_w: np.ndarray | None = None
    device: DeviceInfo = field(default_factory=DeviceInfo)
    off_socket_bounds_w: tuple[float, float] | None = None
    pue_applied: float | None = None
    reference_channel: str | None = None
    source: str = ""
    simulated: bool = False
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _validate(self)

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(runs, windows, channels)``."""
        r, w, c = self.energy_j.shape
        return int(r), int(w), int(c)

    def channel_index(self, channel: str) -> int:
        """Position of ``channel``; raises ``InvalidArgumentError`` for an unknown name."""
        try:
            return self.channels.index(channel)
        except ValueError:
            raise InvalidArgumentError.for_field(
                "channel", channel, f"must be one of {list(self.channels)}"
            ) from None

    def power_w(self) -> np.ndarray:
        """``(R, W, C)`` mean power per window in W (energy / duration; NaN where missing)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            p = self.energy_j / self.duration_s
        return np.where(self.duration_s > 0, p, np.nan)

    def run_energy_j(self) -> np.ndarray:
        """``(R, C)`` energy per run: the sum over windows, NaN unless every window is measured.

        A run counts as measured by a channel only if the channel measured each of the run's
        windows (padding windows, where ``duration_s`` is NaN for every channel, are skipped).
        """
        present = np.any(np.isfinite(self.duration_s), axis=2)  # (R, W) real windows
        e = self.energy_j
        complete = np.all(np.isfinite(e) | ~present[:, :, None], axis=1)
        total = np.nansum(np.where(present[:, :, None], e, np.nan), axis=1)
        return np.where(complete & np.any(present, axis=1)[:, None], total, np.nan)

    def components_present(self) -> tuple[str, ...]:
        """The distinct cost components measured or modelled by some channel."""
        return tuple(c for c in COMPONENTS if c in self.components)


def _validate(d: AuditData) -> None:
    if d.energy_j.ndim != 3:
        raise InvalidArgumentError.for_field("energy_j", d.energy_j.shape, "must be (R, W, C)")
    r, w, c = d.energy_j.shape
    for name in ("duration_s", "samples_taken", "samples_expected"):
        arr = getattr(d, name)
        if arr.shape != (r, w, c):
            raise InvalidArgumentError.for_field(name, arr.shape, f"must be {(r, w, c)}")
    if len(d.run_ids) != r:
        raise InvalidArgumentError.for_field("run_ids", len(d.run_ids), f"must have {r} entries")
    for name in ("channels", "methods", "components"):
        if len(getattr(d, name)) != c:
            raise InvalidArgumentError.for_field(name, getattr(d, name), f"must have {c} entries")
    if len(set(d.channels)) != c:
        raise InvalidArgumentError.for_field("channels", d.channels, "must be unique")
    bad = [x for x in d.components if x not in COMPONENTS]
    if bad:
        raise InvalidArgumentError.for_field("components", bad, f"must be in {COMPONENTS}")
    f = len(d.flag_codes)
    if len(d.flag_severities) != f:
        raise InvalidArgumentError.for_field(
            "flag_severities", d.flag_severities, f"must have {f} entries"
        )
    if f and d.flags.shape != (r, w, c, f):
        raise InvalidArgumentError.for_field("flags", d.flags.shape, f"must be {(r, w, c, f)}")
    finite_e = d.energy_j[np.isfinite(d.energy_j)]
    if finite_e.size and finite_e.min() < 0:
        raise InvalidArgumentError.for_field("energy_j", float(finite_e.min()), "must be >= 0")
    finite_t = d.duration_s[np.isfinite(d.duration_s)]
    if finite_t.size and finite_t.min() < 0:
        raise InvalidArgumentError.for_field("duration_s", float(finite_t.min()), "must be >= 0")
    if np.any(np.isinf(d.energy_j)) or np.any(np.isinf(d.duration_s)):
        raise InvalidArgumentError.for_field("energy_j", "inf", "must be finite or NaN (missing)")
    if d.utilisation is not None:
        if d.utilisation.shape != (r, w):
            raise InvalidArgumentError.for_field(
                "utilisation", d.utilisation.shape, f"must be {(r, w)}"
            )
        u = d.utilisation[np.isfinite(d.utilisation)]
        if u.size and (u.min() < 0 or u.max() > 1):
            raise InvalidArgumentError.for_field("utilisation", "out of range", "must be in [0, 1]")
    if d.run_components_j is not None:
        for comp, arr in d.run_components_j.items():
            if comp not in COMPONENTS or np.shape(arr) != (r,):
                raise InvalidArgumentError.for_field(
                    f"run_components_j[{comp}]",
                    np.shape(arr),
                    f"must be a component with shape {(r,)}",
                )
    if d.run_gpu_power_w is not None and d.run_gpu_power_w.shape != (r,):
        raise InvalidArgumentError.for_field(
            "run_gpu_power_w", d.run_gpu_power_w.shape, f"must be {(r,)}"
        )
    if d.span_epochs is not None and d.span_epochs.shape != (r, w):
        raise InvalidArgumentError.for_field(
            "span_epochs", d.span_epochs.shape, f"must be {(r, w)}"
        )
    if d.off_socket_bounds_w is not None:
        lo, hi = d.off_socket_bounds_w
        if not (0 <= lo <= hi and np.isfinite(hi)):
            raise InvalidArgumentError.for_field(
                "off_socket_bounds_w", d.off_socket_bounds_w, "must be 0 <= lower <= upper"
            )
    if d.reference_channel is not None and d.reference_channel not in d.channels:
        raise InvalidArgumentError.for_field(
            "reference_channel", d.reference_channel, f"must be one of {list(d.channels)}"
        )
