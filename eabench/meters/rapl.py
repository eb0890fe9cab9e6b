"""``cpu.rapl`` and ``dram.rapl``: Intel/AMD RAPL energy counters via Linux powercap sysfs.

Zones live under ``/sys/class/powercap`` (``intel-rapl:<pkg>`` with sub-zones
``intel-rapl:<pkg>:<sub>``; each has ``name``, ``energy_uj``, ``max_energy_range_uj``). ``cpu.rapl``
meters every ``package-N`` zone (all sockets; ``psys`` only when no package zone exists) and
``dram.rapl`` every ``dram`` zone; one reading per zone. Overlapping domains (psys > package >
core/uncore) are never summed: there is no "total" reading. A counter that decreased between
the edges wrapped once at ``max_energy_range_uj`` (corrected, ``wrap_tracker="edge_compare"``;
windows long enough to wrap twice are flagged WRAP_AMBIGUOUS by the policy). Since Linux 5.10
``energy_uj`` is root-only: a ``PermissionError`` gives ``energy_j=None`` with
``permissions.readable=False`` (flag NO_PERMISSION), never 0.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from eabench.errors import MeterUnavailableError
from eabench.meters.base import (
    Availability,
    Clock,
    SystemClock,
    Window,
    WindowEdges,
    failed_reading,
    kernel_release,
)
from eabench.meters.provenance import MeterReading

__all__ = ["DEFAULT_POWERCAP", "RaplMeter", "RaplSource", "RaplZone", "SysfsRaplSource"]

DEFAULT_POWERCAP = Path("/sys/class/powercap")
_ZONE_RE = re.compile(r"^intel-rapl:\d+(:\d+)?$")
#: RAPL counters update about every 1 ms (Hähnel et al. 2012, secondary).
RAPL_UPDATE_PERIOD_S = 0.001


@dataclass(frozen=True, slots=True)
class RaplZone:
    """One powercap zone: id (``intel-rapl:0:2``), ``name`` (``package-0``, ``dram``) and path."""

    zone_id: str
    name: str
    path: str

    @property
    def socket(self) -> int:
        """The package index the zone belongs to."""
        return int(self.zone_id.split(":")[1])


@runtime_checkable
class RaplSource(Protocol):
    """Reads RAPL zones; ``read_energy_uj`` may raise ``PermissionError``."""

    simulated: bool

    def zones(self) -> list[RaplZone]: ...

    def read_energy_uj(self, zone: RaplZone) -> int: ...

    def max_energy_range_uj(self, zone: RaplZone) -> int | None: ...


class SysfsRaplSource:
    """:class:`RaplSource` over a powercap tree (``root`` is injectable for tests/containers)."""

    def __init__(self, root: Path | str = DEFAULT_POWERCAP, simulated: bool = False) -> None:
        self.root = Path(root)
        self.simulated = simulated

    def zones(self) -> list[RaplZone]:
        if not self.root.is_dir():
            return []
        found: dict[str, RaplZone] = {}
        candidates = list(self.root.glob("intel-rapl:*")) + list(
            self.root.glob("intel-rapl:*/intel-rapl:*")
        )
        for d in sorted(candidates):
            if not _ZONE_RE.match(d.name) or d.name in found:
                continue
            try:
                name = (d / "name").read_text().strip()
            except OSError:
                continue
            found[d.name] = RaplZone(d.name, name, str(d / "energy_uj"))
        return sorted(found.values(), key=lambda z: [int(x) for x in z.zone_id.split(":")[1:]])

    def read_energy_uj(self, zone: RaplZone) -> int:
        with open(zone.path) as fh:
            return int(fh.read().strip())

    def max_energy_range_uj(self, zone: RaplZone) -> int | None:
        try:
            return int((Path(zone.path).parent / "max_energy_range_uj").read_text().strip())
        except (OSError, ValueError):
            return None


class RaplMeter:
    """Meter ``cpu.rapl`` (``domain="package"``) or ``dram.rapl`` (``domain="dram"``)."""

    def __init__(
        self, domain: str = "package", source: RaplSource | None = None, clock: Clock | None = None
    ) -> None:
        if domain not in ("package", "dram"):
            raise MeterUnavailableError.for_field("domain", domain, "package or dram")
        self.domain = domain
        self.meter_id = "cpu.rapl" if domain == "package" else "dram.rapl"
        self._source = source or SysfsRaplSource()
        self._clock = clock or SystemClock()
        self._start: tuple[Window, int, int, dict[str, int | BaseException]] | None = None

    def zones(self) -> list[RaplZone]:
        """The zones this meter reads (never overlapping each other)."""
        zones = self._source.zones()
        if self.domain == "dram":
            return [z for z in zones if z.name == "dram"]
        pkgs = [z for z in zones if z.name.startswith("package")]
        return pkgs or [z for z in zones if z.name == "psys"]

    def availability(self) -> Availability:
        zones = self.zones()
        if not zones:
            root = getattr(self._source, "root", "the RAPL source")
            return Availability(self.meter_id, False, f"no RAPL {self.domain} zone under {root}")
        try:
            self._source.read_energy_uj(zones[0])
        except PermissionError as exc:
            return Availability(
                self.meter_id,
                True,
                f"no permission ({exc}); readings will be null",
                tuple(z.zone_id for z in zones),
            )
        except OSError as exc:
            return Availability(self.meter_id, False, f"{zones[0].path}: {exc}")
        return Availability(self.meter_id, True, "", tuple(z.zone_id for z in zones))

    def _read_all(self, zones: list[RaplZone]) -> dict[str, int | BaseException]:
        out: dict[str, int | BaseException] = {}
        for z in zones:
            try:
                out[z.zone_id] = self._source.read_energy_uj(z)
            except OSError as exc:
                out[z.zone_id] = exc
        return out

    def begin(self, window: Window) -> None:
        zones = self.zones()
        if not zones:
            raise MeterUnavailableError.for_field("meter", self.meter_id, "no RAPL zone")
        self._start = (
            window,
            self._clock.monotonic_ns(),
            self._clock.wall_ns(),
            self._read_all(zones),
        )

    def end(self) -> tuple[MeterReading, ...]:
        if self._start is None:
            raise MeterUnavailableError.for_field("window", None, "end() without begin()")
        zones = self.zones()
        raw_end = self._read_all(zones)
        end_ns = self._clock.monotonic_ns()
        window, start_ns, wall_ns, raw_start = self._start
        self._start = None
        edges = WindowEdges(window, start_ns, wall_ns, end_ns)
        return tuple(
            self._reading(z, raw_start.get(z.zone_id), raw_end[z.zone_id], edges) for z in zones
        )

    def _reading(
        self, z: RaplZone, a: int | BaseException | None, b: int | BaseException, e: WindowEdges
    ) -> MeterReading:
        rid = (
            f"{e.window.run_id}/{e.window.epoch}/{e.window.window_name}/{self.meter_id}/{z.zone_id}"
        )
        cmax = self._source.max_energy_range_uj(z)
        scope = z.name if z.name in ("dram", "psys", "core", "uncore") else "package"
        base = {
            **e.reading_fields(),
            "meter": self.meter_id,
            "method": "counter",
            "quantity": "energy_counter",
            "api_call": z.path,
            "backend": "linux powercap sysfs",
            "scope": scope,
            "integration": "counter_delta",
            "device": {"zone": z.zone_id, "name": z.name, "socket": z.socket},
            "raw_unit": "uJ",
            "counter_max": cmax,
            "wrap_tracker": "edge_compare",
            "update_period_s": RAPL_UPDATE_PERIOD_S,
            "update_period_source": "nominal",
            "kernel_release": kernel_release(),
            "simulated": self._source.simulated,
        }
        if a is None:
            a = MeterUnavailableError.for_field("zone", z.zone_id, "appeared after begin()")
        if isinstance(a, BaseException) or isinstance(b, BaseException):
            exc = a if isinstance(a, BaseException) else b
            assert isinstance(exc, BaseException)
            return failed_reading(base, exc, reading_id=rid)
        wraps = 0
        delta: int | None = b - a
        error = None
        if b < a:
            if cmax is None:
                delta, error = None, "counter decreased and max_energy_range_uj is unreadable"
            else:
                wraps, delta = 1, b - a + cmax
        energy = delta / 1e6 if delta is not None else None
        dur = e.duration_s
        return MeterReading(
            reading_id=rid,
            **base,
            raw_start=a,
            raw_end=b,
            wraps_corrected=wraps,
            energy_j=energy,
            mean_power_w=energy / dur if energy is not None and dur > 0 else None,
            error=error,
        )

    def close(self) -> None:
        return None
