"""Speed and size of the embedded nb101-7v surrogate artifact (numpy inference).

Writes benchmarks/results/surrogate_nb101_7v.json. Timings are wall-clock on this machine
(2 CPU cores shared with other jobs: treat them as upper bounds).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
ART = ROOT / "eabench" / "_artifacts" / "nb101-7v"
COLD = (
    "import time; t=time.perf_counter(); from eabench.surrogates.registry import load_artifact; "
    "load_artifact({art!r}); print(time.perf_counter()-t)"
)


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from eabench.logs import open_dataset
    from eabench.spaces.nb101 import NB101Space
    from eabench.surrogates.registry import load_artifact

    cold = subprocess.run(
        [sys.executable, "-c", COLD.format(art=str(ART))],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    model = load_artifact(ART)
    t = open_dataset(ROOT / "data" / "eabench-data.h5").table("nb101-7v", "cifar10", "ecnas_7v")
    cfgs = [t.configs.to_dict(i % 4310) for i in range(10_000)]
    feats = NB101Space().encode(cfgs)
    full = np.array([4.0, 12.0, 36.0, 108.0])
    reps = 200
    t0 = time.perf_counter()
    for i in range(reps):
        model.predict(feats[i : i + 1], full)
    single = (time.perf_counter() - t0) / reps
    t0 = time.perf_counter()
    model.predict(feats, full)
    batch = time.perf_counter() - t0
    with np.load(ART / "weights.npz") as z:
        trees = {k: int(z[k].shape[0]) for k in z.files if k.endswith(".value")}
    res = {
        "cold_import_and_load_s": float(cold.stdout.strip()),
        "single_full_curve_query_s": single,
        "batch_10000_full_curve_s": batch,
        "artifact_bytes": sum(p.stat().st_size for p in ART.iterdir()),
        "n_trees": trees,
        "artifact_version": json.loads((ART / "manifest.json").read_text())["version"],
        "machine": f"{os.cpu_count()} CPU cores, load average {os.getloadavg()}",
    }
    print(json.dumps(res, indent=1))
    out = ROOT / "benchmarks" / "results" / "surrogate_nb101_7v.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=1) + "\n")


if __name__ == "__main__":
    main()
