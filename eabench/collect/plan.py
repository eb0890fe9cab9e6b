"""Turning a sweep spec into run tasks: sample (or list) configs, name each run, set its epochs.

Run ids are deterministic: ``<space>-<config_id[:16]>-e<schedule epochs>-s<seed>-p<protocol
digest[:8]>``. The same config trained under the same protocol with the same seed always gets the
same id, in any sweep, so a finished run is found and never trained twice. For RegNet x HPO the
schedule length is the config's ``max_epochs``; for 7V there is one run per budget in
``protocol.budgets`` (NAS-Bench-101 trained each budget as its own cosine schedule).

Random sampling draws ``num_configs`` *distinct* configs from the space's sampler with a
``numpy.random.Generator`` seeded by ``sampler.seed`` (so the list is reproducible): RegNet x HPO
through ``RegNetHPOSpace.sample_many`` (the EA-HAS-Bench prior, rejection under the constraints),
7V uniformly without replacement from the 423,624 unique cells (``NB101Space.sample_indices``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eabench._rng import as_generator
from eabench.collect.spec import SweepSpec
from eabench.errors import InvalidArgumentError, InvalidConfigError

__all__ = ["RunTask", "make_space", "plan_sweep", "run_id_for", "sample_configs"]


@dataclass(frozen=True, slots=True)
class RunTask:
    """One training run to execute: config, seed, epochs, and the sweep it belongs to.

    ``schedule_epochs`` is the length of the LR schedule (the full run); ``target_epochs`` how many
    of those epochs this sweep trains (``min(schedule, protocol.epoch_limit)``).
    """

    run_id: str
    config: dict[str, Any]
    config_id: str
    schedule_epochs: int
    target_epochs: int
    spec: SweepSpec

    @property
    def seed(self) -> int:
        """The training seed (model init, shuffling, augmentation)."""
        return self.spec.seed


def make_space(spec: SweepSpec) -> Any:
    """The search-space object of the sweep (imports only that space).

    RegNet x HPO: ``sampler.constraints = true`` applies the EA-HAS-Bench training-sweep
    constraints of the dataset (2 stages; CIFAR-10 FLOPs/params/activations window) to both
    sampled and listed configs; ``false`` allows the whole grid (smoke sweeps of tiny nets).
    """
    if spec.space == "nb101-7v":
        from eabench.spaces.nb101 import NB101Space

        return NB101Space()
    if spec.space == "regnet-hpo":
        from eabench.spaces.regnet_hpo import RegNetHPOSpace

        return RegNetHPOSpace(
            dataset=spec.dataset, constraints="training" if spec.sampler.constraints else None
        )
    raise InvalidArgumentError.for_field("sweep.space", spec.space, "unknown space")


def sample_configs(spec: SweepSpec) -> list[Any]:
    """The sweep's validated configs, in order (listed ones, or distinct seeded draws)."""
    space = make_space(spec)
    if spec.sampler.kind == "list":
        configs = []
        for i, raw in enumerate(spec.sampler.configs):
            try:
                configs.append(space.validate(raw))
            except InvalidConfigError as exc:
                raise InvalidConfigError.for_field(f"sampler.configs[{i}]", raw, str(exc)) from exc
        ids = [c.config_id() for c in configs]
        if len(set(ids)) != len(ids):
            raise InvalidArgumentError.for_field("sampler.configs", ids, "lists a config twice")
        return configs
    rng = as_generator(spec.sampler.seed)
    if spec.space == "regnet-hpo":  # vectorised rejection sampling, distinct configs
        configs, _stats = space.sample_many(spec.sampler.num_configs, rng, unique=True)
        return list(configs)
    # 7V: distinct unique cells (pruned, canonical), uniformly without replacement
    idx = space.sample_indices(spec.sampler.num_configs, rng)
    return [space.data.cell(int(i)) for i in idx]


def run_id_for(spec: SweepSpec, config_id: str, schedule_epochs: int) -> str:
    """The deterministic run id (see the module docstring)."""
    digest = spec.protocol.digest()[:8]
    return f"{spec.space}-{config_id[:16]}-e{schedule_epochs}-s{spec.seed}-p{digest}"


def plan_sweep(spec: SweepSpec) -> list[RunTask]:
    """All run tasks of the sweep, in config order (budgets inner for 7V)."""
    tasks: list[RunTask] = []
    limit = spec.protocol.epoch_limit
    for cfg in sample_configs(spec):
        cid = cfg.config_id()
        if spec.space == "regnet-hpo":
            schedules: tuple[int, ...] = (int(cfg.max_epochs),)
        else:
            schedules = spec.protocol.budgets
        for epochs in schedules:
            tasks.append(
                RunTask(
                    run_id=run_id_for(spec, cid, epochs),
                    config=cfg.to_dict(),
                    config_id=cid,
                    schedule_epochs=epochs,
                    target_epochs=min(epochs, limit) if limit is not None else epochs,
                    spec=spec,
                )
            )
    return tasks
