"""Known benchmarks: name -> space, dataset, fidelity, Hub repo, embedded default.

Building a :class:`~eabench.benchmark.Benchmark` from an artifact folder is
:func:`eabench.loading.from_artifact`; this module holds static facts only.

The manifest fields the query API reads are listed in :mod:`eabench.loading`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from eabench.errors import UnknownBenchmarkError
from eabench.results import Fidelity

__all__ = ["BENCHMARKS", "BenchmarkSpec", "embedded_dir", "get_spec"]


@dataclass(frozen=True, slots=True)
class BenchmarkSpec:
    """Static facts of a named benchmark.

    Attributes:
        name: benchmark name (``eabench.load(name)``).
        space: name of its search space (``eabench.spaces.registry``).
        dataset: dataset name.
        fidelity: fidelity axis and semantics.
        hub_repo: Hugging Face repo id of its published artifacts.
        hub_revision: pinned commit of the artifact this eabench release uses, if published.
        embedded: folder name under ``eabench/_artifacts`` of the default shipped in the wheel.
        how_to_get: what to do when no artifact is available.
        space_options: keyword options of the space (``eabench.spaces.registry.make_space``).
    """

    name: str
    space: str
    dataset: str
    fidelity: Fidelity
    hub_repo: str
    hub_revision: str | None
    embedded: str | None
    how_to_get: str
    space_options: Mapping[str, Any] = field(default_factory=dict)


BENCHMARKS: Mapping[str, BenchmarkSpec] = MappingProxyType(
    {
        "nb101-7v": BenchmarkSpec(
            name="nb101-7v",
            space="nb101-7v",
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
            space="regnet-hpo",
            dataset="cifar10",
            fidelity=Fidelity("epochs", "prefix", 1, 200, (), "max_epochs"),
            hub_repo="eabench/regnet-hpo-cifar10",
            hub_revision=None,
            embedded=None,
            how_to_get=(
                "no RegNet x HPO artifact has been released yet, because no real training runs of "
                "that space exist yet. Once one is published: "
                "`eabench download regnet-hpo-cifar10 --revision <commit>`, then "
                "eabench.load('regnet-hpo-cifar10', revision=<commit>). To build one: on a GPU "
                "node run `bash data_collection/gpu_run.sh` (or `eabench collect "
                "data_collection/sweeps/regnet_hpo_cifar10_gpu.toml`), then `eabench ingest "
                "data_collection/runs/regnet_hpo_cifar10/logs --out "
                "data/regnet-hpo-cifar10-runs.h5`, then `eabench train "
                "surrogates/recipes/regnet-hpo-cifar10.toml`, and load the artifact folder it "
                "writes with eabench.load('surrogates/artifacts/regnet-hpo-cifar10') "
                "(docs/training.md)"
            ),
        ),
    }
)


def get_spec(name: object) -> BenchmarkSpec:
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
