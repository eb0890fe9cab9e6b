"""``eabench train RECIPE.toml``: train a surrogate of any space; write its artifact and card."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

__all__ = ["register"]


def register(sub: Any) -> None:
    """Add the ``train`` subcommand to ``sub`` (an argparse subparsers object)."""
    p = sub.add_parser("train", help="train a surrogate from a TOML recipe (needs eabench[train])")
    p.add_argument(
        "recipe", type=Path, help="recipe TOML, e.g. surrogates/recipes/regnet-hpo-cifar10.toml"
    )
    p.add_argument("--output", type=Path, help="artifact directory (default: the recipe's)")
    p.add_argument(
        "--space-outputs-only",
        action="store_true",
        help="7V artifacts only: do not train; (re)write space_outputs.npz of the existing "
        "artifact (materialised head outputs of every 7V cell) and its manifest entry",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Train, write the artifact and the card; print where they went and the held-out metrics."""
    from eabench.training.recipes import load_recipe, train

    recipe = load_recipe(args.recipe)
    out = args.output or Path(recipe["output"])
    if args.space_outputs_only:
        from eabench.training.nb101_export import add_space_outputs

        manifest = add_space_outputs(out)
        print(f"artifact: {out} ({len(manifest.files)} files)")
        return 0
    manifest = train(recipe, out)
    print(f"artifact: {out} ({len(manifest.files)} files); card: {recipe['card']}")
    for key, val in (manifest.get("metrics") or {}).items():
        print(f"{key}: {json.dumps(val)}")
    return 0
