"""``node.external``: an external (wall) power meter's CSV, aligned to windows by timestamps.

The CSV has a header with a time column (Unix seconds, float, or ISO 8601 with a UTC offset) and
a power column in W (``power_w``). Windows are aligned by wall-clock time: a window spans
``[window_start_wall_ns, window_start_wall_ns + duration]`` shifted by ``clock_offset_s``
(meter clock minus host clock, from an NTP check). Power is linearly interpolated at the window
edges when samples straddle them, otherwise held from the nearest sample (edge gaps recorded),
and integrated by trapezoid. The file may still be growing during collection (read at ``end()``)
or be complete afterwards (:meth:`ExternalCsvMeter.reading_for`).
"""

from __future__ import annotations

import csv
import dataclasses
import math
from datetime import datetime
from pathlib import Path

import numpy as np

from eabench.errors import InvalidArgumentError, InvalidLogError, MeterUnavailableError
from eabench.meters.base import Availability, Clock, SystemClock, Window, WindowEdges
from eabench.meters.polling import sampling_stats
from eabench.meters.provenance import MeterReading

__all__ = ["ExternalCsvMeter", "read_power_csv"]

METER_ID = "node.external"


def _parse_time(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        pass
    try:
        dt = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidLogError.for_field("timestamp", text, "Unix seconds or ISO 8601") from exc
    if dt.tzinfo is None:
        raise InvalidLogError.for_field("timestamp", text, "ISO 8601 needs a UTC offset")
    return dt.timestamp()


def read_power_csv(
    path: Path, time_column: str = "timestamp", power_column: str = "power_w"
) -> tuple[np.ndarray, np.ndarray]:
    """(Unix seconds, watts) arrays sorted by time; bad rows raise ``InvalidLogError``."""
    times: list[float] = []
    watts: list[float] = []
    with open(path, newline="") as fh:
        reader = csv.DictReader(fh)
        cols = reader.fieldnames or []
        for col in (time_column, power_column):
            if col not in cols:
                raise InvalidLogError.for_field("column", col, f"missing from {path} ({cols})")
        for lineno, row in enumerate(reader, start=2):
            w_text = row[power_column]
            try:
                w = float(w_text)
            except (TypeError, ValueError) as exc:
                raise InvalidLogError.for_field(
                    f"{path}:{lineno}:{power_column}", w_text, "must be a number"
                ) from exc
            if not math.isfinite(w) or w < 0:
                raise InvalidLogError.for_field(f"{path}:{lineno}:{power_column}", w, ">= 0")
            times.append(_parse_time(row[time_column]))
            watts.append(w)
    order = np.argsort(times, kind="stable")
    return np.asarray(times)[order], np.asarray(watts)[order]


class ExternalCsvMeter:
    """Meter ``node.external`` over a power-meter CSV (``rate_hz``: the meter's sample rate)."""

    meter_id = METER_ID

    def __init__(
        self,
        path: Path | str,
        rate_hz: float,
        clock: Clock | None = None,
        clock_offset_s: float = 0.0,
        meter_model: str = "unknown",
        time_column: str = "timestamp",
        power_column: str = "power_w",
        simulated: bool = False,
    ) -> None:
        if not rate_hz > 0:
            raise InvalidArgumentError.for_field("rate_hz", rate_hz, "must be > 0")
        self.path = Path(path)
        self.rate_hz = float(rate_hz)
        self._clock = clock or SystemClock()
        self.clock_offset_s = clock_offset_s
        self.meter_model = meter_model
        self._cols = (time_column, power_column)
        self.simulated = simulated
        self._start: tuple[Window, int, int] | None = None

    def availability(self) -> Availability:
        if not self.path.is_file():
            return Availability(METER_ID, False, f"{self.path} does not exist")
        return Availability(METER_ID, True, "", (self.meter_model,))

    def begin(self, window: Window) -> None:
        self._start = (window, self._clock.monotonic_ns(), self._clock.wall_ns())

    def end(self) -> tuple[MeterReading, ...]:
        if self._start is None:
            raise MeterUnavailableError.for_field("window", None, "end() without begin()")
        window, start_ns, wall_ns = self._start
        self._start = None
        return (
            self.reading_for(WindowEdges(window, start_ns, wall_ns, self._clock.monotonic_ns())),
        )

    def reading_for(self, edges: WindowEdges) -> MeterReading:
        """The reading for one window (its wall-clock span) from the CSV as it is now."""
        t, w = read_power_csv(self.path, *self._cols)
        a = edges.start_wall_ns / 1e9 + self.clock_offset_s
        b = a + edges.duration_s
        inside = (t >= a) & (t <= b)
        ti, wi = t[inside], w[inside]
        # interpolate at the edges where samples straddle them, else hold the nearest sample
        pts_t, pts_w = [float(x) for x in ti], [float(x) for x in wi]
        lo_interp = bool(t.size) and t[0] < a and (not ti.size or ti[0] > a)
        hi_interp = bool(t.size) and t[-1] > b and (not ti.size or ti[-1] < b)
        if lo_interp:
            pts_t.insert(0, a)
            pts_w.insert(0, float(np.interp(a, t, w)))
        if hi_interp:
            pts_t.append(b)
            pts_w.append(float(np.interp(b, t, w)))
        energy = None
        if pts_t and (ti.size or (lo_interp and hi_interp)):
            tt = np.array([a, *pts_t, b])
            ww = np.array([pts_w[0], *pts_w, pts_w[-1]])
            energy = float(np.sum(np.diff(tt) * (ww[1:] + ww[:-1]) / 2))
        stats = sampling_stats(
            [edges.start_mono_ns + round((float(x) - a) * 1e9) for x in ti],
            edges.start_mono_ns,
            edges.end_mono_ns,
            self.rate_hz,
        )
        stats = dataclasses.replace(
            stats,
            edge_gap_start_s=0.0 if lo_interp else stats.edge_gap_start_s,
            edge_gap_end_s=0.0 if hi_interp else stats.edge_gap_end_s,
        )
        dur = edges.duration_s
        return MeterReading(
            reading_id=f"{edges.window.run_id}/{edges.window.epoch}/{edges.window.window_name}/"
            f"{METER_ID}/0",
            **edges.reading_fields(),
            meter=METER_ID,
            method="external",
            quantity="power",
            api_call=f"csv:{self.path.name}[{self._cols[1]}]",
            backend=f"external meter {self.meter_model}",
            scope="node_wall",
            integration="trapezoid",
            energy_j=energy,
            mean_power_w=energy / dur if energy is not None and dur > 0 else None,
            device={"meter_model": self.meter_model, "clock_offset_s": self.clock_offset_s},
            requested_rate_hz=self.rate_hz,
            achieved_rate_hz=stats.achieved_rate_hz,
            samples_expected=stats.samples_expected,
            samples_taken=stats.samples_taken,
            samples_unique=len(set(wi.tolist())),
            max_gap_s=stats.max_gap_s,
            edge_gap_start_s=stats.edge_gap_start_s,
            edge_gap_end_s=stats.edge_gap_end_s,
            simulated=self.simulated,
            error=None if energy is not None else "no external samples inside the window",
        )

    def close(self) -> None:
        return None
