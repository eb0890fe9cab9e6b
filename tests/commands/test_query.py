"""``eabench query``: JSON and human output on a (test) embedded artifact."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from eabench import registry
from eabench.cli import main
from eabench.commands.query import EXAMPLES
from eabench.spaces.nb101 import Cell, NB101Space
from tests.fakes import register_fake_kind, write_fake_artifact


@pytest.fixture
def embedded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = write_fake_artifact(
        tmp_path / "nb101-7v", n_features=len(NB101Space().feature_names())
    )
    monkeypatch.setattr(
        registry, "embedded_dir", lambda spec: folder if spec.name == "nb101-7v" else None
    )
    register_fake_kind(monkeypatch)
    return folder


def test_example_json(embedded: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["query", "nb101-7v", "--example", "--epochs", "36", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["epochs"] == 36
    assert out["config_id"] == Cell(**EXAMPLES["nb101-7v"]).hash()
    assert out["curve"]["epochs"] == [4.0, 12.0, 36.0]
    assert out["provenance"]["source"] == "embedded"
    assert "UNDER_SAMPLED" in out["flags"]


def test_human_output_with_carbon(embedded: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["query", "nb101-7v", "--example", "--carbon", "300", "--pue", "1.2"]) == 0
    out = capsys.readouterr().out
    assert "val_accuracy" in out
    val_line = next(line for line in out.splitlines() if line.startswith("val_accuracy"))
    assert "(sd 0.0" in val_line  # the predictive sd of the accuracy (artifact >= 0.3.0)
    energy_line = next(line for line in out.splitlines() if line.startswith("energy_j"))
    assert "(sd " in energy_line
    assert "carbontracker" in out
    assert "co2e_g" in out
    assert "PUE 1.2" in out


def test_batch_from_file_and_describe(
    embedded: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "cells.json"
    cfg.write_text(json.dumps([EXAMPLES["nb101-7v"], EXAMPLES["nb101-7v"]]))
    assert main(["query", "nb101-7v", "--config", str(cfg), "--epochs", "108"]) == 0
    out: dict[str, Any] = json.loads(capsys.readouterr().out)
    assert len(out["val_accuracy"]) == 2
    assert out["val_accuracy"][0] == out["val_accuracy"][1]
    assert main(["query", "nb101-7v", "--describe", "--json"]) == 0
    facts = json.loads(capsys.readouterr().out)
    assert facts["fidelity"]["semantics"] == "schedule"
    assert facts["metrics"]["energy_j"]["unit"] == "J"
    assert main(["query", "nb101-7v", "--describe"]) == 0  # without --json: one line a fact
    text = capsys.readouterr().out
    assert text.startswith("name           nb101-7v")
    assert '"semantics": "schedule"' in text


def test_errors_are_one_line_and_exit_2(embedded: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["query", "nb101-7v", "--config-json", '{"matrix": [[0]], "ops": ["input"]}']) == 2
    assert "InvalidConfigError" in capsys.readouterr().err
    assert main(["query", "nb101-7v", "--example", "--epochs", "200"]) == 2
    assert "FidelityError" in capsys.readouterr().err
    assert main(["query", "regnet-hpo-cifar10", "--describe"]) == 2
    assert "eabench train" in capsys.readouterr().err
    assert main(["query", "nb101-7v"]) == 2
    assert "--example" in capsys.readouterr().err
