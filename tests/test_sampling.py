"""Seeded noisy answers: reproducible draws from the predictive distribution (eabench.sampling)."""

from __future__ import annotations

import numpy as np
import pytest

import eabench
from eabench.errors import InvalidArgumentError
from eabench.sampling import SAMPLED


@pytest.fixture(scope="module")
def bench() -> eabench.Benchmark:
    return eabench.load("nb101-7v")


def test_seed_none_is_the_mean_and_seeds_are_reproducible(bench: eabench.Benchmark) -> None:
    cell = bench.space.sample(seed=3)
    mean = bench.query(cell, 36)
    a, b = bench.query(cell, 36, seed=7), bench.query(cell, 36, seed=7)
    other = bench.query(cell, 36, seed=8)
    assert SAMPLED not in mean.flags
    assert SAMPLED in a.flags
    assert a.val_accuracy == b.val_accuracy
    assert a.energy_j == b.energy_j
    assert a.val_accuracy != other.val_accuracy
    assert a.val_accuracy != mean.val_accuracy
    assert bench.query(cell, 36).val_accuracy == mean.val_accuracy  # the mean is untouched
    assert np.all(np.diff(a.curve.energy_j) >= 0)
    assert a.train_time_s == mean.train_time_s


def test_batch_equals_loop_with_a_seed(bench: eabench.Benchmark) -> None:
    cells = [bench.space.sample(seed=s) for s in range(20)]
    batch = bench.query_batch(cells, 108, seed=5)
    for i, c in enumerate(cells):
        one = bench.query(c, 108, seed=5)
        assert batch.val_accuracy[i] == one.val_accuracy
        assert batch.energy_j[i] == one.energy_j
        assert batch.flags[i] == one.flags


def test_draws_follow_the_predictive_sd(bench: eabench.Benchmark) -> None:
    cell = bench.space.sample(seed=11)
    mean = bench.query(cell, 12)
    draws = np.array([bench.query(cell, 12, seed=s).val_accuracy for s in range(1500)])
    sd = mean.uncertainty["val_accuracy_std"]
    assert abs(draws.mean() - mean.val_accuracy) < 4 * sd / np.sqrt(1500) + 1e-3
    assert draws.std() == pytest.approx(sd, rel=0.1)
    energies = np.array([bench.query(cell, 12, seed=s).energy_j for s in range(300)])
    rel = mean.uncertainty["energy_j_std"] / mean.energy_j
    assert np.std(np.log(energies)) == pytest.approx(rel, rel=0.15)


@pytest.mark.parametrize("seed", [-1, 1.5, "3", True])
def test_bad_seeds_are_refused(bench: eabench.Benchmark, seed: object) -> None:
    with pytest.raises(InvalidArgumentError, match="seed"):
        bench.query(bench.space.sample(seed=0), 12, seed=seed)  # type: ignore[arg-type]
