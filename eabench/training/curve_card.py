"""Model card (Markdown) of a ``curve-bcs`` artifact, generated from its manifest.

Text from :data:`KEEP_MARKER` on in an existing card is kept (hand-written sections).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["KEEP_MARKER", "write_card"]

KEEP_MARKER = "<!-- written by hand below this line: eabench train keeps it -->"


def _f(v: Any) -> str:
    return f"{v:.4f}" if isinstance(v, float) else str(v)


def _curve_rows(name: str, m: Mapping[str, Any]) -> list[str]:
    fe = m["final_epoch"]
    per = m["per_epoch_r2"]
    return [
        f"| {name} | {m['n_curves']} | {_f(m['whole_curve_r2'])} | {_f(m['mae'])} | "
        f"{_f(fe['kendall_tau'])} | {_f(fe['r2'])} | "
        + " / ".join(_f(per[k]) for k in sorted(per, key=float))
        + " |"
    ]


def write_card(path: Path, manifest: Mapping[str, Any], artifact_dir: str) -> None:
    """Write the card of ``manifest`` to ``path`` (held-out metrics, split, data, flags)."""
    kept = ""
    if path.is_file():
        old = path.read_text()
        at = old.find(KEEP_MARKER)
        kept = old[at:] if at >= 0 else ""
    m = manifest.get("metrics") or {}
    data = manifest["training_data"]
    lines = [
        f"# Model card: {manifest['name']} {manifest['version']} ({manifest['kind']})",
        "",
        f"Artifact: `{artifact_dir}` (manifest format {manifest['format_version']}); load it with "
        f"`eabench.load({artifact_dir!r})`.",
        f"Space: {manifest['space_name']} (options `{json.dumps(manifest['space_options'])}`), "
        f"dataset {manifest['dataset']}; prefix fidelity up to {manifest['max_epochs']} epochs, "
        f"curves observed to epoch {manifest['observed_epochs'][1]}.",
        f"Training data: `{data['path']}` ({data['id']}), tables {data['tables']}, "
        f"{data['runs']} runs, sources {data['row_sources']}.",
        "**SIMULATED training data: every answer carries the SIMULATED flag.**"
        if manifest.get("simulated")
        else "Measured training data.",
        f"Split: {manifest['split']['rule']}. Counts: `{json.dumps(manifest['split']['counts'])}`.",
        "",
    ]
    if not m:
        lines += ["No held-out metrics (too few held-out runs, or split = 'all').", ""]
    else:
        lines += [
            "Accuracy curves on the test runs (scored once, after every choice):",
            "",
            "| model | curves | whole-curve R^2 | MAE | final-epoch tau | final-epoch R^2 | "
            "R^2 at t/L = 0.1 / 0.25 / 0.5 / 1 |",
            "|---|---|---|---|---|---|---|",
        ]
        if "val_curve" in m:
            lines += _curve_rows("BCS, validation accuracy", m["val_curve"])
        if "test_curve" in m:
            lines += _curve_rows("BCS, test accuracy", m["test_curve"])
        for name, val in (m.get("val_curve_same_rows_as_baselines") or {}).items():
            lines += _curve_rows(f"{name} (rows the baselines cover)", val)
        lines += ["", "Per-epoch time and energy on the test runs:", ""]
        lines += ["| target | model | n | Kendall tau | R^2 | MAE |", "|---|---|---|---|---|---|"]
        t = m.get("time_per_epoch_s")
        if t:
            lines.append(
                f"| s per epoch | GBDT | {t['n']} | {_f(t['kendall_tau'])} | {_f(t['r2'])} | "
                f"{_f(t['mae'])} |"
            )
        for key, val in m.items():
            if not key.startswith("energy_per_epoch_j."):
                continue
            for name, r in val.items():
                if isinstance(r, Mapping):
                    lines.append(
                        f"| J per epoch, {key.split('.', 1)[1]} | {name} | {r['n']} | "
                        f"{_f(r['kendall_tau'])} | {_f(r['r2'])} | {_f(r['mae'])} |"
                    )
            lines.append(
                f"| (shipped: {val.get('shipped')}; within 1 / 2 sd: "
                f"{_f(val.get('within_1sd'))} / {_f(val.get('within_2sd'))}) | | | | | |"
            )
        lines.append("")
    lines += [
        "Meters (first = primary):",
        "",
        *(
            f"- `{k}`: {v['description']}; flags carried by answers: "
            f"{v['training_data_flags'] or 'none'}"
            for k, v in manifest["meter_info"].items()
        ),
        "",
        f"Heads: `{json.dumps({k: v for k, v in manifest['heads'].items() if k != 'energy'})}`.",
        f"Training time (s, this machine): `{json.dumps(manifest['training']['seconds'])}`.",
        f"Licence: {manifest['licence']}. Cite: {manifest['citation'] or 'see training data'}.",
        "",
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + (f"\n{kept}" if kept else ""))
