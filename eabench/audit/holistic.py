"""Statistics of the *holistic cost* principle: which parts of the node's energy are accounted.

Per cost component (GPU, CPU, DRAM, estimated) the energy of its primary channel (see
:func:`eabench.audit.usage.primary_channel`) is summed over the windows where every present
component was measured. Off-socket energy (everything on the node that no on-socket meter sees:
fans, PSU losses, disks, NICs, chipset) is taken

- from an external node meter when there is one: ``node - (gpu + cpu + dram)`` per window, with its
  mean power, its spread and the share of windows inside the calibration bounds; a near-constant
  offset (small coefficient of variation) is what the seed paper found (its Fig. 6 and 7);
- otherwise from calibration bounds ``[P_off_lo, P_off_hi] x duration`` (energy-meters.md 5.4);
- otherwise it is unknown, and the shares are shares of the measured on-socket total only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from eabench.audit.data import AuditData, component_of
from eabench.audit.usage import primary_channel

__all__ = ["HolisticCost", "OffSocket", "holistic_cost"]

_ON_SOCKET = ("gpu", "cpu", "dram", "estimated")


@dataclass(frozen=True, slots=True)
class OffSocket:
    """Off-socket power: measured by an external meter and/or bounded by calibration (W, J).

    ``mean_power_w``/``std_power_w``/``cv`` come from the external meter (None without one);
    ``share_in_bounds`` is the share of windows whose off-socket power lies inside the calibration
    bounds; ``energy_lo_j``/``energy_hi_j`` are the calibration bounds times the audited duration.
    """

    source: str
    n_windows: int
    energy_j: float | None
    mean_power_w: float | None
    std_power_w: float | None
    cv: float | None
    bounds_w: tuple[float, float] | None
    share_in_bounds: float | None
    energy_lo_j: float | None
    energy_hi_j: float | None


@dataclass(frozen=True, slots=True)
class HolisticCost:
    """Energy per cost component over the audited windows, and each component's share.

    ``channels`` maps component to the channel used. ``shares`` divide by the holistic total
    (on-socket + off-socket) when off-socket energy is measured; ``share_bounds`` give
    ``[lower, upper]`` shares when only calibration bounds exist (a larger off-socket share makes
    every on-socket share smaller). ``missing`` lists components no channel measures;
    ``covered`` the on-socket components measured, separately or inside a combined channel.
    """

    n_windows: int
    duration_s: float
    channels: dict[str, str]
    energy_j: dict[str, float]
    shares: dict[str, float]
    share_bounds: dict[str, tuple[float, float]]
    off_socket: OffSocket | None
    missing: tuple[str, ...]
    pue_applied: float | None
    notes: tuple[str, ...] = field(default=())
    covered: tuple[str, ...] = field(default=())


def holistic_cost(data: AuditData) -> HolisticCost:
    """Cost shares of GPU, CPU, DRAM, estimated and off-socket energy (see module docstring)."""
    chosen = {comp: primary_channel(data, comp) for comp in (*_ON_SOCKET, "node")}
    chans = {k: v for k, v in chosen.items() if v is not None}
    idx = {k: data.channel_index(v) for k, v in chans.items()}
    on = [k for k in _ON_SOCKET if k in idx]
    cols = [idx[k] for k in on] + ([idx["node"]] if "node" in idx else [])
    notes: list[str] = []
    if not any(k in idx for k in ("gpu", "cpu", "dram")):
        if data.run_components_j:
            return _run_level(data)
        combined = primary_channel(data, "combined")
        if combined is not None:
            return _combined(data, combined)
    if not cols:
        return HolisticCost(0, 0.0, {}, {}, {}, {}, None, ("gpu", "cpu", "dram"), data.pue_applied)
    e = data.energy_j[:, :, cols]
    ok = np.all(np.isfinite(e), axis=2)
    dur = np.nanmax(data.duration_s[:, :, cols], axis=2)
    ok &= np.isfinite(dur)
    n = int(ok.sum())
    duration = float(dur[ok].sum())
    energy = {k: float(data.energy_j[:, :, idx[k]][ok].sum()) for k in on}
    on_total = sum(energy.values())
    off: OffSocket | None = None
    bounds = data.off_socket_bounds_w
    if "node" in idx:
        node_e = data.energy_j[:, :, idx["node"]][ok]
        measured_on = np.zeros_like(node_e)
        for k in ("gpu", "cpu", "dram"):
            if k in idx:
                measured_on += data.energy_j[:, :, idx[k]][ok]
        off_e = node_e - measured_on
        off_p = off_e / dur[ok]
        in_b = None
        if bounds is not None:
            in_b = float(np.mean((off_p >= bounds[0]) & (off_p <= bounds[1])))
        mean_p = float(off_p.mean()) if off_p.size else None
        std_p = float(off_p.std(ddof=1)) if off_p.size > 1 else None
        off = OffSocket(
            source=f"external meter {chans['node']} minus on-socket meters",
            n_windows=n,
            energy_j=float(off_e.sum()),
            mean_power_w=mean_p,
            std_power_w=std_p,
            cv=(std_p / mean_p) if (std_p is not None and mean_p) else None,
            bounds_w=bounds,
            share_in_bounds=in_b,
            energy_lo_j=bounds[0] * duration if bounds else None,
            energy_hi_j=bounds[1] * duration if bounds else None,
        )
        energy["off_socket"] = float(off_e.sum())
        if "estimated" in energy:
            notes.append("an estimated component and an external meter both present: the estimate")
            notes.append("is reported but not subtracted from the node total")
    elif bounds is not None:
        off = OffSocket(
            source="calibration bounds",
            n_windows=n,
            energy_j=None,
            mean_power_w=None,
            std_power_w=None,
            cv=None,
            bounds_w=bounds,
            share_in_bounds=None,
            energy_lo_j=bounds[0] * duration,
            energy_hi_j=bounds[1] * duration,
        )
    shares: dict[str, float] = {}
    share_bounds: dict[str, tuple[float, float]] = {}
    if "off_socket" in energy:
        total = sum(v for k, v in energy.items() if k != "estimated" or "node" not in idx)
        shares = {k: v / total for k, v in energy.items() if total > 0}
    elif off is not None and off.energy_lo_j is not None and off.energy_hi_j is not None:
        lo_t, hi_t = on_total + off.energy_lo_j, on_total + off.energy_hi_j
        for k, v in energy.items():
            share_bounds[k] = (v / hi_t, v / lo_t) if lo_t > 0 else (0.0, 0.0)
        share_bounds["off_socket"] = (off.energy_lo_j / lo_t, off.energy_hi_j / hi_t)
        shares = {k: v / on_total for k, v in energy.items()} if on_total > 0 else {}
        notes.append("shares without bounds are of the on-socket total only")
    else:
        shares = {k: v / on_total for k, v in energy.items()} if on_total > 0 else {}
        notes.append("off-socket energy unknown: shares are of the on-socket total only")
    missing = tuple(k for k in ("gpu", "cpu", "dram") if k not in idx)
    return HolisticCost(
        n_windows=n,
        duration_s=duration,
        channels=chans,
        energy_j=energy,
        shares=shares,
        share_bounds=share_bounds,
        off_socket=off,
        missing=missing,
        pue_applied=data.pue_applied,
        notes=tuple(notes),
        covered=tuple(k for k in ("gpu", "cpu", "dram") if k in idx),
    )


def _run_level(data: AuditData) -> HolisticCost:
    """Shares from per-run component totals (sources without a per-window split)."""
    comps = data.run_components_j or {}
    stacked = np.stack([np.asarray(v, dtype=np.float64) for v in comps.values()])
    ok = np.all(np.isfinite(stacked), axis=0)
    energy = {k: float(np.asarray(v, dtype=np.float64)[ok].sum()) for k, v in comps.items()}
    total = sum(energy.values())
    shares = {k: v / total for k, v in energy.items()} if total > 0 else {}
    notes = [
        "per-run component totals (the windows hold one combined number)",
        "off-socket energy unknown: shares are of the on-socket total only",
    ]
    off = None
    bounds = data.off_socket_bounds_w
    if bounds is not None:
        notes.append("calibration bounds given but per-run durations are not; not applied")
    return HolisticCost(
        n_windows=int(ok.sum()),
        duration_s=0.0,
        channels=dict.fromkeys(comps, "per-run totals"),
        energy_j=energy,
        shares=shares,
        share_bounds={},
        off_socket=off,
        missing=tuple(k for k in ("gpu", "cpu", "dram") if k not in comps),
        pue_applied=data.pue_applied,
        notes=tuple(notes),
        covered=tuple(k for k in ("gpu", "cpu", "dram") if k in comps),
    )


def _scope_parts(channel: str) -> tuple[str, ...]:
    scope = channel.rsplit("/", 1)[-1]
    parts = {component_of(p, "counter") for p in scope.split("+")}
    return tuple(k for k in ("gpu", "cpu", "dram") if k in parts)


def _combined(data: AuditData, channel: str) -> HolisticCost:
    """A single channel that sums several components (Carbontracker's GPU + CPU)."""
    c = data.channel_index(channel)
    e = data.energy_j[:, :, c]
    ok = np.isfinite(e) & np.isfinite(data.duration_s[:, :, c])
    covered = _scope_parts(channel)
    return HolisticCost(
        n_windows=int(ok.sum()),
        duration_s=float(data.duration_s[:, :, c][ok].sum()),
        channels={"combined": channel},
        energy_j={"combined": float(e[ok].sum())},
        shares={"combined": 1.0},
        share_bounds={},
        off_socket=None,
        missing=tuple(k for k in ("gpu", "cpu", "dram") if k not in covered),
        pue_applied=data.pue_applied,
        notes=(
            f"{channel} reports {' + '.join(covered)} as one number per window: "
            "no per-component shares",
            "off-socket energy unknown",
        ),
        covered=covered,
    )
