"""Joules to grams of CO2-equivalent, as a separate, recorded step (carbon is never baked in).

EC-NAS multiplied a time-varying Danish grid intensity into its numbers; eabench keeps energy in
joules and converts on request, recording the grid intensity (gCO2e/kWh) and the PUE that were
used next to the result, so that two papers can compare like with like.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from eabench.errors import InvalidArgumentError

__all__ = ["J_PER_KWH", "CarbonEstimate", "to_co2e"]

J_PER_KWH = 3.6e6
"""Joules in one kilowatt-hour."""


@dataclass(frozen=True, slots=True)
class CarbonEstimate:
    """Emissions of some energy under a stated grid intensity and PUE.

    Attributes:
        co2e_g: grams of CO2-equivalent (float, or an array for a batch).
        energy_j: the input energy (J), before PUE.
        facility_energy_j: energy after PUE (J): ``energy_j * pue``.
        grid_intensity_g_per_kwh: grid carbon intensity used (gCO2e per kWh).
        pue: power usage effectiveness used (1.0 when not asked for).
    """

    co2e_g: float | np.ndarray
    energy_j: float | np.ndarray
    facility_energy_j: float | np.ndarray
    grid_intensity_g_per_kwh: float
    pue: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""

        def _plain(v: float | np.ndarray) -> Any:
            return v.tolist() if isinstance(v, np.ndarray) else v

        return {
            "co2e_g": _plain(self.co2e_g),
            "energy_j": _plain(self.energy_j),
            "facility_energy_j": _plain(self.facility_energy_j),
            "grid_intensity_g_per_kwh": self.grid_intensity_g_per_kwh,
            "pue": self.pue,
        }


def _energy_of(x: Any) -> float | np.ndarray:
    """Energy (J) from a number, an array, or any object with an ``energy_j`` attribute."""
    value = getattr(x, "energy_j", x)
    if isinstance(value, (bool, np.bool_)):
        raise InvalidArgumentError.for_field("energy_j", value, "must be a number of joules")
    if isinstance(value, (int, float, np.integer, np.floating)):
        v = float(value)
        if not math.isfinite(v) or v < 0:
            raise InvalidArgumentError.for_field("energy_j", v, "must be finite and >= 0")
        return v
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidArgumentError.for_field(
            "energy_j", value, "must be joules (number, array, or a result with energy_j)"
        ) from exc
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise InvalidArgumentError.for_field("energy_j", value, "must be finite and >= 0")
    return arr


def to_co2e(
    energy: Any, grid_intensity_g_per_kwh: float, *, pue: float | None = None
) -> CarbonEstimate:
    """Convert training energy to grams CO2e: ``energy_j * pue / 3.6e6 * intensity``.

    Args:
        energy: joules (a number or an array), or a ``QueryResult``/``BatchResult`` (its
            primary-meter ``energy_j`` is used).
        grid_intensity_g_per_kwh: grid carbon intensity in gCO2e per kWh (> 0 and finite;
            e.g. the annual mean of the grid where the training ran).
        pue: data-centre power usage effectiveness (>= 1) to apply; None means no PUE (1.0).
            Do not apply a PUE to energies whose training data already include one (look
            for ``PUE_APPLIED`` in the meter's flags).

    Raises:
        InvalidArgumentError: on negative, non-finite or non-numeric input.
    """
    e = _energy_of(energy)
    gi = float(grid_intensity_g_per_kwh)
    if not math.isfinite(gi) or gi <= 0:
        raise InvalidArgumentError.for_field(
            "grid_intensity_g_per_kwh", grid_intensity_g_per_kwh, "must be finite and > 0"
        )
    p = 1.0 if pue is None else float(pue)
    if not math.isfinite(p) or p < 1.0:
        raise InvalidArgumentError.for_field("pue", pue, "must be finite and >= 1")
    facility = e * p
    co2e = facility / J_PER_KWH * gi
    return CarbonEstimate(
        co2e_g=co2e,
        energy_j=e,
        facility_energy_j=facility,
        grid_intensity_g_per_kwh=gi,
        pue=p,
    )
