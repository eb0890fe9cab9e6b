"""Physical and internal-consistency checks applied at ingestion (policy ``eabench-consistency-1``).

Versioned like the quality policy: :data:`CONSISTENCY_POLICY_ID` names this rule set, every
rejection reason carries it, and the ingestion report records it. A record that fails a check is
rejected (reported with file, field, value and rule); nothing wrong gets in silently.

Rules for every run (any source):

* ``raw_unit`` of a counter reading must be a known energy unit (:data:`RAW_UNITS`).
* Counter delta vs ``energy_j``: ``(raw_end - raw_start + wraps_corrected * counter_max)`` in
  joules must equal ``energy_j`` within 1e-6 relative plus two counter units.
* Mean power ``energy_j / duration_s`` must lie in ``[0, SCOPE_MAX_W[scope]]`` (per device; a
  reading naming several devices gets that many times the bound).
* Windows: a reading with energy > 0 must have a positive duration (a zero-length window with
  energy is rejected, unless the reading says its window edges are unknown: ``NO_WINDOW_TIMES``);
  per meter channel, windows must be in epoch order and must not overlap.

Rules for EC-NAS ``results.json`` (:func:`check_ecnas_totals`), from identities that hold for
every one of the 2,805 real files:

* ``total_energy (kWh) * 3.6e6 / 1.59 == sum(GPU J) + sum(CPU J)`` within 5 J + 5e-4 relative
  (observed: at most 2.6 J, 1.3e-4 relative; a unit error is off by x1000 or more).
* ``sum(avg power W) * total_time / sum(J)`` in [0.9, 1.1] (observed 1.00-1.07): catches power in
  mW and times in ms.
* ``total_time`` within 60 s + 10 % of ``stop_emission - start_emission`` (observed -1..+16 s).
* Each window's training time is at most its segment's wall time + 2 s (1 s time stamps), and
  the last evaluation's cumulative kWh is at most the run's total.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Final, cast

from eabench.errors import InvalidLogError
from eabench.logs.schema import RunLog
from eabench.meters.provenance import MeterReading

__all__ = [
    "CONSISTENCY_POLICY_ID",
    "RAW_UNITS",
    "SCOPE_MAX_W",
    "check_ecnas_totals",
    "check_ecnas_window",
    "check_run",
]

CONSISTENCY_POLICY_ID: Final = "eabench-consistency-1"
#: joules per raw counter unit
RAW_UNITS: Final[Mapping[str, float]] = {
    "J": 1.0,
    "mJ": 1e-3,
    "uJ": 1e-6,
    "nJ": 1e-9,
    "Wh": 3600.0,
    "kWh": 3.6e6,
}
#: upper bound of plausible mean power (W) per device, by reading scope
SCOPE_MAX_W: Final[Mapping[str, float]] = {
    "gpu": 2000.0,
    "module": 3000.0,
    "memory": 500.0,
    "package": 1000.0,
    "core": 1000.0,
    "dram": 500.0,
    "psys": 2000.0,
    "node_wall": 20000.0,
    "gpu+package": 5000.0,
    "unknown": 1e5,
}
_DEFAULT_MAX_W: Final = 1e5


def _err(field: str, value: Any, rule: str) -> InvalidLogError:
    exc = InvalidLogError.for_field(field, value, f"{rule} [{CONSISTENCY_POLICY_ID}]")
    return cast(InvalidLogError, exc)


def _n_devices(r: MeterReading) -> int:
    n = sum(len(v) for v in (r.device or {}).values() if isinstance(v, list))
    return max(n, 1)


def _check_reading(where: str, r: MeterReading) -> None:
    if r.raw_unit is not None and r.raw_unit not in RAW_UNITS:
        raise _err(f"{where}.raw_unit", r.raw_unit, f"must be one of {sorted(RAW_UNITS)}")
    if (
        r.raw_start is not None
        and r.raw_end is not None
        and r.raw_unit is not None
        and r.energy_j is not None
        and not (r.wraps_corrected and r.counter_max is None)
    ):
        unit = RAW_UNITS[r.raw_unit]
        delta = r.raw_end - r.raw_start + r.wraps_corrected * (r.counter_max or 0)
        want = delta * unit
        if abs(want - r.energy_j) > 1e-6 * max(abs(want), abs(r.energy_j)) + 2 * unit:
            raise _err(
                f"{where}.energy_j",
                r.energy_j,
                f"must equal the counter delta {delta} {r.raw_unit} = {want:g} J",
            )
    no_times = "NO_WINDOW_TIMES" in r.flag_codes
    if r.energy_j is not None and r.energy_j > 0 and not no_times:
        zero_window = r.window_end_mono_ns == r.window_start_mono_ns
        if r.duration_s == 0 or (zero_window and not r.duration_s):
            raise _err(f"{where}.duration_s", r.duration_s, "energy over a zero-length window")
    if r.energy_j is not None and r.duration_s:
        power = r.energy_j / r.duration_s
        bound = SCOPE_MAX_W.get(r.scope, _DEFAULT_MAX_W) * _n_devices(r)
        if not 0.0 <= power <= bound:
            raise _err(
                f"{where}.energy_j",
                r.energy_j,
                f"mean power {power:.4g} W over {r.duration_s:g} s must be in [0, {bound:g}] W "
                f"for scope {r.scope!r}",
            )


def check_run(log: RunLog) -> None:
    """Raise ``InvalidLogError`` (naming field, value and rule) if ``log`` fails a rule."""
    last_end: dict[tuple[str, str, str, str], tuple[int, int]] = {}
    steps: list[tuple[str, Sequence[MeterReading]]] = []
    if log.header.setup is not None:
        steps.append(("setup.readings", log.header.setup.readings))
    steps.extend((f"epochs[{i}].readings", rec.readings) for i, rec in enumerate(log.epochs))
    for where, readings in steps:
        for j, r in enumerate(readings):
            here = f"{where}[{j}]"
            _check_reading(here, r)
            if "NO_WINDOW_TIMES" in r.flag_codes:
                continue
            device = repr(sorted((r.device or {}).items(), key=str))
            key = (r.meter, r.scope, device, r.window_name)
            prev = last_end.get(key)
            if prev is not None and r.window_start_mono_ns < prev[1]:
                raise _err(
                    f"{here}.window_start_mono_ns",
                    r.window_start_mono_ns,
                    f"overlaps the previous window of this channel (ends at {prev[1]}, "
                    f"epoch {prev[0]}); windows must be in order and disjoint",
                )
            last_end[key] = (r.epoch, r.window_end_mono_ns)


def check_ecnas_totals(
    *,
    total_kwh: float,
    total_time_s: float,
    wall_s: float,
    gpu_j: Sequence[float],
    cpu_j: Sequence[float],
    gpu_w: Sequence[float],
    cpu_w: Sequence[float],
    last_eval_kwh: float,
    pue: float,
) -> None:
    """The run-level identities of an EC-NAS ``results.json`` (see the module docstring)."""
    parts_j = math.fsum(gpu_j) + math.fsum(cpu_j)
    total_j = total_kwh * 3.6e6 / pue
    if abs(total_j - parts_j) > 5.0 + 5e-4 * max(total_j, parts_j):
        raise _err(
            "total_energy (kWh)",
            total_kwh,
            f"kWh x 3.6e6 / {pue} = {total_j:.6g} J must equal GPU J + CPU J = {parts_j:.6g} J",
        )
    if parts_j > 0 and total_time_s > 0:
        ratio = (math.fsum(gpu_w) + math.fsum(cpu_w)) * total_time_s / parts_j
        if not 0.9 <= ratio <= 1.1:
            raise _err(
                "avg_power_usages (W)",
                [*gpu_w, *cpu_w],
                f"sum(W) x total_time / sum(J) = {ratio:.4g}, must be in [0.9, 1.1] "
                "(power in W, time in s, energy in J)",
            )
    if abs(total_time_s - wall_s) > 60.0 + 0.1 * wall_s:
        raise _err(
            "total_time",
            total_time_s,
            f"must be within 60 s + 10 % of stop_emission - start_emission ({wall_s:g} s)",
        )
    if last_eval_kwh > total_kwh + 1e-6:
        raise _err(
            "evaluation_results[-1].energy (kWh)",
            last_eval_kwh,
            f"cumulative training energy must not exceed the run total {total_kwh}",
        )


def check_ecnas_window(where: str, train_s: float, segment_s: float) -> None:
    """An EC-NAS window's training time must fit in its segment's wall time (+2 s)."""
    if train_s > segment_s + 2.0:
        raise _err(
            f"{where}.training_time",
            train_s,
            f"window training time must be <= its segment wall time {segment_s:g} s + 2 s",
        )
