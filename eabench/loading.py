"""Getting a :class:`~eabench.benchmark.Benchmark`: :func:`load` (by name or folder) and
:func:`from_artifact`.

An artifact is a folder with ``manifest.json`` and the files it lists with their sha256
(:mod:`eabench.manifest`). Its surrogate is loaded by the loader of ``manifest.kind``
(:mod:`eabench.surrogates.registry`); the search space by name (:mod:`eabench.spaces.registry`).

Manifest fields the query API reads besides the required ones (all optional; see docs/query.md):
``benchmark``, ``dataset``, ``simulated``, ``training_data`` (``{"id": ...}`` or a string) or
``data_id``, ``split``, ``held_out_metrics`` or ``metrics``, ``licence``/``license``,
``citation``, ``notes``, ``meter_info`` or ``meters`` (meter id -> ``{description, method,
sample_period_s, pue_applied, pue_removed, simulated, training_data_flags, flag_notes,
measured_epochs, trained_on, note}``), ``training_support`` (``{feature_min, feature_max}``),
``uncertainty_thresholds`` (``{val_accuracy_std, energy_rel_std}``), ``calibration``
(``{calibration_id, p_off_lo_w, p_off_hi_w, delta_on}``), ``observed_epochs`` (``[lo, hi]``),
``answer_flags`` (code -> reason), ``space_options`` (keyword options of the space),
``query_fidelity`` (``Fidelity.to_dict()`` form; else the registered benchmark's), ``table_file``
(the measured table of ``kind="table"``, default ``table.npz``; it must be a listed file) and
``has_test_accuracy``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from eabench import __version__, artifact_meta, hub, registry
from eabench.benchmark import Benchmark
from eabench.card import BenchmarkCard, standard_metrics
from eabench.errors import (
    ArtifactError,
    EabenchError,
    InvalidArgumentError,
    UnknownBenchmarkError,
)
from eabench.kinds import SurrogateBenchmark, TableBenchmark, meter_order
from eabench.manifest import MANIFEST_FILE, Manifest, read_manifest, verify_folder
from eabench.results import SIMULATED, Fidelity, Provenance
from eabench.spaces.base import SearchSpace
from eabench.spaces.registry import make_space
from eabench.surrogates.base import Surrogate
from eabench.surrogates.registry import load_surrogate
from eabench.table import read_table

__all__ = ["Loader", "from_artifact", "load"]

Loader = Callable[[Path, Manifest], Surrogate]
_KINDS = ("surrogate", "table")


def _space_for(
    manifest: Manifest, spec: registry.BenchmarkSpec | None, given: Any
) -> SearchSpace[Any]:
    if given is not None:
        space: SearchSpace[Any] = given
        return space
    options = manifest.get("space_options")
    if options is not None and not isinstance(options, Mapping):
        raise InvalidArgumentError.for_field("manifest.space_options", options, "must be an object")
    if spec is not None and options is None:
        return make_space(spec.space, spec.space_options)
    return make_space(manifest.space_name, options)


def from_artifact(
    path: str | os.PathLike[str],
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
    """Build a benchmark from an artifact folder (self-built, air-gapped, or from the Hub).

    Args:
        path: the artifact folder (``manifest.json`` + files).
        kind: ``"surrogate"`` or ``"table"``.
        name: benchmark name; defaults to the manifest's ``benchmark``, else its ``name``.
        space, fidelity: override the space named by the manifest (or the registered
            benchmark) and the fidelity of the manifest's ``query_fidelity`` (or the registered
            benchmark's).
        loader: turns the folder into a ``Surrogate`` (default: the loader of
            ``manifest.kind``).
        source, hub_repo, hub_revision: recorded in the provenance.
        verify: check every file's sha256 against the manifest first.

    Raises:
        ArtifactError: malformed manifest or files (any malformed field, including a space or
            fidelity the manifest names wrongly); ChecksumMismatchError: a file was changed;
        InvalidArgumentError: bad ``kind``.
    """
    if kind not in _KINDS:
        raise InvalidArgumentError.for_field("kind", kind, "must be 'surrogate' or 'table'")
    folder = Path(path)
    manifest = read_manifest(folder)
    if verify:
        verify_folder(folder, manifest)
    try:
        return _build(
            folder, manifest, kind, name, space, fidelity, loader, source, hub_repo, hub_revision
        )
    except ArtifactError:
        raise
    except (EabenchError, KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
        # the manifest's content (not the caller's arguments, checked above) was malformed
        raise ArtifactError.for_field(
            "manifest.json", str(folder), f"a field is missing or malformed ({exc})"
        ) from exc


def _build(
    folder: Path,
    manifest: Manifest,
    kind: str,
    name: str | None,
    space: Any,
    fidelity: Fidelity | None,
    loader: Loader | None,
    source: str,
    hub_repo: str | None,
    hub_revision: str | None,
) -> Benchmark:
    bench_name = name or str(manifest.get("benchmark") or manifest.name)
    spec = registry.BENCHMARKS.get(bench_name)
    space_obj = _space_for(manifest, spec, space)
    if fidelity is None:
        fidelity = artifact_meta.fidelity(manifest.get("query_fidelity"))
    if fidelity is None:
        if spec is None:
            raise ArtifactError.for_field(
                "query_fidelity", None, "the manifest has none and the benchmark is unknown"
            )
        fidelity = spec.fidelity
    surrogate = loader(folder, manifest) if loader is not None else load_surrogate(folder, manifest)
    return _assemble(
        folder,
        manifest,
        kind,
        bench_name,
        spec,
        space_obj,
        fidelity,
        surrogate,
        source=source,
        hub_repo=hub_repo,
        hub_revision=hub_revision,
    )


def _assemble(
    folder: Path,
    manifest: Manifest,
    kind: str,
    bench_name: str,
    spec: registry.BenchmarkSpec | None,
    space_obj: SearchSpace[Any],
    fidelity: Fidelity,
    surrogate: Surrogate,
    *,
    source: str,
    hub_repo: str | None,
    hub_revision: str | None,
) -> Benchmark:
    """The benchmark object of a loaded artifact (manifest fields read here)."""
    table = None
    if kind == "table":
        table = read_table(manifest.path_of(folder, "table_file", "table.npz"), manifest)
    meters = artifact_meta.meters(manifest, meter_order(surrogate, table))
    simulated = bool(manifest.get("simulated", False)) or any(m.simulated for m in meters.values())
    data = manifest.get("training_data", manifest.get("data_id", ""))
    data_id = str(data.get("id", "")) if isinstance(data, Mapping) else str(data)
    dataset = str(manifest.get("dataset", spec.dataset if spec else ""))
    observed = manifest.get("observed_epochs")
    kwargs: dict[str, Any] = {
        "name": bench_name,
        "space": space_obj,
        "fidelity": fidelity,
        "metrics": standard_metrics(has_test=bool(manifest.get("has_test_accuracy", True))),
        "card": BenchmarkCard(
            name=bench_name,
            space=space_obj.name,
            dataset=dataset,
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
            space=space_obj.name,
            dataset=dataset,
            artifact_name=manifest.name,
            artifact_version=manifest.version,
            artifact_sha256=manifest.sha256,
            training_data_id=data_id,
            source=source,
            hub_repo=hub_repo,
            hub_revision=hub_revision,
            eabench_version=__version__,
        ),
        "meters": meters,
        "base_flags": frozenset({SIMULATED}) if simulated else frozenset(),
        "answer_flags": artifact_meta.answer_flags(manifest.get("answer_flags")),
        "calibration": artifact_meta.calibration(manifest.get("calibration")),
        "observed_epochs": artifact_meta.epoch_range(observed, "manifest.observed_epochs"),
    }
    if table is not None:
        return TableBenchmark(table=table, surrogate=surrogate, **kwargs)
    return SurrogateBenchmark(surrogate=surrogate, **kwargs)


def _as_folder(name: Any) -> Path | None:
    """``name`` as an artifact folder when it is a path (not a registered benchmark name)."""
    if isinstance(name, os.PathLike):
        return Path(name)
    if isinstance(name, str) and name not in registry.BENCHMARKS:
        p = Path(name)
        if (p / MANIFEST_FILE).is_file() or "/" in name or os.sep in name:
            return p
    return None


def load(
    name: str | os.PathLike[str],
    kind: str = "surrogate",
    revision: str | None = None,
    cache_dir: str | None = None,
    offline: bool | None = None,
) -> Benchmark:
    """Load benchmark ``name`` (``"nb101-7v"``, ``"regnet-hpo-cifar10"``) or an artifact folder.

    A path (``pathlib.Path`` or a string naming a folder with ``manifest.json``, or containing a
    ``/``) loads the artifact there, e.g. one that ``eabench train`` wrote, after checking every
    file's sha256. For a name, ``revision=None`` uses the default embedded in the wheel (no
    network), or, if the wheel has none, the revision this eabench release pins on the Hub; with a
    ``revision`` (a commit of the benchmark's Hub repo) the artifact is downloaded into the
    Hugging Face cache (or found there) and verified against its manifest's sha256.

    Args:
        name: benchmark name or artifact folder.
        kind: ``"surrogate"`` (predictions for any config) or ``"table"`` (measured configs only,
            with their measured values, flagged ``MEASURED``).
        revision: Hub commit of the artifact; None for the embedded/pinned default.
        cache_dir: Hugging Face cache folder (default: the standard one).
        offline: only use the cache (default: ``HF_HUB_OFFLINE``).

    Raises:
        UnknownBenchmarkError: unknown name, or no artifact available (the message says how to
            download or build one).
        ArtifactError: the folder is not a valid artifact (ChecksumMismatchError: changed file).
        NotCachedError: offline and the revision is not cached (names the command to run).
    """
    if kind not in _KINDS:
        raise InvalidArgumentError.for_field("kind", kind, "must be 'surrogate' or 'table'")
    folder = _as_folder(name)
    if folder is not None:
        if revision is not None:
            raise InvalidArgumentError.for_field("revision", revision, "not used for a folder")
        return from_artifact(folder, kind=kind, source="path")
    spec = registry.get_spec(name)
    if revision is None:
        embedded = registry.embedded_dir(spec)
        if embedded is not None:
            return from_artifact(embedded, kind=kind, name=spec.name, source="embedded")
        if spec.hub_revision is None:
            raise UnknownBenchmarkError(
                f"{spec.name}: no artifact available: {spec.how_to_get}",
                field="name",
                value=spec.name,
                rule="needs an artifact",
            )
        revision = spec.hub_revision
    fetched, commit = hub.fetch(
        spec.hub_repo, revision, name=spec.name, cache_dir=cache_dir, offline=offline
    )
    return from_artifact(
        fetched,
        kind=kind,
        name=spec.name,
        source="hub",
        hub_repo=spec.hub_repo,
        hub_revision=commit,
        verify=False,  # fetch() verified every file against the manifest
    )
