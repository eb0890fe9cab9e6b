"""Seeded noisy answers: ``query(config, epochs, seed=k)`` draws from the predictive distribution.

A seeded answer is what one training run of the config might have given, drawn reproducibly from
the surrogate's predictive distribution: the mean answer (``seed=None``) moved by ``z_acc`` times
the validation-accuracy sd at every epoch (test accuracy moves with it: one run), and the energy
of every meter multiplied by ``exp(z_energy x its relative sd at the asked epoch)`` (one factor
per run, so cumulative energy stays non-decreasing). Time is not resampled (no sd for it).
``z_acc`` and ``z_energy`` are standard normal numbers from ``numpy.random.default_rng`` seeded
with ``(seed, sha256(config id))``: the same (seed, config) gives the same draw alone or in a
batch, different configs independent draws. Accuracies are clipped into [0, 1]; every seeded
answer carries the flag ``SAMPLED``.

Calibration: the sd is the surrogate's predictive sd (for nb101-7v held-out coverage 68-72 %
within 1 sd for accuracy and 79 % for energy, see the model card). It includes model error, so it
is wider than NB101's seed-to-seed spread; the staged NB101 data hold one run per cell, so that
spread cannot be separated here (EC-NAS's 3 repeats of 91 4V cells give a 3.0 % median energy CV,
below the energy sd of 7V answers).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from eabench.errors import InvalidArgumentError
from eabench.surrogates.base import CurvePrediction

__all__ = ["SAMPLED", "check_seed", "normal_draws", "sample_curves"]

SAMPLED = "SAMPLED"


def check_seed(seed: object) -> int | None:
    """``seed`` as an int (``None`` stays None); ``InvalidArgumentError`` for anything else."""
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or int(seed) < 0:
        raise InvalidArgumentError.for_field("seed", seed, "must be None or an int >= 0")
    return int(seed)


def normal_draws(seed: int, config_ids: Sequence[str]) -> np.ndarray:
    """``(n, 2)`` standard normal draws (accuracy, energy) per config id."""
    out = np.empty((len(config_ids), 2))
    for i, cid in enumerate(config_ids):
        key = int.from_bytes(hashlib.sha256(str(cid).encode()).digest()[:8], "big")
        out[i] = np.random.default_rng([seed, key]).standard_normal(2)
    return out


def sample_curves(curves: CurvePrediction, config_ids: Sequence[str], seed: int) -> CurvePrediction:
    """The seeded draw of ``curves`` (see the module docstring)."""
    z = normal_draws(seed, config_ids)
    val, test = curves.val_accuracy, curves.test_accuracy
    if curves.val_accuracy_std is not None:
        shift = z[:, :1] * curves.val_accuracy_std
        val = np.clip(val + shift, 0.0, 1.0)
        test = None if test is None else np.clip(test + shift, 0.0, 1.0)
    energy = dict(curves.energy_j)
    for m, sd in (curves.energy_j_std or {}).items():
        last = energy[m][:, -1]
        rel = np.divide(sd[:, -1], last, out=np.zeros_like(last), where=last > 0)
        energy[m] = energy[m] * np.exp(z[:, 1] * rel)[:, None]
    return replace(curves, val_accuracy=val, test_accuracy=test, energy_j=energy)
