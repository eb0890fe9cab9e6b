from __future__ import annotations

import json

import pytest

from eabench.cli import main


def test_info_nb101_prints_space_facts(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", "nb101-7v", "--json"]) == 0
    facts = json.loads(capsys.readouterr().out)
    assert facts["space"] == "nb101-7v"
    assert facts["num_cells"] == 423_624
    assert (facts["max_vertices"], facts["max_edges"]) == (7, 9)
    assert facts["num_features"] == 45
    assert facts["sorted_hashes_sha256"] == (
        "53e1438d11675d9eb3899166c29ca07fe0c4b81af9d99d5aec3ecd31bd5bca7f"
    )
    assert facts["sorted_hashes_sha256_matches_record"] is True
    assert facts["cache_file"].endswith("nb101_space.npz")


def test_info_text_and_unknown_name(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", "nb101-7v"]) == 0
    assert "num_cells: 423624" in capsys.readouterr().out
    assert main(["info", "no-such-space"]) == 2
    assert "no search space or benchmark named 'no-such-space'" in capsys.readouterr().err


def test_info_lists_and_describes_every_benchmark_and_space(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["info", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed["benchmarks"] == ["nb101-7v", "regnet-hpo-cifar10"]
    assert listed["spaces"] == ["nb101-7v", "regnet-hpo"]
    assert main(["info", "regnet-hpo-cifar10", "--json"]) == 0
    facts = json.loads(capsys.readouterr().out)
    assert facts["available"] is False
    assert "eabench train surrogates/recipes/regnet-hpo-cifar10.toml" in facts["how_to_get"]
    assert facts["fidelity"]["semantics"] == "prefix"
    assert main(["info", "regnet-hpo", "--json"]) == 0
    space = json.loads(capsys.readouterr().out)
    assert "max_epochs" in space["features"]
