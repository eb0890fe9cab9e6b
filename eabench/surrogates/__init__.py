"""Surrogates: Bezier learning-curve model (BCS), energy model, numpy-only artifacts."""

from __future__ import annotations

from eabench.surrogates.base import CurvePrediction, Surrogate

__all__ = ["CurvePrediction", "Surrogate"]
