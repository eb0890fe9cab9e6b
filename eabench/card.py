"""Benchmark metadata records: the card (data, split, quality, licence), calibration, metrics."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from eabench.results import MetricInfo

__all__ = ["BenchmarkCard", "Calibration", "standard_metrics"]


@dataclass(frozen=True, slots=True)
class BenchmarkCard:
    """What a benchmark is made of: data, split, held-out quality, licence, citation.

    Attributes:
        name: benchmark name.
        space: search-space name.
        dataset: dataset the configs were trained on.
        training_data: description (and id) of the data the artifact was fitted on.
        split: the train/test split recipe.
        held_out_metrics: metric -> value on held-out data (from the artifact's manifest).
        licence: licence of the artifact and its data.
        citation: what to cite.
        notes: anything else a user should know (caveats).
    """

    name: str
    space: str
    dataset: str
    training_data: Any
    split: Any
    held_out_metrics: Mapping[str, Any]
    licence: str
    citation: str
    notes: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "name": self.name,
            "space": self.space,
            "dataset": self.dataset,
            "training_data": self.training_data,
            "split": self.split,
            "held_out_metrics": dict(self.held_out_metrics),
            "licence": self.licence,
            "citation": self.citation,
            "notes": self.notes,
        }


@dataclass(frozen=True, slots=True)
class Calibration:
    """Off-socket power bounds of a calibration profile (reference/energy-meters.md 5.4).

    Holistic energy is ``[E*(1-delta_on) + p_off_lo_w*t, E*(1+delta_on) + p_off_hi_w*t]`` with
    ``E`` the primary meter's energy (J) and ``t`` the training time (s).
    """

    calibration_id: str
    p_off_lo_w: float
    p_off_hi_w: float
    delta_on: float = 0.0


def standard_metrics(has_test: bool) -> dict[str, MetricInfo]:
    """The metrics every eabench benchmark reports (``bench.metrics``)."""
    out = {
        "val_accuracy": MetricInfo("val_accuracy", "fraction", "maximize", 0.0, 1.0),
        "train_time_s": MetricInfo("train_time_s", "s", "minimize", 0.0, np.inf, True),
        "energy_j": MetricInfo("energy_j", "J", "minimize", 0.0, np.inf, True),
    }
    if has_test:
        out["test_accuracy"] = MetricInfo("test_accuracy", "fraction", "maximize", 0.0, 1.0)
    return out
