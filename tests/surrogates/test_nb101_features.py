from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from eabench.errors import InvalidConfigError
from eabench.spaces.nb101 import NB101Space
from eabench.surrogates.nb101_features import FEATURE_NAMES, cell_features

DATASET = Path(__file__).resolve().parents[2] / "data" / "eabench-data.h5"


def _table():
    from eabench.logs import open_dataset

    return open_dataset(DATASET).table("nb101-7v", "cifar10", "ecnas_7v")


def test_analytic_params_equal_nb101_trainable_parameters():
    """Exact on NB101's own vertex order (the channel split depends on vertex order)."""
    from eabench.spaces.nb101 import encode_padded

    t = _table()
    n = t.config_ids.shape[0]
    mats = np.zeros((n, 7, 7), np.uint8)
    labs = np.full((n, 7), -3, np.int8)
    for i, (m, o, v) in enumerate(
        zip(t.configs.matrix, t.configs.ops, t.configs.n_vertices, strict=True)
    ):
        pos = np.r_[np.arange(int(v) - 1), 6]
        mats[i][np.ix_(pos, pos)] = m[: int(v), : int(v)]
        labs[i, pos] = o[: int(v)]
    feats = cell_features(encode_padded(mats, labs))
    params = 10 ** feats[:, FEATURE_NAMES.index("log10_params")]
    np.testing.assert_allclose(params, t.static["params"].values, rtol=1e-12)


def test_params_through_the_space_encoding_are_exact():
    """NB101Space.encode puts cells in NB101's representative order, so params stay exact."""
    t = _table()
    cfgs = [t.configs.to_dict(i) for i in range(0, 4310, 7)]
    feats = cell_features(NB101Space().encode(cfgs))
    params = 10 ** feats[:, FEATURE_NAMES.index("log10_params")]
    np.testing.assert_allclose(params, t.static["params"].values[::7], rtol=1e-12)


def test_isomorphic_cells_get_identical_features():
    ops = ["input", "conv3x3-bn-relu", "maxpool3x3", "output"]
    a = {"matrix": [[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]], "ops": ops}
    b = {"matrix": a["matrix"], "ops": ["input", "maxpool3x3", "conv3x3-bn-relu", "output"]}
    fa, fb = cell_features(NB101Space().encode([a, b]))
    np.testing.assert_array_equal(fa, fb)


def test_wrong_width_is_a_typed_error():
    with pytest.raises(InvalidConfigError):
        cell_features(np.zeros((2, 44)))
