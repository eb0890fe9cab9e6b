"""Shared builders for audit tests: small AuditData arrays and SIMULATED run logs."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from eabench.audit import AuditData, DeviceInfo
from eabench.audit.simulate import SimulationSpec, simulate_run_logs
from eabench.logs import RunLog


def make_data(
    energy_j: np.ndarray,
    *,
    channels: Sequence[str] = ("a/gpu", "b/gpu"),
    methods: Sequence[str] | None = None,
    components: Sequence[str] | None = None,
    duration_s: np.ndarray | float = 10.0,
    samples_taken: np.ndarray | None = None,
    samples_expected: np.ndarray | None = None,
    flag_codes: Sequence[str] = (),
    flag_severities: Sequence[str] = (),
    flags: np.ndarray | None = None,
    **kw: object,
) -> AuditData:
    """An AuditData of shape ``energy_j.shape`` (R, W, C) with sensible defaults."""
    e = np.asarray(energy_j, dtype=float)
    r, w, c = e.shape
    dur = np.broadcast_to(np.asarray(duration_s, dtype=float), e.shape).copy()
    nan = np.full(e.shape, np.nan)
    return AuditData(
        run_ids=tuple(f"r{i}" for i in range(r)),
        channels=tuple(channels),
        methods=tuple(methods or ["counter"] * c),
        components=tuple(components or ["gpu"] * c),
        energy_j=e,
        duration_s=dur,
        samples_taken=nan.copy() if samples_taken is None else samples_taken,
        samples_expected=nan.copy() if samples_expected is None else samples_expected,
        flag_codes=tuple(flag_codes),
        flag_severities=tuple(flag_severities),
        flags=np.zeros((r, w, c, len(flag_codes)), dtype=bool) if flags is None else flags,
        **kw,  # type: ignore[arg-type]
    )


@pytest.fixture(scope="session")
def sim_logs() -> list[RunLog]:
    """40 SIMULATED runs x 5 epochs with the planted SMI under-sampling and 120 W off-socket."""
    return simulate_run_logs(SimulationSpec(n_runs=40), seed=7)


SIM_DEVICE = DeviceInfo("SIMULATED GPU", 75.0, 700.0, "simulation spec")
