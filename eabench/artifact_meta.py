"""What an artifact's manifest says about its answers: meters, flags, calibration, fidelity.

Pure functions from manifest fields to the records of :mod:`eabench.results` and
:mod:`eabench.card`; every malformed field raises ``ArtifactError`` naming it.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from eabench._meter_notes import KNOWN_TRAINING_DATA
from eabench.card import Calibration
from eabench.errors import ArtifactError
from eabench.results import Fidelity, MeterProvenance

__all__ = ["answer_flags", "calibration", "epoch_range", "fidelity", "meters"]


def meters(manifest: Mapping[str, Any], ids: tuple[str, ...]) -> dict[str, MeterProvenance]:
    raw = manifest.get("meter_info") or manifest.get("meters") or {}
    if isinstance(raw, list):
        raw = {str(m.get("id", m.get("meter"))): m for m in raw if isinstance(m, Mapping)}
    if not ids:
        raise ArtifactError.for_field("meters", list(ids), "an artifact needs at least one meter")
    out = {}
    for m in ids:
        info = raw.get(m) or {}
        if not isinstance(info, Mapping):
            info = {"description": str(info)}
        if not info.get("training_data_flags") and not info.get("flag_notes"):
            # the manifest says nothing about this meter's data quality: use what eabench knows
            known = KNOWN_TRAINING_DATA.get(m, {})
            info = {**known, **{k: v for k, v in info.items() if v not in (None, "")}}
            if "trained_on" in info and "description" in known:
                info["description"] = f"{info['trained_on']}; {known['description']}"
        if info.get("note"):
            info = {**info, "description": f"{info.get('description', '')} ({info['note']})"}
        notes = dict(info.get("flag_notes") or {})
        if info.get("pue_removed") and "PUE_UNKNOWN" not in notes:
            notes.pop("PUE_APPLIED", None)
            notes["PUE_REMOVED"] = (
                f"the PUE in the training data was divided out: {info['pue_removed']}"
            )
        out[m] = MeterProvenance(
            meter=m,
            description=str(info.get("description", info.get("trained_on", ""))),
            method=str(info.get("method", "unknown")),
            sample_period_s=info.get("sample_period_s"),
            pue_applied=None if info.get("pue_removed") else info.get("pue_applied"),
            simulated=bool(info.get("simulated", False)),
            training_data_flags=frozenset(info.get("training_data_flags", ())) | frozenset(notes),
            flag_notes=MappingProxyType(dict(notes)),
            measured_epochs=epoch_range(info.get("measured_epochs"), f"meter_info.{m}"),
        )
    return out


def epoch_range(raw: Any, where: str) -> tuple[int, int] | None:
    """``[lo, hi]`` from a manifest as an int pair, or None when absent."""
    if raw is None:
        return None
    ok = isinstance(raw, (list, tuple)) and len(raw) == 2
    ok = ok and all(isinstance(v, int) and not isinstance(v, bool) for v in raw)
    if not ok or raw[0] > raw[1]:
        raise ArtifactError.for_field(f"{where}.measured_epochs", raw, "must be [lo, hi] ints")
    return int(raw[0]), int(raw[1])


def answer_flags(raw: Any) -> dict[str, str]:
    """The manifest's ``answer_flags`` (code -> reason), flags carried by every answer."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping) or not all(
        isinstance(k, str) and k and isinstance(v, str) for k, v in raw.items()
    ):
        raise ArtifactError.for_field("answer_flags", raw, "must map flag codes to reasons (str)")
    return dict(raw)


def calibration(cal: Any) -> Calibration | None:
    if not cal:
        return None
    try:
        return Calibration(
            calibration_id=str(cal["calibration_id"]),
            p_off_lo_w=float(cal["p_off_lo_w"]),
            p_off_hi_w=float(cal["p_off_hi_w"]),
            delta_on=float(cal.get("delta_on", 0.0)),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ArtifactError.for_field(
            "manifest.calibration", cal, "needs calibration_id, p_off_lo_w, p_off_hi_w"
        ) from exc


def fidelity(raw: Any) -> Fidelity | None:
    """The manifest's ``query_fidelity`` (``Fidelity.to_dict`` form), or None when absent."""
    if raw is None:
        return None
    try:
        semantics = raw["semantics"]
        if semantics not in ("schedule", "prefix"):
            raise ValueError(f"semantics {semantics!r}")
        lo, hi = int(raw["min_epochs"]), int(raw["max_epochs"])
        if not 1 <= lo <= hi:
            raise ValueError("need 1 <= min_epochs <= max_epochs")
        field = raw.get("max_epochs_field")
        return Fidelity(
            name="epochs",
            semantics=semantics,
            min_epochs=lo,
            max_epochs=hi,
            budgets=tuple(int(b) for b in raw.get("budgets") or ()),
            max_epochs_field=None if field is None else str(field),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ArtifactError.for_field("manifest.query_fidelity", raw, f"malformed ({exc})") from exc
