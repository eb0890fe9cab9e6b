"""``gpu.nvml_power``: NVML power polled from a thread at a set rate, integrated by trapezoid.

Records what polling achieved (requested vs achieved rate, samples taken vs expected, distinct
sensor values, max gap, edge gaps, poll errors) and what it polled (``power_source_kind``:
``instant`` for ``NVML_FI_DEV_POWER_INSTANT``, ``average_1s`` for ``NVML_FI_DEV_POWER_AVERAGE`` and
for ``nvmlDeviceGetPowerUsage`` on Ampere+ except A100), with the sensor's publication period and
boxcar window where Yang et al. give them. Kept as a cross-check of the counter and as the only
GPU meter on pre-Volta GPUs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eabench.errors import InvalidArgumentError, MeterUnavailableError
from eabench.meters.base import (
    Availability,
    Clock,
    SystemClock,
    Window,
    WindowEdges,
    kernel_release,
    permission_record,
)
from eabench.meters.gpu_nvml_counter import _reason
from eabench.meters.nvml import (
    POWER_FIELDS,
    GpuInfo,
    NvmlGpuAccess,
    NvmlSource,
    PowerSample,
    power_source_kind,
    sensor_facts,
)
from eabench.meters.polling import PolledWindow, Poller, sampling_stats, trapezoid_energy_j
from eabench.meters.provenance import MeterReading

__all__ = ["NvmlPowerMeter"]

METER_ID = "gpu.nvml_power"
_SCOPES = {0: "gpu", 1: "module", 2: "memory"}


class NvmlPowerMeter(NvmlGpuAccess):
    """Meter ``gpu.nvml_power``: poll ``field`` (``instant``/``average``/``usage``) at
    ``rate_hz`` from a thread for every chosen GPU; one reading per GPU per window."""

    meter_id = METER_ID

    def __init__(
        self,
        source: NvmlSource | None = None,
        clock: Clock | None = None,
        devices: Sequence[int] | None = None,
        rate_hz: float = 10.0,
        field: str = "instant",
        scope: int = 0,
    ) -> None:
        if field not in POWER_FIELDS:
            raise InvalidArgumentError.for_field("field", field, f"one of {sorted(POWER_FIELDS)}")
        if scope not in _SCOPES:
            raise InvalidArgumentError.for_field("scope", scope, "0 (gpu), 1 (module), 2 (memory)")
        if not rate_hz > 0:
            raise InvalidArgumentError.for_field("rate_hz", rate_hz, "must be > 0")
        self._source = source
        self._clock = clock or SystemClock()
        self._devices = devices
        self.rate_hz = float(rate_hz)
        self.field = field
        self.scope = scope
        self._gpus: list[GpuInfo] | None = None
        self._window: PolledWindow[list[PowerSample | BaseException]] = PolledWindow(self._clock)

    @property
    def poller(self) -> Poller[list[PowerSample | BaseException]] | None:
        """The poller of the current (or last) window, for overhead measurements."""
        return self._window.poller

    def availability(self) -> Availability:
        try:
            gpus = self.gpus()
            if not gpus:
                return Availability(METER_ID, False, "no visible NVIDIA GPU")
            for g in gpus:
                self.source.power(g.nvml_index, self.field, self.scope)
        except Exception as exc:
            return Availability(METER_ID, False, _reason(exc))
        return Availability(METER_ID, True, "", tuple(f"{g.index}:{g.name}" for g in gpus))

    def _read(self) -> list[PowerSample | BaseException]:
        out: list[PowerSample | BaseException] = []
        for g in self.gpus():
            try:
                out.append(self.source.power(g.nvml_index, self.field, self.scope))
            except Exception as exc:
                out.append(exc)
        return out

    def begin(self, window: Window) -> None:
        if not self.gpus():
            raise MeterUnavailableError.for_field("meter", METER_ID, "no visible NVIDIA GPU")
        poller = Poller(self._read, self._clock, 1.0 / self.rate_hz, "fixed_rate")
        self._window.begin(window, poller)

    def end(self) -> tuple[MeterReading, ...]:
        edges, samples = self._window.end()
        versions = self.source.versions()
        return tuple(
            self._reading(i, g, samples, edges, versions) for i, g in enumerate(self.gpus())
        )

    def _reading(
        self,
        i: int,
        g: GpuInfo,
        samples: list[tuple[int, list[PowerSample | BaseException]]],
        edges: WindowEdges,
        versions: dict[str, Any],
    ) -> MeterReading:
        good = [(t, s[i]) for t, s in samples if isinstance(s[i], PowerSample)]
        errors = [s[i] for _, s in samples if isinstance(s[i], BaseException)]
        times = [t for t, _ in good]
        watts = [s.power_mw / 1000.0 for _, s in good if isinstance(s, PowerSample)]
        stats = sampling_stats(times, edges.start_mono_ns, edges.end_mono_ns, self.rate_hz)
        energy = trapezoid_energy_j(times, watts, edges.start_mono_ns, edges.end_mono_ns)
        unique = len({(s.power_mw, s.sensor_ts_us) for _, s in good if isinstance(s, PowerSample)})
        kind = power_source_kind(self.field, g.name, g.arch)
        facts = sensor_facts(g.name, g.arch, kind)
        dur = edges.duration_s
        error = None
        if energy is None:
            error = f"no power samples ({len(errors)} poll errors)"
            if errors:
                error += f"; last: {type(errors[-1]).__name__}: {errors[-1]}"
        perms = None
        if energy is None and errors and isinstance(errors[-1], PermissionError):
            perms = permission_record(errors[-1])
        return MeterReading(
            reading_id=f"{edges.window.run_id}/{edges.window.epoch}/"
            f"{edges.window.window_name}/{METER_ID}/{g.index}",
            **edges.reading_fields(),
            meter=METER_ID,
            method="polling",
            quantity="power",
            api_call=POWER_FIELDS[self.field]
            + (f" scope={self.scope}" if self.field != "usage" else ""),
            backend="nvidia-ml-py" if not self.source.simulated else "eabench.fakes.FakeNvml",
            scope=_SCOPES[self.scope],
            integration="trapezoid" if len(times) > 1 else "instant_x_duration",
            energy_j=energy,
            mean_power_w=energy / dur if energy is not None and dur > 0 else None,
            power_source_kind=kind,
            device=g.to_device(),
            update_period_s=facts.update_period_s,
            update_period_source="nominal" if facts.update_period_s is not None else "unknown",
            sensor_window_s=facts.sensor_window_s,
            requested_rate_hz=self.rate_hz,
            achieved_rate_hz=stats.achieved_rate_hz,
            samples_expected=stats.samples_expected,
            samples_taken=stats.samples_taken,
            samples_unique=unique,
            poll_errors=len(errors),
            max_gap_s=stats.max_gap_s,
            edge_gap_start_s=stats.edge_gap_start_s,
            edge_gap_end_s=stats.edge_gap_end_s,
            uncertainty_rel=0.05,
            kernel_release=kernel_release(),
            simulated=self.source.simulated,
            permissions=perms,
            error=error,
            **versions,
        )

    def close(self) -> None:
        self._window.close()
