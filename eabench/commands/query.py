"""``eabench query NAME``: ask a benchmark about one config (or a list of configs).

Examples::

    eabench query nb101-7v --example --epochs 108          # the embedded default, offline
    eabench query nb101-7v --config cell.json --epochs 36 --json
    eabench query nb101-7v --config cells.json --epochs 108 --json   # a JSON list -> batch
    eabench query nb101-7v --describe --json                # fidelity, metrics, card

``--json`` prints the result's ``to_dict()`` (stable keys) for optimisers in other languages.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from eabench.errors import InvalidArgumentError

__all__ = ["EXAMPLES", "register", "run"]

EXAMPLES: dict[str, dict[str, Any]] = {
    # The Inception-like example cell of the NAS-Bench-101 README (9 edges, 7 vertices).
    "nb101-7v": {
        "matrix": [
            [0, 1, 1, 1, 0, 1, 0],
            [0, 0, 0, 0, 0, 0, 1],
            [0, 0, 0, 0, 0, 0, 1],
            [0, 0, 0, 0, 1, 0, 0],
            [0, 0, 0, 0, 0, 0, 1],
            [0, 0, 0, 0, 0, 0, 1],
            [0, 0, 0, 0, 0, 0, 0],
        ],
        "ops": [
            "input",
            "conv1x1-bn-relu",
            "conv3x3-bn-relu",
            "conv3x3-bn-relu",
            "conv3x3-bn-relu",
            "maxpool3x3",
            "output",
        ],
    },
}


def register(sub: Any) -> None:
    """Add the ``query`` subcommand to ``sub`` (an argparse subparsers object)."""
    p = sub.add_parser("query", help="query a benchmark: curve, accuracy, time, per-meter energy")
    p.add_argument("name", help="benchmark name, e.g. nb101-7v")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--config", help="JSON file with one config (object) or many (list)")
    src.add_argument("--config-json", help="the config as a JSON string")
    src.add_argument("--example", action="store_true", help="query the benchmark's example config")
    src.add_argument("--describe", action="store_true", help="print the benchmark's facts only")
    p.add_argument("--epochs", type=int, help="epoch count (default: the largest)")
    p.add_argument("--kind", default="surrogate", choices=("surrogate", "table"))
    p.add_argument("--revision", help="Hub commit of the artifact (default: the embedded one)")
    p.add_argument("--cache-dir", help="Hugging Face cache folder")
    p.add_argument("--offline", action="store_true", default=None, help="use only the cache")
    p.add_argument("--carbon", type=float, metavar="G_PER_KWH", help="also report gCO2e")
    p.add_argument("--pue", type=float, help="PUE applied before the carbon conversion")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)


def _config(args: argparse.Namespace) -> Any:
    if args.example:
        if args.name not in EXAMPLES:
            raise InvalidArgumentError.for_field("--example", args.name, "no example config")
        return EXAMPLES[args.name]
    if args.config_json is not None:
        text = args.config_json
    elif args.config is not None:
        text = Path(args.config).read_text(encoding="utf-8")
    else:
        raise InvalidArgumentError.for_field(
            "config", None, "give --config FILE, --config-json JSON, --example or --describe"
        )
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidArgumentError.for_field("config", text[:80], f"is not JSON ({exc})") from exc


def _sd(res: Any, key: str, fmt: str) -> str:
    """`` (sd X)`` when the answer carries a predictive sd for ``key``, else ``""``."""
    sd = res.uncertainty.get(key)
    return "" if sd is None else f" (sd {sd:{fmt}})"


def _human(res: Any, carbon: Any) -> str:
    lines = [
        f"config_id      {res.config_id}",
        f"epochs         {res.epochs}",
        f"val_accuracy   {res.val_accuracy:.4f}{_sd(res, 'val_accuracy_std', '.4f')}",
        f"test_accuracy  {'n/a' if res.test_accuracy is None else f'{res.test_accuracy:.4f}'}",
        f"train_time_s   {res.train_time_s:.1f}",
        f"energy_j       {res.energy_j:.1f}{_sd(res, 'energy_j_std', '.1f')} "
        f"({res.energy_j / 3600:.3f} Wh, {res.primary_meter})",
    ]
    for meter, est in res.energy_by_meter.items():
        flags = ",".join(sorted(est.flags)) or "-"
        lines.append(f"  {meter:<22} {est.energy_j:12.1f} J   flags: {flags}")
    if res.holistic_energy_j is not None:
        lo, hi = res.holistic_energy_j
        lines.append(f"holistic_j     [{lo:.1f}, {hi:.1f}]")
    if carbon is not None:
        lines.append(
            f"co2e_g         {carbon.co2e_g:.3f} (at {carbon.grid_intensity_g_per_kwh} g/kWh, "
            f"PUE {carbon.pue})"
        )
    lines.append(f"flags          {', '.join(sorted(res.flags)) or '-'}")
    prov = res.provenance
    lines.append(
        f"provenance     {prov.artifact_name} {prov.artifact_version} ({prov.kind}, {prov.source},"
        f" manifest sha256 {prov.artifact_sha256[:12]})"
    )
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Run the query; exit status 0."""
    from eabench.carbon import to_co2e
    from eabench.loading import load

    bench = load(
        args.name,
        kind=args.kind,
        revision=args.revision,
        cache_dir=args.cache_dir,
        offline=args.offline,
    )
    if args.describe:
        facts = bench.describe()
        if args.json:
            print(json.dumps(facts, indent=2, default=str))
        else:
            for key, value in facts.items():
                shown = json.dumps(value, default=str) if isinstance(value, (dict, list)) else value
                print(f"{key:<14} {shown}")
        return 0
    config = _config(args)
    epochs = bench.fidelity.max_epochs if args.epochs is None else args.epochs
    batch = isinstance(config, list)
    res = bench.query_batch(config, epochs) if batch else bench.query(config, epochs)
    carbon = None
    if args.carbon is not None:
        carbon = to_co2e(res, args.carbon, pue=args.pue)
    if args.json or batch:
        out = res.to_dict()
        if carbon is not None:
            out["carbon"] = carbon.to_dict()
        json.dump(out, sys.stdout, indent=None if batch else 2)
        print()
    else:
        print(_human(res, carbon))
    return 0
