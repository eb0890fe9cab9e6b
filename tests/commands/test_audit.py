"""``eabench audit``: end to end on SIMULATED run logs written to disk."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from eabench.audit.simulate import SimulationSpec, simulate_run_logs
from eabench.cli import main
from eabench.logs import RunLogWriter


@pytest.fixture(scope="module")
def runs_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("runs")
    for lg in simulate_run_logs(SimulationSpec(n_runs=12, n_epochs=4), seed=5):
        with RunLogWriter.open(folder, lg.header) as w:
            for rec in lg.epochs:
                w.append(rec)
    return folder


def test_audit_writes_json_markdown_html_and_figures(
    runs_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report"
    status = main(
        [
            "audit",
            str(runs_dir),
            "--out",
            str(out),
            "--format",
            "both",
            "--off-socket-w",
            "110",
            "130",
            "--gpu-idle-w",
            "75",
            "--json",
        ]
    )
    assert status == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["verdicts"]["reliable"]["status"] == "fail"
    payload = json.loads((out / "audit.json").read_text())
    assert payload["simulated"] is True
    assert payload["holistic"]["off_socket"]["bounds_w"] == [110.0, 130.0]
    assert payload["usage"]["idle_power_w"] == 75.0
    md = (out / "audit.md").read_text()
    assert "SIMULATED data" in md
    assert "| reliable | FAIL |" in md
    html = (out / "audit.html").read_text()
    assert html.startswith("<!DOCTYPE html>")
    assert "<table>" in html
    for name in payload["figures"].values():
        png = out / name
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert png.stat().st_size > 5000
    assert set(payload["figures"]) >= {"ecdf_power", "power_vs_samples", "agreement"}


def test_audit_bad_input_is_a_clean_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["audit", str(tmp_path / "nope"), "--out", str(tmp_path / "o")]) == 2
    assert "InvalidArgumentError" in capsys.readouterr().err


def test_cli_help_does_not_import_matplotlib() -> None:
    code = (
        "import sys; from eabench.cli import build_parser; build_parser(); "
        "print('matplotlib' in sys.modules, 'scipy' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split()[0] == "False"
