"""Small end-to-end run of the nb101-7v pipeline on the repo's real ecnas_7v rows (tiny models)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from eabench.errors import ArtifactError, ChecksumMismatchError, FidelityError
from eabench.surrogates.base import Surrogate

pytest.importorskip("xgboost")
pytest.importorskip("torch")

REPO = Path(__file__).resolve().parents[2]
DATASET = REPO / "data" / "eabench-data.h5"
TINY = {
    "name": "nb101-7v-test",
    "version": "0.0.0",
    "seed": 0,
    "heldout_prefix": "00",
    "energy": {
        "members": 2,
        "reproduce_ecnas_mlp": False,
        "xgb": {"n_estimators": 8, "max_depth": 3},
    },
    "bcs": {"xgb": {"n_estimators": 8, "max_depth": 3}, "sd_xgb": {"n_estimators": 8}},
    "time": {"xgb": {"n_estimators": 8, "max_depth": 3}},
    "test108": {"xgb": {"n_estimators": 8, "max_depth": 3}},
}


def _small_data():
    from eabench.logs import open_dataset
    from eabench.spaces.nb101 import canonical_padded, encode_padded
    from eabench.training.nb101_data import Nb101Data, energy_extrapolation

    t = open_dataset(DATASET).table("nb101-7v", "cifar10", "ecnas_7v")
    ids = np.asarray(t.config_ids).astype(str)
    order = np.argsort(ids)
    mats, labs = [], []
    for m, o, v in zip(t.configs.matrix, t.configs.ops, t.configs.n_vertices, strict=True):
        v = int(v)
        mats.append(np.asarray(m[:v, :v]))
        labs.append([int(x) for x in o[:v]])
    cm, cl = canonical_padded(mats, labs)
    enc = encode_padded(cm, cl)
    rank = np.empty_like(order)
    rank[order] = np.arange(ids.size)
    return Nb101Data(
        hashes=ids[order],
        encoded=enc[order],
        test_acc_108=t.metric("test_accuracy").values[order, -1],
        mb_index=np.arange(ids.size),
        val_acc=t.metric("val_accuracy").values[order],
        time_108_s=t.metric("train_time_s").values[order, -1],
        en_index=rank,
        energy_4ep_wh=t.energy.energy_j[:, 0, 0] / 3600.0,
        split={k: np.asarray(v) for k, v in t.split_indices("ecnas_seed42").items()},
        energy_extrapolation=energy_extrapolation(DATASET),
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    from eabench.training.nb101_fit import train_nb101_7v
    from eabench.training.nb101_publish import write_artifact

    data = _small_data()
    out = tmp_path_factory.mktemp("art")
    result = train_nb101_7v(data, json.loads(json.dumps(TINY)))
    write_artifact(out / "a", result, TINY)
    again = train_nb101_7v(data, json.loads(json.dumps(TINY)))
    write_artifact(out / "b", again, TINY)
    return data, out, result


def test_training_is_deterministic(built):
    _data, out, _ = built
    for name in ("weights.npz", "table.npz"):
        assert (out / "a" / name).read_bytes() == (out / "b" / name).read_bytes()


def test_loaded_artifact_is_a_surrogate_with_monotone_cumulative_outputs(built):
    from eabench.surrogates.registry import load_artifact

    data, out, result = built
    model = load_artifact(out / "a")
    assert isinstance(model, Surrogate)
    assert model.space_name == "nb101-7v"
    ep = np.array([4.0, 6.0, 12.0, 20.0, 36.0, 108.0])
    pred = model.predict(data.encoded[:50], ep)
    for arr in (pred.train_time_s, *pred.energy_j.values()):
        assert arr.shape == (50, 6)
        assert np.all(arr > 0)
        assert np.all(np.diff(arr, axis=1) >= 0)
    assert np.all((pred.val_accuracy >= 0) & (pred.val_accuracy <= 1))
    assert pred.clipped is not None
    assert pred.clipped.shape == (50,)
    # numpy energy head at 4 epochs equals the training-side numbers (J -> Wh, PUE put back)
    wh = pred.energy_j[model.meters[0]][:, 0] * 1.59 / 3600.0
    assert np.all(np.isfinite(wh))
    with pytest.raises(FidelityError):
        model.predict(data.encoded[:2], np.array([2.0]))
    assert result.metrics["split"]["energy_test_rows"] == 862


def test_tampered_file_is_refused(built, tmp_path):
    from eabench.surrogates.registry import load_artifact

    _data, out, _ = built
    copy = tmp_path / "c"
    shutil.copytree(out / "a", copy)
    raw = bytearray((copy / "weights.npz").read_bytes())
    raw[-40] ^= 0xFF
    (copy / "weights.npz").write_bytes(bytes(raw))
    with pytest.raises(ChecksumMismatchError):
        load_artifact(copy)
    (copy / "manifest.json").unlink()
    with pytest.raises(ArtifactError):
        load_artifact(copy)


def test_numpy_inference_equals_xgboost_within_1e6():
    import xgboost as xgb

    from eabench.surrogates.nb101_features import cell_features
    from eabench.surrogates.trees import arrays_from_xgboost_json

    data = _small_data()
    x = cell_features(data.encoded).astype(np.float32)
    y = np.log(data.energy_4ep_wh[np.argsort(data.en_index)])
    model = xgb.XGBRegressor(n_estimators=50, max_depth=4, n_jobs=1).fit(x, y)
    trees = arrays_from_xgboost_json(model.get_booster().save_raw("json"))
    np.testing.assert_allclose(trees.predict(x), model.predict(x), rtol=1e-6)


def test_mlp_head_numpy_equals_torch_within_1e6():
    import torch

    from eabench.surrogates.heads import test_head_from_arrays
    from eabench.training.nb101_fit import fit_scaled_mlp

    rng = np.random.default_rng(0)
    x = rng.normal(size=(600, 7))
    y = np.tanh(x[:, 0]) + 0.1 * x[:, 1]
    cfg = {"hidden": [16, 8], "epochs": 3, "batch_size": 64, "lr": 0.01}
    arrays, net = fit_scaled_mlp(x, y, 0, cfg)
    head = test_head_from_arrays(arrays)
    xs = rng.normal(size=(50, 7))
    with torch.no_grad():
        z = torch.tensor((xs - arrays["test108.x_mean"]) / arrays["test108.x_std"])
        ref = (
            net(z)[:, 0].numpy() * arrays["test108.y_mean_std"][1] + arrays["test108.y_mean_std"][0]
        )
    np.testing.assert_allclose(head.predict(xs), ref, rtol=1e-6)
    again, _ = fit_scaled_mlp(x, y, 0, cfg)
    for k in arrays:
        np.testing.assert_array_equal(arrays[k], again[k])


def test_card_keeps_the_hand_written_part(built, tmp_path):
    from eabench.surrogates.registry import load_artifact
    from eabench.training.nb101_publish import KEEP_MARKER, write_card

    _data, out, _ = built
    manifest = dict(load_artifact(out / "a").manifest)
    card = tmp_path / "card.md"
    write_card(card, manifest, "a")
    assert "energy_4ep_wh_seed42_test" in card.read_text()
    card.write_text(card.read_text() + f"\n{KEEP_MARKER}\n\n## Speed\n\n40 µs\n")
    write_card(card, manifest, "a")
    text = card.read_text()
    assert text.count(KEEP_MARKER) == 1
    assert text.endswith(f"{KEEP_MARKER}\n\n## Speed\n\n40 µs\n")
    assert text.index("energy_4ep_wh_seed42_test") < text.index(KEEP_MARKER)


def test_val_accuracy_sd_is_positive_and_consistent_between_budget_and_other_epochs(built):
    from eabench.surrogates.registry import load_artifact

    data, out, result = built
    model = load_artifact(out / "a")
    on = model.predict(data.encoded[:40], np.array([4.0, 12.0, 36.0, 108.0]))
    mixed = model.predict(data.encoded[:40], np.array([4.0, 7.0, 12.0, 108.0]))
    assert on.val_accuracy_std is not None
    assert mixed.val_accuracy_std is not None
    assert on.val_accuracy_std.shape == (40, 4)
    assert np.all(on.val_accuracy_std > 0)
    np.testing.assert_array_equal(
        mixed.val_accuracy_std[:, [0, 2, 3]], on.val_accuracy_std[:, [0, 1, 3]]
    )
    lo = np.minimum(on.val_accuracy_std[:, 0], on.val_accuracy_std[:, 1])
    hi = np.maximum(on.val_accuracy_std[:, 0], on.val_accuracy_std[:, 1])
    assert np.all(
        (mixed.val_accuracy_std[:, 1] >= lo - 1e-12) & (mixed.val_accuracy_std[:, 1] <= hi + 1e-12)
    )
    cal = result.metrics["val_acc_std_calibration_heldout_mb"]
    assert set(cal) == {
        f"budget_{b}_{k}"
        for b in (4, 12, 36, 108)
        for k in (
            "within_1sd",
            "within_2sd",
            "spearman_sd_vs_abs_error",
            "mean_sd",
            "mean_abs_error",
        )
    }
