"""``eabench download`` and ``eabench cache`` against the loopback Hub server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eabench.cli import main
from eabench.spaces.nb101 import NB101Space
from tests.fakes import write_fake_artifact
from tests.hub_server import HubRepo, HubServer


def test_download_then_cache_list_verify_clear(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    src = write_fake_artifact(tmp_path / "src", n_features=len(NB101Space().feature_names()))
    repo = HubRepo()
    sha = repo.commit({p.name: p.read_bytes() for p in src.iterdir()})
    cache = str(tmp_path / "cache")
    with HubServer({"eabench/nb101-7v": repo}) as server:
        monkeypatch.setenv("HF_ENDPOINT", server.url)
        args = ["download", "nb101-7v", "--revision", sha, "--cache-dir", cache, "--json"]
        assert main(args) == 0
    facts = json.loads(capsys.readouterr().out)
    assert facts["commit"] == sha
    assert (Path(facts["path"]) / "weights.npz").is_file()
    assert main(["cache", "list", "--cache-dir", cache, "--json"]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert row["repo_id"] == "eabench/nb101-7v"
    assert row["commit"] == sha
    assert main(["cache", "verify", "--cache-dir", cache]) == 0
    assert "ok" in capsys.readouterr().out
    blob = (Path(facts["path"]) / "weights.npz").resolve()
    with open(blob, "ab") as fh:
        fh.write(b"!")
    assert main(["cache", "verify", "--cache-dir", cache]) == 1
    assert "BAD" in capsys.readouterr().out
    assert main(["cache", "clear", "--cache-dir", cache, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["freed_bytes"] > 0
    assert main(["cache", "list", "--cache-dir", cache]) == 0
    assert "no eabench artifacts" in capsys.readouterr().out


def test_download_without_pinned_revision_says_what_to_do(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["download", "regnet-hpo-cifar10"]) == 2
    err = capsys.readouterr().err
    assert "--revision" in err
    assert "eabench train" in err
    assert "InvalidArgumentError" in err  # the benchmark is known: not UnknownBenchmarkError
