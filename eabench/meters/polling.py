"""A polling thread and the sampling statistics every polling meter records.

:class:`Poller` calls ``read()`` from a daemon thread, either at a fixed rate (deadlines
``t0 + k/rate``, missed deadlines skipped, as a well-behaved poller) or by sleeping a fixed time
*after* each read (``sleep_after``; the EA-HAS-Bench tracer's loop, whose real period is the
sleep plus the query latency). :func:`sampling_stats` and :func:`trapezoid_energy_j` are pure
functions of the sample times and values, so they can be recomputed offline.
"""

from __future__ import annotations

import itertools
import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from eabench.errors import InvalidArgumentError, MeterUnavailableError
from eabench.meters.base import Clock, SystemClock, Window, WindowEdges

__all__ = ["PolledWindow", "Poller", "SamplingStats", "sampling_stats", "trapezoid_energy_j"]

T = TypeVar("T")


class Poller(Generic[T]):
    """Call ``read`` repeatedly from a thread between :meth:`start` and :meth:`stop`.

    Args:
        read: returns one sample (any object); exceptions are counted in ``errors``.
        clock: time source; with :class:`SystemClock` the sleep is interruptible by ``stop``.
        period_s: 1 / requested rate.
        mode: ``fixed_rate`` or ``sleep_after``.
    """

    def __init__(
        self, read: Callable[[], T], clock: Clock, period_s: float, mode: str = "fixed_rate"
    ) -> None:
        if not period_s > 0:
            raise InvalidArgumentError.for_field("period_s", period_s, "must be > 0")
        if mode not in ("fixed_rate", "sleep_after"):
            raise InvalidArgumentError.for_field("mode", mode, "fixed_rate or sleep_after")
        self._read = read
        self._clock = clock
        self._period_s = period_s
        self._mode = mode
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.samples: list[tuple[int, T]] = []
        self.errors: list[tuple[int, BaseException]] = []
        self.thread_cpu_s = 0.0

    def start(self) -> None:
        """Start polling (first read immediately)."""
        self.samples = []
        self.errors = []
        self._stop.clear()
        started = threading.Event()
        self._thread = threading.Thread(
            target=self._loop, args=(started,), name="eabench-poller", daemon=True
        )
        self._thread.start()
        started.wait()

    def _sleep(self, seconds: float) -> None:
        if isinstance(self._clock, SystemClock):
            self._stop.wait(max(0.0, seconds))
        else:
            self._clock.sleep(seconds)

    def _loop(self, started: threading.Event) -> None:
        cpu0 = time.thread_time()
        self._clock.sleep(0.0)  # registers this thread with a simulated clock
        started.set()
        t0 = self._clock.monotonic_ns()
        k = 0
        while not self._stop.is_set():
            t = self._clock.monotonic_ns()
            try:
                self.samples.append((t, self._read()))
            except Exception as exc:  # a failed poll is data (poll_errors), not a crash
                self.errors.append((t, exc))
            if self._mode == "sleep_after":
                self._sleep(self._period_s)
                continue
            k += 1
            now = self._clock.monotonic_ns()
            # skip deadlines already missed
            k = max(k, math.ceil((now - t0) / (self._period_s * 1e9)))
            self._sleep((t0 + k * self._period_s * 1e9 - now) / 1e9)
        self.thread_cpu_s = time.thread_time() - cpu0

    def stop(self) -> None:
        """Stop and join the thread (with a simulated clock, time advances until it exits)."""
        self._stop.set()
        thread = self._thread
        if thread is None:
            return
        if isinstance(self._clock, SystemClock):
            thread.join()
        else:
            while thread.is_alive():
                self._clock.sleep(self._period_s)
        self._thread = None


class PolledWindow(Generic[T]):
    """The window bookkeeping every polling meter shares.

    :meth:`begin` records the window's edges and starts a :class:`Poller`; :meth:`end` stops it and
    returns the edges with the samples taken inside the window. ``poller`` stays available after
    ``end`` (for overhead measurements and error counts).
    """

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self.poller: Poller[T] | None = None
        self._start: tuple[Window, int, int] | None = None

    def begin(self, window: Window, poller: Poller[T]) -> None:
        """Record the window start and start ``poller``."""
        self.poller = poller
        self._start = (window, self._clock.monotonic_ns(), self._clock.wall_ns())
        poller.start()

    def end(self) -> tuple[WindowEdges, list[tuple[int, T]]]:
        """Stop polling; the window's edges and its samples as ``(monotonic ns, sample)``."""
        if self._start is None or self.poller is None:
            raise MeterUnavailableError.for_field("window", None, "end() without begin()")
        end_ns = self._clock.monotonic_ns()
        self.poller.stop()
        window, start_ns, wall_ns = self._start
        self._start = None
        edges = WindowEdges(window, start_ns, wall_ns, end_ns)
        return edges, [(t, x) for t, x in self.poller.samples if start_ns <= t <= end_ns]

    def close(self) -> None:
        """Stop a poller left running (window never ended)."""
        if self.poller is not None:
            self.poller.stop()


@dataclass(frozen=True, slots=True)
class SamplingStats:
    """Sampling facts of one polled window (field names as in MeterReading)."""

    samples_taken: int
    samples_expected: int
    achieved_rate_hz: float | None
    max_gap_s: float | None
    edge_gap_start_s: float | None
    edge_gap_end_s: float | None


def sampling_stats(
    times_ns: Sequence[int], start_ns: int, end_ns: int, requested_rate_hz: float
) -> SamplingStats:
    """Samples taken vs expected (floor(duration x rate)), achieved rate ((n-1)/(t_n - t_1)),
    the largest gap between consecutive samples and the gaps at both window edges, in seconds.
    ``times_ns`` must lie inside ``[start_ns, end_ns]``."""
    n = len(times_ns)
    duration = (end_ns - start_ns) / 1e9
    expected = math.floor(duration * requested_rate_hz + 1e-9)
    if n == 0:
        return SamplingStats(0, expected, None, None, None, None)
    ts = sorted(times_ns)
    gaps = [(b - a) / 1e9 for a, b in itertools.pairwise(ts)]
    achieved = (n - 1) / ((ts[-1] - ts[0]) / 1e9) if n > 1 and ts[-1] > ts[0] else None
    return SamplingStats(
        samples_taken=n,
        samples_expected=expected,
        achieved_rate_hz=achieved,
        max_gap_s=max(gaps) if gaps else None,
        edge_gap_start_s=(ts[0] - start_ns) / 1e9,
        edge_gap_end_s=(end_ns - ts[-1]) / 1e9,
    )


def trapezoid_energy_j(
    times_ns: Sequence[int], watts: Sequence[float], start_ns: int, end_ns: int
) -> float | None:
    """Trapezoid integral of power samples over ``[start_ns, end_ns]`` in joules.

    Before the first and after the last sample the nearest sample is held (edge extrapolation,
    recorded by the caller as edge gaps). None without samples.
    """
    if not times_ns:
        return None
    pts = sorted(zip(times_ns, watts, strict=True))
    t = [start_ns, *(p[0] for p in pts), end_ns]
    w = [pts[0][1], *(p[1] for p in pts), pts[-1][1]]
    return sum((t[i + 1] - t[i]) / 1e9 * (w[i] + w[i + 1]) / 2 for i in range(len(t) - 1))
