"""Raw logs to `query`, for the RegNet x HPO space, through the real commands.

(a) ``eabench collect`` trains the smoke sweep on real CIFAR-10 images on CPU (fake meters,
    flagged SIMULATED), ``eabench ingest`` reads the logs, ``eabench train`` fits a curve-bcs
    artifact, ``eabench.load(folder)`` answers queries;
(b) a SIMULATED sweep with a known truth (tests/simulated_regnet.py, never shipped): the learned
    curves, times and energies are checked against the generator's truth on held-out configs;
(c) the same from EA-HAS-Bench/pycls-format logs through the pycls adapter.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import eabench
from eabench.cli import main
from eabench.errors import FidelityError
from eabench.logs.build import config_id_split
from eabench.results import FIDELITY_EXTRAPOLATED, SIMULATED
from tests.simulated_regnet import write_pycls_sweep, write_runlog_sweep

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

pytest.importorskip("torch")
pytest.importorskip("xgboost")

FAST = """
[bcs]
members = 2
[energy]
members = 2
[xgb]
n_estimators = 120
[mlp]
max_epochs = 120
patience = 15
"""


def _recipe(tmp: Path, dataset: Path, extra: str = FAST, **keys: Any) -> Path:
    body = {
        "name": "regnet-test",
        "version": "0.0.1",
        "space": "regnet-hpo",
        "seed": 0,
        "dataset": str(dataset),
        "output": str(tmp / "artifact"),
        "card": str(tmp / "card.md"),
        **keys,
    }
    lines = [f"{k} = {json.dumps(v)}" for k, v in body.items() if not isinstance(v, dict)]
    lines += [
        f"{k} = {{ {', '.join(f'{a} = {json.dumps(b)}' for a, b in v.items())} }}"
        for k, v in body.items()
        if isinstance(v, dict)
    ]
    path = tmp / "recipe.toml"
    path.write_text("\n".join(lines) + "\n" + extra)
    return path


def _flat(tree: Any, prefix: str = "") -> dict[str, float]:
    """Numeric leaves of nested dicts, keyed by path."""
    if isinstance(tree, dict):
        out: dict[str, float] = {}
        for k, v in tree.items():
            out.update(_flat(v, f"{prefix}{k}."))
        return out
    return {prefix: float(tree)}


def _check_answers(bench: eabench.Benchmark, configs: list[Any], epochs: int) -> None:
    """Batch equals a loop; cumulative time and energy non-decreasing; curves of length t."""
    batch = bench.query_batch(configs, epochs)
    for i, cfg in enumerate(configs):
        res = bench.query(cfg, epochs)
        assert res.curve.epochs.tolist() == list(range(1, epochs + 1))
        assert np.all(np.diff(res.curve.energy_j) >= 0)
        assert np.all(np.diff(res.curve.train_time_s) > 0)
        assert 0.0 <= res.val_accuracy <= 1.0
        assert batch.val_accuracy[i] == res.val_accuracy
        assert batch.energy_j[i] == res.energy_j
        assert batch.train_time_s[i] == res.train_time_s
        assert batch.flags[i] == res.flags
        for m, est in res.energy_by_meter.items():
            assert batch.energy_j_by_meter[m][i] == est.energy_j


def test_simulated_sweep_learned_against_the_truth(tmp_path: Path) -> None:
    truths = write_runlog_sweep(tmp_path / "logs", 200, seed=3, workers=2)
    assert main(["ingest", str(tmp_path / "logs"), "--out", str(tmp_path / "d.h5")]) == 0
    recipe = _recipe(tmp_path, tmp_path / "d.h5")
    assert main(["train", str(recipe)]) == 0
    bench = eabench.load(tmp_path / "artifact")
    assert bench.provenance.source == "path"
    assert bench.fidelity.semantics == "prefix"
    assert bench.primary_meter == "gpu.nvml_counter"
    configs = [c for c, _ in truths]
    ids = [c.config_id() for c in configs]
    held = [i for i, part in enumerate(config_id_split(ids)) if part == 2]
    assert len(held) >= 10
    errs, final_true, final_pred, e_rel, t_rel = [], [], [], [], []
    for i in held:
        cfg, tr = truths[i]
        res = bench.query(cfg, cfg.max_epochs)
        assert SIMULATED in res.flags  # simulated training data: every answer says so
        errs.append(np.mean(np.abs(res.curve.val_accuracy - tr.val_accuracy)))
        final_true.append(tr.val_accuracy[-1])
        final_pred.append(res.val_accuracy)
        per_epoch = res.energy_by_meter["gpu.nvml_counter"].energy_j / cfg.max_epochs
        e_rel.append(abs(per_epoch / tr.energy_j["gpu.nvml_counter"].mean() - 1))
        t_rel.append(abs(res.train_time_s / tr.cumulative_train_time_s()[-1] - 1))
    # the surrogate beats predicting the mean training curve of the same length, by far
    mean_curve = {
        t: np.mean([tr.val_accuracy for c, tr in truths if c.max_epochs == t], 0)
        for t in (50, 100, 200)
    }
    base = [
        np.mean(np.abs(mean_curve[truths[i][0].max_epochs] - truths[i][1].val_accuracy))
        for i in held
    ]
    assert np.mean(errs) < 0.6 * np.mean(base), (np.mean(errs), np.mean(base))
    from scipy.stats import kendalltau

    assert kendalltau(final_true, final_pred)[0] > 0.6
    assert np.median(e_rel) < 0.1, np.median(e_rel)
    assert np.median(t_rel) < 0.1, np.median(t_rel)
    _check_answers(bench, configs[:5], 40)
    with pytest.raises(FidelityError, match="prefixes"):
        bench.query(configs[held[0]], configs[held[0]].max_epochs + 1)
    # held-out metrics are in the manifest, next to the two baselines, and evaluate recomputes
    manifest = json.loads((tmp_path / "artifact" / "manifest.json").read_text())
    m = manifest["metrics"]
    assert {"bcs", "per_epoch_gbdt", "svd_gbdt"} <= set(m["val_curve_same_rows_as_baselines"])
    assert manifest["simulated"] is True
    from eabench.training.recipes import evaluate

    again = evaluate(tmp_path / "artifact", tmp_path / "d.h5")
    for key in ("val_curve", "test_curve", "time_per_epoch_s"):
        assert _flat(again[key]) == pytest.approx(_flat(m[key]), rel=1e-9), key
    counter = "energy_per_epoch_j.gpu.nvml_counter"
    assert _flat(again[counter]["shipped_model"]) == pytest.approx(
        _flat(m[counter]["shipped_model"]), rel=1e-9
    )
    card = (tmp_path / "card.md").read_text()
    assert "SIMULATED" in card
    assert "per_epoch_gbdt" in card


def test_collect_ingest_train_load_query_on_cpu(repo_root: Path, tmp_path: Path) -> None:
    raw = tomllib.loads((repo_root / "data_collection/sweeps/smoke_regnet_hpo.toml").read_text())
    fixture = repo_root / "tests/fixtures/cifar10/cifar10_tiny_jpeg.npz"
    spec = (
        (repo_root / "data_collection/sweeps/smoke_regnet_hpo.toml")
        .read_text()
        .replace(raw["sweep"]["output_dir"], str(tmp_path / "sweep"))
        .replace(raw["data"]["source"], str(fixture))
        .replace("epoch_limit = 2 ", "epoch_limit = 3 ")  # a Bezier curve needs 3 epochs
    )
    (tmp_path / "smoke.toml").write_text(spec)
    assert main(["collect", str(tmp_path / "smoke.toml")]) == 0
    logs = tmp_path / "sweep" / "logs"
    assert len(list(logs.glob("*.runlog.jsonl"))) == 2
    assert main(["ingest", str(logs), "--out", str(tmp_path / "d.h5"), "--strict"]) == 0
    # the smoke configs lie outside the CIFAR-10 sweep window and 2 runs cannot be split
    recipe = _recipe(
        tmp_path, tmp_path / "d.h5", split="all", space_options={"constraints": "none"}
    )
    assert main(["train", str(recipe)]) == 0
    bench = eabench.load(str(tmp_path / "artifact"))
    cfg = raw["sampler"]["configs"][0]
    res = bench.query(cfg, 3)
    assert {SIMULATED} <= res.flags  # fake meters
    assert set(res.energy_by_meter) == {"gpu.nvml_counter", "gpu.nvml_power"}
    assert res.curve.val_accuracy.shape == (3,)
    late = bench.query(cfg, 10)  # beyond the 3 observed epochs of a 50-epoch run
    assert FIDELITY_EXTRAPOLATED in late.flags
    assert late.val_accuracy == res.val_accuracy  # held at the last observed epoch
    assert late.energy_j > res.energy_j
    _check_answers(bench, raw["sampler"]["configs"], 3)


def test_pycls_logs_to_query(tmp_path: Path) -> None:
    truths = write_pycls_sweep(tmp_path / "pycls", 120, seed=1)
    assert main(["ingest", str(tmp_path / "pycls"), "--out", str(tmp_path / "d.h5")]) == 0
    assert main(["train", str(_recipe(tmp_path, tmp_path / "d.h5"))]) == 0
    bench = eabench.load(tmp_path / "artifact")
    cfg, tr = truths[0]
    res = bench.query(cfg.to_dict(), cfg.max_epochs)
    assert "VAL_ACCURACY_IS_TEST" in res.flags  # pycls logs have test accuracy only
    assert res.test_accuracy is None
    assert bench.primary_meter == "gpu.smi_poll"
    assert abs(res.val_accuracy - tr.test_accuracy[-1]) < 0.1
    _check_answers(bench, [c for c, _ in truths[:4]], 30)
