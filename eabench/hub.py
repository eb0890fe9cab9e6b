"""Surrogate artifacts on the Hugging Face Hub: download, sha256 verification, cache, offline mode.

Artifacts live in Hub model repos (``eabench/<benchmark>``) and are used at pinned commit
revisions. Downloads go through ``huggingface_hub.hf_hub_download`` into the standard Hugging Face
cache (``HF_HUB_CACHE`` / ``HF_HOME``, or ``cache_dir``), so other tools share and manage it.
``manifest.json`` lists every file with its sha256; each downloaded file is checked against it and
a file that does not match is removed from the cache and refused (``ChecksumMismatchError``).

Offline mode: ``offline=True`` or ``HF_HUB_OFFLINE=1`` uses only the cache; if the artifact is not
there, ``NotCachedError`` names the command to run while online. ``HF_ENDPOINT`` (read at call
time) points the client at another Hub endpoint (a mirror; the tests use a loopback server).

``huggingface_hub`` is imported inside the functions, so ``import eabench`` stays cheap.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eabench.errors import (
    ArtifactError,
    ChecksumMismatchError,
    HubError,
    InvalidArgumentError,
    NotCachedError,
)
from eabench.manifest import read_manifest, sha256_file, verify_folder
from eabench.registry import BENCHMARKS

__all__ = [
    "CachedArtifact",
    "cache_clear",
    "cache_list",
    "cache_verify",
    "fetch",
    "is_offline",
    "push",
]

_TRUE = {"1", "ON", "YES", "TRUE"}


def is_offline(offline: bool | None = None) -> bool:
    """``offline`` if given, else whether ``HF_HUB_OFFLINE`` is set to a true value."""
    if offline is not None:
        return bool(offline)
    return os.environ.get("HF_HUB_OFFLINE", "").strip().upper() in _TRUE


def _endpoint() -> str | None:
    return os.environ.get("HF_ENDPOINT") or None


def _hf_errors() -> Any:
    from huggingface_hub import errors

    return errors


def _remove_cached(path: Path) -> None:
    """Remove a snapshot entry and the blob it points to (a refused download)."""
    try:
        blob = path.resolve()
        path.unlink(missing_ok=True)
        if blob != path:
            blob.unlink(missing_ok=True)
    except OSError:  # pragma: no cover - best effort
        pass


def fetch(
    repo_id: str,
    revision: str,
    *,
    name: str | None = None,
    cache_dir: str | Path | None = None,
    offline: bool | None = None,
) -> tuple[Path, str]:
    """Download (or find in the cache) an artifact at ``revision`` and verify it.

    Args:
        repo_id: Hub model repo, e.g. ``"eabench/nb101-7v"``.
        revision: a commit sha (pinned) or a branch/tag name (resolved to its commit).
        name: benchmark name, used in messages (``eabench download <name> ...``).
        cache_dir: Hugging Face cache folder; default: the standard HF cache.
        offline: use only the cache (default: ``HF_HUB_OFFLINE``).

    Returns:
        ``(snapshot folder, commit sha)``: the folder holds ``manifest.json`` and its files.

    Raises:
        NotCachedError: offline and not cached.
        ChecksumMismatchError: a file does not match the manifest (it is removed from the cache).
        HubError: unknown repo or revision, or the download failed.
    """
    from huggingface_hub import hf_hub_download

    if not isinstance(revision, str) or not revision:
        raise InvalidArgumentError.for_field("revision", revision, "must be a commit or branch")
    errors = _hf_errors()
    local_only = is_offline(offline)
    label = name or repo_id
    kwargs: dict[str, Any] = {
        "revision": revision,
        "cache_dir": None if cache_dir is None else str(cache_dir),
        "local_files_only": local_only,
        "endpoint": _endpoint(),
    }
    try:
        manifest_path = Path(hf_hub_download(repo_id, "manifest.json", **kwargs))

        folder = manifest_path.parent
        manifest = read_manifest(folder)
        for rel, expected in manifest.files.items():
            path = Path(hf_hub_download(repo_id, rel, **kwargs))
            actual = sha256_file(path)
            if actual != expected:
                _remove_cached(path)
                raise ChecksumMismatchError.for_field(
                    f"sha256 of {repo_id}@{revision}/{rel}",
                    actual,
                    f"must equal {expected} from manifest.json; the file was refused and removed "
                    "from the cache",
                )
    except errors.OfflineModeIsEnabled as exc:
        raise _not_cached(label, repo_id, revision) from exc
    except errors.LocalEntryNotFoundError as exc:
        if local_only:
            raise _not_cached(label, repo_id, revision) from exc
        raise HubError(
            f"could not download {repo_id}@{revision} and it is not cached: {exc}"
        ) from exc
    except errors.RevisionNotFoundError as exc:
        raise HubError.for_field("revision", revision, f"does not exist in {repo_id}") from exc
    except errors.RepositoryNotFoundError as exc:
        raise HubError.for_field("repo_id", repo_id, "no such repository on the Hub") from exc
    except errors.RemoteEntryNotFoundError as exc:
        raise HubError(f"{repo_id}@{revision} lacks a file its manifest lists: {exc}") from exc
    except (ArtifactError, HubError):
        raise
    except Exception as exc:  # network errors of the HTTP client, truncated files
        raise HubError(
            f"downloading {repo_id}@{revision} failed ({type(exc).__name__}: {exc}); "
            "nothing incomplete was kept as a finished file; run the command again"
        ) from exc
    return folder, folder.name


def _not_cached(label: str, repo_id: str, revision: str) -> NotCachedError:
    return NotCachedError(
        f"{repo_id}@{revision} is not in the local Hugging Face cache and offline mode is on "
        f"(offline=True or HF_HUB_OFFLINE=1). While online, run: "
        f"eabench download {label} --revision {revision}",
        field="revision",
        value=revision,
        rule="must be cached for offline use",
    )


# ----------------------------------------------------------------------------- cache management
@dataclass(frozen=True, slots=True)
class CachedArtifact:
    """One cached artifact revision.

    Attributes:
        repo_id: Hub repo id.
        commit: commit sha of the revision.
        refs: branch/tag names pointing at it in the cache.
        path: snapshot folder.
        size_bytes: bytes on disk.
        n_files: number of files.
    """

    repo_id: str
    commit: str
    refs: tuple[str, ...]
    path: Path
    size_bytes: int
    n_files: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "repo_id": self.repo_id,
            "commit": self.commit,
            "refs": list(self.refs),
            "path": str(self.path),
            "size_bytes": self.size_bytes,
            "n_files": self.n_files,
        }


def _is_ours(repo_id: str) -> bool:

    return repo_id.startswith("eabench/") or any(s.hub_repo == repo_id for s in BENCHMARKS.values())


def _scan(cache_dir: str | Path | None) -> Any:
    from huggingface_hub import scan_cache_dir

    errors = _hf_errors()
    try:
        return scan_cache_dir(cache_dir)
    except errors.CacheNotFound:
        return None


def cache_list(cache_dir: str | Path | None = None) -> list[CachedArtifact]:
    """eabench artifacts in the Hugging Face cache, one entry per cached revision."""
    info = _scan(cache_dir)
    if info is None:
        return []
    out = []
    for repo in sorted(info.repos, key=lambda r: r.repo_id):
        if repo.repo_type != "model" or not _is_ours(repo.repo_id):
            continue
        for rev in sorted(repo.revisions, key=lambda r: r.commit_hash):
            out.append(
                CachedArtifact(
                    repo_id=repo.repo_id,
                    commit=rev.commit_hash,
                    refs=tuple(sorted(rev.refs)),
                    path=Path(rev.snapshot_path),
                    size_bytes=int(rev.size_on_disk),
                    n_files=len(rev.files),
                )
            )
    return out


def cache_verify(cache_dir: str | Path | None = None) -> list[tuple[CachedArtifact, str | None]]:
    """Re-hash every cached eabench artifact; ``(artifact, None)`` if intact, else the problem."""
    out: list[tuple[CachedArtifact, str | None]] = []
    for art in cache_list(cache_dir):
        try:
            manifest = read_manifest(art.path)
            verify_folder(art.path, manifest)
        except ArtifactError as exc:
            out.append((art, str(exc)))
        else:
            out.append((art, None))
    return out


def cache_clear(cache_dir: str | Path | None = None, repo_id: str | None = None) -> int:
    """Delete cached eabench artifacts (all, or one repo's); returns the bytes freed."""
    info = _scan(cache_dir)
    if info is None:
        return 0
    commits = [a.commit for a in cache_list(cache_dir) if repo_id is None or a.repo_id == repo_id]
    if not commits:
        return 0
    strategy = info.delete_revisions(*commits)
    freed = int(strategy.expected_freed_size)
    strategy.execute()
    return freed


# ----------------------------------------------------------------------------- publishing
def push(
    folder: str | Path,
    repo_id: str,
    *,
    token: str | None = None,
    commit_message: str | None = None,
    api: Any = None,
) -> str:
    """Upload an artifact folder (maintainers) and return the new commit revision to pin.

    The folder's files are verified against its manifest first, so a broken artifact is never
    published. ``api`` defaults to ``huggingface_hub.HfApi(endpoint=$HF_ENDPOINT, token=token)``.
    """
    root = Path(folder)
    manifest = read_manifest(root)
    verify_folder(root, manifest)
    if api is None:
        from huggingface_hub import HfApi

        api = HfApi(endpoint=_endpoint(), token=token)
    api.create_repo(repo_id, repo_type="model", exist_ok=True)
    info = api.upload_folder(
        repo_id=repo_id,
        folder_path=str(root),
        repo_type="model",
        commit_message=commit_message
        or f"{manifest.name} {manifest.version} (manifest sha256 {manifest.sha256[:12]})",
    )
    commit = str(getattr(info, "oid", "") or "")
    if len(commit) != 40:
        raise HubError(f"upload to {repo_id} returned no commit revision ({info!r})")
    return commit
