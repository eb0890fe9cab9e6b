"""eabench.manifest: one validated schema; every malformed manifest is an ArtifactError."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import eabench
from eabench.errors import ArtifactError, ChecksumMismatchError
from eabench.manifest import Manifest, read_manifest, verify_folder, write_manifest
from eabench.registry import embedded_dir, get_spec
from eabench.surrogates.registry import load_artifact

SHA = "0" * 64


def _base(**extra: Any) -> dict[str, Any]:
    return {
        "format_version": 2,
        "kind": "curve-bcs",
        "name": "x",
        "version": "1",
        "space_name": "regnet-hpo",
        "files": {"weights.npz": SHA},
        **extra,
    }


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"format_version": 1}, "format_version"),
        ({"format_version": True}, "format_version"),
        ({"kind": ""}, "manifest.kind"),
        ({"name": 3}, "manifest.name"),
        ({"space_name": None}, "manifest.space_name"),
        ({"files": "weights.npz"}, "manifest.files"),
        ({"files": {"../outside.npz": SHA}}, "manifest.files"),
        ({"files": {"/abs.npz": SHA}}, "manifest.files"),
        ({"files": {"w.npz": "xyz"}}, "manifest.files[w.npz]"),
        ({"files": {"manifest.json": SHA}}, "manifest.files"),
        ({"files": [3]}, "manifest.files"),
    ],
)
def test_invalid_manifests_name_the_field(change: dict[str, Any], field: str) -> None:
    with pytest.raises(ArtifactError) as info:
        Manifest.from_dict(_base(**change))
    assert info.value.field == field


def test_format_1_is_refused_with_what_to_do() -> None:
    with pytest.raises(ArtifactError, match="retrain"):
        Manifest.from_dict(_base(format_version=1))


def test_list_form_of_files_and_mapping_access() -> None:
    m = Manifest.from_dict(_base(files=[{"path": "weights.npz", "sha256": SHA.upper()}], extra=1))
    assert dict(m.files) == {"weights.npz": SHA}
    assert m["extra"] == 1
    assert m.get("missing") is None
    assert "kind" in m


@pytest.mark.parametrize("raw", [b"{not json", b"\xff\xfe", b"[1, 2]", b"[" * 100_000])
def test_unreadable_manifest_files_are_artifact_errors(tmp_path: Path, raw: bytes) -> None:
    (tmp_path / "manifest.json").write_bytes(raw)
    with pytest.raises(ArtifactError):
        read_manifest(tmp_path)


def test_written_manifest_verifies_and_detects_tampering(tmp_path: Path) -> None:
    (tmp_path / "weights.npz").write_bytes(b"abc")
    body = _base()
    del body["files"]
    m = write_manifest(tmp_path, body)
    assert read_manifest(tmp_path).sha256 == m.sha256
    verify_folder(tmp_path, m)
    (tmp_path / "weights.npz").write_bytes(b"abd")
    with pytest.raises(ChecksumMismatchError):
        verify_folder(tmp_path, m)
    with pytest.raises(ArtifactError, match="must name a file the manifest lists"):
        m.path_of(tmp_path, "table_file", "table.npz")


def test_unknown_kind_and_table_outside_the_listed_files(tmp_path: Path) -> None:
    src = embedded_dir(get_spec("nb101-7v"))
    assert src is not None
    manifest = json.loads((src / "manifest.json").read_text())
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "manifest.json").write_text(json.dumps({**manifest, "kind": "nope"}))
    with pytest.raises(ArtifactError, match=r"manifest\.kind"):
        load_artifact(tmp_path / "a", verify=False)
    # a table the manifest does not list (and so does not verify) is never served
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "manifest.json").write_text(
        json.dumps({**manifest, "table_file": "../../elsewhere/table.npz"})
    )
    for name in manifest["files"]:
        (tmp_path / "b" / name).symlink_to(src / name)
    with pytest.raises(ArtifactError, match="table_file"):
        eabench.load(tmp_path / "b", kind="table")
