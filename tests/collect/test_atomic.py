"""Issue 16: one atomic-write helper with unique temp names; concurrent writers never race.

Before, the sweep plan and summary went through one fixed ``<name>.tmp``: two collectors on one
output dir raced (FileNotFoundError, torn plans). Now every write has its own temp file.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

from eabench._atomic import atomic_path, atomic_write_bytes, atomic_write_text, sha256_file
from eabench.manifest import sha256_file as manifest_sha256


def test_concurrent_writers_of_one_path_never_fail_or_tear(tmp_path: Path) -> None:
    target = tmp_path / "plan.json"
    errors: list[BaseException] = []
    docs = [json.dumps({"writer": w, "pad": "x" * (1000 * w)}) for w in range(8)]

    def write(w: int) -> None:
        try:
            for _ in range(150):
                atomic_write_text(target, docs[w])
        except BaseException as exc:  # pragma: no cover - the failure being tested for
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    seen = set()
    while any(t.is_alive() for t in threads):
        if target.exists():
            seen.add(json.loads(target.read_text())["writer"])  # always one whole version
    for t in threads:
        t.join()
    assert errors == []
    assert target.read_text() in docs
    assert [p.name for p in tmp_path.iterdir()] == ["plan.json"]  # no temp file left behind
    assert seen


def test_failed_write_leaves_the_old_file_and_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    atomic_write_bytes(target, b"old")
    try:
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("crash")
    except RuntimeError:
        pass
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def test_mode_is_kept_and_new_files_follow_the_umask(tmp_path: Path) -> None:
    target = tmp_path / "a.txt"
    atomic_write_text(target, "x")
    umask = os.umask(0o022)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask
    target.chmod(0o640)
    atomic_write_text(target, "y")
    assert target.stat().st_mode & 0o777 == 0o640


def test_one_sha256_helper(tmp_path: Path) -> None:
    p = tmp_path / "f"
    atomic_write_bytes(p, b"abc")
    assert sha256_file is manifest_sha256
    assert sha256_file(p) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
