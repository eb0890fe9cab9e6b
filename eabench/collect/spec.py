"""Sweep specifications: the TOML file that ``eabench collect`` turns into run logs.

A sweep spec names what to train (space, dataset, sampler or an explicit config list), how to
train it (the protocol), how to measure it (meters and polling rates, calibration profile), where
to write (output directory) and who runs it (executor). Every field is validated on load; a bad
field raises :class:`~eabench.errors.InvalidArgumentError` naming the field, value and rule.

Relative paths in a spec are resolved against the directory of the spec file, so a spec under
``data_collection/sweeps/`` works from any working directory. The layout (all tables optional
except ``[sweep]``)::

    [sweep]       name, space ("regnet-hpo" | "nb101-7v"), dataset ("cifar10"), output_dir, seed
    [sampler]     kind ("random" | "list"), seed, num_configs, constraints (bool), configs
                  (inline tables) or configs_file (a JSON list of config objects)
    [protocol]    batch_size, eval_batch_size, amp, eval_every_epoch, val_size, split_seed,
                  train_limit, val_limit, test_limit, epoch_limit, budgets, device, num_threads
    [data]        source (CIFAR-10 JPEG pack), cache_dir
    [meters]      names, fake, rates_hz (table meter -> Hz)
    [calibration] profile (path to a calibration profile JSON, optional)
    [executor]    kind ("pool" | "inprocess" | "slurm" | "submitit-local" | "submitit-debug"),
                  workers, and SLURM parameters (partition, timeout_min, gpus_per_node,
                  cpus_per_task, mem_gb, array_parallelism, account, qos)
"""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eabench.collect.protocol import Protocol, parse_protocol
from eabench.errors import InvalidArgumentError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

__all__ = [
    "EXECUTORS",
    "FAKEABLE_METER_IDS",
    "SAMPLERS",
    "SPACES",
    "SWEEP_METER_IDS",
    "DataSpec",
    "ExecutorSpec",
    "MeterSpec",
    "SamplerSpec",
    "SweepSpec",
    "check_meter_names",
    "load_spec",
    "parse_spec",
]

SPACES: tuple[str, ...] = ("regnet-hpo", "nb101-7v")
DATASETS: tuple[str, ...] = ("cifar10",)
SAMPLERS: tuple[str, ...] = ("random", "list")
EXECUTORS: tuple[str, ...] = ("pool", "inprocess", "slurm", "submitit-local", "submitit-debug")
#: Meter ids a sweep may list (``node.external`` needs a CSV, aligned after the fact by ingest).
SWEEP_METER_IDS: tuple[str, ...] = (
    "gpu.nvml_counter",
    "gpu.nvml_power",
    "gpu.smi_poll",
    "cpu.rapl",
    "dram.rapl",
    "node.estimate",
)
#: Meters with a simulated source for ``meters.fake = true`` (tests, smoke runs).
FAKEABLE_METER_IDS: tuple[str, ...] = ("gpu.nvml_counter", "gpu.nvml_power")
_SLURM_KEYS: tuple[str, ...] = (
    "partition",
    "timeout_min",
    "gpus_per_node",
    "cpus_per_task",
    "mem_gb",
    "array_parallelism",
    "account",
    "qos",
)


@dataclass(frozen=True, slots=True)
class SamplerSpec:
    """Which configs to train: ``num_configs`` distinct random draws (seeded) or a fixed list."""

    kind: str
    seed: int
    num_configs: int
    constraints: bool
    configs: tuple[Mapping[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class DataSpec:
    """Where the CIFAR-10 JPEG pack is (None: searched for) and the decoded-cache folder."""

    source: Path | None
    cache_dir: Path | None


@dataclass(frozen=True, slots=True)
class MeterSpec:
    """Meter ids to run side by side, polling rates in Hz per polling meter, fakes for tests."""

    names: tuple[str, ...]
    rates_hz: Mapping[str, float]
    fake: bool


@dataclass(frozen=True, slots=True)
class ExecutorSpec:
    """Executor kind, local worker count, and submitit/SLURM parameters."""

    kind: str
    workers: int
    slurm: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SweepSpec:
    """A validated sweep specification (see the module docstring for the TOML layout)."""

    name: str
    space: str
    dataset: str
    seed: int
    output_dir: Path
    sampler: SamplerSpec
    protocol: Protocol
    data: DataSpec
    meters: MeterSpec
    executor: ExecutorSpec
    calibration_profile: Path | None
    source_path: Path | None = None

    def with_executor(self, kind: str | None = None, workers: int | None = None) -> SweepSpec:
        """A copy with the executor kind and/or worker count replaced (command-line overrides)."""
        ex = self.executor
        new = ExecutorSpec(
            kind=_choice("executor.kind", kind if kind is not None else ex.kind, EXECUTORS),
            workers=_int("executor.workers", workers if workers is not None else ex.workers, 1),
            slurm=ex.slurm,
        )
        return dataclasses.replace(self, executor=new)


# ------------------------------------------------------------------------------ field helpers
def _table(raw: Mapping[str, Any], name: str, allowed: tuple[str, ...]) -> Mapping[str, Any]:
    value = raw.get(name, {})
    if not isinstance(value, Mapping):
        raise InvalidArgumentError.for_field(name, value, "must be a TOML table")
    unknown = sorted(set(value) - set(allowed))
    if unknown:
        raise InvalidArgumentError.for_field(
            f"{name}.{unknown[0]}", value[unknown[0]], f"unknown key; allowed: {allowed}"
        )
    return value


def _int(name: str, value: Any, minimum: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise InvalidArgumentError.for_field(name, value, f"must be an int >= {minimum}")
    return value


def _str(name: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidArgumentError.for_field(name, value, "must be a non-empty string")
    return value


def _choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise InvalidArgumentError.for_field(name, value, f"must be one of {choices}")
    return str(value)


def _bool(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise InvalidArgumentError.for_field(name, value, "must be true or false")
    return value


def _path(name: str, value: Any, base: Path) -> Path:
    p = Path(_str(name, value)).expanduser()
    return p if p.is_absolute() else (base / p).resolve()


def check_meter_names(spec: MeterSpec) -> None:
    """Raise :class:`InvalidArgumentError` for meter ids a sweep cannot run (or fake)."""
    for name in spec.names:
        if name not in SWEEP_METER_IDS:
            raise InvalidArgumentError.for_field(
                "meters.names", name, f"must be one of {SWEEP_METER_IDS}"
            )
        if spec.fake and name not in FAKEABLE_METER_IDS:
            raise InvalidArgumentError.for_field(
                "meters.names",
                name,
                f"has no fake; with meters.fake = true use {FAKEABLE_METER_IDS}",
            )


def _configs_file(path: Path) -> list[Any]:
    """A JSON file holding a list of config objects (e.g. configs exported from another run)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidArgumentError.for_field(
            "sampler.configs_file", str(path), f"must be a readable JSON file: {exc}"
        ) from exc
    if not isinstance(data, list):
        raise InvalidArgumentError.for_field(
            "sampler.configs_file", str(path), "must hold a JSON list of config objects"
        )
    return data


# ------------------------------------------------------------------------------ parsing
def load_spec(path: str | Path) -> SweepSpec:
    """Read and validate a sweep spec TOML file; relative paths resolve against its folder."""
    p = Path(path)
    if not p.is_file():
        raise InvalidArgumentError.for_field("sweep_spec", str(p), "must be an existing TOML file")
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InvalidArgumentError.for_field(
            "sweep_spec", str(p), f"is not valid TOML: {exc}"
        ) from exc
    return parse_spec(raw, base_dir=p.resolve().parent, source_path=p.resolve())


def parse_spec(
    raw: Mapping[str, Any], base_dir: Path, source_path: Path | None = None
) -> SweepSpec:
    """Validate an already-parsed TOML mapping into a :class:`SweepSpec`."""
    tables = ("sweep", "sampler", "protocol", "data", "meters", "calibration", "executor")
    unknown = sorted(set(raw) - set(tables))
    if unknown:
        raise InvalidArgumentError.for_field(unknown[0], "...", f"unknown table; allowed: {tables}")
    if "sweep" not in raw:
        raise InvalidArgumentError.for_field("sweep", None, "the [sweep] table is required")
    sw = _table(raw, "sweep", ("name", "space", "dataset", "seed", "output_dir"))
    name = _str("sweep.name", sw.get("name"))
    space = _choice("sweep.space", sw.get("space"), SPACES)
    dataset = _choice("sweep.dataset", sw.get("dataset", "cifar10"), DATASETS)
    seed = _int("sweep.seed", sw.get("seed", 1), 0)
    if "output_dir" not in sw:
        raise InvalidArgumentError.for_field("sweep.output_dir", None, "is required")
    output_dir = _path("sweep.output_dir", sw["output_dir"], base_dir)

    sm = _table(
        raw, "sampler", ("kind", "seed", "num_configs", "constraints", "configs", "configs_file")
    )
    kind = _choice("sampler.kind", sm.get("kind", "random"), SAMPLERS)
    configs = sm.get("configs", [])
    if "configs_file" in sm:
        if configs:
            raise InvalidArgumentError.for_field(
                "sampler.configs_file", sm["configs_file"], "give configs or configs_file, not both"
            )
        configs = _configs_file(_path("sampler.configs_file", sm["configs_file"], base_dir))
    if not isinstance(configs, list) or not all(isinstance(c, Mapping) for c in configs):
        raise InvalidArgumentError.for_field("sampler.configs", configs, "must be a list of tables")
    if kind == "list" and not configs:
        raise InvalidArgumentError.for_field(
            "sampler.configs", configs, "must be non-empty when sampler.kind = 'list'"
        )
    if kind == "random" and configs:
        raise InvalidArgumentError.for_field(
            "sampler.configs", "...", "only allowed when sampler.kind = 'list'"
        )
    default_n = len(configs) if kind == "list" else None
    n = _int("sampler.num_configs", sm.get("num_configs", default_n), 1)
    if kind == "list" and n != len(configs):
        raise InvalidArgumentError.for_field(
            "sampler.num_configs", n, f"must equal the number of listed configs ({len(configs)})"
        )
    sampler = SamplerSpec(
        kind=kind,
        seed=_int("sampler.seed", sm.get("seed", 0), 0),
        num_configs=n,
        constraints=_bool("sampler.constraints", sm.get("constraints", True)),
        configs=tuple(dict(c) for c in configs),
    )

    protocol = parse_protocol(raw.get("protocol", {}), space=space)

    dt = _table(raw, "data", ("source", "cache_dir"))
    data = DataSpec(
        source=_path("data.source", dt["source"], base_dir) if "source" in dt else None,
        cache_dir=_path("data.cache_dir", dt["cache_dir"], base_dir) if "cache_dir" in dt else None,
    )

    mt = _table(raw, "meters", ("names", "fake", "rates_hz"))
    names = mt.get("names", ["gpu.nvml_counter"])
    if not isinstance(names, list) or not names or not all(isinstance(m, str) for m in names):
        raise InvalidArgumentError.for_field(
            "meters.names", names, "must be a non-empty list of str"
        )
    if len(set(names)) != len(names):
        raise InvalidArgumentError.for_field("meters.names", names, "must not repeat a meter")
    rates = mt.get("rates_hz", {})
    if not isinstance(rates, Mapping):
        raise InvalidArgumentError.for_field("meters.rates_hz", rates, "must be a table")
    for meter, hz in rates.items():
        if meter not in names:
            raise InvalidArgumentError.for_field(
                f"meters.rates_hz.{meter}", hz, "names a meter not in meters.names"
            )
        if isinstance(hz, bool) or not isinstance(hz, (int, float)) or not 0 < hz <= 10_000:
            raise InvalidArgumentError.for_field(
                f"meters.rates_hz.{meter}", hz, "must be a number in (0, 10000] Hz"
            )
    meters = MeterSpec(
        names=tuple(names),
        rates_hz={k: float(v) for k, v in rates.items()},
        fake=_bool("meters.fake", mt.get("fake", False)),
    )
    check_meter_names(meters)

    ct = _table(raw, "calibration", ("profile",))
    calibration = _path("calibration.profile", ct["profile"], base_dir) if "profile" in ct else None

    et = _table(raw, "executor", ("kind", "workers", *_SLURM_KEYS))
    slurm = {k: et[k] for k in _SLURM_KEYS if k in et}
    for key in ("timeout_min", "gpus_per_node", "cpus_per_task", "mem_gb", "array_parallelism"):
        if key in slurm:
            _int(f"executor.{key}", slurm[key], 1)
    for key in ("partition", "account", "qos"):
        if key in slurm:
            _str(f"executor.{key}", slurm[key])
    executor = ExecutorSpec(
        kind=_choice("executor.kind", et.get("kind", "pool"), EXECUTORS),
        workers=_int("executor.workers", et.get("workers", 1), 1),
        slurm=slurm,
    )
    return SweepSpec(
        name=name,
        space=space,
        dataset=dataset,
        seed=seed,
        output_dir=output_dir,
        sampler=sampler,
        protocol=protocol,
        data=data,
        meters=meters,
        executor=executor,
        calibration_profile=calibration,
        source_path=source_path,
    )
