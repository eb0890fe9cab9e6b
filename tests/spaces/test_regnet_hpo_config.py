"""RegNetHPOConfig: grid validation (every error path), dict and id round-trips, the protocol."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eabench.errors import InvalidConfigError
from eabench.spaces.regnet_hpo import (
    CUTOUTS,
    DEPTHS,
    GROUP_WIDTHS,
    KEYS,
    LEARNING_RATES,
    LR_POLICIES,
    MAX_EPOCHS,
    OPTIMIZERS,
    W0S,
    RegNetHPOConfig,
    training_protocol,
)

DESIGN_EXAMPLE: dict[str, Any] = {
    "depth": 10,
    "w0": 48,
    "wa": 8.0,
    "wm": 2.5,
    "group_width": 8,
    "learning_rate": 0.1,
    "max_epochs": 100,
    "optimizer": "sgd",
    "lr_policy": "cos",
    "cutout": 0,
    "dataset": "cifar10",
}


def _with(**changes: Any) -> dict[str, Any]:
    return {**DESIGN_EXAMPLE, **changes}


def test_design_example_round_trips_with_exactly_the_design_keys() -> None:
    cfg = RegNetHPOConfig.from_dict(DESIGN_EXAMPLE)
    assert cfg.to_dict() == DESIGN_EXAMPLE
    assert list(cfg.to_dict()) == list(KEYS)
    assert cfg.canonical_string() == "cifar10/d10/w048/wa080/wm2500/g8/lr0.1/e100/sgd/cos/c0"


def test_dataset_defaults_to_cifar10() -> None:
    data = {k: v for k, v in DESIGN_EXAMPLE.items() if k != "dataset"}
    assert RegNetHPOConfig.from_dict(data).dataset == "cifar10"


def test_config_id_is_stable_across_float_formatting_and_numpy_types() -> None:
    a = RegNetHPOConfig.from_dict(_with(wa=8.1, wm=2.501, learning_rate=0.3))
    b = RegNetHPOConfig.from_dict(
        _with(
            wa=sum([0.1] * 81),
            wm=np.float64(2501) / 1000,
            learning_rate=0.1 * 3,
            depth=np.int64(10),
            max_epochs=100.0,
        )
    )
    assert sum([0.1] * 81) != 8.1
    assert 0.1 * 3 != 0.3
    assert a == b
    assert a.config_id() == b.config_id()
    assert len(a.config_id()) == 32
    assert int(a.config_id(), 16) >= 0
    assert a.config_id() != RegNetHPOConfig.from_dict(DESIGN_EXAMPLE).config_id()


@pytest.mark.parametrize(
    ("changes", "field", "rule_part"),
    [
        ({"depth": 5}, "depth", "one of"),
        ({"depth": 16}, "depth", "one of"),
        ({"depth": 10.5}, "depth", "must be an int"),
        ({"depth": True}, "depth", "must be an int"),
        ({"depth": "10"}, "depth", "must be an int"),
        ({"w0": 52}, "w0", "one of"),
        ({"w0": 136}, "w0", "one of"),
        ({"wa": 8.05}, "wa", "multiple of 0.1"),
        ({"wa": 7.9}, "wa", "in [8, 32]"),
        ({"wa": 32.1}, "wa", "in [8, 32]"),
        ({"wa": "8.0"}, "wa", "real number"),
        ({"wa": float("nan")}, "wa", "finite"),
        ({"wa": float("inf")}, "wa", "finite"),
        ({"wm": 2.4995}, "wm", "multiple of 0.001"),
        ({"wm": 2.499}, "wm", "in [2.5, 3]"),
        ({"wm": 3.001}, "wm", "in [2.5, 3]"),
        ({"wm": 1.5}, "wm", "in [2.5, 3]"),
        ({"group_width": 12}, "group_width", "one of"),
        ({"group_width": 64}, "group_width", "one of"),
        ({"learning_rate": 0.2}, "learning_rate", "one of"),
        ({"learning_rate": None}, "learning_rate", "real number"),
        ({"max_epochs": 108}, "max_epochs", "one of"),
        ({"optimizer": "rmsprop"}, "optimizer", "one of"),
        ({"optimizer": 1}, "optimizer", "must be a str"),
        ({"lr_policy": "step"}, "lr_policy", "one of"),
        ({"cutout": 8}, "cutout", "one of"),
        ({"dataset": "imagenet"}, "dataset", "one of"),
    ],
)
def test_every_off_grid_value_is_rejected_naming_field_and_rule(
    changes: dict[str, Any], field: str, rule_part: str
) -> None:
    with pytest.raises(InvalidConfigError) as info:
        RegNetHPOConfig.from_dict(_with(**changes))
    assert info.value.field == field
    assert rule_part in str(info.value.rule)
    assert str(info.value).startswith(f"{field} = ")


def test_tinyimagenet_has_the_wider_wm_range() -> None:
    cfg = RegNetHPOConfig.from_dict(_with(wm=1.5, dataset="tinyimagenet"))
    assert cfg.wm == 1.5
    with pytest.raises(InvalidConfigError, match=r"in \[1.5, 3\]"):
        RegNetHPOConfig.from_dict(_with(wm=1.499, dataset="tinyimagenet"))


@pytest.mark.parametrize(
    ("data", "rule_part"),
    [
        ([1, 2], "must be a mapping"),
        (_with(extra=1), "unknown keys"),
        ({k: v for k, v in DESIGN_EXAMPLE.items() if k != "wa"}, "missing required keys"),
    ],
)
def test_from_dict_rejects_bad_shapes(data: Any, rule_part: str) -> None:
    with pytest.raises(InvalidConfigError, match=rule_part):
        RegNetHPOConfig.from_dict(data)


def test_config_is_frozen() -> None:
    cfg = RegNetHPOConfig.from_dict(DESIGN_EXAMPLE)
    with pytest.raises(AttributeError):
        cfg.depth = 11  # type: ignore[misc]


def test_fixed_protocol_values() -> None:
    cifar, tiny = training_protocol("cifar10"), training_protocol("tinyimagenet")
    assert (cifar.num_classes, cifar.stem_width, tiny.num_classes, tiny.stem_width) == (
        10,
        16,
        200,
        32,
    )
    assert cifar.batch_size_train == 1024
    assert cifar.weight_decay == 5e-4
    assert cifar.warmup_epochs == 5
    assert cifar.warmup_factor == 0.1
    assert cifar.label_smoothing == 0.1
    assert cifar.sgd_nesterov
    with pytest.raises(InvalidConfigError, match="dataset"):
        training_protocol("mnist")


configs = st.builds(
    lambda d, w0, wa, wm, g, lr, e, o, p, c, tiny: RegNetHPOConfig(
        depth=d,
        w0=w0,
        wa=wa / 10,
        wm=wm / 1000,
        group_width=g,
        learning_rate=lr,
        max_epochs=e,
        optimizer=o,
        lr_policy=p,
        cutout=c,
        dataset="tinyimagenet" if tiny else "cifar10",
    ),
    st.sampled_from(DEPTHS),
    st.sampled_from(W0S),
    st.integers(80, 320),
    st.integers(2500, 3000),
    st.sampled_from(GROUP_WIDTHS),
    st.sampled_from(LEARNING_RATES),
    st.sampled_from(MAX_EPOCHS),
    st.sampled_from(OPTIMIZERS),
    st.sampled_from(LR_POLICIES),
    st.sampled_from(CUTOUTS),
    st.booleans(),
)


@settings(max_examples=200, deadline=None)
@given(configs)
def test_dict_round_trip(cfg: RegNetHPOConfig) -> None:
    again = RegNetHPOConfig.from_dict(cfg.to_dict())
    assert again == cfg
    assert again.config_id() == cfg.config_id()


@settings(max_examples=200, deadline=None)
@given(configs, st.floats(-5e-8, 5e-8))
def test_config_id_ignores_float_noise(cfg: RegNetHPOConfig, eps: float) -> None:
    noisy = cfg.to_dict()
    noisy["wa"] = noisy["wa"] + eps
    noisy["wm"] = noisy["wm"] + eps / 1000
    noisy["learning_rate"] = noisy["learning_rate"] * (1 + eps / 1000)
    assert RegNetHPOConfig.from_dict(noisy).config_id() == cfg.config_id()


@settings(max_examples=100, deadline=None)
@given(configs, configs)
def test_config_id_equal_iff_configs_equal(a: RegNetHPOConfig, b: RegNetHPOConfig) -> None:
    assert (a.config_id() == b.config_id()) == (a == b)
