"""Derived channels: the GPU's share of an external node meter (the seed paper's Eq. 5).

An external power meter sees the whole node. The seed paper compares GPU meters with it after
subtracting what RAPL measures and a calibrated off-socket power:
``P_GPU = P_total - P_CPU - P_Memory - P_busy`` (section IV). :func:`with_external_gpu` adds that
channel (``node.external-derived/gpu``, method ``external``) and makes it the reference for meter
agreement. It needs a node channel, a CPU channel and calibration bounds; the busy (upper) bound
is used, as in the paper; DRAM is subtracted when measured.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from eabench.audit.data import AuditData
from eabench.audit.usage import primary_channel

__all__ = ["DERIVED_GPU_CHANNEL", "with_external_gpu"]

DERIVED_GPU_CHANNEL = "node.external-derived/gpu"


def with_external_gpu(data: AuditData) -> AuditData:
    """``data`` plus the derived GPU channel as reference, or ``data`` unchanged if the inputs
    (node meter, CPU meter, calibration bounds) are missing or a reference is already set."""
    node = primary_channel(data, "node")
    cpu = primary_channel(data, "cpu")
    if (
        node is None
        or cpu is None
        or data.off_socket_bounds_w is None
        or data.reference_channel is not None
        or DERIVED_GPU_CHANNEL in data.channels
    ):
        return data
    dram = primary_channel(data, "dram")
    n_i, c_i = data.channel_index(node), data.channel_index(cpu)
    dur = data.duration_s[:, :, n_i]
    e = data.energy_j[:, :, n_i] - data.energy_j[:, :, c_i]
    if dram is not None:
        e = e - data.energy_j[:, :, data.channel_index(dram)]
    e = e - data.off_socket_bounds_w[1] * dur
    e = np.where(e < 0, np.nan, e)  # the node total cannot explain a negative GPU share

    def add(arr: np.ndarray, col: np.ndarray) -> np.ndarray:
        return np.concatenate([arr, col[:, :, None]], axis=2)

    nan = np.full(dur.shape, np.nan)
    flags = data.flags
    if data.flag_codes:
        flags = np.concatenate([flags, flags[:, :, n_i : n_i + 1, :]], axis=2)
    return dataclasses.replace(
        data,
        channels=(*data.channels, DERIVED_GPU_CHANNEL),
        methods=(*data.methods, "external"),
        components=(*data.components, "gpu"),
        energy_j=add(data.energy_j, e),
        duration_s=add(data.duration_s, dur),
        samples_taken=add(data.samples_taken, nan),
        samples_expected=add(data.samples_expected, nan),
        flags=flags,
        reference_channel=DERIVED_GPU_CHANNEL,
    )
