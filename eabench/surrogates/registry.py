"""Artifact kinds: ``manifest.kind`` -> the loader that turns an artifact folder into a surrogate.

A loader is ``f(folder: Path, manifest: Manifest) -> Surrogate`` (numpy only). Loaders are named
as ``"module:function"`` strings and imported when an artifact of their kind is loaded, so that
loading one kind never imports another's code. A new artifact kind adds one entry here and its
own module; nothing else changes.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Final

from eabench.errors import ArtifactError
from eabench.manifest import Manifest, read_manifest, verify_folder
from eabench.surrogates.base import Surrogate

__all__ = ["ARTIFACT_KINDS", "Loader", "load_artifact", "load_surrogate"]

Loader = Callable[[Path, Manifest], Surrogate]

ARTIFACT_KINDS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "nb101-7v-bcs-gbdt": "eabench.surrogates.artifact:from_manifest",
        "curve-bcs": "eabench.surrogates.curve:from_manifest",
    }
)
"""Artifact kind -> ``"module:function"`` of its loader."""


def load_surrogate(folder: str | Path, manifest: Manifest) -> Surrogate:
    """The surrogate of an artifact folder whose ``manifest`` was read (and verified) already.

    Raises:
        ArtifactError: unknown kind, or the kind's loader refuses the files.
    """
    target = ARTIFACT_KINDS.get(manifest.kind)
    if target is None:
        raise ArtifactError.for_field(
            "manifest.kind", manifest.kind, f"must be one of {', '.join(sorted(ARTIFACT_KINDS))}"
        )
    module, _, attr = target.partition(":")
    loader: Loader = getattr(importlib.import_module(module), attr)
    return loader(Path(folder), manifest)


def load_artifact(path: str | Path, verify: bool = True) -> Surrogate:
    """Read the manifest, check every file's sha256 (unless ``verify=False``), load the surrogate.

    Raises:
        ArtifactError: missing or malformed manifest, unknown format or kind, a missing file.
        ChecksumMismatchError: a file's sha256 differs from the manifest.
    """
    manifest = read_manifest(path)
    if verify:
        verify_folder(path, manifest)
    return load_surrogate(path, manifest)
