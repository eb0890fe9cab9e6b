"""Known benchmarks and how to build a :class:`~eabench.benchmark.Benchmark` from an artifact.

An artifact is a folder with ``manifest.json`` (and the files it lists, each with its sha256),
loaded by ``eabench.surrogates.artifact.load_artifact`` into an object implementing the
``Surrogate`` protocol, plus, for ``kind="table"``, a measured ``table.npz`` (``eabench.table``).

Manifest fields the query API reads (all optional except ``files``; see docs/query.md):
``name``, ``version``, ``dataset``, ``simulated``, ``training_data`` (``{"id": ...}`` or a string),
``split``, ``held_out_metrics``, ``licence``/``license``, ``citation``, ``notes``,
``meters`` (meter id -> ``{description, method, sample_period_s, pue_applied, simulated,
training_data_flags, flag_notes}``), ``training_support`` (``{feature_min, feature_max}``),
``uncertainty_thresholds`` (``{val_accuracy_std, energy_rel_std}``), ``calibration``
(``{calibration_id, p_off_lo_w, p_off_hi_w, delta_on}``), ``observed_epochs`` (``[lo, hi]``),
``table`` (file name of the measured table, default ``table.npz``). The names written by
``eabench.surrogates.artifact`` are accepted too: ``space_name``, ``data_id``, ``metrics``, and
``meters`` entries ``{trained_on, pue_removed}``.
"""

from __future__ import annotations

import hashlib
import importlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from eabench import __version__
from eabench._meter_notes import KNOWN_TRAINING_DATA
from eabench.benchmark import Benchmark, BenchmarkCard, Calibration, standard_metrics
from eabench.errors import ArtifactError, InvalidArgumentError, UnknownBenchmarkError
from eabench.results import SIMULATED, Fidelity, MeterProvenance, Provenance
from eabench.surrogates.base import Surrogate

__all__ = [
    "BENCHMARKS",
    "BenchmarkSpec",
    "embedded_dir",
    "from_artifact",
    "get_spec",
    "read_manifest",
]

Loader = Callable[[Path], Surrogate]


@dataclass(frozen=True, slots=True)
class BenchmarkSpec:
    """Static facts of a named benchmark.

    Attributes:
        name: benchmark name (``eabench.load(name)``).
        space: ``"module:Class"`` of its search space (imported lazily).
        dataset: dataset name.
        fidelity: fidelity axis and semantics.
        hub_repo: Hugging Face repo id of its published artifacts.
        hub_revision: pinned commit of the artifact this eabench release uses, if published.
        embedded: folder name under ``eabench/_artifacts`` of the default shipped in the wheel.
        how_to_get: what to do when no artifact is available.
    """

    name: str
    space: str
    dataset: str
    fidelity: Fidelity
    hub_repo: str
    hub_revision: str | None
    embedded: str | None
    how_to_get: str


BENCHMARKS: Mapping[str, BenchmarkSpec] = MappingProxyType(
    {
        "nb101-7v": BenchmarkSpec(
            name="nb101-7v",
            space="eabench.spaces.nb101:NB101Space",
            dataset="cifar10",
            fidelity=Fidelity("epochs", "schedule", 4, 108, (4, 12, 36, 108)),
            hub_repo="eabench/nb101-7v",
            hub_revision=None,
            embedded="nb101-7v",
            how_to_get=(
                "the default artifact ships inside the eabench wheel "
                "(eabench/_artifacts/nb101-7v); reinstall eabench, or download a published one "
                "with `eabench download nb101-7v --revision <commit>`, or build one with "
                "`eabench train surrogates/recipes/nb101-7v.toml`"
            ),
        ),
        "regnet-hpo-cifar10": BenchmarkSpec(
            name="regnet-hpo-cifar10",
            space="eabench.spaces.regnet_hpo:RegNetHPOSpace",
            dataset="cifar10",
            fidelity=Fidelity("epochs", "prefix", 1, 200, (), "max_epochs"),
            hub_repo="eabench/regnet-hpo-cifar10",
            hub_revision=None,
            embedded=None,
            how_to_get=(
                "no RegNet x HPO artifact has been released yet, because no real training runs of "
                "that space exist yet. Get one once published with "
                "`eabench download regnet-hpo-cifar10 --revision <commit>` (then "
                "eabench.load('regnet-hpo-cifar10', revision=<commit>)), or build one: collect "
                "runs with `eabench collect data_collection/sweeps/regnet-hpo-cifar10.toml`, fit "
                "with `eabench train surrogates/recipes/regnet-hpo-cifar10.toml --out DIR`, and "
                "load it with eabench.benchmark.from_artifact(DIR)"
            ),
        ),
    }
)


def get_spec(name: str) -> BenchmarkSpec:
    """The spec of benchmark ``name``; raises ``UnknownBenchmarkError`` listing the known ones."""
    spec = BENCHMARKS.get(name) if isinstance(name, str) else None
    if spec is None:
        raise UnknownBenchmarkError(
            f"name = {name!r}: unknown benchmark; known: {', '.join(sorted(BENCHMARKS))}",
            field="name",
            value=name,
            rule="must be a known benchmark",
        )
    return spec


def embedded_dir(spec: BenchmarkSpec) -> Path | None:
    """The embedded default artifact folder of ``spec``, or None if the wheel has none."""
    if spec.embedded is None:
        return None
    path = Path(__file__).resolve().parent / "_artifacts" / spec.embedded
    return path if (path / "manifest.json").is_file() else None


def read_manifest(folder: Path) -> tuple[dict[str, Any], str]:
    """``(manifest, sha256 of manifest.json)`` of an artifact folder."""
    path = Path(folder) / "manifest.json"
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ArtifactError.for_field("artifact", str(folder), "has no manifest.json") from exc
    try:
        manifest = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ArtifactError.for_field("manifest.json", str(path), f"is not JSON ({exc})") from exc
    if not isinstance(manifest, dict):
        raise ArtifactError.for_field("manifest.json", str(path), "must hold a JSON object")
    return manifest, hashlib.sha256(raw).hexdigest()


def _default_loader(path: Path) -> Surrogate:
    try:
        module = importlib.import_module("eabench.surrogates.artifact")
    except ImportError as exc:  # pragma: no cover - depends on the surrogates module
        raise ArtifactError.for_field(
            "artifact", str(path), "cannot be loaded: eabench.surrogates.artifact is missing"
        ) from exc
    # from_artifact verified every file first (or hub.fetch did): no second sha256 pass
    surrogate: Surrogate = module.load_artifact(path, verify=False)
    return surrogate


def _make_space(spec_space: str) -> Any:
    module_name, _, attr = spec_space.partition(":")
    try:
        cls = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise UnknownBenchmarkError(f"search space {spec_space} is not available: {exc}") from exc
    return cls()


def _meters(manifest: Mapping[str, Any], ids: tuple[str, ...]) -> dict[str, MeterProvenance]:
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
        if info.get("pue_removed"):
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
            measured_epochs=_epoch_range(info.get("measured_epochs"), f"meter_info.{m}"),
        )
    return out


def _epoch_range(raw: Any, where: str) -> tuple[int, int] | None:
    """``[lo, hi]`` from a manifest as an int pair, or None when absent."""
    if raw is None:
        return None
    ok = isinstance(raw, (list, tuple)) and len(raw) == 2
    ok = ok and all(isinstance(v, int) and not isinstance(v, bool) for v in raw)
    if not ok or raw[0] > raw[1]:
        raise ArtifactError.for_field(f"{where}.measured_epochs", raw, "must be [lo, hi] ints")
    return int(raw[0]), int(raw[1])


def _answer_flags(raw: Any) -> dict[str, str]:
    """The manifest's ``answer_flags`` (code -> reason), flags carried by every answer."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping) or not all(
        isinstance(k, str) and k and isinstance(v, str) for k, v in raw.items()
    ):
        raise ArtifactError.for_field("answer_flags", raw, "must map flag codes to reasons (str)")
    return dict(raw)


def _calibration(cal: Any) -> Calibration | None:
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


def from_artifact(
    path: str | Path,
    *,
    kind: str = "surrogate",
    name: str | None = None,
    space: Any = None,
    fidelity: Fidelity | None = None,
    loader: Loader | None = None,
    source: str = "path",
    hub_repo: str | None = None,
    hub_revision: str | None = None,
    verify: bool = True,
) -> Benchmark:
    """Build a benchmark from an artifact folder (for air-gapped clusters and self-built ones).

    Args:
        path: the artifact folder (``manifest.json`` + files).
        kind: ``"surrogate"`` or ``"table"``.
        name: benchmark name; defaults to the manifest's ``benchmark`` or ``name``.
        space, fidelity: override the registered ones (needed for unregistered benchmarks).
        loader: turns the folder into a ``Surrogate`` (default:
            ``eabench.surrogates.artifact.load_artifact``).
        source, hub_repo, hub_revision: recorded in the provenance.
        verify: check every file's sha256 against the manifest first.
    """
    from eabench.hub import verify_folder  # local: hub imports huggingface_hub lazily anyway
    from eabench.kinds import SurrogateBenchmark, TableBenchmark, meter_order
    from eabench.table import read_table

    if kind not in ("surrogate", "table"):
        raise InvalidArgumentError.for_field("kind", kind, "must be 'surrogate' or 'table'")
    folder = Path(path)
    manifest, manifest_sha = read_manifest(folder)
    if verify:
        verify_folder(folder, manifest)
    bench_name = name or str(
        manifest.get("benchmark")
        or manifest.get("space_name")
        or manifest.get("name")
        or folder.name
    )
    spec = BENCHMARKS.get(bench_name)
    if space is None:
        if spec is None:
            raise InvalidArgumentError.for_field("space", None, "required for unknown benchmarks")
        space = _make_space(spec.space)
    if fidelity is None:
        if spec is None:
            raise InvalidArgumentError.for_field(
                "fidelity", None, "required for unknown benchmarks"
            )
        fidelity = spec.fidelity
    surrogate = (loader or _default_loader)(folder)
    table = None
    if kind == "table":
        table_name = manifest.get("table")
        table_name = table_name if isinstance(table_name, str) else "table.npz"
        if not (folder / table_name).is_file():
            raise ArtifactError.for_field("table", str(folder / table_name), "does not exist")
        table = read_table(folder / table_name, manifest)
    meters = _meters(manifest, meter_order(surrogate, table))
    simulated = bool(manifest.get("simulated", False)) or any(m.simulated for m in meters.values())
    data = manifest.get("training_data", manifest.get("data_id", ""))
    data_id = str(data.get("id", "")) if isinstance(data, Mapping) else str(data)
    cal = manifest.get("calibration")
    observed = manifest.get("observed_epochs")
    kwargs: dict[str, Any] = {
        "name": bench_name,
        "space": space,
        "fidelity": fidelity,
        "metrics": standard_metrics(has_test=bool(manifest.get("has_test_accuracy", True))),
        "card": BenchmarkCard(
            name=bench_name,
            space=str(getattr(space, "name", "")),
            dataset=str(manifest.get("dataset", spec.dataset if spec else "")),
            training_data=data,
            split=manifest.get("split", "not stated in the manifest"),
            held_out_metrics=dict(manifest.get("held_out_metrics", manifest.get("metrics", {}))),
            licence=str(manifest.get("licence", manifest.get("license", "not stated"))),
            citation=str(manifest.get("citation", "")),
            notes=str(manifest.get("notes", "")),
        ),
        "provenance": Provenance(
            benchmark=bench_name,
            kind=kind,
            space=str(getattr(space, "name", "")),
            dataset=str(manifest.get("dataset", spec.dataset if spec else "")),
            artifact_name=str(manifest.get("name", folder.name)),
            artifact_version=str(manifest.get("version", "unknown")),
            artifact_sha256=manifest_sha,
            training_data_id=data_id,
            source=source,
            hub_repo=hub_repo,
            hub_revision=hub_revision,
            eabench_version=__version__,
        ),
        "meters": meters,
        "base_flags": frozenset({SIMULATED}) if simulated else frozenset(),
        "answer_flags": _answer_flags(manifest.get("answer_flags")),
        "calibration": _calibration(cal),
        "observed_epochs": None if not observed else (int(observed[0]), int(observed[1])),
    }
    if kind == "table":
        assert table is not None
        return TableBenchmark(table=table, surrogate=surrogate, **kwargs)
    return SurrogateBenchmark(surrogate=surrogate, **kwargs)
