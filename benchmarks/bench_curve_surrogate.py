"""The curve-bcs pipeline on a SIMULATED RegNet x HPO sweep with a known truth.

Writes N simulated run logs (tests/simulated_regnet.py: test-only generator, flagged SIMULATED,
never shipped), ingests them with `eabench ingest`, trains the default recipe settings with
`eabench train` and records: the held-out metrics from the manifest (test part of the split by
config id; BCS next to the per-epoch GBDT and SVD + GBDT baselines on the same rows), the error of
the answers against the generator's noise-free truth on the held-out configs, and the training
time on this machine. Writes benchmarks/results/curve_surrogate_sim.json.

    python benchmarks/bench_curve_surrogate.py [--runs 300] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    from scipy.stats import kendalltau

    import eabench
    from eabench.cli import main as cli
    from eabench.logs.build import config_id_split
    from tests.simulated_regnet import write_runlog_sweep

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=300)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        truths = write_runlog_sweep(tmp / "logs", args.runs, seed=args.seed, workers=2)
        t0 = time.perf_counter()
        assert cli(["ingest", str(tmp / "logs"), "--out", str(tmp / "d.h5")]) == 0
        ingest_s = time.perf_counter() - t0
        recipe = tmp / "recipe.toml"
        recipe.write_text(
            f'name = "regnet-sim"\nversion = "0.0.0"\nspace = "regnet-hpo"\nseed = 0\n'
            f'dataset = "{tmp / "d.h5"}"\noutput = "{tmp / "art"}"\ncard = "{tmp / "card.md"}"\n'
        )
        t0 = time.perf_counter()
        assert cli(["train", str(recipe)]) == 0
        train_s = time.perf_counter() - t0
        manifest = json.loads((tmp / "art" / "manifest.json").read_text())
        bench = eabench.load(tmp / "art")
        ids = [c.config_id() for c, _ in truths]
        held = [i for i, p in enumerate(config_id_split(ids)) if p == 2]
        mae, fin_t, fin_p, e_rel = [], [], [], []
        for i in held:
            cfg, tr = truths[i]
            res = bench.query(cfg, cfg.max_epochs)
            mae.append(float(np.mean(np.abs(res.curve.val_accuracy - tr.val_accuracy))))
            fin_t.append(tr.val_accuracy[-1])
            fin_p.append(res.val_accuracy)
            per = res.energy_by_meter["gpu.nvml_counter"].energy_j / cfg.max_epochs
            e_rel.append(abs(per / tr.energy_j["gpu.nvml_counter"].mean() - 1))
        report = {
            "what": "curve-bcs default recipe on a SIMULATED RegNet x HPO sweep (known truth)",
            "runs": args.runs,
            "seed": args.seed,
            "split_counts": manifest["split"]["counts"],
            "held_out_metrics": manifest["metrics"],
            "against_truth_heldout": {
                "configs": len(held),
                "val_curve_mae": float(np.mean(mae)),
                "final_epoch_kendall_tau": float(kendalltau(fin_t, fin_p)[0]),
                "energy_per_epoch_median_rel_error": float(np.median(e_rel)),
            },
            "seconds": {
                "ingest": ingest_s,
                "train_wall": train_s,
                **manifest["training"]["seconds"],
            },
            "machine": f"{os.cpu_count()} CPU cores, load average {os.getloadavg()}",
        }
    out = ROOT / "benchmarks" / "results" / "curve_surrogate_sim.json"
    out.write_text(json.dumps(report, indent=1, sort_keys=True) + "\n")
    print(json.dumps({k: report[k] for k in ("against_truth_heldout", "seconds")}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
