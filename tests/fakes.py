"""Test-only implementations of eabench protocols (never shipped).

- :class:`LinearCurveSurrogate`: a small but real ``Surrogate``: weights in an npz file, a
  manifest with sha256s, curves from a closed-form model of the features. It lets the query API be
  tested end to end before the real artifacts exist.
- :class:`PrefixSpace`: a tiny ``SearchSpace`` whose configs carry ``max_epochs`` (prefix
  fidelity, like RegNet x HPO), for the prefix-semantics tests.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from eabench.errors import InvalidConfigError
from eabench.surrogates.base import CurvePrediction, NoSpaceOutputs
from eabench.table import write_table

METERS = ("carbontracker", "gpu.nvml_counter")


def register_fake_kind(monkeypatch: Any) -> None:
    """Register the fake artifact kind with the loader registry for one test."""
    from types import MappingProxyType

    from eabench.surrogates import registry

    kinds = {**registry.ARTIFACT_KINDS, FAKE_KIND: "tests.fakes:load_fake"}
    monkeypatch.setattr(registry, "ARTIFACT_KINDS", MappingProxyType(kinds))


class LinearCurveSurrogate(NoSpaceOutputs):
    """acc(t) = a * (1 - exp(-t / tau)), a = sigmoid(x.w + b); per-epoch energy/time softplus."""

    def __init__(self, manifest: Mapping[str, Any], weights: Mapping[str, np.ndarray]) -> None:
        self._manifest = dict(manifest)
        self.w = weights

    @property
    def manifest(self) -> Mapping[str, Any]:
        return self._manifest

    @property
    def space_name(self) -> str:
        return str(self._manifest["space"])

    @property
    def meters(self) -> tuple[str, ...]:
        return tuple(self._manifest["meter_order"])

    @property
    def max_epochs(self) -> float:
        return float(self._manifest["max_epochs"])

    def predict(self, features: np.ndarray, epochs: np.ndarray) -> CurvePrediction:
        x = np.asarray(features, dtype=np.float64)
        t = np.asarray(epochs, dtype=np.float64)[None, :]
        raw = x @ self.w["w_acc"] + self.w["b_acc"][0]
        a = 1.0 / (1.0 + np.exp(-raw))
        tau = float(self.w["tau"][0])
        val = a[:, None] * (1.0 - np.exp(-t / tau))
        test = val - 0.01
        clipped = test.min(axis=1) < 0.0
        test = np.clip(test, 0.0, 1.0)
        per_epoch_s = np.logaddexp(0.0, x @ self.w["w_time"] + 2.0)
        time_s = per_epoch_s[:, None] * t
        energy = {}
        std = {}
        for k, m in enumerate(METERS):
            per_epoch_j = 100.0 * (k + 1) * np.logaddexp(0.0, x @ self.w["w_energy"] + 1.0)
            energy[m] = per_epoch_j[:, None] * t
            std[m] = 0.1 * energy[m]
        return CurvePrediction(
            epochs=np.asarray(epochs, dtype=np.float64),
            val_accuracy=val,
            test_accuracy=test,
            train_time_s=time_s,
            energy_j=energy,
            val_accuracy_std=np.full_like(val, float(self.w["acc_std"][0])),
            energy_j_std=std,
            clipped=clipped,
        )


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_fake_artifact(
    folder: Path,
    *,
    n_features: int,
    space: str = "nb101-7v",
    max_epochs: int = 108,
    seed: int = 0,
    acc_std: float = 0.01,
    table: dict[str, Any] | None = None,
    **manifest_extra: Any,
) -> Path:
    """Write weights.npz (+ table.npz) and manifest.json with sha256s into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    np.savez(
        folder / "weights.npz",
        w_acc=rng.normal(0, 0.1, n_features),
        b_acc=np.array([1.0]),
        tau=np.array([20.0]),
        w_time=rng.normal(0, 0.05, n_features),
        w_energy=rng.normal(0, 0.05, n_features),
        acc_std=np.array([acc_std]),
    )
    files = ["weights.npz"]
    if table is not None:
        write_table(folder / "table.npz", **table)
        files.append("table.npz")
    manifest: dict[str, Any] = {
        "format_version": 2,
        "kind": FAKE_KIND,
        "space_name": space,
        "name": f"fake-{space}",
        "benchmark": space,
        "version": "0.0.1",
        "space": space,
        "dataset": "cifar10",
        "max_epochs": max_epochs,
        "meter_order": list(METERS),
        "training_data": {"id": "test-data-0"},
        "split": "test split",
        "held_out_metrics": {"kendall_tau": 0.5},
        "licence": "Apache-2.0",
        "citation": "none",
        "meters": {
            "carbontracker": {
                "description": "Carbontracker, NVML power polled every 10 s",
                "method": "polling",
                "sample_period_s": 10.0,
                "pue_applied": 1.59,
                "training_data_flags": ["UNDER_SAMPLED", "PUE_APPLIED"],
                "flag_notes": {"UNDER_SAMPLED": "10 s polling during ~18 s epochs"},
            },
            "gpu.nvml_counter": {"description": "NVML counter", "method": "counter"},
        },
        **manifest_extra,
    }
    manifest["files"] = {f: {"sha256": _sha(folder / f)} for f in files}
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=1))
    return folder


FAKE_KIND = "test-linear"
"""Artifact kind of :func:`write_fake_artifact` (see :func:`register_fake_kind`)."""


def load_fake(folder: Path, manifest: Any = None) -> LinearCurveSurrogate:
    """The loader of the fake kind (also passed to ``from_artifact`` as ``loader``)."""
    manifest = json.loads((Path(folder) / "manifest.json").read_text())
    with np.load(Path(folder) / "weights.npz", allow_pickle=False) as npz:
        weights = {k: npz[k] for k in npz.files}
    return LinearCurveSurrogate(manifest, weights)


@dataclass(frozen=True)
class PrefixConfig:
    """A config of :class:`PrefixSpace`: a width and the run's length."""

    width: int
    max_epochs: int

    def to_dict(self) -> dict[str, Any]:
        return {"width": self.width, "max_epochs": self.max_epochs}

    def config_id(self) -> str:
        return f"w{self.width}-e{self.max_epochs}"


class PrefixSpace:
    """Two-field space whose curves are prefixes of one ``max_epochs`` run."""

    name = "prefix-test"

    def validate(self, config: PrefixConfig | Mapping[str, Any]) -> PrefixConfig:
        if isinstance(config, PrefixConfig):
            return config
        if not isinstance(config, Mapping) or set(config) != {"width", "max_epochs"}:
            raise InvalidConfigError.for_field("config", config, "needs width and max_epochs")
        if config["max_epochs"] not in (50, 100, 200):
            raise InvalidConfigError.for_field("max_epochs", config["max_epochs"], "50/100/200")
        return PrefixConfig(int(config["width"]), int(config["max_epochs"]))

    def sample(self, seed: Any) -> PrefixConfig:
        rng = np.random.default_rng(seed)
        return PrefixConfig(int(rng.integers(8, 64)), int(rng.choice([50, 100, 200])))

    def encode(self, configs: Sequence[Any]) -> np.ndarray:
        cs = [self.validate(c) for c in configs]
        return np.array([[c.width / 64.0, c.max_epochs / 200.0] for c in cs], dtype=np.float64)

    def feature_names(self) -> list[str]:
        return ["width", "max_epochs"]

    def make_accelerator(self) -> None:
        return None

    def plain_key(self, config: Mapping[str, Any]) -> None:
        return None
