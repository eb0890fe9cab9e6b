"""Sampler prior draws, constraint presets and their error paths."""

from __future__ import annotations

import numpy as np
import pytest

from eabench.errors import InvalidArgumentError, InvalidConfigError
from eabench.spaces.regnet_hpo import (
    GROUP_WIDTHS,
    W0S,
    Constraints,
    SamplerStats,
    draw_prior,
)


def test_draws_stay_on_the_grid() -> None:
    d = draw_prior(5000, np.random.default_rng(0), "cifar10")
    assert set(np.unique(d["depth"])) == set(range(6, 16))
    assert set(np.unique(d["w0"])) == set(W0S)
    assert d["wa_tenths"].min() >= 80
    assert d["wa_tenths"].max() <= 320
    assert d["wm_thousandths"].min() >= 2500
    assert d["wm_thousandths"].max() <= 3000
    assert set(np.unique(d["group_width"])) == set(GROUP_WIDTHS)
    assert set(np.unique(d["cutout"])) == {0, 16}
    again = draw_prior(5000, np.random.default_rng(0), "cifar10")
    assert all(np.array_equal(d[k], again[k]) for k in d)


def test_tiny_draws_use_the_wider_wm_range() -> None:
    wm = draw_prior(5000, np.random.default_rng(1), "tinyimagenet")["wm_thousandths"]
    assert wm.min() < 2000
    assert wm.max() <= 3000
    assert wm.min() >= 1500


def test_constraint_presets() -> None:
    cifar = Constraints.training("cifar10")
    assert cifar.flops == (0.12e9, 0.13e9)
    assert (cifar.max_params, cifar.max_acts) == (2.0e6, 1.0e6)
    assert Constraints.training("tinyimagenet") == Constraints.two_stage()
    assert Constraints.none().num_stages is None
    with pytest.raises(InvalidArgumentError, match="dataset"):
        Constraints.training("svhn")


def test_error_paths() -> None:
    with pytest.raises(InvalidConfigError, match="dataset"):
        draw_prior(3, np.random.default_rng(0), "svhn")
    with pytest.raises(InvalidArgumentError, match="attempts"):
        _ = SamplerStats(attempts=0, accepted=0).acceptance_rate
    assert SamplerStats(attempts=4, accepted=1).acceptance_rate == 0.25
