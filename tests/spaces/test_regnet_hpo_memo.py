"""The RegNet x HPO space remembers derived networks per instance (issue 17): a single query
validates, then encodes, the same config; the network is derived once. Answers do not change."""

from __future__ import annotations

import numpy as np
import pytest

from eabench.errors import InvalidConfigError
from eabench.spaces.regnet_hpo import space as space_module
from eabench.spaces.regnet_hpo.network import derive_network
from eabench.spaces.regnet_hpo.space import RegNetHPOSpace


def test_one_config_encodes_as_in_a_batch_and_derives_once() -> None:
    space = RegNetHPOSpace()
    configs, _ = space.sample_many(40, seed=0)
    whole = space.encode(configs)
    fresh = RegNetHPOSpace()
    for i, cfg in enumerate(configs):
        assert fresh.validate(cfg) is cfg
        assert cfg in fresh._networks
        np.testing.assert_array_equal(fresh.encode([cfg])[0], whole[i])
        net = derive_network(cfg)
        row = fresh._networks[cfg]
        assert int(row.flops[0]) == net.complexity.flops
        assert int(row.num_stages[0]) == net.num_stages


def test_the_memo_is_a_bounded_lru(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(space_module, "_NETWORK_MEMO", 5)
    space = RegNetHPOSpace()
    configs, _ = space.sample_many(12, seed=1)
    for cfg in configs:
        space.validate(cfg)
        space.validate(configs[0])  # used after every new config: never the oldest
    assert len(space._networks) == 5
    assert configs[0] in space._networks
    assert configs[1] not in space._networks


def test_infeasible_configs_still_name_the_broken_rule() -> None:
    grid = RegNetHPOSpace(constraints=None)
    space = RegNetHPOSpace()
    bad = next(c for c in grid.sample_many(200, seed=2)[0] if not space.is_feasible(c))
    with pytest.raises(InvalidConfigError, match="constraint of"):
        space.validate(bad)
    with pytest.raises(InvalidConfigError, match="constraint of"):
        space.validate(bad)  # again, from the memo
