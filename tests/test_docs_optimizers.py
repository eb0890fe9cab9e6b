"""docs/optimizers.md: every python block runs as written (in a temporary directory)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

for _lib in ("optuna", "smac", "syne_tune", "pandas", "matplotlib"):
    pytest.importorskip(_lib, reason=f"docs/optimizers.md needs {_lib} (the 'dev' extra)")

DOC = Path(__file__).resolve().parents[1] / "docs" / "optimizers.md"


def _blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)


def test_the_doc_has_examples_for_every_adapter() -> None:
    text = "\n".join(_blocks())
    for needle in ("objective_function", "OptunaProblem", "SMACProblem", "to_blackbox"):
        assert needle in text


def test_docs_examples_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SYNETUNE_FOLDER", str(tmp_path / "syne-tune"))
    namespace: dict[str, Any] = {"__name__": "docs_optimizers"}
    for i, block in enumerate(_blocks()):
        try:
            exec(compile(block, f"{DOC.name}[block {i}]", "exec"), namespace)
        except Exception as exc:  # pragma: no cover - shows which block failed
            raise AssertionError(f"block {i} of {DOC.name} failed:\n{block}") from exc
    figure = tmp_path / "pareto_nsga2.png"
    assert figure.stat().st_size > 1000
    assert namespace["hv"] > 0
    assert namespace["ledger"].exhausted
    assert len(namespace["df"]) == 100
