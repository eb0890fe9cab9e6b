"""``node.estimate``: CodeCarbon-style *models* for what no meter measures.

Every reading is flagged ESTIMATED_COMPONENT.

Components (one reading each, ``method="model"``, parameters recorded in ``model``):

- ``ram``: ``codecarbon_ram_v3`` (CodeCarbon >= 3: 5 W per estimated DIMM on x86, DIMM count
  guessed from total GB, marginal factors 0.9/0.8/0.7 beyond 4/8/16 DIMMs, min 2 DIMMs) or
  ``codecarbon_ram_v2`` (3 W per 8 GB: the model Kocher et al. used, which put 750 W on a 2 TB
  node whose DRAM drew 12 W).
- ``cpu``: ``cpu_load_tdp`` TDP x (0.1 + 0.9 x load^3) with load from ``/proc/stat`` between the
  window edges, or ``constant_half_tdp`` (50% TDP) when load is unavailable: the CodeCarbon
  fallbacks used when RAPL is unreadable. Needs ``cpu_tdp_w`` (no TDP table is shipped).

PUE is never folded in: :func:`apply_pue` makes a *new* reading with ``pue_applied`` set (flag
PUE_APPLIED), so the unscaled energy stays on record.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from eabench.errors import InvalidArgumentError, MeterUnavailableError
from eabench.meters.base import (
    Availability,
    Clock,
    SystemClock,
    Window,
    WindowEdges,
    kernel_release,
)
from eabench.meters.provenance import MeterReading

__all__ = [
    "NodeEstimateMeter",
    "apply_pue",
    "codecarbon_ram_v2_w",
    "codecarbon_ram_v3_w",
    "estimate_dimm_count",
    "proc_stat_times",
    "total_ram_gb",
]

METER_ID = "node.estimate"


def estimate_dimm_count(total_gb: float) -> int:
    """CodeCarbon v3 DIMM-count heuristic from total RAM in GB."""
    if total_gb <= 2:
        return 1
    if total_gb <= 16:
        return 2
    if total_gb <= 64:
        return 4
    if total_gb <= 128:
        return 8
    for size in (128, 64, 32, 16, 8, 4):
        if size <= total_gb / 8:
            return min(math.ceil(total_gb / size), 32)
    return 8


def codecarbon_ram_v3_w(total_gb: float, w_per_dimm: float = 5.0) -> float:
    """CodeCarbon v3 RAM power in W (x86): per-DIMM power with decreasing marginal factors."""
    n = estimate_dimm_count(total_gb)
    tiers = ((4, 1.0), (4, 0.9), (8, 0.8), (math.inf, 0.7))
    watts, left = 0.0, float(n)
    for size, factor in tiers:
        take = min(left, size)
        watts += w_per_dimm * factor * take
        left -= take
        if left <= 0:
            break
    return max(2 * w_per_dimm, watts)


def codecarbon_ram_v2_w(total_gb: float) -> float:
    """CodeCarbon v2 RAM power in W: 3 W per 8 GB."""
    return 3.0 * total_gb / 8.0


def total_ram_gb(meminfo: Path = Path("/proc/meminfo")) -> float:
    """MemTotal from ``/proc/meminfo`` in GB (10^9 bytes, as CodeCarbon)."""
    for line in meminfo.read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) * 1024 / 1e9
    raise MeterUnavailableError.for_field("meminfo", str(meminfo), "has no MemTotal line")


def proc_stat_times(stat: Path = Path("/proc/stat")) -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs from the ``cpu`` line of ``/proc/stat``."""
    fields = [int(x) for x in stat.read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return sum(fields) - idle, sum(fields)


class NodeEstimateMeter:
    """Meter ``node.estimate``: modelled RAM and (optionally) CPU power x window duration.

    Args:
        components: any of ``ram``, ``cpu``.
        ram_model: ``codecarbon_ram_v3`` or ``codecarbon_ram_v2``.
        ram_gb: total RAM in GB (default: read ``/proc/meminfo``).
        cpu_tdp_w: CPU TDP in W (all sockets) for the ``cpu`` component.
        cpu_times: returns (busy, total) CPU time counters (default ``/proc/stat``); None to use
            the constant 50%-TDP model.
    """

    meter_id = METER_ID

    def __init__(
        self,
        components: Sequence[str] = ("ram",),
        ram_model: str = "codecarbon_ram_v3",
        ram_gb: float | None = None,
        cpu_tdp_w: float | None = None,
        cpu_times: Callable[[], tuple[int, int]] | None = proc_stat_times,
        clock: Clock | None = None,
    ) -> None:
        bad = set(components) - {"ram", "cpu"}
        if bad or not components:
            raise InvalidArgumentError.for_field("components", components, "subset of ram, cpu")
        if ram_model not in ("codecarbon_ram_v3", "codecarbon_ram_v2"):
            raise InvalidArgumentError.for_field("ram_model", ram_model, "codecarbon_ram_v3/v2")
        if cpu_tdp_w is not None and not cpu_tdp_w > 0:
            raise InvalidArgumentError.for_field("cpu_tdp_w", cpu_tdp_w, "must be > 0")
        self.components = tuple(components)
        self.ram_model = ram_model
        self._ram_gb = ram_gb
        self.cpu_tdp_w = cpu_tdp_w
        self._cpu_times = cpu_times
        self._clock = clock or SystemClock()
        self._start: tuple[Window, int, int, tuple[int, int] | None] | None = None

    def availability(self) -> Availability:
        if "cpu" in self.components and self.cpu_tdp_w is None:
            return Availability(METER_ID, False, "component cpu needs cpu_tdp_w")
        try:
            gb = self.ram_gb()
        except (OSError, MeterUnavailableError) as exc:
            return Availability(METER_ID, False, f"total RAM unknown: {exc}")
        return Availability(METER_ID, True, f"model estimate (RAM {gb:.1f} GB)", self.components)

    def ram_gb(self) -> float:
        """Total RAM in GB used by the RAM model."""
        if self._ram_gb is None:
            self._ram_gb = total_ram_gb()
        return self._ram_gb

    def _times(self) -> tuple[int, int] | None:
        if self._cpu_times is None:
            return None
        try:
            return self._cpu_times()
        except OSError:
            return None

    def begin(self, window: Window) -> None:
        av = self.availability()
        if not av.available:
            raise MeterUnavailableError.for_field("meter", METER_ID, av.reason)
        self._start = (window, self._clock.monotonic_ns(), self._clock.wall_ns(), self._times())

    def end(self) -> tuple[MeterReading, ...]:
        if self._start is None:
            raise MeterUnavailableError.for_field("window", None, "end() without begin()")
        t_end = self._times()
        window, start_ns, wall_ns, t_start = self._start
        self._start = None
        edges = WindowEdges(window, start_ns, wall_ns, self._clock.monotonic_ns())
        out = []
        for comp in self.components:
            if comp == "ram":
                gb = self.ram_gb()
                if self.ram_model == "codecarbon_ram_v3":
                    watts = codecarbon_ram_v3_w(gb)
                    params = {"ram_gb": gb, "dimms": estimate_dimm_count(gb), "w_per_dimm": 5.0}
                else:
                    watts, params = codecarbon_ram_v2_w(gb), {"ram_gb": gb, "w_per_8gb": 3.0}
                out.append(self._reading(edges, "ram", "dram", self.ram_model, watts, params))
            else:
                assert self.cpu_tdp_w is not None
                load = None
                if t_start is not None and t_end is not None and t_end[1] > t_start[1]:
                    load = (t_end[0] - t_start[0]) / (t_end[1] - t_start[1])
                if load is None:
                    watts, name = 0.5 * self.cpu_tdp_w, "constant_half_tdp"
                else:
                    watts, name = self.cpu_tdp_w * (0.1 + 0.9 * load**3), "cpu_load_tdp"
                cpu_params: dict[str, object] = {"tdp_w": self.cpu_tdp_w, "load": load}
                out.append(self._reading(edges, "cpu", "package", name, watts, cpu_params))
        return tuple(out)

    def _reading(
        self,
        e: WindowEdges,
        comp: str,
        scope: str,
        name: str,
        watts: float,
        params: Mapping[str, object],
    ) -> MeterReading:
        dur = e.duration_s
        return MeterReading(
            reading_id=f"{e.window.run_id}/{e.window.epoch}/{e.window.window_name}/{METER_ID}/{comp}",
            **e.reading_fields(),
            meter=METER_ID,
            method="model",
            quantity=f"{comp}_power_model",
            api_call=f"eabench.meters.node_estimate:{name}",
            backend="eabench",
            scope=scope,
            integration="model",
            energy_j=watts * dur,
            mean_power_w=watts,
            device={"component": comp},
            model={"name": name, "params": params},
            kernel_release=kernel_release(),
        )

    def close(self) -> None:
        return None


def apply_pue(reading: MeterReading, pue: float) -> MeterReading:
    """A new reading with energy and power scaled by ``pue`` and ``pue_applied`` recorded.

    The reading id gets the suffix ``/pue``; the original stays valid (PUE is a separate,
    recorded step, never in place). A reading that already carries a PUE is refused.
    """
    if not (isinstance(pue, (int, float)) and math.isfinite(pue) and pue >= 1.0):
        raise InvalidArgumentError.for_field("pue", pue, "must be a finite number >= 1")
    if reading.pue_applied is not None:
        raise InvalidArgumentError.for_field(
            "pue_applied", reading.pue_applied, "PUE applied twice"
        )
    return dataclasses.replace(
        reading,
        reading_id=f"{reading.reading_id}/pue",
        energy_j=None if reading.energy_j is None else reading.energy_j * pue,
        mean_power_w=None if reading.mean_power_w is None else reading.mean_power_w * pue,
        pue_applied=float(pue),
        flags=(),
        policy_id=None,
    )
