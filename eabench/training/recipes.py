"""Training recipes (TOML) and the trainer of each artifact kind.

A recipe needs ``name, version, space, seed, dataset, output, card``; everything else has
documented defaults (docs/training.md). ``kind`` defaults to the space's default artifact kind
(:data:`DEFAULT_KIND`: ``nb101-7v`` -> ``nb101-7v-bcs-gbdt``, any other space -> ``curve-bcs``).
Relative paths in a recipe resolve against the current directory (run from the repository root),
as the shipped recipes assume.

Trainers and evaluators are named by ``"module:function"`` per kind and imported when used:
``train(recipe, out, log) -> Manifest`` writes the artifact folder ``out`` and the model card;
``evaluate(artifact_dir, dataset) -> dict`` recomputes the held-out metrics.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

from eabench.errors import InvalidArgumentError
from eabench.manifest import Manifest, read_manifest
from eabench.spaces.registry import SPACES

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

__all__ = ["DEFAULT_KIND", "REQUIRED", "TRAINERS", "evaluate", "load_recipe", "train"]

REQUIRED: Final = ("name", "version", "space", "seed", "dataset", "output", "card")
DEFAULT_KIND: Final[Mapping[str, str]] = MappingProxyType({"nb101-7v": "nb101-7v-bcs-gbdt"})
TRAINERS: Final[Mapping[str, tuple[str, str]]] = MappingProxyType(
    {
        "nb101-7v-bcs-gbdt": (
            "eabench.training.nb101_recipe:train",
            "eabench.training.nb101_recipe:evaluate",
        ),
        "curve-bcs": (
            "eabench.training.curve_recipe:train",
            "eabench.training.curve_recipe:evaluate",
        ),
    }
)
"""Artifact kind -> (trainer, evaluator) as ``"module:function"``."""


def load_recipe(path: Path) -> dict[str, Any]:
    """Parse and check a recipe TOML; fills ``kind``.

    Raises:
        InvalidArgumentError: unreadable file, bad TOML, a missing key, an unknown space or kind.
    """
    try:
        recipe: dict[str, Any] = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InvalidArgumentError.for_field("recipe", str(path), f"unreadable: {exc}") from exc
    for key in REQUIRED:
        if key not in recipe:
            raise InvalidArgumentError.for_field("recipe", key, "required key missing")
    if recipe["space"] not in SPACES:
        raise InvalidArgumentError.for_field(
            "space", recipe["space"], f"must be one of {', '.join(sorted(SPACES))}"
        )
    recipe.setdefault("kind", DEFAULT_KIND.get(recipe["space"], "curve-bcs"))
    if recipe["kind"] not in TRAINERS:
        raise InvalidArgumentError.for_field(
            "kind", recipe["kind"], f"must be one of {', '.join(sorted(TRAINERS))}"
        )
    if isinstance(recipe["seed"], bool) or not isinstance(recipe["seed"], int):
        raise InvalidArgumentError.for_field("seed", recipe["seed"], "must be an integer")
    return recipe


def _resolve(kind: str, which: int) -> Callable[..., Any]:
    target = TRAINERS.get(kind)
    if target is None:
        raise InvalidArgumentError.for_field(
            "kind", kind, f"must be one of {', '.join(sorted(TRAINERS))}"
        )
    module, _, attr = target[which].partition(":")
    fn: Callable[..., Any] = getattr(importlib.import_module(module), attr)
    return fn


def train(
    recipe: Mapping[str, Any], out: Path | None = None, log: Callable[[str], None] = print
) -> Manifest:
    """Train the recipe's kind; write the artifact (``out`` or the recipe's ``output``) and card."""
    trainer = _resolve(str(recipe["kind"]), 0)
    manifest: Manifest = trainer(recipe, Path(out or recipe["output"]), log)
    return manifest


def evaluate(artifact: Path, dataset: Path) -> dict[str, Any]:
    """Recompute an artifact's held-out metrics from ``dataset`` with the query-time code."""
    manifest = read_manifest(artifact)
    result: dict[str, Any] = _resolve(manifest.kind, 1)(artifact, dataset)
    return result
