"""Size of the RegNet x HPO space, its feasible sets, and the sampler's acceptance rate.

Exact counts come from :func:`eabench.spaces.regnet_hpo.count_space` (exhaustive enumeration of
the grid, grouped by quantised widths; see its module docstring). The acceptance rate is given
twice: exactly (prior mass of the feasible grid points) and by Monte Carlo (``--draws`` draws of
the sampler's prior, seed 0, constraints checked with the vectorised derivation).

Run from the repository root: ``nice python benchmarks/bench_regnet_space.py`` (a few minutes on
two cores). Writes ``benchmarks/results/regnet_space.json`` and prints it.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from eabench.spaces.regnet_hpo import (
    Constraints,
    RegNetHPOSpace,
    count_space,
    derive_arrays,
    draw_prior,
    training_protocol,
)

RESULTS = Path(__file__).resolve().parent / "results" / "regnet_space.json"
CASES = {
    "cifar10_grid": ("cifar10", Constraints.none()),
    "cifar10_2stage": ("cifar10", Constraints.two_stage()),
    "cifar10_training": ("cifar10", Constraints.training("cifar10")),
    "tinyimagenet_grid": ("tinyimagenet", Constraints.none()),
    "tinyimagenet_2stage": ("tinyimagenet", Constraints.two_stage()),
}


def monte_carlo(dataset: str, constraints: Constraints, draws: int, seed: int) -> dict[str, float]:
    """Acceptance rate of ``draws`` prior draws, with its binomial standard error."""
    rng = np.random.default_rng(seed)
    proto = training_protocol(dataset)
    accepted, done, chunk = 0, 0, 100_000
    while done < draws:
        n = min(chunk, draws - done)
        d = draw_prior(n, rng, dataset)
        arrays = derive_arrays(
            d["depth"],
            d["w0"],
            d["wa_tenths"] / 10,
            d["wm_thousandths"] / 1000,
            d["group_width"],
            stem_width=proto.stem_width,
            num_classes=proto.num_classes,
        )
        accepted += int(constraints.feasible(arrays).sum())
        done += n
    p = accepted / draws
    return {"draws": draws, "accepted": accepted, "rate": p, "se": math.sqrt(p * (1 - p) / draws)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--draws", type=int, default=1_000_000, help="Monte Carlo draws per case")
    args = parser.parse_args()
    out: dict[str, object] = {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "machine": platform.machine(),
        "cases": {},
    }
    cases: dict[str, object] = {}
    for name, (dataset, cons) in CASES.items():
        t0 = time.perf_counter()
        c = count_space(dataset, cons)
        t_count = time.perf_counter() - t0
        mc = monte_carlo(dataset, cons, args.draws, seed=0)
        cases[name] = {
            "dataset": dataset,
            "constraints": repr(cons),
            "grid_archs": c.grid_archs,
            "grid_configs": c.grid_configs,
            "feasible_archs": c.feasible_archs,
            "feasible_configs": c.feasible_configs,
            "feasible_fraction_of_grid": c.feasible_archs / c.grid_archs,
            "distinct_networks": c.distinct_networks,
            "distinct_trainings": c.distinct_trainings,
            "acceptance_exact": c.feasible_prior_mass,
            "acceptance_monte_carlo": mc,
            "count_seconds": round(t_count, 1),
        }
        print(name, json.dumps(cases[name]), flush=True)
    space = RegNetHPOSpace("cifar10")
    t0 = time.perf_counter()
    configs, stats = space.sample_many(1000, seed=0)
    cases["sampler_cifar10_training_1000"] = {
        "configs": len(configs),
        "attempts": stats.attempts,
        "acceptance_rate": stats.acceptance_rate,
        "duplicates": stats.duplicates,
        "seconds": round(time.perf_counter() - t0, 2),
    }
    out["cases"] = cases
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
