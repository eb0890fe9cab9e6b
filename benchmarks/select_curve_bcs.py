"""Choose the curve-bcs BCS defaults (axis, degree, regressor) on validation runs only.

A SIMULATED RegNet x HPO sweep (tests/simulated_regnet.py, seed 0, 300 runs: test-only generator,
never shipped) is ingested; every candidate is trained with `eabench train` machinery (baselines
off) and scored on the *validation* part of the split by config id (manifest metric
``selection_valid_val_curve``). No test run is read. The winner became the default in
eabench/training/curve_fit.py; real data may select again with the same script logic.
Writes benchmarks/results/curve_selection_sim.json.

    python benchmarks/select_curve_bcs.py
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    from eabench.logs.ingest import ingest
    from eabench.training.recipes import load_recipe, train
    from tests.simulated_regnet import write_runlog_sweep

    out: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        write_runlog_sweep(tmp / "logs", 300, seed=0, workers=2)
        ingest([tmp / "logs"], tmp / "d.h5")
        for axis in ("linear", "log"):
            for degree in (4, 6):
                for reg in ("xgb", "mlp"):
                    recipe = tmp / "r.toml"
                    recipe.write_text(
                        f'name = "s"\nversion = "0"\nspace = "regnet-hpo"\nseed = 0\n'
                        f'dataset = "{tmp / "d.h5"}"\noutput = "{tmp / "a"}"\n'
                        f'card = "{tmp / "c.md"}"\nbaselines = false\n'
                        f'[bcs]\naxis = "{axis}"\ndegree = {degree}\nregressor = "{reg}"\n'
                    )
                    m = train(load_recipe(recipe), None, lambda _s: None)
                    v = m["metrics"]["selection_valid_val_curve"]
                    key = f"axis={axis} degree={degree} regressor={reg}"
                    out[key] = {
                        "valid_whole_curve_r2": v["whole_curve_r2"],
                        "valid_mae": v["mae"],
                        "valid_final_epoch_kendall_tau": v["final_epoch"]["kendall_tau"],
                        "valid_curves": v["n_curves"],
                        "bcs_fit_seconds": m["training"]["seconds"]["bcs"],
                    }
                    print(key, out[key], flush=True)
    best = max(out, key=lambda k: out[k]["valid_whole_curve_r2"])
    report = {
        "criterion": "highest whole-curve R^2 on the validation runs (test runs never read)",
        "selected": best,
        "candidates": out,
        "machine": f"{os.cpu_count()} CPU cores, load average {os.getloadavg()}",
    }
    path = ROOT / "benchmarks" / "results" / "curve_selection_sim.json"
    path.write_text(json.dumps(report, indent=1, sort_keys=True) + "\n")
    print("selected:", best)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
