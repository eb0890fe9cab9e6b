"""benchmarks/nas on a TEST FAKE benchmark (not eabench data): the scripts run end to end.

``FakeBench`` implements the parts of the eabench Benchmark API the NAS scripts use (``space``
with sample/neighbours/mutate, ``query``, ``query_batch``, ``fidelity``) over 10-bit strings with
a made-up accuracy/energy trade-off. Costs are charged by the real ``eabench.ledger.CostLedger``.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from eabench.ledger import CostLedger

NAS_DIR = Path(__file__).resolve().parents[2] / "benchmarks" / "nas"
N_BITS = 10


def _load(name: str) -> ModuleType:
    if str(NAS_DIR) not in sys.path:
        sys.path.insert(0, str(NAS_DIR))
    spec = importlib.util.spec_from_file_location(name, NAS_DIR / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod  # dataclasses look their module up; run_nas imports "algorithms"
    spec.loader.exec_module(mod)
    return mod


@dataclass(frozen=True)
class FakeCell:
    bits: tuple[int, ...]

    def config_id(self) -> str:
        return "".join(map(str, self.bits))

    def to_dict(self) -> dict[str, Any]:
        return {"bits": list(self.bits)}


class FakeSpace:
    def sample(self, seed: Any) -> FakeCell:
        rng = np.random.default_rng(seed) if not isinstance(seed, np.random.Generator) else seed
        return FakeCell(tuple(int(b) for b in rng.integers(0, 2, N_BITS)))

    def neighbours(self, cfg: FakeCell) -> list[FakeCell]:
        return [
            FakeCell(tuple(1 - b if j == i else b for j, b in enumerate(cfg.bits)))
            for i in range(N_BITS)
        ]

    def mutate(self, cfg: FakeCell, seed: Any) -> FakeCell:
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        return self.neighbours(cfg)[int(rng.integers(N_BITS))]


@dataclass(frozen=True)
class FakeResult:
    config_id: str
    epochs: int
    val_accuracy: float
    test_accuracy: float
    energy_j: float
    train_time_s: float


@dataclass(frozen=True)
class FakeFidelity:
    semantics: str = "schedule"
    max_epochs: int = 108


@dataclass
class FakeBatch:
    val_accuracy: np.ndarray
    energy_j: np.ndarray


class FakeBench:
    """TEST FAKE: accuracy grows with the number of 1 bits (weighted), so does energy."""

    space = FakeSpace()
    fidelity = FakeFidelity()
    _w = np.linspace(0.5, 1.5, N_BITS)

    def query(self, cfg: FakeCell, epochs: int) -> FakeResult:
        x = np.asarray(cfg.bits, dtype=float)
        acc = 0.5 + 0.45 * float(x @ self._w) / self._w.sum() - 0.01 * x[::2].sum() / N_BITS
        energy = 1e5 * (1.0 + float(x @ self._w[::-1]))
        return FakeResult(cfg.config_id(), epochs, acc, acc - 0.01, energy, energy / 200.0)

    def query_batch(self, cfgs: list[FakeCell], epochs: int) -> FakeBatch:
        res = [self.query(c, epochs) for c in cfgs]
        return FakeBatch(
            np.array([r.val_accuracy for r in res]), np.array([r.energy_j for r in res])
        )


@pytest.fixture(scope="module")
def nas() -> tuple[ModuleType, ModuleType]:
    return _load("algorithms"), _load("run_nas")


@pytest.mark.parametrize("alg", ["random_search", "regularized_evolution", "local_search", "nsga2"])
def test_each_algorithm_charges_the_ledger_once_per_distinct_config(
    nas: tuple[ModuleType, ModuleType], alg: str
) -> None:
    algorithms, _ = nas
    bench = FakeBench()
    ledger = CostLedger(bench)
    ev = algorithms.Evaluator(ledger, epochs=108, n_evals=60)
    algorithms.ALGORITHMS[alg](bench.space, ev, np.random.default_rng(0))
    hist = ev.history
    assert len(hist) >= 60
    ids = [h.config_id for h in hist]
    assert len(set(ids)) == len(ids)
    assert ledger.n_evaluations == len(hist)
    spent = [h.spent_energy_j for h in hist]
    assert np.all(np.diff(spent) > 0)
    assert spent[-1] == pytest.approx(sum(h.energy_j for h in hist))


def test_local_search_and_evolution_beat_random_on_the_fake(
    nas: tuple[ModuleType, ModuleType],
) -> None:
    _, run_nas = nas
    best = {
        alg: np.median(
            [
                max(h.val_accuracy for h in run_nas.run_one(FakeBench(), alg, s, 40, 108))
                for s in range(5)
            ]
        )
        for alg in ("random_search", "local_search")
    }
    assert best["local_search"] >= best["random_search"]


def test_run_all_writes_summary_fronts_and_figures(
    nas: tuple[ModuleType, ModuleType], tmp_path: Path
) -> None:
    _, run_nas = nas
    bench = FakeBench()
    ref = run_nas.reference_sample(bench, 300, 108, seed=1)
    res = run_nas.run_all(
        bench,
        algorithms=["random_search", "regularized_evolution", "local_search", "nsga2"],
        seeds=[0, 1, 2],
        n_evals=50,
        epochs=108,
        reference=ref,
    )
    json.dumps(res)  # JSON-ready
    for alg, s in res["summary"].items():
        assert 0 < s["hypervolume_norm"]["median"] <= 1.0 + 1e-12, alg
        assert s["spent_energy_kwh"]["median"] > 0
    front = np.asarray(res["reference_front"])
    # the reference front is non-dominated: energy up => accuracy up
    assert np.all(np.diff(front[:, 1]) >= 0)
    assert np.all(np.diff(front[:, 0]) > 0)
    for r in res["runs"]["nsga2"]:  # hypervolume never shrinks as evaluations accumulate
        curve = [p["hv_norm"] for p in r["hypervolume_curve"]]
        assert np.all(np.diff(curve) >= -1e-12)
    paths = run_nas.make_figures(res, tmp_path)
    assert len(paths) == 3
    for p in paths:
        assert p.read_bytes()[:4] == b"\x89PNG"


def test_algorithms_run_on_the_real_nb101_7v_benchmark(
    nas: tuple[ModuleType, ModuleType],
) -> None:
    """A few evaluations of every algorithm on ``eabench.load("nb101-7v")`` (embedded artifact)."""
    import eabench
    from eabench.errors import UnknownBenchmarkError

    try:
        bench = eabench.load("nb101-7v")
    except UnknownBenchmarkError as exc:  # a checkout without the embedded artifact
        pytest.skip(f"nb101-7v artifact not available: {exc}")
    _, run_nas = nas
    for alg in ("random_search", "regularized_evolution", "local_search", "nsga2"):
        hist = run_nas.run_one(bench, alg, seed=0, n_evals=25, epochs=108)
        assert len(hist) == 25
        assert all(0.0 <= h.val_accuracy <= 1.0 for h in hist)
        assert all(h.energy_j > 0 for h in hist)
        assert hist[-1].spent_energy_j == pytest.approx(sum(h.energy_j for h in hist))
