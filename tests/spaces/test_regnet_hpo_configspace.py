"""The optional ConfigSpace adapter of the RegNet x HPO space."""

from __future__ import annotations

import json

import pytest

from eabench.errors import InvalidConfigError
from eabench.spaces.regnet_hpo import KEYS, RegNetHPOSpace

CS = pytest.importorskip("ConfigSpace")

from eabench.spaces.regnet_hpo.configspace import from_configspace, to_configspace  # noqa: E402


@pytest.mark.parametrize("dataset", ["cifar10", "tinyimagenet"])
def test_samples_snap_onto_the_grid_and_round_trip(dataset: str) -> None:
    space = RegNetHPOSpace(dataset, constraints=None)
    cs = to_configspace(space, seed=0)
    assert sorted(cs.keys()) == sorted(k for k in KEYS if k != "dataset")
    assert cs["wm"].lower == (2.5 if dataset == "cifar10" else 1.5)
    for sample in cs.sample_configuration(50):
        cfg = from_configspace(space, sample)
        assert cfg.dataset == dataset
        assert cfg.wa == round(sample["wa"], 1)
        assert cfg.wm_thousandths == round(sample["wm"] * 1000)
        assert json.loads(json.dumps(cfg.to_dict())) == cfg.to_dict()
        assert all(type(v) in (int, float, str) for v in cfg.to_dict().values())


def test_infeasible_points_raise_under_the_training_constraints() -> None:
    space = RegNetHPOSpace("cifar10")
    cs = to_configspace(space, seed=1)
    fields = []
    for sample in cs.sample_configuration(100):
        try:
            assert space.is_feasible(from_configspace(space, sample))
        except InvalidConfigError as err:
            fields.append(err.field)
    assert fields
    assert set(fields) <= {"num_stages", "flops", "params", "acts"}
