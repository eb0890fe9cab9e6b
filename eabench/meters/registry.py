"""The standard meter set and the probe behind ``eabench meters probe``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from eabench.meters.base import Availability, Clock, Meter
from eabench.meters.gpu_nvml_counter import NvmlCounterMeter
from eabench.meters.gpu_nvml_power import NvmlPowerMeter
from eabench.meters.gpu_smi_poll import SmiPollMeter
from eabench.meters.node_estimate import NodeEstimateMeter
from eabench.meters.node_external import ExternalCsvMeter
from eabench.meters.nvml import NvmlSource
from eabench.meters.rapl import DEFAULT_POWERCAP, RaplMeter, SysfsRaplSource

__all__ = ["METER_IDS", "default_meters", "probe"]

METER_IDS = (
    "gpu.nvml_counter",
    "gpu.nvml_power",
    "gpu.smi_poll",
    "cpu.rapl",
    "dram.rapl",
    "node.estimate",
    "node.external",
)


def default_meters(
    *,
    nvml: NvmlSource | None = None,
    clock: Clock | None = None,
    devices: Sequence[int] | None = None,
    sync: Callable[[], None] | None = None,
    poll_rate_hz: float = 10.0,
    include_smi: bool = True,
    powercap_root: Path = DEFAULT_POWERCAP,
    external_csv: Path | None = None,
    external_rate_hz: float = 10.0,
) -> list[Meter]:
    """Every standard meter, configured alike (unavailable ones are filtered by the session).

    One NVML source is shared by the two NVML meters. ``node.external`` is included only when
    ``external_csv`` is given.
    """
    meters: list[Meter] = [
        NvmlCounterMeter(nvml, clock, devices, sync=sync),
        NvmlPowerMeter(nvml, clock, devices, rate_hz=poll_rate_hz),
    ]
    if nvml is None:  # share the lazily created pynvml source
        shared = meters[0]
        assert isinstance(shared, NvmlCounterMeter)
        meters[1] = NvmlPowerMeter(shared.source, clock, devices, rate_hz=poll_rate_hz)
    if include_smi:
        meters.append(SmiPollMeter(clock, devices))
    rapl = SysfsRaplSource(powercap_root)
    meters += [RaplMeter("package", rapl, clock), RaplMeter("dram", rapl, clock)]
    meters.append(NodeEstimateMeter(("ram",), clock=clock))
    if external_csv is not None:
        meters.append(ExternalCsvMeter(external_csv, external_rate_hz, clock))
    return meters


def probe(meters: Sequence[Meter] | None = None) -> list[Availability]:
    """Availability (with reasons) of ``meters`` (default: :func:`default_meters`)."""
    return [m.availability() for m in (meters if meters is not None else default_meters())]
