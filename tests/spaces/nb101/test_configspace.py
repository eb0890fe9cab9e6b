from __future__ import annotations

from typing import Any

import pytest

from eabench.errors import InvalidArgumentError, InvalidConfigError
from eabench.spaces.nb101 import Cell, NB101Space
from eabench.spaces.nb101_configspace import (
    EDGE_NAMES,
    OP_NAMES,
    configspace,
    from_cell,
    sample_cell,
    to_cell,
)

pytest.importorskip("ConfigSpace")


def test_encoding_has_21_edges_and_5_ops() -> None:
    cs = configspace(seed=0)
    names = set(cs.keys())
    assert names == set(EDGE_NAMES) | set(OP_NAMES)
    assert (len(EDGE_NAMES), len(OP_NAMES)) == (21, 5)


def test_round_trip_of_every_4v_cell(ecnas_4v: dict[str, Any]) -> None:
    cs = configspace()
    for key, (matrix, labels) in ecnas_4v.items():
        assert to_cell(from_cell(Cell(matrix, labels), cs)).hash() == key


def test_sample_cell_is_seeded_and_valid() -> None:
    cs = configspace()
    a = sample_cell(cs, 3)
    assert a == sample_cell(cs, 3)
    assert NB101Space().validate(a.to_dict()) == a


def test_invalid_samples_raise_a_clear_error() -> None:
    values: dict[str, Any] = dict.fromkeys(EDGE_NAMES, 0)
    values.update(dict.fromkeys(OP_NAMES, "conv3x3-bn-relu"))
    with pytest.raises(InvalidConfigError, match=r"not a valid 7V cell: .*no path"):
        to_cell(values)
    for name in EDGE_NAMES:
        values[name] = 1  # 21 edges
    with pytest.raises(InvalidConfigError, match="21 edges after pruning"):
        to_cell(values)
    # most raw samples are invalid: at least one of 50 must be rejected with the typed error
    cs = configspace(seed=1)
    errors = 0
    for config in cs.sample_configuration(50):
        try:
            to_cell(config)
        except InvalidConfigError:
            errors += 1
    assert errors > 0


@pytest.mark.parametrize(
    ("change", "field"),
    [({"edge_0_1": 2}, "edge_0_1"), ({"op_1": "conv5x5"}, "ops[1]"), ({"op_2": None}, "ops[2]")],
)
def test_bad_values(change: dict[str, Any], field: str) -> None:
    values: dict[str, Any] = dict.fromkeys(EDGE_NAMES, 0)
    values.update(dict.fromkeys(OP_NAMES, "conv3x3-bn-relu"))
    values.update({"edge_0_1": 1, "edge_1_6": 1})
    to_cell(values)  # valid before the change
    values.update(change)
    with pytest.raises(InvalidConfigError) as info:
        to_cell(values)
    assert info.value.field == field


def test_missing_values_and_exhausted_sampling() -> None:
    with pytest.raises(InvalidConfigError, match="misses"):
        to_cell({"edge_0_1": 1})
    with pytest.raises(InvalidArgumentError):
        sample_cell(configspace(), 0, max_tries=0)
