"""Speed of the NB101 7V space: full enumeration, cache load, encoding, hashing, network cost.

Run from the repository root: ``nice python benchmarks/bench_nb101_space.py [--processes 2]``.
Writes ``benchmarks/results/nb101_space.json`` and prints it. Timings are wall-clock seconds on the
machine it runs on, recorded with its CPU count and load average; because our dev box has 2 cores
shared with other jobs, the enumeration also records CPU seconds (this process plus its workers),
which do not grow with the load.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

if __package__ in (None, "") and str(Path(__file__).resolve().parents[1]) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from eabench.spaces.nb101 import NB101Space, load_space, network_cost_padded
from eabench.spaces.nb101.cache import SPACE_CACHE_PATH, sorted_hashes_sha256
from eabench.spaces.nb101.enumeration import enumerate_padded, hash_padded

RESULTS = Path(__file__).resolve().parent / "results" / "nb101_space.json"
PUBLISHED_SHA256 = "53e1438d11675d9eb3899166c29ca07fe0c4b81af9d99d5aec3ecd31bd5bca7f"


def _best_of(fn: object, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--processes", type=int, default=2, help="hashing worker processes")
    parser.add_argument("--n-encode", type=int, default=100_000, help="cells to encode")
    args = parser.parse_args()
    out: dict[str, object] = {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "cpu_count": os.cpu_count(),
        "load_average_at_start": os.getloadavg(),
    }

    t0 = time.perf_counter()
    cpu0 = time.process_time()
    mats, labels, hashes = enumerate_padded(processes=args.processes)
    out["enumerate_full_space_s"] = time.perf_counter() - t0
    out["enumerate_full_space_cpu_s"] = (
        time.process_time() - cpu0 + resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime
    )
    out["enumerate_processes"] = args.processes
    out["num_cells"] = len(hashes)
    out["sorted_hashes_sha256_ok"] = sorted_hashes_sha256(hashes.tolist()) == PUBLISHED_SHA256

    out["cache_file_bytes"] = SPACE_CACHE_PATH.stat().st_size
    out["load_cache_s"] = _best_of(load_space, 5)
    cold = subprocess.run(
        [
            sys.executable,
            "-c",
            "import time; t=time.perf_counter(); import eabench.spaces.nb101 as nb; "
            "nb.load_space(); print(time.perf_counter()-t)",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    out["import_and_load_cache_cold_process_s"] = float(cold.stdout.strip())
    data = load_space()
    out["cache_equals_fresh_enumeration"] = bool(
        np.array_equal(data.matrices, mats) and np.array_equal(data.labels, labels)
    )

    space = NB101Space()
    idx = space.sample_indices(args.n_encode, 0)
    dicts = [data.cell(int(i)).to_dict() for i in idx]
    t0 = time.perf_counter()
    cpu0 = time.process_time()
    x = space.encode(dicts)
    dt = time.perf_counter() - t0
    out["encode_dicts_cpu_s"] = time.process_time() - cpu0
    out["encode_dicts_n"] = len(dicts)
    out["encode_dicts_s"] = dt
    out["encode_dicts_cells_per_s"] = len(dicts) / dt
    dt = _best_of(lambda: space.encode_indices(idx), 3)
    out["encode_indices_s"] = dt
    out["encode_indices_cells_per_s"] = len(idx) / dt
    assert np.array_equal(x, space.encode_indices(idx))

    sub = idx[:20_000]
    dt = _best_of(lambda: hash_padded(data.matrices[sub], data.labels[sub]), 1)
    out["hash_cells_per_s"] = len(sub) / dt
    dt = _best_of(lambda: network_cost_padded(data.matrices, data.labels), 3)
    out["network_cost_full_space_s"] = dt
    out["load_average_at_end"] = os.getloadavg()

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
