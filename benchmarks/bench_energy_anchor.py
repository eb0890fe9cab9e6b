"""Reproduce the EC-NAS energy MLP (the anchor) on the exact seed-42 split, from the dataset.

Inputs exactly as raghavian/surrogate-ec-nasbench builds them from 7v_data.pt: the 28 entries of
``adj[np.triu_indices(7)]`` (row-major, diagonal included) of the matrix padded at the end, the 7
op codes (0 pad, 1 input, 2 conv1x1, 3 conv3x3, 4 maxpool, 5 output) as floats, params/1e6.
Target: 4-epoch energy in Wh (published scale, PUE included). MLP 36-128-64-32-32-1 with GELU,
L1 loss, Adam lr 5e-3, batch 32, 200 epochs, no early stopping; trained on the 3,017 train rows,
scored on the 862 test rows. Writes benchmarks/results/energy_anchor.json.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CODE = {-3: 0, -1: 1, 1: 2, 0: 3, 2: 4, -2: 5}


def main(seeds: tuple[int, ...] = (0, 1, 2), epochs: int = 200) -> None:
    sys.path.insert(0, str(ROOT))
    from eabench.logs import open_dataset
    from eabench.training.metrics import regression_metrics
    from eabench.training.nb101_fit import _ecnas_mlp

    t = open_dataset(ROOT / "data" / "eabench-data.h5").table("nb101-7v", "cifar10", "ecnas_7v")
    adj = np.asarray(t.configs.matrix, np.float64)
    iu = np.triu_indices(7)
    ops = np.vectorize(CODE.__getitem__)(np.asarray(t.configs.ops)).astype(np.float64)
    x = np.column_stack([adj[:, iu[0], iu[1]], ops, t.static["params"].values / 1e6])
    y = t.energy.energy_j[:, 0, 0] / 3600.0  # Wh
    sp = t.split_indices("ecnas_seed42")
    res = {}
    for seed in seeds:
        t0 = time.perf_counter()
        pred = _ecnas_mlp(x[sp["train"]], y[sp["train"]], x[sp["test"]], epochs, seed)
        res[f"seed_{seed}"] = {
            **regression_metrics(pred, y[sp["test"]]),
            "train_s": time.perf_counter() - t0,
        }
        print(seed, res[f"seed_{seed}"], flush=True)
    out = ROOT / "benchmarks" / "results" / "energy_anchor.json"
    out.write_text(json.dumps(res, indent=1) + "\n")


if __name__ == "__main__":
    main()
