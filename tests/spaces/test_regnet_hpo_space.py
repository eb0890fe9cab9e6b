"""RegNetHPOSpace: the SearchSpace protocol, constraints, sampling, neighbours, encoding."""

from __future__ import annotations

import numpy as np
import pytest

from eabench.errors import InvalidArgumentError, InvalidConfigError
from eabench.spaces import SearchSpace
from eabench.spaces.regnet_hpo import (
    Constraints,
    RegNetHPOConfig,
    RegNetHPOSpace,
    derive_network,
)

from .test_regnet_hpo_config import DESIGN_EXAMPLE

# pycls "RegNet-125MF" CIFAR config: inside the CIFAR-10 training window
FEASIBLE = {**DESIGN_EXAMPLE, "depth": 12, "w0": 96, "wa": 19.5, "wm": 2.942, "group_width": 8}


@pytest.fixture(scope="module")
def space() -> RegNetHPOSpace:
    return RegNetHPOSpace("cifar10")


def test_implements_the_search_space_protocol(space: RegNetHPOSpace) -> None:
    assert isinstance(space, SearchSpace)
    assert space.name == "regnet-hpo"
    assert space.dataset == "cifar10"
    assert space.constraints == Constraints.training("cifar10")


def test_validate_accepts_dicts_and_configs(space: RegNetHPOSpace) -> None:
    cfg = space.validate(FEASIBLE)
    assert isinstance(cfg, RegNetHPOConfig)
    assert space.validate(cfg) is cfg
    no_dataset = {k: v for k, v in FEASIBLE.items() if k != "dataset"}
    assert space.validate(no_dataset) == cfg


def test_design_example_is_outside_the_cifar_training_window(space: RegNetHPOSpace) -> None:
    flops = derive_network(RegNetHPOConfig.from_dict(DESIGN_EXAMPLE)).complexity.flops
    with pytest.raises(InvalidConfigError) as info:
        space.validate(DESIGN_EXAMPLE)
    assert info.value.field == "flops"
    assert info.value.value == flops
    assert "[1.2e+08, 1.3e+08]" in str(info.value)
    assert not space.is_feasible(DESIGN_EXAMPLE)
    grid = RegNetHPOSpace("cifar10", constraints=None)
    assert grid.validate(DESIGN_EXAMPLE).to_dict() == DESIGN_EXAMPLE


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({**FEASIBLE, "dataset": "tinyimagenet"}, "dataset"),
        ("not a config", "config"),
        ({**FEASIBLE, "wm": 2.4}, "wm"),
    ],
)
def test_validate_errors(space: RegNetHPOSpace, config: object, field: str) -> None:
    with pytest.raises(InvalidConfigError) as info:
        space.validate(config)  # type: ignore[arg-type]
    assert info.value.field == field


def test_bad_constraints_argument() -> None:
    with pytest.raises(InvalidArgumentError, match="constraints"):
        RegNetHPOSpace("cifar10", constraints="strict")
    with pytest.raises(InvalidArgumentError, match="dataset"):
        RegNetHPOSpace("mnist")


def test_sampling_is_seeded_feasible_and_reports_acceptance(space: RegNetHPOSpace) -> None:
    a, stats = space.sample_many(40, seed=7)
    b, _ = space.sample_many(40, seed=np.random.default_rng(7))
    assert a == b
    assert len(a) == 40
    assert len({c.config_id() for c in a}) == 40
    assert all(space.is_feasible(c) for c in a)
    assert stats.accepted == 40 + stats.duplicates
    assert 0.003 < stats.acceptance_rate < 0.05  # exact rate 1.40 %
    assert space.sample(3) == space.sample(3)
    assert space.sample(3) != space.sample(4)


def test_sample_many_respects_max_attempts_and_rejects_bad_n(space: RegNetHPOSpace) -> None:
    configs, stats = space.sample_many(1000, seed=0, max_attempts=100)
    assert stats.attempts == 100
    assert len(configs) == stats.accepted - stats.duplicates
    with pytest.raises(InvalidArgumentError):
        space.sample_many(-1, seed=0)
    with pytest.raises(InvalidArgumentError):
        space.sample(-3)


def test_tiny_space_accepts_about_half_of_the_prior() -> None:
    tiny = RegNetHPOSpace("tinyimagenet")
    configs, stats = tiny.sample_many(300, seed=1)
    assert all(c.dataset == "tinyimagenet" for c in configs)
    assert 0.4 < stats.acceptance_rate < 0.65  # exact rate 51.7 %
    assert all(derive_network(c).num_stages == 2 for c in configs)


def test_neighbours_are_feasible_distinct_and_change_what_is_trained(
    space: RegNetHPOSpace,
) -> None:
    for cfg in space.sample_many(15, seed=3)[0]:
        nbrs = space.neighbours(cfg)
        ids = [n.config_id() for n in nbrs]
        assert len(ids) == len(set(ids))
        assert cfg.config_id() not in ids
        assert all(space.is_feasible(n) for n in nbrs)
        own = space.training_id(cfg)
        assert all(space.training_id(n) != own for n in nbrs)
        for n in nbrs:
            changed = [k for k in cfg.to_dict() if cfg.to_dict()[k] != n.to_dict()[k]]
            assert len(changed) == 1
        # 8 HPO moves at least: optimizer 2, policy 2, cutout 1, lr >= 1, epochs >= 1
        assert len(nbrs) >= 7


def test_mutate_is_a_seeded_neighbour(space: RegNetHPOSpace) -> None:
    cfg = space.validate(FEASIBLE)
    nbr_ids = {n.config_id() for n in space.neighbours(cfg)}
    m1, m2 = space.mutate(cfg, seed=5), space.mutate(cfg, seed=5)
    assert m1 == m2
    assert m1.config_id() in nbr_ids


def test_training_id_merges_aliasing_raw_configs(space: RegNetHPOSpace) -> None:
    a = space.validate(FEASIBLE)
    b = space.validate({**FEASIBLE, "wm": 2.943})  # same quantised widths
    assert derive_network(a).key() == derive_network(b).key()
    assert a.config_id() != b.config_id()
    assert space.training_id(a) == space.training_id(b)
    c = space.validate({**FEASIBLE, "cutout": 16})
    assert space.training_id(c) != space.training_id(a)


def test_encode_is_vectorised_and_named(space: RegNetHPOSpace) -> None:
    configs = space.sample_many(30, seed=9)[0]
    x = space.encode(configs)
    names = space.feature_names()
    assert x.shape == (30, len(names))
    assert x.dtype == np.float64
    assert np.isfinite(x).all()
    row = dict(zip(names, space.encode([FEASIBLE])[0], strict=True))
    assert row["stage1_width"] == 96
    assert row["stage2_depth"] == 8
    assert row["log10_flops"] == pytest.approx(np.log10(120_497_384))
    assert row["optimizer_sgd"] == 1
    assert row["lr_policy_cos"] == 1
    assert row["cutout"] == 0
    assert row["log10_learning_rate"] == pytest.approx(-1)
    assert np.array_equal(space.encode(configs[:5]), x[:5])
    assert space.encode([]).shape == (0, len(names))
    with pytest.raises(InvalidConfigError):
        space.encode([DESIGN_EXAMPLE])


def test_unconstrained_encoding_has_slots_for_every_possible_stage() -> None:
    grid = RegNetHPOSpace("tinyimagenet", constraints=None)
    assert "stage7_width" in grid.feature_names()
    x = grid.encode(grid.sample_many(50, seed=2)[0])
    assert x.shape[1] == len(grid.feature_names())


def test_grid_size() -> None:
    assert RegNetHPOSpace("cifar10").grid_size() == 92_970_570 * 540
    assert RegNetHPOSpace("tinyimagenet").grid_size() == 278_540_570 * 540
