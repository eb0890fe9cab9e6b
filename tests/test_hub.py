"""eabench.hub with the real huggingface_hub client against a loopback Hub server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import eabench
from eabench import hub
from eabench.errors import ChecksumMismatchError, HubError, NotCachedError
from eabench.spaces.nb101 import NB101Space
from tests.fakes import register_fake_kind, write_fake_artifact
from tests.hub_server import HubRepo, HubServer

REPO = "eabench/nb101-7v"
N_FEATURES = len(NB101Space().feature_names())
CELL = {
    "matrix": [[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]],
    "ops": ["input", "conv3x3-bn-relu", "maxpool3x3", "output"],
}


def _artifact_files(tmp_path: Path) -> dict[str, bytes]:
    folder = write_fake_artifact(tmp_path / "src", n_features=N_FEATURES)
    return {p.name: p.read_bytes() for p in folder.iterdir()}


@pytest.fixture(autouse=True)
def _no_offline_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)


@pytest.fixture
def good_repo(tmp_path: Path) -> tuple[dict[str, HubRepo], str]:
    repo = HubRepo()
    sha = repo.commit(_artifact_files(tmp_path))
    return {REPO: repo}, sha


def test_good_download_then_offline_and_cache_commands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, good_repo: Any
) -> None:
    repos, sha = good_repo
    cache = tmp_path / "hf-cache"
    with HubServer(repos) as server:
        monkeypatch.setenv("HF_ENDPOINT", server.url)
        folder, commit = hub.fetch(REPO, sha, cache_dir=cache)
        assert commit == sha
        assert {"manifest.json", "weights.npz"} <= {p.name for p in folder.iterdir()}
        # a branch name resolves to its commit
        _, commit_main = hub.fetch(REPO, "main", cache_dir=cache)
        assert commit_main == sha
        assert any(path.endswith("/resolve/main/manifest.json") for _, path in server.requests)
    # the server is gone: offline (argument or env) answers from the cache
    folder2, _ = hub.fetch(REPO, sha, cache_dir=cache, offline=True)
    assert folder2 == folder
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    hub.fetch(REPO, sha, cache_dir=cache)
    # load() end to end through the Hub (the surrogate loader is the test one)
    register_fake_kind(monkeypatch)
    bench = eabench.load("nb101-7v", revision=sha, cache_dir=str(cache))
    res = bench.query(CELL, 12)
    assert res.provenance.source == "hub"
    assert res.provenance.hub_revision == sha
    assert res.provenance.hub_repo == REPO
    # cache list / verify / clear
    listed = hub.cache_list(cache)
    assert [(a.repo_id, a.commit) for a in listed] == [(REPO, sha)]
    assert "main" in listed[0].refs
    assert hub.cache_verify(cache) == [(listed[0], None)]
    blob = (folder / "weights.npz").resolve()
    blob.chmod(0o644)
    with open(blob, "ab") as fh:
        fh.write(b"tampered")
    [(_, problem)] = hub.cache_verify(cache)
    assert problem is not None
    assert "weights.npz" in problem
    assert hub.cache_clear(cache) > 0
    assert hub.cache_list(cache) == []


def test_tampered_file_is_refused_and_not_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = _artifact_files(tmp_path)
    files["weights.npz"] = files["weights.npz"][:-1] + bytes([files["weights.npz"][-1] ^ 1])
    repo = HubRepo()
    sha = repo.commit(files)
    cache = tmp_path / "hf-cache"
    with HubServer({REPO: repo}) as server:
        monkeypatch.setenv("HF_ENDPOINT", server.url)
        with pytest.raises(ChecksumMismatchError, match=r"weights\.npz.*refused"):
            hub.fetch(REPO, sha, cache_dir=cache)
    with pytest.raises(NotCachedError):
        hub.fetch(REPO, sha, cache_dir=cache, offline=True)


def test_unknown_revision_and_repo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, good_repo: Any
) -> None:
    repos, _ = good_repo
    with HubServer(repos) as server:
        monkeypatch.setenv("HF_ENDPOINT", server.url)
        with pytest.raises(HubError, match="revision"):
            hub.fetch(REPO, "0" * 40, cache_dir=tmp_path / "c")
        with pytest.raises(HubError, match="no such repository"):
            hub.fetch("eabench/nope", "main", cache_dir=tmp_path / "c")


def test_server_dying_mid_file_leaves_nothing_usable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, good_repo: Any
) -> None:
    repos, sha = good_repo
    cache = tmp_path / "hf-cache"
    with HubServer(repos, die_on="weights.npz") as server:
        monkeypatch.setenv("HF_ENDPOINT", server.url)
        with pytest.raises(HubError, match="failed"):
            hub.fetch(REPO, sha, cache_dir=cache)
    with pytest.raises(NotCachedError):
        hub.fetch(REPO, sha, cache_dir=cache, offline=True)


def test_offline_with_nothing_cached_names_the_command(tmp_path: Path) -> None:
    with pytest.raises(NotCachedError) as info:
        eabench.load("nb101-7v", revision="a" * 40, cache_dir=str(tmp_path), offline=True)
    assert f"eabench download nb101-7v --revision {'a' * 40}" in str(info.value)


class _RecordingApi:
    """Stands in for HfApi in the push test (records calls, returns a commit id)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def create_repo(self, repo_id: str, **kw: Any) -> None:
        self.calls.append(("create_repo", {"repo_id": repo_id, **kw}))

    def upload_folder(self, **kw: Any) -> Any:
        self.calls.append(("upload_folder", kw))
        return type("CommitInfo", (), {"oid": "c" * 40})()


def test_push_verifies_then_uploads_and_returns_the_commit(tmp_path: Path) -> None:
    folder = write_fake_artifact(tmp_path / "a", n_features=N_FEATURES)
    api = _RecordingApi()
    assert hub.push(folder, REPO, api=api) == "c" * 40
    assert [c for c, _ in api.calls] == ["create_repo", "upload_folder"]
    assert api.calls[1][1]["folder_path"] == str(folder)
    with open(folder / "weights.npz", "ab") as fh:
        fh.write(b"x")
    with pytest.raises(ChecksumMismatchError):
        hub.push(folder, REPO, api=_RecordingApi())
