from __future__ import annotations

import numpy as np
import pytest

from eabench.errors import ArtifactError
from eabench.surrogates.trees import TreeEnsemble, arrays_from_xgboost_json

xgb = pytest.importorskip("xgboost")


@pytest.mark.parametrize("objective", ["reg:squarederror", "reg:absoluteerror"])
def test_numpy_trees_equal_xgboost_within_1e6(objective):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 6)).astype(np.float32)
    y = np.sin(x[:, 0]) + x[:, 1] ** 2 + 0.1 * rng.normal(size=400)
    model = xgb.XGBRegressor(n_estimators=30, max_depth=5, objective=objective, n_jobs=1)
    model.fit(x, y)
    trees = arrays_from_xgboost_json(model.get_booster().save_raw("json"))
    xt = rng.normal(size=(300, 6)).astype(np.float32)
    np.testing.assert_allclose(trees.predict(xt), model.predict(xt), rtol=1e-6, atol=1e-6)
    again = TreeEnsemble.from_arrays(trees.to_arrays("m"), "m")
    np.testing.assert_array_equal(again.predict(xt), trees.predict(xt))


def test_non_identity_objective_is_refused():
    x = np.random.default_rng(0).normal(size=(50, 2))
    model = xgb.XGBRegressor(n_estimators=2, objective="reg:logistic").fit(x, (x[:, 0] > 0) * 1.0)
    with pytest.raises(ArtifactError):
        arrays_from_xgboost_json(model.get_booster().save_raw("json"))
