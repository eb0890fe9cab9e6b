"""Hardware and software facts recorded in every run log (GPU, driver, CPU, RAM, versions).

GPU facts come from NVML through nvidia-ml-py when a CUDA device is used; anything that cannot be
read is ``None`` (never a made-up value). ``host_fingerprint`` is
:func:`eabench.meters.host.host_fingerprint` (hostname, CPU model, GPU UUID, kernel,
driver), so that run logs and calibration profiles of one node can be matched.
"""

from __future__ import annotations

import os
import platform
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = ["hardware_info", "software_info"]


def _cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def _ram_bytes() -> int | None:
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return None


def _gpu_info(index: int) -> dict[str, Any]:
    """NVML facts about the GPU at CUDA index ``index`` (nulls where NVML cannot say).

    Identity and versions come from the meters' NVML source (``eabench.meters.nvml``, which maps
    CUDA indices to NVML ones under ``CUDA_VISIBLE_DEVICES``); the enforced power limit, which
    that source does not expose, is read with nvidia-ml-py directly.
    """
    from eabench.meters.nvml import PynvmlSource, discover_gpus

    info: dict[str, Any] = {
        "gpu_name": None,
        "gpu_uuid": None,
        "gpu_arch": None,
        "driver_version": None,
        "nvml_version": None,
        "cuda_driver_version": None,
        "power_limit_w": None,
        "nvml_error": None,
    }
    source = PynvmlSource()
    try:
        (gpu,) = discover_gpus(source, [index])
        info.update(gpu_name=gpu.name, gpu_uuid=gpu.uuid, gpu_arch=gpu.arch)
        versions = source.versions()
        for key in ("driver_version", "nvml_version", "cuda_driver_version"):
            info[key] = versions.get(key)
        import pynvml

        handle = pynvml.nvmlDeviceGetHandleByIndex(gpu.nvml_index)
        info["power_limit_w"] = pynvml.nvmlDeviceGetEnforcedPowerLimit(handle) / 1000.0
    except Exception as exc:  # no NVML, no driver, no permission: record why
        info["nvml_error"] = f"{type(exc).__name__}: {exc}"
    finally:
        try:
            source.close()
        except Exception as exc:
            info["nvml_error"] = info["nvml_error"] or f"{type(exc).__name__}: {exc}"
    return info


def hardware_info(device: str, gpu_index: int = 0) -> dict[str, Any]:
    """Facts about the machine a run trains on; ``device`` is ``"cuda"`` or ``"cpu"``."""
    info: dict[str, Any] = {
        "device": device,
        "hostname": platform.node() or None,
        "cpu_model": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "ram_bytes": _ram_bytes(),
        "platform": platform.platform(),
    }
    if device == "cuda":
        info.update(_gpu_info(gpu_index))
    from eabench.meters.host import host_fingerprint

    uuid = info.get("gpu_uuid")
    info["host_fingerprint"] = host_fingerprint(
        cpu_model=info["cpu_model"],
        gpu_uuids=[uuid] if uuid else (),
        driver=info.get("driver_version"),
    )
    return info


def software_info() -> dict[str, Any]:
    """Versions of Python and the libraries that shape a run's numbers."""
    out: dict[str, Any] = {"python": sys.version.split()[0]}
    for dist in ("eabench", "torch", "numpy", "nvidia-ml-py", "pillow", "submitit"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = None
    if "torch" in sys.modules:
        torch = sys.modules["torch"]
        out["torch"] = str(torch.__version__)
        out["cuda"] = torch.version.cuda
        out["cudnn"] = torch.backends.cudnn.version() if torch.cuda.is_available() else None
    import eabench

    out["eabench"] = eabench.__version__
    return out
