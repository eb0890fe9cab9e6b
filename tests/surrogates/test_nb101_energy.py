"""The nb101-7v energy head: additive work terms, NNLS fit, head arrays, recipe = selection."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from eabench.errors import ArtifactError, DatasetError
from eabench.spaces.nb101 import NB101Space
from eabench.surrogates.nb101_energy import (
    ENERGY_FEATURE_NAMES,
    WORK_TERM_NAMES,
    EnergyHead,
    energy_features,
    fit_additive,
    work_terms,
)
from eabench.surrogates.nb101_features import FEATURE_NAMES, cell_features
from eabench.surrogates.trees import TreeEnsemble

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[2]
CONV3, CONV1, POOL = "conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3"


def _enc(matrix, ops):
    return NB101Space().encode([{"matrix": matrix, "ops": ["input", *ops, "output"]}])


def _col(work, name):
    return work[:, WORK_TERM_NAMES.index(name)]


def test_chain_of_one_conv3x3_has_the_hand_computed_work():
    # input -> conv3x3 -> output: every cell is one 3x3 conv at full width, fed by a projection
    w = work_terms(_enc([[0, 1, 0], [0, 0, 1], [0, 0, 0]], [CONV3]))
    assert w.shape == (1, len(WORK_TERM_NAMES))
    # stack 0: 3 cells of 32x32 x 9 x 128 x 128 MACs, projections 128 -> 128
    assert _col(w, "stack0_macs_conv3x3")[0] == 3 * 1024 * 9 * 128 * 128
    assert _col(w, "stack0_macs_proj")[0] == 3 * 1024 * 128 * 128
    # stack 1: the first cell projects 128 -> 256, the others 256 -> 256, at 16x16
    assert _col(w, "stack1_macs_proj")[0] == 256 * (128 * 256 + 2 * 256 * 256)
    assert _col(w, "stack2_n_conv3x3")[0] == 3
    assert _col(w, "stack0_act_concat")[0] == 0  # a single output input: no concatenation
    assert np.all(
        w[:, [WORK_TERM_NAMES.index(f"stack{s}_n_unaligned_channels") for s in range(3)]] == 0
    )


def test_three_way_split_counts_unaligned_channels_and_concat():
    # three parallel 1x1 convs into the output: 128 -> 43/43/42 channels, none a multiple of 8
    m = [[0, 1, 1, 1, 0], [0, 0, 0, 0, 1], [0, 0, 0, 0, 1], [0, 0, 0, 0, 1], [0] * 5]
    w = work_terms(_enc(m, [CONV1, CONV1, CONV1]))
    assert _col(w, "stack0_n_unaligned_channels")[0] == 9  # 3 vertices x 3 cells
    assert _col(w, "stack0_act_concat")[0] == 3 * 1024 * 128
    assert _col(w, "stack0_macs_conv1x1")[0] == 3 * 1024 * (43**2 + 43**2 + 42**2)


def test_work_macs_add_up_to_the_network_macs():
    space = NB101Space()
    enc = space.encode_indices(space.sample_indices(300, seed=3))
    w = work_terms(enc)
    mac_cols = [i for i, n in enumerate(WORK_TERM_NAMES) if "_macs_" in n]
    stem_and_head = 32 * 32 * 9 * 3 * 128 + 512 * 10
    total = 10 ** cell_features(enc)[:, FEATURE_NAMES.index("log10_macs")]
    np.testing.assert_allclose(w[:, mac_cols].sum(1) + stem_and_head, total, rtol=1e-12)


def test_energy_features_append_log_work_to_cell_features():
    enc = _enc([[0, 1, 0], [0, 0, 1], [0, 0, 0]], [POOL])
    x = energy_features(enc)
    assert x.shape == (1, len(ENERGY_FEATURE_NAMES))
    np.testing.assert_array_equal(x[:, : len(FEATURE_NAMES)], cell_features(enc))
    np.testing.assert_allclose(x[:, len(FEATURE_NAMES) :], np.log1p(work_terms(enc)))


def test_additive_fit_is_non_negative_and_recovers_a_linear_truth():
    rng = np.random.default_rng(0)
    work = rng.uniform(0, 1e9, size=(400, 5))
    true = np.array([0.5, 2e-9, 0.0, 1e-9, 3e-9, 0.0])
    y = np.column_stack([np.ones(400), work]) @ true
    scale, coef = fit_additive(work, y)
    assert np.all(coef >= 0)
    np.testing.assert_allclose(coef / scale, true, atol=1e-12)


@pytest.mark.parametrize(
    ("work", "y", "field"),
    [
        (np.ones((3, 2)), np.array([1.0, 2.0]), "work"),
        (np.ones((2, 2)), np.array([1.0, -2.0]), "energy_wh"),
        (np.ones((2, 2)), np.array([1.0, np.nan]), "energy_wh"),
        ([[1.0, np.inf], [1.0, 2.0]], np.array([1.0, 2.0]), "work"),
    ],
)
def test_additive_fit_rejects_bad_input_naming_the_field(work, y, field):
    with pytest.raises(DatasetError) as err:
        fit_additive(work, y)
    assert err.value.field == field


def test_head_arrays_round_trip_and_missing_arrays_are_refused():
    k = len(WORK_TERM_NAMES) + 1
    head = EnergyHead(np.ones(k), np.full(k, 0.1), ())
    arrays = head.to_arrays()
    tree = TreeEnsemble(
        feature=np.array([[len(ENERGY_FEATURE_NAMES) - 1, 0, 0]], np.int16),
        threshold=np.array([[0.5, 0, 0]], np.float32),
        left=np.array([[1, 1, 2]], np.int16),
        right=np.array([[2, 1, 2]], np.int16),
        value=np.array([[0.0, -0.1, 0.1]], np.float32),
        base=0.0,
        depth=1,
    )
    arrays.update(tree.to_arrays("energy0"))
    again = EnergyHead.from_arrays(arrays, members=1)
    np.testing.assert_array_equal(again.additive_coef, head.additive_coef)
    with pytest.raises(ArtifactError):
        EnergyHead.from_arrays(arrays, members=0)
    with pytest.raises(ArtifactError):
        EnergyHead.from_arrays({"energy.additive_scale": np.ones(k)}, members=1)
    with pytest.raises(ArtifactError):
        EnergyHead.from_arrays({**arrays, "energy.additive_coef": np.ones(3)}, members=1)
    wide = tree.to_arrays("energy0")
    wide["energy0.feature"] = np.array([[len(ENERGY_FEATURE_NAMES), 0, 0]], np.int16)
    with pytest.raises(ArtifactError) as err:
        EnergyHead.from_arrays({**arrays, **wide}, members=1)
    assert err.value.field == "energy0.feature"


def test_more_work_never_lowers_the_additive_part():
    k = len(WORK_TERM_NAMES) + 1
    head = EnergyHead(np.ones(k), np.abs(np.random.default_rng(1).normal(size=k)), ())
    work = np.random.default_rng(2).uniform(0, 10, size=(50, k - 1))
    assert np.all(head.additive_wh(work + 1.0) >= head.additive_wh(work))


def test_recipe_uses_the_selected_energy_settings():
    sel = json.loads((REPO / "benchmarks" / "results" / "energy_selection_7v.json").read_text())
    assert sel["test_rows_read"] == 0
    best = sel["selected"]
    assert all(
        sel["candidates"][best]["cv5"]["mae"] <= c["cv5"]["mae"] for c in sel["candidates"].values()
    )
    recipe = tomllib.loads((REPO / "surrogates" / "recipes" / "nb101-7v.toml").read_text())
    params = {k: v for k, v in sel["selected_params"].items() if k != "model"}
    assert sel["selected_params"]["model"] == "additive-x-gbdt"
    assert recipe["energy"]["xgb"] == params
