"""Statistics of the *range of GPU usage* principle: how much of the GPU the runs used.

The seed paper reports the per-epoch GPU power range (146-305 W) against the device's idle
(75 W) and maximum (800 W H100 SXM) power, and the utilisation range (never above ~40 %). We
report the same numbers for any dataset, as fractions of the device's dynamic range
``max - idle``:

- ``upper_fraction = (p95 - idle) / (max - idle)``: how close the busiest windows get to full power
  (paper: (305 - 75) / 725 = 0.32);
- ``span_fraction = (p95 - p5) / (max - idle)``: how wide the range is (paper: 0.22).

The 5th and 95th percentiles (not min and max) keep a few outlier windows from deciding; min and
max are reported as well. Without an idle power (no calibration) the fractions fall back to
``idle = 0`` and say so in ``note``: that overstates the upper fraction and understates the span
fraction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eabench.audit.data import AuditData
from eabench.audit.stats import invalid_mask

__all__ = ["UsageRange", "gpu_usage_range", "primary_channel"]

_METHOD_RANK = {"counter": 0, "external": 1, "polling": 2, "model": 3}


def primary_channel(data: AuditData, component: str) -> str | None:
    """The best channel of ``component``: a counter before an external meter before a poller
    before a model; ties go to fewer ``invalid`` windows, then the name. None if there is none."""
    inv = invalid_mask(data)
    cands = [
        (_METHOD_RANK.get(m, 9), int(inv[:, :, i].sum()), name)
        for i, (name, m, comp) in enumerate(
            zip(data.channels, data.methods, data.components, strict=True)
        )
        if comp == component and np.isfinite(data.energy_j[:, :, i]).any()
    ]
    return min(cands)[2] if cands else None


@dataclass(frozen=True, slots=True)
class UsageRange:
    """GPU power of ``channel`` against the device's idle and maximum power (W).

    ``level`` is ``"window"`` (per-window power of a GPU channel) or ``"run"`` (per-run mean GPU
    power, for sources that split GPU energy only per run).
    """

    channel: str
    level: str
    n_windows: int
    power_min_w: float
    power_p5_w: float
    power_median_w: float
    power_p95_w: float
    power_max_w: float
    idle_power_w: float | None
    max_power_w: float | None
    upper_fraction: float | None
    span_fraction: float | None
    utilisation_min: float | None
    utilisation_median: float | None
    utilisation_max: float | None
    device_name: str | None
    device_source: str
    note: str = ""


def gpu_usage_range(data: AuditData, channel: str | None = None) -> UsageRange | None:
    """GPU usage range from ``channel`` (default: :func:`primary_channel` of ``gpu``).

    Windows with an ``invalid`` flag are left out (their power is not trusted). Without a GPU
    channel, per-run mean GPU power (``data.run_gpu_power_w``) is used. Returns None if there is
    neither. ``n_windows`` counts windows or runs, as ``level`` says.
    """
    name = channel or primary_channel(data, "gpu")
    level = "window"
    if name is not None:
        c = data.channel_index(name)
        p = data.power_w()[:, :, c]
        p = p[~invalid_mask(data)[:, :, c] & np.isfinite(p)]
    elif data.run_gpu_power_w is not None:
        name, level = "per-run mean GPU power", "run"
        p = data.run_gpu_power_w[np.isfinite(data.run_gpu_power_w)]
    else:
        return None
    if p.size == 0:
        return None
    q5, q50, q95 = (float(x) for x in np.percentile(p, [5, 50, 95]))
    idle, pmax = data.device.idle_power_w, data.device.max_power_w
    note = ""
    upper = span = None
    if pmax is not None:
        base = idle if idle is not None else 0.0
        if idle is None:
            note = (
                "idle power unknown: fractions use idle = 0 W (an upper bound on the upper "
                "fraction, a lower bound on the span fraction)"
            )
        upper = (q95 - base) / (pmax - base)
        span = (q95 - q5) / (pmax - base)
    else:
        note = "maximum power unknown: fractions of the dynamic range cannot be computed"
    u_min = u_med = u_max = None
    if data.utilisation is not None:
        u = data.utilisation[np.isfinite(data.utilisation)]
        if u.size:
            u_min, u_med, u_max = float(u.min()), float(np.median(u)), float(u.max())
    return UsageRange(
        channel=name,
        level=level,
        n_windows=int(p.size),
        power_min_w=float(p.min()),
        power_p5_w=q5,
        power_median_w=q50,
        power_p95_w=q95,
        power_max_w=float(p.max()),
        idle_power_w=idle,
        max_power_w=pmax,
        upper_fraction=upper,
        span_fraction=span,
        utilisation_min=u_min,
        utilisation_median=u_med,
        utilisation_max=u_max,
        device_name=data.device.name,
        device_source=data.device.source,
        note=note,
    )
