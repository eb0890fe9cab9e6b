"""The query API names are exported lazily, so that ``import eabench`` stays cheap."""

from __future__ import annotations

import subprocess
import sys

import pytest

import eabench


def test_query_api_names_are_exported() -> None:
    from eabench.benchmark import Benchmark
    from eabench.loading import load
    from eabench.results import QueryResult

    assert eabench.load is load
    assert eabench.Benchmark is Benchmark
    assert eabench.QueryResult is QueryResult
    assert {"load", "Benchmark", "QueryResult"} <= set(eabench.__all__)
    with pytest.raises(AttributeError):
        eabench.does_not_exist  # noqa: B018


def test_import_is_cheap_and_the_query_path_is_torch_free() -> None:
    code = (
        "import sys, eabench; a = sorted(m for m in ('eabench.benchmark', 'huggingface_hub', "
        "'torch', 'xgboost', 'sklearn') if m in sys.modules); "
        "import eabench.benchmark, eabench.kinds, eabench.registry, eabench.hub, eabench.ledger, "
        "eabench.pareto, eabench.carbon, eabench.spaces.nb101.index, eabench.loading, "
        "eabench.manifest, eabench.surrogates.registry, eabench.surrogates.curve, "
        "eabench.surrogates.artifact; "
        "b = sorted(m for m in ('torch', 'xgboost', 'sklearn', 'huggingface_hub') "
        "if m in sys.modules); print(a, b)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[] []"
