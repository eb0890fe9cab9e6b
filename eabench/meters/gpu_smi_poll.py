"""``gpu.smi_poll``: ``nvidia-smi`` polled in subprocesses, exactly as EA-HAS-Bench's tracer did.

The tracer (``RegNet+HPO/tracer.py``, see ``reference/ea-has-bench.md`` 2.3) loops: sleep 0.1 s,
run ``nvidia-smi -q -x``, parse ``power_draw``; energy = mean(power samples) x elapsed time. The
real period is therefore 0.1 s *plus* the query latency and the samples carry no timestamps (we
add them). Kocher et al. found <= 10 samples in 39% of 11.8-s epochs with this setup. The meter
is kept to reproduce and flag that failure (SMI_POLLING, UNDER_SAMPLED, LOW_SAMPLE_RATIO, ...);
it is never the primary meter. ``query="csv"`` uses ``--query-gpu=power.draw`` instead of XML.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Sequence

from eabench.errors import InvalidArgumentError, MeterUnavailableError
from eabench.meters.base import (
    Availability,
    Clock,
    SystemClock,
    Window,
    WindowEdges,
    kernel_release,
)
from eabench.meters.polling import PolledWindow, Poller, sampling_stats
from eabench.meters.provenance import MeterReading

__all__ = ["SmiPollMeter", "parse_smi_csv", "parse_smi_xml"]

METER_ID = "gpu.smi_poll"
_WATTS = re.compile(r"([0-9]+(?:\.[0-9]+)?)\s*W?")


def parse_smi_xml(text: str) -> list[float | None]:
    """Per-GPU ``power_draw`` in W from ``nvidia-smi -q -x`` (None for ``N/A``)."""
    root = ET.fromstring(text)
    out: list[float | None] = []
    for gpu in root.iter("gpu"):
        node = gpu.find("./gpu_power_readings/power_draw")
        if node is None:
            node = gpu.find("./power_readings/power_draw")
        m = _WATTS.match((node.text or "").strip()) if node is not None else None
        out.append(float(m.group(1)) if m else None)
    return out


def parse_smi_csv(text: str) -> list[float | None]:
    """Per-GPU watts from ``--query-gpu=power.draw --format=csv,noheader,nounits``."""
    out: list[float | None] = []
    for line in text.strip().splitlines():
        m = _WATTS.match(line.strip())
        out.append(float(m.group(1)) if m else None)
    return out


class SmiPollMeter:
    """Meter ``gpu.smi_poll``: the EA-HAS-Bench tracer loop over ``devices`` (nvidia-smi
    indices; None = all GPUs it lists). ``sleep_s`` is the tracer's 0.1 s."""

    meter_id = METER_ID

    def __init__(
        self,
        clock: Clock | None = None,
        devices: Sequence[int] | None = None,
        sleep_s: float = 0.1,
        query: str = "xml",
        executable: str = "nvidia-smi",
        timeout_s: float = 10.0,
    ) -> None:
        if query not in ("xml", "csv"):
            raise InvalidArgumentError.for_field("query", query, "xml or csv")
        self._clock = clock or SystemClock()
        self._devices = devices
        self.sleep_s = sleep_s
        self.query = query
        self._exe = executable
        self._timeout_s = timeout_s
        self._window: PolledWindow[list[float | None]] = PolledWindow(self._clock)

    def command(self) -> list[str]:
        """The polled command line (recorded as ``api_call``)."""
        exe = shutil.which(self._exe) or self._exe
        if self.query == "xml":
            return [exe, "-q", "-x"]
        return [exe, "--query-gpu=power.draw", "--format=csv,noheader,nounits"]

    def _query(self) -> list[float | None]:
        res = subprocess.run(
            self.command(), capture_output=True, text=True, timeout=self._timeout_s, check=True
        )
        return parse_smi_xml(res.stdout) if self.query == "xml" else parse_smi_csv(res.stdout)

    def availability(self) -> Availability:
        if shutil.which(self._exe) is None:
            return Availability(METER_ID, False, f"{self._exe} not found on PATH")
        try:
            watts = self._query()
        except Exception as exc:
            return Availability(METER_ID, False, f"{self._exe} failed: {exc}")
        if not watts:
            return Availability(METER_ID, False, f"{self._exe} lists no GPU")
        return Availability(METER_ID, True, "", tuple(str(i) for i in range(len(watts))))

    def begin(self, window: Window) -> None:
        if shutil.which(self._exe) is None:
            raise MeterUnavailableError.for_field("executable", self._exe, "not found on PATH")
        poller = Poller(self._query, self._clock, self.sleep_s, "sleep_after")
        self._window.begin(window, poller)

    def end(self) -> tuple[MeterReading, ...]:
        edges, samples = self._window.end()
        n_gpus = max((len(s) for _, s in samples), default=0)
        devices = list(self._devices) if self._devices is not None else list(range(n_gpus))
        if not devices:
            devices = [0]
        return tuple(self._reading(i, samples, edges) for i in devices)

    def _reading(
        self, i: int, samples: list[tuple[int, list[float | None]]], edges: WindowEdges
    ) -> MeterReading:
        good = [(t, s[i]) for t, s in samples if i < len(s) and s[i] is not None]
        times = [t for t, _ in good]
        watts = [float(w) for _, w in good if w is not None]
        stats = sampling_stats(times, edges.start_mono_ns, edges.end_mono_ns, 1.0 / self.sleep_s)
        dur = edges.duration_s
        mean = sum(watts) / len(watts) if watts else None
        poller = self._window.poller
        n_err = len(poller.errors) if poller is not None else 0
        n_err += len(samples) - len(good)
        return MeterReading(
            reading_id=f"{edges.window.run_id}/{edges.window.epoch}/"
            f"{edges.window.window_name}/{METER_ID}/{i}",
            **edges.reading_fields(),
            meter=METER_ID,
            method="polling",
            quantity="power",
            api_call=" ".join(["nvidia-smi", *self.command()[1:]])
            + (" power_draw" if self.query == "xml" else ""),
            backend="nvidia-smi subprocess",
            scope="gpu",
            integration="rectangle_mean",
            energy_j=mean * dur if mean is not None else None,
            mean_power_w=mean,
            power_source_kind="unknown",
            device={"index": i},
            requested_rate_hz=1.0 / self.sleep_s,
            achieved_rate_hz=stats.achieved_rate_hz,
            samples_expected=stats.samples_expected,
            samples_taken=stats.samples_taken,
            samples_unique=len(set(watts)),
            poll_errors=n_err,
            max_gap_s=stats.max_gap_s,
            edge_gap_start_s=stats.edge_gap_start_s,
            edge_gap_end_s=stats.edge_gap_end_s,
            kernel_release=kernel_release(),
            error=None if mean is not None else f"no nvidia-smi samples ({n_err} errors)",
        )

    def close(self) -> None:
        self._window.close()
