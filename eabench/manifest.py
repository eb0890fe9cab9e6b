"""The artifact manifest: one typed, validated schema for every surrogate artifact kind.

An artifact is a folder holding ``manifest.json`` and the files it lists, each with its sha256.
This module is a leaf (it imports nothing of eabench but ``errors``): reading, validating,
verifying and writing manifests happens here and nowhere else; :mod:`eabench.surrogates.registry`
picks the loader of an artifact by :attr:`Manifest.kind`.

Required fields (format version 2; version 1 artifacts are refused with a message saying to
retrain or download a current one):

* ``format_version``: 2;
* ``kind``: the artifact kind, e.g. ``"nb101-7v-bcs-gbdt"`` or ``"curve-bcs"``;
* ``name``, ``version``: artifact name and version;
* ``space_name``: the search space (``eabench.spaces.registry``);
* ``files``: ``{relative path: sha256}`` (also accepted: ``{path: {"sha256": ...}}`` or a list of
  ``{"path": ..., "sha256": ...}``); paths are relative and stay inside the artifact folder.

Everything else (meters, split, held-out metrics, licence, ...) is kind-specific or optional and
is read by the loaders; :class:`Manifest` is a read-only mapping over the whole JSON object.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

from eabench.errors import ArtifactError, ChecksumMismatchError

__all__ = [
    "FORMAT_VERSION",
    "MANIFEST_FILE",
    "Manifest",
    "manifest_files",
    "read_manifest",
    "sha256_file",
    "verify_folder",
    "write_manifest",
]

FORMAT_VERSION: Final = 2
MANIFEST_FILE: Final = "manifest.json"
_MAX_MANIFEST_BYTES: Final = 16 << 20


def sha256_file(path: str | Path, chunk_bytes: int = 1 << 20) -> str:
    """Hex sha256 of a file's bytes (read in chunks)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(chunk_bytes):
            h.update(chunk)
    return h.hexdigest()


def _inside(rel: Any) -> bool:
    if not isinstance(rel, str) or not rel or "\\" in rel or "\x00" in rel:
        return False
    parts = rel.split("/")
    return not rel.startswith("/") and ".." not in parts and "" not in parts and "." not in parts


def manifest_files(raw: Mapping[str, Any]) -> dict[str, str]:
    """Relative path -> lower-case hex sha256 of every file the manifest's ``files`` lists.

    Raises:
        ArtifactError: ``files`` missing or malformed, a path leaving the folder, a bad digest.
    """
    files = raw.get("files")
    items: list[tuple[Any, Any]]
    if isinstance(files, Mapping):
        items = [(k, v.get("sha256") if isinstance(v, Mapping) else v) for k, v in files.items()]
    elif isinstance(files, list):
        items = []
        for f in files:
            if not isinstance(f, Mapping):
                raise ArtifactError.for_field("manifest.files", f, "entries must be objects")
            items.append((f.get("path", f.get("name")), f.get("sha256")))
    else:
        raise ArtifactError.for_field("manifest.files", files, "must list the artifact's files")
    out: dict[str, str] = {}
    for rel, sha in items:
        if not _inside(rel):
            raise ArtifactError.for_field("manifest.files", rel, "must be a relative path inside")
        ok = isinstance(sha, str) and len(sha) == 64
        if not ok or any(c not in "0123456789abcdefABCDEF" for c in sha):
            raise ArtifactError.for_field(f"manifest.files[{rel}]", sha, "needs a hex sha256")
        if rel == MANIFEST_FILE:
            raise ArtifactError.for_field("manifest.files", rel, "cannot list itself")
        out[rel] = sha.lower()
    return out


@dataclass(frozen=True, slots=True)
class Manifest(Mapping[str, Any]):
    """A validated ``manifest.json``: typed required fields plus the whole object, read-only.

    Attributes:
        format_version: the manifest format (2).
        kind: artifact kind (names its loader in :mod:`eabench.surrogates.registry`).
        name, version: artifact name and version.
        space_name: search space of the configs.
        files: relative path -> sha256 of every listed file.
        sha256: sha256 of the ``manifest.json`` bytes (the artifact's identity).
        raw: the JSON object as read.
    """

    format_version: int
    kind: str
    name: str
    version: str
    space_name: str
    files: Mapping[str, str]
    sha256: str
    raw: Mapping[str, Any]

    def __getitem__(self, key: str) -> Any:
        return self.raw[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.raw)

    def __len__(self) -> int:
        return len(self.raw)

    def path_of(self, folder: Path, field_name: str, default: str) -> Path:
        """The file named by the string field ``field_name`` (or ``default``), checked to be
        one of the listed (hence verified) files."""
        rel = self.raw.get(field_name, default)
        if not isinstance(rel, str) or rel not in self.files:
            raise ArtifactError.for_field(
                field_name, rel, "must name a file the manifest lists (and so verifies)"
            )
        return Path(folder) / rel

    @classmethod
    def from_dict(cls, raw: Any, sha256: str = "") -> Manifest:
        """Validate a decoded manifest object.

        Raises:
            ArtifactError: not an object, old or unknown format, a required field missing or
                of the wrong type, malformed ``files``.
        """
        if not isinstance(raw, Mapping):
            raise ArtifactError.for_field("manifest.json", type(raw).__name__, "must be an object")
        fv = raw.get("format_version")
        if fv != FORMAT_VERSION or isinstance(fv, bool):
            rule = f"must be {FORMAT_VERSION}"
            if fv == 1:
                rule += (
                    " (format 1 artifacts predate eabench 0.1's generic manifest: retrain with "
                    "`eabench train RECIPE.toml` or download a current revision)"
                )
            raise ArtifactError.for_field("format_version", fv, rule)
        fields: dict[str, str] = {}
        for key in ("kind", "name", "version", "space_name"):
            value = raw.get(key)
            if not isinstance(value, str) or not value:
                raise ArtifactError.for_field(f"manifest.{key}", value, "must be a non-empty str")
            fields[key] = value
        return cls(
            format_version=FORMAT_VERSION,
            kind=fields["kind"],
            name=fields["name"],
            version=fields["version"],
            space_name=fields["space_name"],
            files=MappingProxyType(manifest_files(raw)),
            sha256=sha256,
            raw=MappingProxyType(dict(raw)),
        )


def read_manifest(folder: str | Path) -> Manifest:
    """Read and validate ``folder/manifest.json`` (files are not hashed: see
    :func:`verify_folder`).

    Raises:
        ArtifactError: missing, unreadable, not JSON, or invalid (see :meth:`Manifest.from_dict`).
    """
    path = Path(folder) / MANIFEST_FILE
    try:
        if not path.is_file():
            raise ArtifactError.for_field("artifact", str(folder), "has no manifest.json")
        if path.stat().st_size > _MAX_MANIFEST_BYTES:
            raise ArtifactError.for_field("manifest.json", str(path), "is larger than 16 MiB")
        raw = path.read_bytes()
    except OSError as exc:
        raise ArtifactError.for_field("manifest.json", str(path), f"unreadable ({exc})") from exc
    try:
        obj = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, RecursionError, ValueError) as exc:
        raise ArtifactError.for_field("manifest.json", str(path), f"is not JSON ({exc})") from exc
    return Manifest.from_dict(obj, hashlib.sha256(raw).hexdigest())


def verify_folder(folder: str | Path, manifest: Manifest) -> None:
    """Check every listed file against its sha256.

    Raises:
        ArtifactError: a listed file is missing or is not a regular file.
        ChecksumMismatchError: a file's sha256 differs (names file, expected and actual).
    """
    root = Path(folder)
    for rel, expected in manifest.files.items():
        path = root / rel
        if not path.is_file():
            raise ArtifactError.for_field("artifact file", str(path), "is listed but missing")
        actual = sha256_file(path)
        if actual != expected:
            raise ChecksumMismatchError.for_field(
                f"sha256 of {rel}", actual, f"must equal {expected} from manifest.json"
            )


def write_manifest(directory: Path, fields: Mapping[str, Any]) -> Manifest:
    """Add the sha256 of every other regular file in ``directory`` as ``files`` and write
    ``manifest.json`` (sorted keys, deterministic); return the validated manifest."""
    directory = Path(directory)
    files = sorted(p for p in directory.iterdir() if p.is_file() and p.name != MANIFEST_FILE)
    body = {**fields, "files": {p.name: sha256_file(p) for p in files}}
    Manifest.from_dict(body)  # refuse to write what could not be read back
    raw = (json.dumps(body, indent=1, sort_keys=True) + "\n").encode()
    (directory / MANIFEST_FILE).write_bytes(raw)
    return Manifest.from_dict(body, hashlib.sha256(raw).hexdigest())
