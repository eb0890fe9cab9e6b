"""The materialised 7V head outputs (``space_outputs.npz``) equal the model path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from eabench.errors import ArtifactError
from eabench.registry import embedded_dir, get_spec
from eabench.spaces.nb101 import NB101Space
from eabench.surrogates.artifact import HEAD_COLUMNS
from eabench.surrogates.registry import load_artifact
from eabench.surrogates.space_outputs import read_space_outputs
from eabench.training.nb101_export import write_space_outputs

_DIR = embedded_dir(get_spec("nb101-7v"))
pytestmark = pytest.mark.skipif(
    _DIR is None or not (_DIR / "space_outputs.npz").is_file(),
    reason="the embedded nb101-7v artifact with space_outputs.npz is not in this checkout",
)

# float32 storage: relative rounding <= 6e-8 per stored number; the curve assembly adds a few
# float64 operations (and, between budgets, a Bezier root solve to 1e-9 of the axis span).
ACC_ATOL = 1e-6
RTOL = 1e-6


@pytest.fixture(scope="module")
def surrogate() -> Any:
    assert _DIR is not None
    return load_artifact(_DIR)


@pytest.fixture(scope="module")
def space() -> NB101Space:
    return NB101Space()


@pytest.mark.parametrize(
    "epochs", [[4.0, 12.0, 36.0, 108.0], [108.0], [4.0, 12.0, 20.0], [4.0, 12.0, 36.0, 77.0]]
)
def test_materialised_equals_model_path(surrogate: Any, space: NB101Space, epochs: Any) -> None:
    assert surrogate.has_space_outputs
    idx = np.random.default_rng(7).choice(len(space), size=300, replace=False)
    ep = np.asarray(epochs)
    model = surrogate.predict(space.encode_indices(idx), ep)
    table = surrogate.predict_indices(idx, ep)
    np.testing.assert_allclose(table.val_accuracy, model.val_accuracy, rtol=0, atol=ACC_ATOL)
    np.testing.assert_allclose(table.test_accuracy, model.test_accuracy, rtol=0, atol=ACC_ATOL)
    np.testing.assert_allclose(table.train_time_s, model.train_time_s, rtol=RTOL)
    m = surrogate.meters[0]
    np.testing.assert_allclose(table.energy_j[m], model.energy_j[m], rtol=RTOL)
    np.testing.assert_allclose(table.energy_j_std[m], model.energy_j_std[m], rtol=RTOL)
    np.testing.assert_array_equal(table.clipped, model.clipped)
    # float16-precision sds are exact in float32: on budgets the same numbers, between budgets
    # the same interpolation of them
    np.testing.assert_allclose(table.val_accuracy_std, model.val_accuracy_std, rtol=RTOL)


def test_rows_follow_the_space_order(surrogate: Any, space: NB101Space) -> None:
    cells = [space.sample(s) for s in range(20)]
    rows = np.array([space.index_of(c) for c in cells])
    a = surrogate.predict_indices(rows, np.array([108.0]))
    b = surrogate.predict(space.encode(cells), np.array([108.0]))
    np.testing.assert_allclose(a.val_accuracy, b.val_accuracy, rtol=0, atol=ACC_ATOL)


def test_table_shape_and_space_check(space: NB101Space, tmp_path: Path) -> None:
    assert _DIR is not None
    table = read_space_outputs(_DIR / "space_outputs.npz", 15, space.data.hashes_sha256)
    assert table.shape == (len(space), len(HEAD_COLUMNS))
    assert table.dtype == np.float32
    assert np.all(np.isfinite(table))
    assert not table.flags.writeable
    write_space_outputs(tmp_path / "o.npz", table[:5], "0" * 64)
    np.testing.assert_array_equal(read_space_outputs(tmp_path / "o.npz", 15), table[:5])  # lossless
    with pytest.raises(ArtifactError, match="hashes_sha256"):
        read_space_outputs(tmp_path / "o.npz", 15, space.data.hashes_sha256)
    np.savez(tmp_path / "bad.npz", outputs=np.zeros((3, 2)), hashes_sha256=np.array("x"))
    with pytest.raises(ArtifactError, match="unreadable"):
        read_space_outputs(tmp_path / "bad.npz", 15)
    bad = np.zeros((4, 2, 3), np.uint8)
    np.savez(tmp_path / "bad.npz", outputs_f32_byteplanes=bad, hashes_sha256=np.array("x"))
    with pytest.raises(ArtifactError, match="byte planes"):
        read_space_outputs(tmp_path / "bad.npz", 15)


def test_artifact_without_table_refuses_indices(tmp_path: Path) -> None:
    import json
    import shutil

    from eabench.manifest import write_manifest

    assert _DIR is not None
    for name in ("weights.npz", "table.npz"):
        shutil.copy(_DIR / name, tmp_path / name)
    manifest = json.loads((_DIR / "manifest.json").read_text())
    manifest.pop("space_outputs", None)
    write_manifest(tmp_path, manifest)
    bare = load_artifact(tmp_path)
    assert not bare.has_space_outputs
    with pytest.raises(ArtifactError, match="space_outputs"):
        bare.predict_indices(np.array([0]), np.array([108.0]))


def test_export_step_reproduces_the_shipped_rows(tmp_path: Path) -> None:
    import json
    import shutil

    from eabench.manifest import write_manifest
    from eabench.spaces.nb101.cache import load_space
    from eabench.training.nb101_export import add_space_outputs

    assert _DIR is not None
    full = load_space()
    keep = np.arange(0, len(full), 2000)
    small = tmp_path / "small.npz"
    np.savez_compressed(
        small,
        format_version=np.int64(1),
        adjacency_bits=full.adjacency_bits[keep],
        labels=full.labels[keep],
        hash_hi=full.hash_hi[keep],
        hash_lo=full.hash_lo[keep],
        hashes_sha256=np.array("subset-for-tests"),
    )
    art = tmp_path / "art"
    art.mkdir()
    for name in ("weights.npz", "table.npz"):
        shutil.copy(_DIR / name, art / name)
    manifest = json.loads((_DIR / "manifest.json").read_text())
    manifest.pop("space_outputs")
    write_manifest(art, manifest)
    space = NB101Space(cache_path=small)
    out = add_space_outputs(art, space)
    assert "space_outputs.npz" in out["files"]
    assert out["space_outputs"]["columns"] == list(HEAD_COLUMNS)
    assert out["space_outputs"]["space_hashes_sha256"] == "subset-for-tests"
    model = load_artifact(art)
    rows = np.arange(len(space))
    ep = np.array([4.0, 12.0, 36.0, 108.0])
    a = model.predict_indices(rows, ep)
    b = model.predict(space.encode_indices(rows), ep)
    np.testing.assert_allclose(a.val_accuracy, b.val_accuracy, rtol=0, atol=ACC_ATOL)
    shipped = read_space_outputs(_DIR / "space_outputs.npz", 15)
    np.testing.assert_allclose(
        read_space_outputs(art / "space_outputs.npz", 15), shipped[keep], rtol=RTOL
    )
