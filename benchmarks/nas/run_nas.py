"""NAS on an eabench benchmark with a cost ledger: search energy vs accuracy, Pareto fronts.

Runs random search, regularised evolution, local search and NSGA-II (energy-aware,
multi-objective) for several seeds, each paying through ``eabench.ledger.CostLedger``, and writes

- ``benchmarks/results/nas.json``: per algorithm and seed, the best validation accuracy found
  (and that config's test accuracy), the energy the search spent, and the hypervolume of the
  (validation accuracy, training energy) front it found; medians and quartiles over seeds;
- figures (PNG) for docs/nas.md: best accuracy against energy spent, the fronts of one seed
  against a reference front, and hypervolume over evaluations.

Hypervolume: objectives (validation accuracy, maximise; training energy of the config at
``--epochs``, minimise); reference point (accuracy 0, the largest energy in a reference sample of
the space). It is reported normalised by the hypervolume of the reference front (the
non-dominated set of the reference sample and of every config any run found), so 1.0 means the
search found the best known front.

    python benchmarks/nas/run_nas.py --seeds 10 --n-evals 300
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
for p in (str(ROOT), str(HERE)):
    if p not in sys.path:
        sys.path.insert(0, p)

from algorithms import ALGORITHMS, Evaluation, Evaluator  # noqa: E402

from eabench.pareto import hypervolume_2d, non_dominated  # noqa: E402

J_PER_KWH = 3.6e6


def _front(points: np.ndarray) -> np.ndarray:
    """Non-dominated (accuracy max, energy min) rows of ``points`` sorted by energy."""
    if len(points) == 0:
        return points.reshape(0, 2)
    points = np.unique(points, axis=0)  # the same config found by several runs counts once
    f = points[non_dominated(points, maximize=[True, False])]
    return f[np.argsort(f[:, 1])]


def _hv(points: np.ndarray, ref: tuple[float, float]) -> float:
    if len(points) == 0:
        return 0.0
    return hypervolume_2d(points, ref, maximize=[True, False])


def reference_sample(bench: Any, n: int, epochs: int, seed: int) -> np.ndarray:
    """``(n, 2)`` (val accuracy, energy J) of ``n`` uniform configs, via ``query_batch``."""
    rng = np.random.default_rng(seed)
    configs = [bench.space.sample(rng) for _ in range(n)]
    batch = bench.query_batch(configs, epochs)
    return np.column_stack([np.asarray(batch.val_accuracy), np.asarray(batch.energy_j)])


def run_one(bench: Any, algorithm: str, seed: int, n_evals: int, epochs: int) -> list[Evaluation]:
    """One search; returns its first ``n_evals`` distinct evaluations."""
    from eabench.ledger import CostLedger

    ev = Evaluator(CostLedger(bench), epochs=epochs, n_evals=n_evals)
    ALGORITHMS[algorithm](bench.space, ev, np.random.default_rng(seed))
    return ev.history[:n_evals]


def _summary(values: list[float]) -> dict[str, float]:
    a = np.asarray(values, dtype=float)
    q1, med, q3 = np.percentile(a, [25, 50, 75])
    return {"median": float(med), "q1": float(q1), "q3": float(q3), "mean": float(a.mean())}


def run_all(
    bench: Any,
    *,
    algorithms: list[str],
    seeds: list[int],
    n_evals: int,
    epochs: int,
    reference: np.ndarray,
) -> dict[str, Any]:
    """Every algorithm x seed; metrics, trajectories and fronts as a JSON-ready dict."""
    runs: dict[str, list[dict[str, Any]]] = {}
    found_all = [reference]
    t0 = time.perf_counter()
    for alg in algorithms:
        runs[alg] = []
        for seed in seeds:
            t = time.perf_counter()
            hist = run_one(bench, alg, seed, n_evals, epochs)
            pts = np.array([[h.val_accuracy, h.energy_j] for h in hist])
            found_all.append(pts)
            best = max(hist, key=lambda h: h.val_accuracy)
            runs[alg].append(
                {
                    "seed": seed,
                    "wall_s": time.perf_counter() - t,
                    "n_evals": len(hist),
                    "best_val_accuracy": best.val_accuracy,
                    "best_test_accuracy": best.test_accuracy,
                    "best_config_id": best.config_id,
                    "best_energy_j": best.energy_j,
                    "spent_energy_j": hist[-1].spent_energy_j,
                    "trajectory": {
                        "spent_energy_j": [h.spent_energy_j for h in hist],
                        "best_val_accuracy": np.maximum.accumulate(
                            [h.val_accuracy for h in hist]
                        ).tolist(),
                    },
                    "points": pts.tolist(),
                }
            )
    every = np.concatenate(found_all)
    ref_point = (0.0, float(reference[:, 1].max()))
    ref_front = _front(every)
    hv_ref = _hv(ref_front, ref_point)
    checkpoints = sorted({max(1, n_evals * k // 10) for k in range(1, 11)})
    summary: dict[str, Any] = {}
    for alg, rs in runs.items():
        for r in rs:
            pts = np.asarray(r.pop("points"))
            r["front"] = _front(pts).tolist()
            r["hypervolume_norm"] = _hv(pts, ref_point) / hv_ref
            r["hypervolume_curve"] = [
                {"n_evals": k, "hv_norm": _hv(pts[:k], ref_point) / hv_ref} for k in checkpoints
            ]
        summary[alg] = {
            "best_val_accuracy": _summary([r["best_val_accuracy"] for r in rs]),
            "best_test_accuracy": _summary([r["best_test_accuracy"] for r in rs]),
            "spent_energy_kwh": _summary([r["spent_energy_j"] / J_PER_KWH for r in rs]),
            "hypervolume_norm": _summary([r["hypervolume_norm"] for r in rs]),
            "front_size": _summary([len(r["front"]) for r in rs]),
        }
    return {
        "config": {
            "algorithms": algorithms,
            "seeds": seeds,
            "n_evals": n_evals,
            "epochs": epochs,
            "reference_sample": len(reference),
            "hypervolume_reference_point": {"val_accuracy": 0.0, "energy_j": ref_point[1]},
            "hypervolume_of_reference_front": hv_ref,
        },
        "reference_front": ref_front.tolist(),
        "summary": summary,
        "runs": runs,
        "wall_s": time.perf_counter() - t0,
    }


def make_figures(result: dict[str, Any], out_dir: Path, prefix: str = "nas") -> list[Path]:
    """Three PNGs: accuracy vs energy spent, fronts (first seed), hypervolume curves."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir.mkdir(parents=True, exist_ok=True)
    runs = result["runs"]
    written = []
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    for alg, rs in runs.items():
        hi = max(r["trajectory"]["spent_energy_j"][-1] for r in rs)
        # start where every seed has made its first evaluation, so the median is over all seeds
        lo = max(r["trajectory"]["spent_energy_j"][0] for r in rs)
        grid = np.geomspace(max(lo, 1e-9), hi, 100)
        curves = []
        for r in rs:
            e = np.asarray(r["trajectory"]["spent_energy_j"])
            a = np.asarray(r["trajectory"]["best_val_accuracy"])
            idx = np.searchsorted(e, grid, side="right") - 1
            curves.append(np.where(idx >= 0, a[np.clip(idx, 0, None)], np.nan))
        c = np.asarray(curves)
        med = np.nanmedian(c, axis=0)
        q1, q3 = np.nanpercentile(c, 25, axis=0), np.nanpercentile(c, 75, axis=0)
        (line,) = ax.plot(grid / J_PER_KWH, med, label=alg)
        ax.fill_between(grid / J_PER_KWH, q1, q3, color=line.get_color(), alpha=0.2)
    ax.set_xscale("log")
    ax.set_xlabel("training energy spent by the search [kWh] (cost ledger)")
    ax.set_ylabel("best validation accuracy found")
    n = len(next(iter(runs.values())))
    ax.set_title(f"Search energy vs best accuracy (median and IQR over {n} seeds)", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    written.append(_save(plt, fig, out_dir / f"{prefix}_energy_vs_accuracy.png"))

    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    ref = np.asarray(result["reference_front"])
    if len(ref):
        ax.step(
            ref[:, 1] / J_PER_KWH,
            ref[:, 0],
            where="post",
            color="gray",
            lw=2,
            alpha=0.6,
            label="reference front",
        )
    for alg, rs in runs.items():
        f = np.asarray(rs[0]["front"])
        ax.step(
            f[:, 1] / J_PER_KWH,
            f[:, 0],
            where="post",
            marker="o",
            ms=3,
            label=f"{alg} (seed {rs[0]['seed']})",
        )
    ax.set_xlabel("training energy of the config [kWh]")
    ax.set_ylabel("validation accuracy")
    ax.set_title("Pareto fronts: accuracy vs training energy", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    written.append(_save(plt, fig, out_dir / f"{prefix}_pareto_fronts.png"))

    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    for alg, rs in runs.items():
        ks = [p["n_evals"] for p in rs[0]["hypervolume_curve"]]
        hv = np.array([[p["hv_norm"] for p in r["hypervolume_curve"]] for r in rs])
        (line,) = ax.plot(ks, np.median(hv, axis=0), marker="o", ms=3, label=alg)
        ax.fill_between(
            ks,
            np.percentile(hv, 25, axis=0),
            np.percentile(hv, 75, axis=0),
            color=line.get_color(),
            alpha=0.2,
        )
    ax.set_xlabel("distinct configs evaluated")
    ax.set_ylabel("hypervolume / hypervolume of reference front")
    ax.set_title("Hypervolume of (val accuracy, training energy) (median, IQR)", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    written.append(_save(plt, fig, out_dir / f"{prefix}_hypervolume.png"))
    return written


def _save(plt: Any, fig: Any, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--benchmark", default="nb101-7v")
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--n-evals", type=int, default=300)
    ap.add_argument("--epochs", type=int, default=None, help="default: the largest budget")
    ap.add_argument("--reference", type=int, default=20000, help="reference sample size")
    ap.add_argument("--algorithms", default=",".join(ALGORITHMS))
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "nas.json")
    ap.add_argument("--figures", type=Path, default=ROOT / "docs" / "figures")
    ap.add_argument(
        "--redraw", action="store_true", help="only redraw the figures from the --out JSON"
    )
    args = ap.parse_args(argv)
    if args.redraw:
        for p in make_figures(json.loads(args.out.read_text()), args.figures):
            print(f"figure: {p}")
        return 0

    import eabench

    bench = eabench.load(args.benchmark)
    epochs = args.epochs or int(bench.fidelity.max_epochs)
    t = time.perf_counter()
    ref = reference_sample(bench, args.reference, epochs, seed=12345)
    ref_s = time.perf_counter() - t
    result = run_all(
        bench,
        algorithms=args.algorithms.split(","),
        seeds=list(range(args.seeds)),
        n_evals=args.n_evals,
        epochs=epochs,
        reference=ref,
    )
    result["benchmark"] = {
        "name": args.benchmark,
        "provenance": str(getattr(bench, "provenance", "")),
        "reference_sample_s": ref_s,
    }
    result["machine"] = {"platform": platform.platform(), "python": platform.python_version()}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    for p in make_figures(result, args.figures):
        print(f"figure: {p}")
    for alg, s in result["summary"].items():
        print(
            f"{alg:22s} best val {s['best_val_accuracy']['median']:.4f} "
            f"(test {s['best_test_accuracy']['median']:.4f})  "
            f"spent {s['spent_energy_kwh']['median']:.2f} kWh  "
            f"HV {s['hypervolume_norm']['median']:.3f}"
        )
    print(f"results: {args.out} ({result['wall_s']:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
