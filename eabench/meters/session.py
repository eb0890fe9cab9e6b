"""Run several meters side by side over the same windows: the per-epoch API of collection.

Typical use by the collection harness (one session per run)::

    session = MeterSession(default_meters(sync=torch.cuda.synchronize), run_id=run_id)
    for epoch in range(n_epochs):
        session.begin(epoch, "train")
        train_one_epoch()
        result = session.end()          # WindowResult: flagged readings + roll-up
        log.append(epoch, [r.to_dict() for r in result.readings])
    session.close()

Unavailable meters are dropped at construction and listed in :attr:`MeterSession.unavailable`
(meter id -> reason), so a machine without GPU or RAPL still collects with what it has.
Pollers start first and stop last; counters are read as close to the edges as possible.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from eabench.errors import InvalidArgumentError
from eabench.meters.base import Availability, Meter, Window
from eabench.meters.flags import DEFAULT_POLICY, QualityPolicy, apply_policy, rollup
from eabench.meters.provenance import MeterReading, Severity

__all__ = ["MeterSession", "WindowResult"]


@dataclass(frozen=True, slots=True)
class WindowResult:
    """The flagged readings of one window from every active meter, and their roll-up."""

    window: Window
    readings: tuple[MeterReading, ...]
    severity: Severity | None
    errors: dict[str, str] = field(default_factory=dict)

    def by_meter(self, meter_id: str) -> tuple[MeterReading, ...]:
        """Readings of one meter (one per device or domain)."""
        return tuple(r for r in self.readings if r.meter == meter_id)


def _is_polling(meter: Meter) -> bool:
    return getattr(meter, "meter_id", "") in ("gpu.nvml_power", "gpu.smi_poll")


class MeterSession:
    """Side-by-side meters over the windows of one run.

    Args:
        meters: candidate meters; those whose ``availability()`` is false are skipped.
        run_id: recorded in every reading.
        policy: quality policy applied to each window's readings (single and cross-meter rules).
    """

    def __init__(
        self, meters: Sequence[Meter], run_id: str, policy: QualityPolicy = DEFAULT_POLICY
    ) -> None:
        if not run_id:
            raise InvalidArgumentError.for_field("run_id", run_id, "must be non-empty")
        self.run_id = run_id
        self.policy = policy
        self.availability: dict[str, Availability] = {}
        active: list[Meter] = []
        for m in meters:
            av = m.availability()
            self.availability[m.meter_id] = av
            if av.available:
                active.append(m)
        # pollers first at begin, counters last; reverse at end
        self.meters: tuple[Meter, ...] = tuple(
            sorted(active, key=lambda m: 0 if _is_polling(m) else 1)
        )
        self._open: Window | None = None
        self._begun: list[Meter] = []
        self._begin_errors: dict[str, str] = {}

    @property
    def unavailable(self) -> dict[str, str]:
        """Meter id -> reason for every meter that was skipped."""
        return {k: v.reason for k, v in self.availability.items() if not v.available}

    def begin(self, epoch: int, window_name: str = "train") -> Window:
        """Open a window on every active meter."""
        if self._open is not None:
            raise InvalidArgumentError.for_field("window", self._open, "previous window not ended")
        window = Window(self.run_id, epoch, window_name)
        self._begun, self._begin_errors = [], {}
        for m in self.meters:
            try:
                m.begin(window)
                self._begun.append(m)
            except Exception as exc:  # one failing meter must not stop the others
                self._begin_errors[m.meter_id] = f"{type(exc).__name__}: {exc}"
        self._open = window
        return window

    def end(self) -> WindowResult:
        """Close the window on every meter, flag the readings and roll them up."""
        if self._open is None:
            raise InvalidArgumentError.for_field("window", None, "end() without begin()")
        window, self._open = self._open, None
        errors = dict(self._begin_errors)
        readings: list[MeterReading] = []
        for m in reversed(self._begun):
            try:
                readings.extend(m.end())
            except Exception as exc:
                errors[m.meter_id] = f"{type(exc).__name__}: {exc}"
        flagged = apply_policy(readings, self.policy)
        return WindowResult(window, flagged, rollup(flagged), errors)

    @contextmanager
    def window(self, epoch: int, window_name: str = "train") -> Iterator[list[WindowResult]]:
        """``with session.window(e) as out: ...`` then ``out[0]`` is the :class:`WindowResult`."""
        out: list[WindowResult] = []
        self.begin(epoch, window_name)
        try:
            yield out
        finally:
            out.append(self.end())

    def close(self) -> None:
        """Close every meter (stops pollers, shuts NVML down)."""
        for m in self.meters:
            m.close()
