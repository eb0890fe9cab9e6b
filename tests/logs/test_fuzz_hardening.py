"""Hypothesis fuzzing of ingestion over every corruption class of issue 16, and the slow
whole-tree campaign (the staged EC-NAS tree with hundreds of mixed corruptions).

Properties: ``ingest`` raises nothing; no error outside ``EabenchError`` reaches the report
(``unexpected == 0``); every corrupted input is reported; no rejected run is stored; every
untouched run is kept (0 good records lost); swapped/invalid graph entries never become a run's
config.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eabench.logs.ingest import ingest
from tests.logs import corrupt as C
from tests.logs.test_hardening import FIXTURES, GOOD_RUNLOG, check_outcome

SHARED_ECNAS = Path(__file__).resolve().parents[3] / "shared" / "data" / "ecnas"


@settings(
    max_examples=int(os.environ.get("EABENCH_FUZZ_EXAMPLES", "25")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_mixed_corruptions_fail_alone(tmp_path_factory: Any, data: Any) -> None:
    root = tmp_path_factory.mktemp("hfuzz")
    tree, extra = root / "ecnas", root / "extra"
    shutil.copytree(FIXTURES, tree)
    C.good_runlog(extra / "runlogs", GOOD_RUNLOG)
    files = sorted(tree.rglob("results.json"))
    all_ids = {C.run_id_of(p) for p in files} | {GOOD_RUNLOG}
    kinds = data.draw(st.lists(st.sampled_from(C.ALL_KINDS), min_size=1, max_size=5))
    free = [p for p in files if "5V9E" in p.parts]
    four_v = [p for p in files if "4V9E" in p.parts]
    ex = C.Expect()
    for n, kind in enumerate(kinds):
        if kind in C.FILE_KINDS:
            if not free:
                continue
            target: Path | None = free.pop(data.draw(st.integers(0, len(free) - 1)))
        elif kind.startswith("graph"):
            target = four_v[data.draw(st.integers(0, len(four_v) - 1))]
        else:
            target = None
        one = C.corrupt(tree, extra, kind, target, n, seed=data.draw(st.integers(0, 2**16)))
        ex.bad_paths |= one.bad_paths
        ex.rejected |= one.rejected
        ex.config_dropped |= one.config_dropped
        if kind == "non_utf8_folder":
            all_ids.add(f"odd-folder-{n}")
    out = root / "out.h5"
    report = ingest([tree, extra], out)
    check_outcome(report, out, tree, ex, all_ids)


@pytest.mark.slow
@pytest.mark.shared
def test_whole_staged_tree_with_hundreds_of_corruptions(tmp_path: Path) -> None:
    """600 mixed corruptions over the 2,805-run staged EC-NAS tree: linear time, every bad input
    reported, every untouched run kept (the numbers go into the issue-16 note)."""
    if not SHARED_ECNAS.is_dir():
        pytest.skip("no staged EC-NAS tree")
    timings = {}
    for n in (0, 600):
        root = tmp_path / f"n{n}"
        tree, extra, ex, all_ids = C.campaign(SHARED_ECNAS, root, n, seed=16)
        out = root / "out.h5"
        t0 = time.perf_counter()
        report = ingest([tree, extra], out)
        timings[n] = time.perf_counter() - t0
        check_outcome(report, out, tree, ex, all_ids)
        assert report.failed >= len(ex.rejected)
    assert timings[600] < 3 * timings[0] + 10, timings
