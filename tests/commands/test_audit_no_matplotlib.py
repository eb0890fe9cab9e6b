"""``eabench audit`` on a base install (no matplotlib): the report without figures, and a note."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from eabench.audit.simulate import SimulationSpec, simulate_run_logs
from eabench.cli import main
from eabench.logs import RunLogWriter


def test_audit_without_matplotlib_skips_figures_with_a_note(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = tmp_path / "runs"
    runs.mkdir()
    for lg in simulate_run_logs(SimulationSpec(n_runs=6, n_epochs=3), seed=1):
        with RunLogWriter.open(runs, lg.header) as w:
            for rec in lg.epochs:
                w.append(rec)
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if not installed: import fails
    out = tmp_path / "report"
    assert main(["audit", str(runs), "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert "eabench[plot]" in captured.err
    assert "Traceback" not in captured.err
    assert json.loads((out / "audit.json").read_text())["figures"] == {}
    assert (out / "audit.md").exists()
