"""Trainer and evaluator of the ``curve-bcs`` kind: any space, from a consolidated dataset.

Recipe keys besides the required ones (all optional): ``dataset_name`` (default: the only dataset
of the space in the file), ``tables`` (default: every table of the space and dataset),
``space_options`` (keyword options of the space, e.g. ``{constraints = "none"}`` for RegNet
configs outside the sweep window), ``max_epochs_field`` (default ``"max_epochs"``),
``benchmark`` (name answers carry; default ``name``), ``licence``, ``citation``, ``notes`` and the
model settings of :data:`eabench.training.curve_fit.DEFAULTS` (``split``, ``bcs``, ``time``,
``energy``, ``xgb``, ``mlp``, ``baselines``, ``min_held_out``).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from eabench.errors import DatasetError
from eabench.logs import open_dataset
from eabench.manifest import FORMAT_VERSION, Manifest, read_manifest, sha256_file, write_manifest
from eabench.spaces.registry import make_space
from eabench.surrogates.curve import KIND, CurveSurrogate
from eabench.surrogates.registry import load_artifact
from eabench.training.curve_card import write_card
from eabench.training.curve_data import CurveData, MeterData, load_curve_data
from eabench.training.curve_fit import CurveFit, fit_curve_surrogate, score_artifact
from eabench.training.npz import save_npz

__all__ = ["evaluate", "train"]

VAL_IS_TEST = "VAL_ACCURACY_IS_TEST"
VAL_IS_TEST_REASON = (
    "the training logs record test accuracy only (EA-HAS-Bench/pycls format): val_accuracy "
    "answers are the surrogate of the test accuracy curve, and test_accuracy is None"
)
FLAG_SHARE = 0.5
"""A training-data flag code is carried by answers when at least this share of runs has it."""


def _dataset_name(path: Path, space: str, given: Any) -> str:
    if given is not None:
        return str(given)
    names = sorted({t[1] for t in open_dataset(path).tables if t[0] == space})
    if len(names) != 1:
        raise DatasetError.for_field(
            "dataset_name", names, f"the file holds {len(names)} datasets of {space}: name one"
        )
    return names[0]


def _meter_info(data: CurveData, m: str, md: MeterData, cap: int) -> dict[str, Any]:
    prov = md.provenance[0] if md.provenance else {}
    n = int(np.isfinite(md.per_epoch_j).sum())
    frequent = {c: k for c, k in md.flag_counts.items() if k >= FLAG_SHARE * max(n, 1)}
    return {
        "description": f"{m}: {prov.get('method', 'unknown method')} "
        f"({prov.get('api_call') or prov.get('quantity') or ''}; scope {prov.get('scope')}, "
        f"{len(md.provenance)} channel(s) summed), trained on {n} runs of "
        f"{data.space_name}/{data.dataset}",
        "method": str(prov.get("method", "unknown")),
        "simulated": md.simulated,
        "pue_applied": prov.get("pue_applied"),
        "training_data_flags": sorted(frequent),
        "flag_notes": {c: f"{k} of {n} training runs carry {c}" for c, k in frequent.items()},
        "flag_counts": dict(md.flag_counts),
        "measured_epochs": [1, cap],
        "provenance": [dict(p) for p in md.provenance],
    }


def build_manifest(
    recipe: Mapping[str, Any], data: CurveData, fit: CurveFit, space_options: Mapping[str, Any]
) -> dict[str, Any]:
    """The manifest fields of a fitted ``curve-bcs`` artifact (``files`` added on writing)."""
    meters = list(fit.heads["energy"])
    top = int(data.run_length.max())
    field = recipe.get("max_epochs_field", "max_epochs")
    dataset_path = Path(recipe["dataset"])
    return {
        "format_version": FORMAT_VERSION,
        "kind": KIND,
        "name": str(recipe["name"]),
        "version": str(recipe["version"]),
        "benchmark": str(recipe.get("benchmark", recipe["name"])),
        "space_name": data.space_name,
        "space_options": dict(space_options),
        "dataset": data.dataset,
        "weights": "weights.npz",
        "max_epochs": top,
        "query_fidelity": {
            "name": "epochs",
            "semantics": "prefix",
            "min_epochs": 1,
            "max_epochs": top,
            "budgets": [],
            "max_epochs_field": field if fit.heads["t_feature"] is not None else None,
        },
        "observed_epochs": [1, fit.curve_epochs_cap],
        "meters": meters,
        "meter_info": {
            m: _meter_info(data, m, data.meters[m], fit.curve_epochs_cap) for m in meters
        },
        "simulated": data.simulated,
        "answer_flags": {VAL_IS_TEST: VAL_IS_TEST_REASON} if data.val_from_test else {},
        "has_test_accuracy": fit.heads["test_bcs"] is not None,
        "training_data": {
            "id": f"sha256:{sha256_file(dataset_path)}",
            "path": str(recipe["dataset"]),
            "tables": list(data.tables),
            "runs": data.n_runs,
            "row_sources": sorted(set(data.row_sources.tolist())),
        },
        "split": {
            "rule": "config_id_80_10_10: sha256('eabench-split-v1:' + config id) -> 80/10/10 "
            "train/valid/test; all runs of a config in one part"
            if fit.split_counts.get("test", 0) or recipe.get("split") != "all"
            else "all: every run fitted, nothing held out",
            "counts": fit.split_counts,
        },
        "metrics": fit.metrics,
        "training_support": {
            "feature_min": data.features.min(axis=0).tolist(),
            "feature_max": data.features.max(axis=0).tolist(),
        },
        "heads": fit.heads,
        "licence": str(recipe.get("licence", "Apache-2.0 (weights); data: see training_data")),
        "citation": str(recipe.get("citation", "")),
        "notes": " ".join(recipe.get("notes", [])) if recipe.get("notes") else "",
        "training": {"recipe": dict(recipe), "seconds": fit.seconds},
    }


def train(recipe: Mapping[str, Any], out: Path, log: Callable[[str], None]) -> Manifest:
    """Load the runs, fit, write ``weights.npz`` + ``manifest.json`` into ``out`` and the card."""
    t0 = time.perf_counter()
    options = dict(recipe.get("space_options", {}))
    space = make_space(str(recipe["space"]), options)
    dataset = Path(recipe["dataset"])
    name = _dataset_name(dataset, space.name, recipe.get("dataset_name"))
    tables = recipe.get("tables")
    data = load_curve_data(
        dataset,
        space,
        name,
        tables=None if tables is None else [str(t) for t in tables],
        max_epochs_field=recipe.get("max_epochs_field", "max_epochs"),
    )
    load_s = time.perf_counter() - t0
    log(f"{data.n_runs} runs of {space.name}/{name} from {list(data.tables)}")
    log(f"skipped: {dict(data.skipped)}")
    fit = fit_curve_surrogate(data, recipe, int(recipe["seed"]))
    fit.seconds["load_data"] = load_s
    fit.seconds["total"] = time.perf_counter() - t0
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    save_npz(out / "weights.npz", fit.weights)
    manifest = write_manifest(out, build_manifest(recipe, data, fit, options))
    load_artifact(out)  # refuse to finish with an artifact that does not load
    write_card(Path(recipe["card"]), manifest, str(out))
    return manifest


def evaluate(artifact: Path, dataset: Path) -> dict[str, Any]:
    """Recompute the test-run metrics of ``artifact`` from ``dataset`` (same split, same code)."""
    manifest = read_manifest(artifact)
    model = load_artifact(artifact)
    assert isinstance(model, CurveSurrogate)  # the registry loads this kind as CurveSurrogate
    recipe = dict(manifest["training"]["recipe"])
    recipe["dataset"] = str(dataset)
    space = make_space(manifest.space_name, manifest.get("space_options"))
    data = load_curve_data(
        dataset,
        space,
        str(manifest["dataset"]),
        tables=manifest["training_data"]["tables"],
        max_epochs_field=recipe.get("max_epochs_field", "max_epochs"),
    )
    return score_artifact(data, model, recipe)
