"""Trainer and evaluator of the ``nb101-7v-bcs-gbdt`` kind (the recipe of the embedded default)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from eabench.manifest import Manifest
from eabench.surrogates.artifact import Nb101Surrogate
from eabench.surrogates.registry import load_artifact
from eabench.training.nb101_data import load_nb101_7v
from eabench.training.nb101_evaluate import evaluate_nb101_7v
from eabench.training.nb101_export import add_space_outputs
from eabench.training.nb101_fit import train_nb101_7v
from eabench.training.nb101_post import apply_postprocess
from eabench.training.nb101_publish import write_artifact, write_card

__all__ = ["evaluate", "train"]


def train(recipe: Mapping[str, Any], out: Path, log: Callable[[str], None]) -> Manifest:
    """Fit every head, write the artifact (and, unless ``space_outputs = false``, every cell's
    materialised head outputs) and the card."""
    t0 = time.perf_counter()
    data = load_nb101_7v(Path(recipe["dataset"]))
    load_s = time.perf_counter() - t0
    result = train_nb101_7v(data, dict(recipe))
    result.seconds["load_data"] = load_s
    result.seconds["total"] = time.perf_counter() - t0
    manifest = write_artifact(out, result, dict(recipe))
    manifest = apply_postprocess(out, Path(recipe["dataset"]))  # answers' shrinkage, ranges
    if recipe.get("space_outputs", True):  # the export step: materialise every cell's heads
        t1 = time.perf_counter()
        manifest = add_space_outputs(out)
        log(f"space outputs: {time.perf_counter() - t1:.0f} s")
    write_card(Path(recipe["card"]), manifest, str(out))
    return manifest


def evaluate(artifact: Path, dataset: Path) -> dict[str, Any]:
    """Held-out metrics recomputed by the numpy inference (see ``nb101_evaluate``)."""
    model = load_artifact(artifact)
    assert isinstance(model, Nb101Surrogate)  # the registry loads this kind as Nb101Surrogate
    return evaluate_nb101_7v(model, load_nb101_7v(dataset))
