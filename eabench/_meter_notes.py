"""What eabench knows about the training data of meters whose artifacts do not say it themselves.

An artifact's manifest should describe each energy head's training data
(``meters.<id>.training_data_flags`` / ``flag_notes``). For the EC-NAS energy used by the 7V
default (meter id ``carbontracker``), these are the facts established in
``reference/ec-nas.md`` section 5 and the flag rules of ``reference/energy-meters.md`` 5.3; they
are applied only where a manifest's meter entry carries no flags of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

__all__ = ["KNOWN_TRAINING_DATA"]

KNOWN_TRAINING_DATA: Final[Mapping[str, Mapping[str, Any]]] = {
    "carbontracker": {
        "description": (
            "EC-NAS training energy (Bakhtiarifard et al., ICASSP 2024): a Carbontracker 1.1.6 "
            "fork on 1x NVIDIA Quadro RTX 6000; NVML GPU power polled and RAPL CPU package "
            "deltas (2 sockets), one sample every 10 s, energy = mean power x segment duration"
        ),
        "method": "polling",
        "sample_period_s": 10.0,
        "pue_applied": 1.59,
        "flag_notes": {
            "UNDER_SAMPLED": (
                "power polled every 10 s during epochs of about 18 s: one or two samples per "
                "epoch window (rule: polling with <= 10 samples in the window)"
            ),
            "POLLING_WHERE_COUNTER_AVAILABLE": (
                "the Quadro RTX 6000 (Turing) has NVML's energy counter, but power was polled"
            ),
            "SHARED_DEVICE": (
                "RAPL package counters are node-wide (both sockets) and count other jobs on "
                "shared SLURM nodes"
            ),
            "PUE_APPLIED": "every EC-NAS kWh value includes a fixed PUE of 1.59",
        },
    },
}
