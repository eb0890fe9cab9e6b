"""Issue 16: the mapping fields of the frozen result records are read-only (a caller's
``.clear()`` on a cached answer must not change every later answer), yet still compare, pickle,
copy and serialise like plain dicts."""

from __future__ import annotations

import copy
import dataclasses
import json
import pickle
from typing import Any

import numpy as np
import pytest

from eabench.results import (
    BatchResult,
    Curve,
    EnergyEstimate,
    FrozenDict,
    MeterProvenance,
    Provenance,
    QueryResult,
)

PROV = Provenance("b", "surrogate", "s", "cifar10", "a", "1", "0" * 64, "d", "path")
MP = MeterProvenance("carbontracker", flag_notes={"PUE_APPLIED": "x"})


def _query() -> QueryResult:
    a = np.array([1.0, 2.0])
    a.setflags(write=False)
    curve = Curve(a, a, None, a, a)
    est = EnergyEstimate(10.0, 5.0, MP, frozenset())
    return QueryResult(
        "c", 2, 0.5, None, 1.0, 10.0, "carbontracker", {"carbontracker": est}, None,
        {"val_accuracy": 0.01}, curve, frozenset(), PROV,
    )  # fmt: skip


def _batch() -> BatchResult:
    a = np.array([1.0, 2.0])
    return BatchResult(
        ("c", "d"), 2, a, None, a, a, "carbontracker", {"carbontracker": a}, None, None,
        {"val_accuracy": a}, (frozenset(), frozenset()), PROV,
    )  # fmt: skip


MUTATIONS: list[Any] = [
    lambda m: m.clear(),
    lambda m: m.pop(next(iter(m))),
    lambda m: m.popitem(),
    lambda m: m.update({"x": 1}),
    lambda m: m.setdefault("x", 1),
    lambda m: m.__setitem__("x", 1),
    lambda m: m.__delitem__(next(iter(m))),
    lambda m: m.__ior__({"x": 1}),
]


@pytest.mark.parametrize("mutate", MUTATIONS)
def test_mapping_fields_refuse_every_mutation(mutate: Any) -> None:
    q, b = _query(), _batch()
    for m in (q.energy_by_meter, q.uncertainty, b.energy_j_by_meter, b.uncertainty, MP.flag_notes):
        before = dict(m)
        with pytest.raises(TypeError):
            mutate(m)
        assert dict(m) == before


def test_frozen_fields_compare_pickle_copy_and_serialise_like_dicts() -> None:
    q, b = _query(), _batch()
    assert isinstance(q.energy_by_meter, FrozenDict)
    assert isinstance(b.uncertainty, FrozenDict)
    assert q.uncertainty == {"val_accuracy": 0.01}
    for record in (q, b):
        again = pickle.loads(pickle.dumps(record))
        assert again == record
        assert isinstance(again.uncertainty, FrozenDict)
        assert copy.deepcopy(record) == record
        assert json.loads(json.dumps(record.to_dict())) == json.loads(json.dumps(again.to_dict()))
    replaced = dataclasses.replace(q, uncertainty={"val_accuracy": 0.02})
    assert isinstance(replaced.uncertainty, FrozenDict)
    assert repr(q.uncertainty) == "{'val_accuracy': 0.01}"


def test_the_callers_dict_is_copied() -> None:
    mine = {"val_accuracy": 0.01}
    q = dataclasses.replace(_query(), uncertainty=mine)
    mine.clear()
    assert q.uncertainty == {"val_accuracy": 0.01}
