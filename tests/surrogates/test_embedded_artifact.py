"""The embedded nb101-7v artifact: numpy-only query path, checksums, held-out sanity."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
from scipy import stats

REPO = Path(__file__).resolve().parents[2]
ART = REPO / "eabench" / "_artifacts" / "nb101-7v"

CODE = f"""
import sys
import numpy as np
from eabench.surrogates.registry import load_artifact
from eabench.spaces.nb101 import NB101Space
m = load_artifact({str(ART)!r})
cfg = {{"matrix": [[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]],
        "ops": ["input", "conv3x3-bn-relu", "maxpool3x3", "output"]}}
p = m.predict(NB101Space().encode([cfg]), np.array([4.0, 108.0]))
assert p.val_accuracy.shape == (1, 2)
print(sorted(k for k in ("torch", "xgboost", "sklearn") if k in sys.modules))
"""


def test_query_path_imports_no_training_framework():
    out = subprocess.run(
        [sys.executable, "-c", CODE], capture_output=True, text=True, check=True, cwd=REPO
    )
    assert out.stdout.strip() == "[]"


def test_embedded_artifact_on_held_out_energy_rows():
    from eabench.logs import open_dataset
    from eabench.spaces.nb101 import NB101Space
    from eabench.surrogates.registry import load_artifact

    model = load_artifact(ART)
    assert model.manifest["format_version"] == 2
    assert set(model.manifest["files"]) == {"weights.npz", "table.npz", "space_outputs.npz"}
    t = open_dataset(REPO / "data" / "eabench-data.h5").table("nb101-7v", "cifar10", "ecnas_7v")
    test = t.split_indices("ecnas_seed42")["test"]
    feats = NB101Space().encode([t.configs.to_dict(int(i)) for i in test])
    pred = model.predict(feats, np.array([4.0]))
    wh = pred.energy_j["carbontracker"][:, 0] * 1.59 / 3600.0
    true = t.energy.energy_j[test, 0, 0] / 3600.0
    tau = stats.kendalltau(wh, true)[0]
    recorded = model.manifest["metrics"]["energy_4ep_wh_seed42_test"]
    np.testing.assert_allclose(tau, recorded["kendall_tau"], atol=1e-9)
    np.testing.assert_allclose(np.mean(np.abs(wh - true)), recorded["mae"], rtol=1e-6)
