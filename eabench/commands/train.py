"""``eabench train RECIPE.toml``: train a surrogate; write its artifact and model card."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from eabench.errors import InvalidArgumentError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

__all__ = ["load_recipe", "register"]

_REQUIRED = ("name", "version", "space", "seed", "dataset", "output", "card")


def register(sub: Any) -> None:
    """Add the ``train`` subcommand to ``sub`` (an argparse subparsers object)."""
    p = sub.add_parser("train", help="train a surrogate from a TOML recipe (needs eabench[train])")
    p.add_argument("recipe", type=Path, help="recipe TOML, e.g. surrogates/recipes/nb101-7v.toml")
    p.add_argument("--output", type=Path, help="artifact directory (default: the recipe's)")
    p.add_argument(
        "--space-outputs-only",
        action="store_true",
        help="do not train: (re)write space_outputs.npz of the existing artifact (materialised "
        "head outputs of every 7V cell) and its manifest entry",
    )
    p.set_defaults(func=run)


def load_recipe(path: Path) -> dict[str, Any]:
    """Parse and check a recipe TOML.

    Raises:
        InvalidArgumentError: unreadable file, bad TOML, a missing key or an unknown space.
    """
    try:
        recipe: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InvalidArgumentError.for_field("recipe", str(path), f"unreadable: {exc}") from exc
    for key in _REQUIRED:
        if key not in recipe:
            raise InvalidArgumentError.for_field("recipe", key, "required key missing")
    if recipe["space"] != "nb101-7v":
        raise InvalidArgumentError.for_field("space", recipe["space"], "only nb101-7v recipes")
    return recipe


def run(args: argparse.Namespace) -> int:
    """Train, write the artifact and the card; print where they went."""
    from eabench.surrogates.fit import train_nb101_7v
    from eabench.surrogates.publish import write_artifact, write_card
    from eabench.surrogates.sources import load_nb101_7v
    from eabench.surrogates.space_outputs import add_space_outputs

    recipe = load_recipe(args.recipe)
    out = args.output or Path(recipe["output"])
    if args.space_outputs_only:
        manifest = add_space_outputs(out)
        print(f"artifact: {out} ({len(manifest['files'])} files)")
        return 0
    t0 = time.perf_counter()
    data = load_nb101_7v(Path(recipe["dataset"]))
    load_s = time.perf_counter() - t0
    result = train_nb101_7v(data, recipe)
    result.seconds["load_data"] = load_s
    result.seconds["total"] = time.perf_counter() - t0
    manifest = write_artifact(out, result, recipe)
    if recipe.get("space_outputs", True):  # the export step: materialise every cell's heads
        t1 = time.perf_counter()
        manifest = add_space_outputs(out)
        print(f"space outputs: {time.perf_counter() - t1:.0f} s")
    write_card(Path(recipe["card"]), manifest, str(out))
    print(f"artifact: {out} ({len(manifest['files'])} files); card: {recipe['card']}")
    for key, val in manifest["metrics"].items():
        print(f"{key}: {val}")
    return 0
