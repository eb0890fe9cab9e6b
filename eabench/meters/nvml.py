"""NVML access through nvidia-ml-py (``import pynvml``), behind a small injectable protocol.

:class:`NvmlSource` is what the GPU meters call; :class:`PynvmlSource` implements it with the
official binding (imported lazily, so ``import eabench`` never loads it) and
:class:`eabench.meters.fakes.FakeNvml` implements it in pure Python for tests. Sensor facts
(publication period T and boxcar window W of the power sensor, per architecture) come from Yang et
al., SC'24, as summarised in ``reference/energy-meters.md`` section 2.1.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from typing import Any, Final, Protocol, runtime_checkable

from eabench.errors import MeterUnavailableError

__all__ = [
    "ARCH_ORDER",
    "POWER_FIELDS",
    "GpuInfo",
    "NvmlGpuAccess",
    "NvmlSource",
    "PowerSample",
    "PynvmlSource",
    "SensorFacts",
    "discover_gpus",
    "power_source_kind",
    "sensor_facts",
    "visible_nvml_indices",
]

#: NVML architecture names in NVML's numeric order (``nvmlDeviceGetArchitecture``: 2 = Kepler).
ARCH_ORDER: Final[tuple[str, ...]] = (
    "unknown0",
    "unknown1",
    "kepler",
    "maxwell",
    "pascal",
    "volta",
    "turing",
    "ampere",
    "ada",
    "hopper",
    "blackwell",
)
#: Power fields a meter may poll: NVML field ids (pynvml constants) or the legacy call.
POWER_FIELDS: Final[dict[str, str]] = {
    "instant": "nvmlDeviceGetFieldValues(NVML_FI_DEV_POWER_INSTANT=186)",
    "average": "nvmlDeviceGetFieldValues(NVML_FI_DEV_POWER_AVERAGE=185)",
    "usage": "nvmlDeviceGetPowerUsage",
}
_FIELD_IDS: Final[dict[str, int]] = {"average": 185, "instant": 186}


@dataclass(frozen=True, slots=True)
class GpuInfo:
    """Identity of one GPU: CUDA-view ``index``, ``nvml_index``, name, UUID, PCI id, arch."""

    index: int
    nvml_index: int
    name: str
    uuid: str
    pci_bus_id: str
    arch: str

    def to_device(self) -> dict[str, Any]:
        """The ``device`` field of a reading."""
        return {
            "index": self.index,
            "nvml_index": self.nvml_index,
            "name": self.name,
            "uuid": self.uuid,
            "pci_bus_id": self.pci_bus_id,
            "arch": self.arch,
        }


@dataclass(frozen=True, slots=True)
class PowerSample:
    """One power read: milliwatts and the sensor's own timestamp in µs (None if not given)."""

    power_mw: int
    sensor_ts_us: int | None = None


@dataclass(frozen=True, slots=True)
class SensorFacts:
    """Power-sensor publication period ``update_period_s`` and boxcar ``sensor_window_s``."""

    update_period_s: float | None
    sensor_window_s: float | None


@runtime_checkable
class NvmlSource(Protocol):
    """What the GPU meters need from NVML. Errors: ``PermissionError`` for NoPermission,
    :class:`MeterUnavailableError` when NVML or the call is unavailable, other exceptions as-is."""

    def device_count(self) -> int: ...

    def gpu_info(self, nvml_index: int) -> GpuInfo: ...

    def total_energy_mj(self, nvml_index: int) -> int: ...

    def power(self, nvml_index: int, field: str, scope: int = 0) -> PowerSample: ...

    def versions(self) -> dict[str, str | None]: ...

    @property
    def simulated(self) -> bool: ...


def sensor_facts(gpu_name: str, arch: str, kind: str) -> SensorFacts:
    """Published T and W of the power sensor for a GPU (``None`` where not known).

    ``kind`` is ``instant`` or ``average_1s``. Sources (Yang et al. 2024, secondary summary):
    A100/H100 instant T=100 ms, W=25 ms; GH200 W=20 ms; Turing and RTX 3090 T=W=100 ms;
    Pascal/Volta T=20 ms, W=10 ms; the 1-s average has W=1 s.
    """
    name = gpu_name.upper()
    if kind == "average_1s":
        return SensorFacts(update_period_s=0.1, sensor_window_s=1.0)
    if kind != "instant":
        return SensorFacts(None, None)
    if "GH200" in name:
        return SensorFacts(0.1, 0.02)
    if "A100" in name or "H100" in name:
        return SensorFacts(0.1, 0.025)
    if arch == "turing" or "3090" in name:
        return SensorFacts(0.1, 0.1)
    if arch in ("pascal", "volta"):
        return SensorFacts(0.02, 0.01)
    return SensorFacts(None, None)


def power_source_kind(field: str, gpu_name: str, arch: str) -> str:
    """``instant``/``average_1s``/``unknown`` for a polled power field on this GPU.

    ``nvmlDeviceGetPowerUsage`` is a 1-s average on Ampere and newer except GA100 (A100), and
    instantaneous on GA100 and older (NVML documentation).
    """
    if field == "instant":
        return "instant"
    if field == "average":
        return "average_1s"
    if field == "usage":
        if arch not in ARCH_ORDER:
            return "unknown"
        if "A100" in gpu_name.upper():
            return "instant"
        newer = ARCH_ORDER.index(arch) >= ARCH_ORDER.index("ampere")
        return "average_1s" if newer else "instant"
    return "unknown"


def visible_nvml_indices(count: int, uuids: Sequence[str], env: str | None) -> list[int]:
    """NVML indices of the CUDA-visible GPUs, in CUDA order (``CUDA_VISIBLE_DEVICES``).

    ``env`` None means all ``count`` devices. Integers and (prefixes of) UUIDs are accepted; MIG
    entries raise :class:`MeterUnavailableError` (NVML cannot meter MIG slices, Zeus #109).
    """
    if env is None:
        return list(range(count))
    out: list[int] = []
    for raw in (e.strip() for e in env.split(",")):
        if not raw:
            continue
        if raw.startswith("MIG"):
            raise MeterUnavailableError.for_field(
                "CUDA_VISIBLE_DEVICES", env, "MIG slices cannot be metered by NVML"
            )
        if raw.lstrip("-").isdigit():
            idx = int(raw)
            if idx < 0 or idx >= count:
                break  # CUDA stops at the first invalid ordinal
            out.append(idx)
            continue
        matches = [i for i, u in enumerate(uuids) if u.startswith(raw)]
        if len(matches) != 1:
            break
        out.append(matches[0])
    return out


class PynvmlSource:
    """:class:`NvmlSource` over nvidia-ml-py. ``nvmlInit`` happens on first use, not here."""

    def __init__(self) -> None:
        self._nvml: Any = None
        self._handles: dict[int, Any] = {}

    def _lib(self) -> Any:
        if self._nvml is None:
            try:
                import pynvml
            except ImportError as exc:
                raise MeterUnavailableError.for_field(
                    "pynvml", None, "nvidia-ml-py is not installed (pip install nvidia-ml-py)"
                ) from exc
            if not hasattr(pynvml, "_nvmlGetFunctionPointer"):
                raise MeterUnavailableError.for_field(
                    "pynvml", getattr(pynvml, "__file__", None), "not the official nvidia-ml-py"
                )
            try:
                pynvml.nvmlInit()
            except pynvml.NVMLError as exc:
                raise MeterUnavailableError.for_field("nvmlInit", str(exc), "NVML failed") from exc
            self._nvml = pynvml
        return self._nvml

    @property
    def simulated(self) -> bool:
        """True when the loaded ``pynvml`` is :func:`eabench.meters.fakes.fake_pynvml`."""
        return bool(getattr(self._nvml, "__eabench_simulated__", False))

    def _handle(self, nvml_index: int) -> Any:
        if nvml_index not in self._handles:
            self._handles[nvml_index] = self._call("nvmlDeviceGetHandleByIndex", nvml_index)
        return self._handles[nvml_index]

    def _call(self, name: str, *args: Any) -> Any:
        lib = self._lib()
        try:
            return getattr(lib, name)(*args)
        except lib.NVMLError_NoPermission as exc:
            raise PermissionError(13, f"{name}: {exc}") from exc
        except lib.NVMLError_NotSupported as exc:
            raise MeterUnavailableError.for_field(name, str(exc), "not supported") from exc

    def device_count(self) -> int:
        return int(self._call("nvmlDeviceGetCount"))

    def gpu_info(self, nvml_index: int) -> GpuInfo:
        h = self._handle(nvml_index)
        arch_id = int(self._call("nvmlDeviceGetArchitecture", h))
        arch = ARCH_ORDER[arch_id] if 0 <= arch_id < len(ARCH_ORDER) else f"arch{arch_id}"
        pci = self._call("nvmlDeviceGetPciInfo", h)
        bus = _text(pci.busId)
        return GpuInfo(
            index=nvml_index,
            nvml_index=nvml_index,
            name=_text(self._call("nvmlDeviceGetName", h)),
            uuid=_text(self._call("nvmlDeviceGetUUID", h)),
            pci_bus_id=bus,
            arch=arch,
        )

    def total_energy_mj(self, nvml_index: int) -> int:
        return int(self._call("nvmlDeviceGetTotalEnergyConsumption", self._handle(nvml_index)))

    def power(self, nvml_index: int, field: str, scope: int = 0) -> PowerSample:
        h = self._handle(nvml_index)
        if field == "usage":
            return PowerSample(int(self._call("nvmlDeviceGetPowerUsage", h)), None)
        lib = self._lib()
        values = self._call("nvmlDeviceGetFieldValues", h, [(_FIELD_IDS[field], scope)])
        v = values[0]
        if v.nvmlReturn != lib.NVML_SUCCESS:
            raise MeterUnavailableError.for_field(
                "nvmlDeviceGetFieldValues", (field, scope), f"returned {v.nvmlReturn}"
            )
        return PowerSample(int(v.value.uiVal), int(v.timestamp))

    def versions(self) -> dict[str, str | None]:
        try:
            binding: str | None = metadata.version("nvidia-ml-py")
        except metadata.PackageNotFoundError:
            binding = None
        out: dict[str, str | None] = {"backend_version": binding}
        for key, call in (
            ("driver_version", "nvmlSystemGetDriverVersion"),
            ("nvml_version", "nvmlSystemGetNVMLVersion"),
            ("cuda_driver_version", "nvmlSystemGetCudaDriverVersion"),
        ):
            try:
                out[key] = _text(self._call(call))
            except Exception:  # version strings are provenance, not essential
                out[key] = None
        return out

    def close(self) -> None:
        """``nvmlShutdown`` if this source initialised NVML."""
        if self._nvml is not None:
            self._nvml.nvmlShutdown()
            self._nvml = None
            self._handles.clear()


def _text(value: Any) -> str:
    """NVML strings are bytes in old bindings and str in new ones."""
    return value.decode() if isinstance(value, bytes) else str(value)


def discover_gpus(source: NvmlSource, devices: Sequence[int] | None) -> list[GpuInfo]:
    """The GPUs to meter: CUDA-view ``devices`` (None = all visible) mapped to NVML indices."""
    count = source.device_count()
    infos = [source.gpu_info(i) for i in range(count)]
    visible = visible_nvml_indices(
        count, [g.uuid for g in infos], os.environ.get("CUDA_VISIBLE_DEVICES")
    )
    chosen = range(len(visible)) if devices is None else devices
    out = []
    for cuda_idx in chosen:
        if cuda_idx < 0 or cuda_idx >= len(visible):
            raise MeterUnavailableError.for_field(
                "device", cuda_idx, f"not among the {len(visible)} visible GPUs"
            )
        g = infos[visible[cuda_idx]]
        out.append(GpuInfo(cuda_idx, g.nvml_index, g.name, g.uuid, g.pci_bus_id, g.arch))
    return out


class NvmlGpuAccess:
    """Lazy NVML access shared by the NVML meters: the source is created on first use and the
    metered GPUs are discovered once. Subclasses set ``_source`` (an injected source or None) and
    ``_devices`` (CUDA-visible indices or None for all) and ``_gpus = None`` in ``__init__``."""

    _source: NvmlSource | None
    _devices: Sequence[int] | None
    _gpus: list[GpuInfo] | None

    @property
    def source(self) -> NvmlSource:
        """The NVML source (a real ``PynvmlSource`` unless one was injected)."""
        if self._source is None:
            self._source = PynvmlSource()
        return self._source

    def gpus(self) -> list[GpuInfo]:
        """The metered GPUs (raises MeterUnavailableError without NVML)."""
        if self._gpus is None:
            self._gpus = discover_gpus(self.source, self._devices)
        return self._gpus
