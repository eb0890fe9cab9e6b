"""Package-level behaviour: import cost, version, CLI entry, error hierarchy."""

from __future__ import annotations

import subprocess
import sys

import pytest

import eabench
from eabench import errors
from eabench.cli import main


def test_import_does_not_import_torch() -> None:
    code = "import sys, eabench, eabench.spaces; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_version_is_exposed() -> None:
    assert eabench.__version__.count(".") == 2


def test_cli_info_runs(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info"]) == 0
    assert eabench.__version__ in capsys.readouterr().out


def test_error_for_field_names_field_value_and_rule() -> None:
    err = errors.InvalidConfigError.for_field("depth", 99, "must be in [6, 20]")
    assert isinstance(err, errors.EabenchError)
    assert isinstance(err, ValueError)
    assert (err.field, err.value, err.rule) == ("depth", 99, "must be in [6, 20]")
    assert str(err) == "depth = 99: must be in [6, 20]"


def test_unknown_benchmark_error_message_is_not_quoted() -> None:
    err = errors.UnknownBenchmarkError("no benchmark 'x'")
    assert str(err) == "no benchmark 'x'"
