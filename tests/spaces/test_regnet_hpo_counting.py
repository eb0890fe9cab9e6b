"""Exact counting of the space: checked against a plain loop and against the sampler."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from eabench.spaces.regnet_hpo import (
    COUNTS,
    HPO_COMBINATIONS,
    Constraints,
    RegNetHPOConfig,
    count_space,
    derive_arrays,
    derive_network,
    draw_prior,
    prior_probabilities,
)

SUB = {
    "depths": (6, 9, 13),
    "w0s": (48, 96, 128),
    "wa_tenths": (80, 133, 195, 260, 320),
    "wm_thousandths_values": (2500, 2650, 2942, 3000),
    "group_widths": (1, 8, 24, 32),
}


def _brute_force(dataset: str, cons: Constraints) -> tuple[int, int, float]:
    prior = prior_probabilities(dataset)
    p = {k: dict(zip(v[0].tolist(), v[1].tolist(), strict=True)) for k, v in prior.items()}
    feasible, mass, nets = 0, 0.0, set()
    for d, w0, wa, wm, g in itertools.product(*SUB.values()):
        cfg = RegNetHPOConfig(
            depth=d,
            w0=w0,
            wa=wa / 10,
            wm=wm / 1000,
            group_width=g,
            learning_rate=0.1,
            max_epochs=50,
            optimizer="sgd",
            lr_policy="cos",
            cutout=0,
            dataset=dataset,
        )
        net = derive_network(cfg)
        if not cons.violations(net):
            feasible += 1
            nets.add(net.key())
            mass += (
                p["depth"][d]
                * p["w0"][w0]
                * p["wa_tenths"][wa]
                * p["wm_thousandths"][wm]
                * p["group_width"][g]
            )
    return feasible, len(nets), mass


@pytest.mark.parametrize(
    ("dataset", "cons"),
    [
        ("cifar10", Constraints.none()),
        ("cifar10", Constraints.two_stage()),
        ("cifar10", Constraints(flops=(0.05e9, 0.13e9), max_params=2e6, max_acts=1e6)),
        ("tinyimagenet", Constraints.two_stage()),
    ],
)
def test_count_space_equals_a_plain_loop_on_a_sub_grid(dataset: str, cons: Constraints) -> None:
    counts = count_space(dataset, cons, **SUB)
    feasible, networks, mass = _brute_force(dataset, cons)
    assert counts.grid_archs == math.prod(len(v) for v in SUB.values())
    assert counts.feasible_archs == feasible
    assert counts.distinct_networks == networks
    assert counts.feasible_prior_mass == pytest.approx(mass, rel=1e-12)
    assert 0 < feasible <= counts.grid_archs
    assert (feasible == counts.grid_archs) == (cons == Constraints.none())


def test_prior_probabilities_sum_to_one_and_match_the_spec() -> None:
    for dataset in ("cifar10", "tinyimagenet"):
        for values, probs in prior_probabilities(dataset).values():
            assert values.size == probs.size
            assert probs.sum() == pytest.approx(1.0, abs=1e-12)
            assert (probs > 0).all()
    g = prior_probabilities()["group_width"][1]
    # reference/ea-has-bench.md 1.1: 1/6 each for 1, 2, 4; .167/.167/.097/.069 for 8/16/24/32
    assert np.round(g, 3).tolist() == [0.167, 0.167, 0.167, 0.167, 0.167, 0.097, 0.069]


def test_sampler_frequencies_follow_the_exact_prior() -> None:
    n = 60_000
    draws = draw_prior(n, np.random.default_rng(5), "tinyimagenet")
    for key, (values, probs) in prior_probabilities("tinyimagenet").items():
        counts = np.array([(draws[key] == v).sum() for v in values])
        assert counts.sum() == n
        se = np.sqrt(n * probs * (1 - probs))
        assert np.all(np.abs(counts - n * probs) < 5 * se + 1), key


def test_published_counts_are_consistent() -> None:
    cifar, tiny = COUNTS["cifar10"], COUNTS["tinyimagenet"]
    assert cifar["grid_archs"] == 10 * 11 * 241 * 501 * 7
    assert tiny["grid_archs"] == 10 * 11 * 241 * 1501 * 7
    assert HPO_COMBINATIONS == 540
    assert cifar["training_archs"] < cifar["two_stage_archs"] < cifar["grid_archs"]
    assert tiny["two_stage_archs"] < tiny["grid_archs"]


@pytest.mark.parametrize("dataset", ["cifar10", "tinyimagenet"])
def test_monte_carlo_acceptance_agrees_with_the_exact_rate(dataset: str) -> None:
    exact = COUNTS[dataset]["training_acceptance"]
    n = 40_000
    rng = np.random.default_rng(2024)
    d = draw_prior(n, rng, dataset)
    stem, classes = (16, 10) if dataset == "cifar10" else (32, 200)
    arr = derive_arrays(
        d["depth"],
        d["w0"],
        d["wa_tenths"] / 10,
        d["wm_thousandths"] / 1000,
        d["group_width"],
        stem_width=stem,
        num_classes=classes,
    )
    rate = Constraints.training(dataset).feasible(arr).mean()
    se = math.sqrt(exact * (1 - exact) / n)
    assert abs(rate - exact) < 5 * se


@pytest.mark.slow
@pytest.mark.parametrize("dataset", ["cifar10", "tinyimagenet"])
def test_full_grid_counts_equal_the_published_constants(dataset: str) -> None:
    two = count_space(dataset, Constraints.two_stage())
    train = count_space(dataset, Constraints.training(dataset))
    c = COUNTS[dataset]
    assert two.feasible_archs == c["two_stage_archs"]
    assert two.distinct_networks == c["two_stage_networks"]
    assert train.feasible_archs == c["training_archs"]
    assert train.distinct_networks == c["training_networks"]
    assert train.feasible_prior_mass == pytest.approx(c["training_acceptance"], rel=1e-9)
