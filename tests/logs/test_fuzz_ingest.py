"""Hypothesis fuzzing of ingestion with mutated copies of real EC-NAS raw files.

Mutations: truncation, wrong types, missing keys, NaN/inf, huge values, bad UTF-8 and duplicate
run ids. Properties: ingest() raises nothing (every problem is a per-file typed error in the
report), every failure names a mutated file, and every untouched file is still ingested.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eabench import errors
from eabench.logs.ingest import ingest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "raw" / "ecnas"
FILES = sorted(p.relative_to(FIXTURES) for p in FIXTURES.rglob("results.json"))
KINDS = ("truncate", "wrong_type", "missing_key", "nan", "huge", "bad_utf8", "duplicate")
ERROR_NAMES = {n for n in dir(errors) if isinstance(getattr(errors, n), type)}


def _paths(obj: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            out.append((*prefix, k))
            out.extend(_paths(v, (*prefix, k)))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out.append((*prefix, i))
            out.extend(_paths(v, (*prefix, i)))
    return out


def _set(obj: Any, path: tuple[Any, ...], value: Any, delete: bool = False) -> None:
    for key in path[:-1]:
        obj = obj[key]
    if delete:
        del obj[path[-1]]
    else:
        obj[path[-1]] = value


def _mutate(raw: bytes, kind: str, data: st.DataObject) -> bytes:
    if kind == "truncate":
        return raw[: data.draw(st.integers(0, len(raw.rstrip()) - 1))]
    if kind == "bad_utf8":
        pos = data.draw(st.integers(0, len(raw)))
        return raw[:pos] + b"\xff\xfe" + raw[pos:]
    doc = json.loads(raw)
    paths = _paths(doc)
    if kind == "missing_key":
        keyed = [p for p in paths if isinstance(p[-1], str)]
        _set(doc, data.draw(st.sampled_from(keyed)), None, delete=True)
    else:
        numeric = [p for p in paths if _is_number(doc, p)]
        target = data.draw(st.sampled_from(numeric if kind in ("nan", "huge") else paths))
        choices: dict[str, list[Any]] = {
            "wrong_type": ["x", [], {}, True, None, [1, 2]],
            "nan": [math.nan, math.inf, -math.inf],
            "huge": [1e308, 10**400, -1e300],
        }
        _set(doc, target, data.draw(st.sampled_from(choices[kind])))
    return json.dumps(doc, allow_nan=True).encode()


def _is_number(doc: Any, path: tuple[Any, ...]) -> bool:
    for key in path:
        doc = doc[key]
    return isinstance(doc, (int, float)) and not isinstance(doc, bool)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_mutated_real_files_fail_alone_with_typed_errors(tmp_path_factory: Any, data: Any) -> None:
    root = tmp_path_factory.mktemp("fuzz")
    a, b = root / "a", root / "b"
    shutil.copytree(FIXTURES, a / "ecnas")
    chosen = data.draw(st.lists(st.sampled_from(FILES), min_size=1, max_size=3, unique=True))
    mutated: dict[Path, str] = {}
    for rel in chosen:
        kind = data.draw(st.sampled_from(KINDS))
        if kind == "duplicate":
            target = b / "ecnas" / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(a / "ecnas" / rel, target)
            mutated[target] = kind
        else:
            path = a / "ecnas" / rel
            path.write_bytes(_mutate(path.read_bytes(), kind, data))
            mutated[path] = kind
    sources = [a] + ([b] if b.exists() else [])
    report = ingest(sources, root / "out.h5")  # must not raise

    failed = {Path(e["path"]) for e in report.errors}
    assert failed <= set(mutated), report.errors
    for e in report.errors:
        assert e["reason"].split(":", 1)[0] in ERROR_NAMES, e
    for path, kind in mutated.items():
        if kind in ("duplicate", "bad_utf8"):
            assert path in failed, (kind, report.errors)
    untouched = [a / "ecnas" / rel for rel in FILES if a / "ecnas" / rel not in mutated]
    n_ok_mutated = sum(1 for p, k in mutated.items() if p not in failed and k != "duplicate")
    assert report.ingested == len(untouched) + n_ok_mutated
    assert report.tables.get("nb101-7v/cifar10/ecnas_runs", 0) == report.ingested
