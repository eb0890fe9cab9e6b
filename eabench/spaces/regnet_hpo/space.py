"""``RegNetHPOSpace``: the ``SearchSpace`` implementation of the RegNet x HPO joint space.

Validity. A config is valid if it is on the grid of its dataset (:class:`RegNetHPOConfig`) and,
unless the space is built with ``constraints=None``, its derived network satisfies the
constraints of the EA-HAS-Bench training sweep of that dataset (:meth:`Constraints.training`):
those configs are the support of the collected data, and a surrogate trained on them should not
be queried elsewhere without saying so.

Neighbourhood (local search). For each architecture dimension (depth, w0, wa, wm, group width)
the neighbours are the nearest grid values below and above the current one whose derived network
differs from the current network (and is feasible): many raw values derive the same network, so
a plain one-step move would mostly propose the very same training. For the HPO dimensions:
learning rate and max epochs move one step along their ordered value lists; optimizer, LR policy
and cutout take every other value. :meth:`mutate` draws one neighbour uniformly.
"""

from __future__ import annotations

import hashlib
import math
from collections import OrderedDict
from collections.abc import Hashable, Mapping, Sequence
from typing import Any, Final

import numpy as np

from eabench._rng import as_generator
from eabench.errors import InvalidArgumentError, InvalidConfigError
from eabench.spaces.regnet_hpo.config import (
    CUTOUTS,
    DEPTHS,
    GROUP_WIDTHS,
    LEARNING_RATES,
    LR_POLICIES,
    MAX_EPOCHS,
    OPTIMIZERS,
    W0S,
    WA_TENTHS,
    RegNetHPOConfig,
    TrainingProtocol,
    training_protocol,
    wm_thousandths,
)
from eabench.spaces.regnet_hpo.counting import HPO_COMBINATIONS
from eabench.spaces.regnet_hpo.network import (
    NetworkArrays,
    RegNetNetwork,
    derive_arrays,
    derive_network,
)
from eabench.spaces.regnet_hpo.sampling import (
    Constraints,
    SamplerStats,
    configs_from_draws,
    draw_prior,
)

__all__ = ["RegNetHPOSpace", "max_stages"]

_BATCH: Final[int] = 256
_TRAINING: Final[str] = "training"
_NETWORK_MEMO: Final[int] = 4096
"""Configs whose derived network (one row of ``derive_arrays``) a space instance remembers."""


def max_stages(dataset: str) -> int:
    """Largest stage count any grid point of ``dataset`` can derive (4 CIFAR-10, 7 Tiny)."""
    lo, _ = wm_thousandths(dataset)
    ratio = (W0S[0] + (DEPTHS[-1] - 1) * WA_TENTHS[1] / 10) / W0S[0]
    return 1 + round(math.log(ratio) / math.log(lo / 1000))


class RegNetHPOSpace:
    """The EA-HAS-Bench RegNet x HPO space of one dataset.

    Args:
        dataset: ``"cifar10"`` (benchmark ``regnet-hpo-cifar10``) or ``"tinyimagenet"``.
        constraints: ``"training"`` (default: the EA-HAS-Bench training-sweep constraints of
            ``dataset``), a :class:`Constraints`, or None / ``"none"`` for the whole grid.
    """

    name: str = "regnet-hpo"

    def __init__(
        self, dataset: str = "cifar10", constraints: Constraints | str | None = _TRAINING
    ) -> None:
        if constraints == _TRAINING:
            constraints = Constraints.training(dataset)
        elif constraints is None or constraints == "none":
            constraints = Constraints.none()
        elif not isinstance(constraints, Constraints):
            raise InvalidArgumentError.for_field(
                "constraints", constraints, "must be 'training', 'none', a Constraints or None"
            )
        self.dataset: str = training_protocol(dataset).dataset
        self.constraints: Constraints = constraints
        self._networks: OrderedDict[RegNetHPOConfig, NetworkArrays] = OrderedDict()

    def __repr__(self) -> str:
        return f"RegNetHPOSpace(dataset={self.dataset!r}, constraints={self.constraints!r})"

    @property
    def protocol(self) -> TrainingProtocol:
        """The fixed training settings (metadata; not searchable)."""
        return training_protocol(self.dataset)

    # --- validation and derivation ------------------------------------------------------------
    def _coerce(self, config: RegNetHPOConfig | Mapping[str, Any]) -> RegNetHPOConfig:
        if isinstance(config, RegNetHPOConfig):
            cfg = config
        elif isinstance(config, Mapping):
            data = dict(config)
            data.setdefault("dataset", self.dataset)
            cfg = RegNetHPOConfig.from_dict(data)
        else:
            raise InvalidConfigError.for_field(
                "config", config, "must be a RegNetHPOConfig or a mapping"
            )
        if cfg.dataset != self.dataset:
            raise InvalidConfigError.for_field(
                "dataset", cfg.dataset, f"this space is for {self.dataset!r}"
            )
        return cfg

    def _network_row(self, cfg: RegNetHPOConfig) -> NetworkArrays:
        """The derived network of one config as a one-row :class:`NetworkArrays`, memoised per
        instance (least recently used evicted first): a query validates, then encodes, the same
        config, and searches revisit configs."""
        memo = self._networks
        hit = memo.get(cfg)
        if hit is not None:
            memo.move_to_end(cfg)
            return hit
        proto = training_protocol(cfg.dataset)
        row = derive_arrays(
            np.array([cfg.depth]),
            np.array([cfg.w0]),
            np.array([cfg.wa]),
            np.array([cfg.wm]),
            np.array([cfg.group_width]),
            stem_width=proto.stem_width,
            num_classes=proto.num_classes,
            input_size_px=proto.input_size_px,
        )
        memo[cfg] = row
        while len(memo) > _NETWORK_MEMO:
            memo.popitem(last=False)
        return row

    def validate(self, config: RegNetHPOConfig | Mapping[str, Any]) -> RegNetHPOConfig:
        """Return the validated config; raise ``InvalidConfigError`` off-grid or infeasible."""
        cfg = self._coerce(config)
        if bool(self.constraints.feasible(self._network_row(cfg))[0]):
            return cfg  # the rules of Constraints.violations, on the memoised arrays
        broken = self.constraints.violations(derive_network(cfg))
        if broken:
            field, value, rule = broken[0]
            raise InvalidConfigError.for_field(
                field, value, f"{rule} (constraint of {self!r}; use constraints=None for the grid)"
            )
        return cfg

    def derive(self, config: RegNetHPOConfig | Mapping[str, Any]) -> RegNetNetwork:
        """The network ``config`` trains (stages, quantised widths, FLOPs/params/acts)."""
        return derive_network(self._coerce(config))

    def is_feasible(self, config: RegNetHPOConfig | Mapping[str, Any]) -> bool:
        """True if ``config`` is on the grid and satisfies the constraints."""
        try:
            self.validate(config)
        except InvalidConfigError:
            return False
        return True

    def training_id(self, config: RegNetHPOConfig | Mapping[str, Any]) -> str:
        """32 hex chars, equal iff the same network is trained with the same hyperparameters.

        Keyed on the derived stages (width, depth, group width), the five HPO values and the
        dataset, so raw configs that alias one network share it. Use it for de-duplication and
        for grouped train/test splits.
        """
        cfg = self._coerce(config)
        key = derive_network(cfg).key()
        text = (
            f"{cfg.dataset}|{key}|{cfg.learning_rate!r}|{cfg.max_epochs}|{cfg.optimizer}"
            f"|{cfg.lr_policy}|{cfg.cutout}"
        )
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    def grid_size(self) -> int:
        """Number of grid points (architecture tuples x 540 HPO combinations), unconstrained."""
        lo, hi = wm_thousandths(self.dataset)
        archs = len(DEPTHS) * len(W0S) * (WA_TENTHS[1] - WA_TENTHS[0] + 1) * (hi - lo + 1)
        return archs * len(GROUP_WIDTHS) * HPO_COMBINATIONS

    # --- sampling -------------------------------------------------------------------------------
    def _derive_draws(self, draws: dict[str, np.ndarray]) -> NetworkArrays:
        proto = self.protocol
        return derive_arrays(
            draws["depth"],
            draws["w0"],
            draws["wa_tenths"] / 10,
            draws["wm_thousandths"] / 1000,
            draws["group_width"],
            stem_width=proto.stem_width,
            num_classes=proto.num_classes,
        )

    def sample_many(
        self,
        n: int,
        seed: int | np.random.Generator,
        *,
        unique: bool = True,
        max_attempts: int | None = None,
    ) -> tuple[list[RegNetHPOConfig], SamplerStats]:
        """Draw ``n`` feasible configs by rejection from the EA-HAS-Bench prior.

        Args:
            n: configs wanted (>= 0).
            seed: int seed or Generator.
            unique: drop repeated config ids, like the EA-HAS-Bench sweep setup.
            max_attempts: stop after this many prior draws (None: no limit).

        Returns:
            The configs, in draw order, and the acceptance statistics (fewer than ``n`` configs
            only when ``max_attempts`` ran out).
        """
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise InvalidArgumentError.for_field("n", n, "must be an int >= 0")
        rng = as_generator(seed)
        out: list[RegNetHPOConfig] = []
        seen: set[str] = set()
        attempts = accepted = dups = 0
        while len(out) < n and (max_attempts is None or attempts < max_attempts):
            draws = draw_prior(_BATCH, rng, self.dataset)
            ok = self.constraints.feasible(self._derive_draws(draws))
            for i in range(_BATCH):
                if len(out) >= n or (max_attempts is not None and attempts >= max_attempts):
                    break
                attempts += 1
                if not ok[i]:
                    continue
                accepted += 1
                cfg = configs_from_draws(draws, self.dataset, np.array([i]))[0]
                cid = cfg.config_id()
                if unique and cid in seen:
                    dups += 1
                    continue
                seen.add(cid)
                out.append(cfg)
        return out, SamplerStats(attempts=attempts, accepted=accepted, duplicates=dups)

    def sample(self, seed: int | np.random.Generator) -> RegNetHPOConfig:
        """One feasible config from the EA-HAS-Bench prior (rejection sampling)."""
        return self.sample_many(1, seed)[0][0]

    # --- local search ---------------------------------------------------------------------------
    def _arch_moves(self, cfg: RegNetHPOConfig) -> list[RegNetHPOConfig]:
        lo, hi = wm_thousandths(self.dataset)
        axes: dict[str, np.ndarray] = {
            "depth": np.asarray(DEPTHS, dtype=np.float64),
            "w0": np.asarray(W0S, dtype=np.float64),
            "wa": np.arange(WA_TENTHS[0], WA_TENTHS[1] + 1) / 10,
            "wm": np.arange(lo, hi + 1) / 1000,
            "group_width": np.asarray(GROUP_WIDTHS, dtype=np.float64),
        }
        base = cfg.to_dict()
        proto = self.protocol
        own = derive_network(cfg).key()
        moves: list[RegNetHPOConfig] = []
        for field, values in axes.items():
            cols = {k: np.full(values.size, float(base[k])) for k in axes}
            cols[field] = values
            arrays = derive_arrays(
                cols["depth"].astype(np.int64),
                cols["w0"].astype(np.int64),
                cols["wa"],
                cols["wm"],
                cols["group_width"].astype(np.int64),
                stem_width=proto.stem_width,
                num_classes=proto.num_classes,
            )
            ok = self.constraints.feasible(arrays)
            here = int(np.argmin(np.abs(values - float(base[field]))))
            for step in (-1, 1):
                i = here + step
                while 0 <= i < values.size:
                    ns = int(arrays.num_stages[i])
                    key = tuple(
                        (
                            int(arrays.stage_widths[i, k]),
                            int(arrays.stage_depths[i, k]),
                            int(arrays.stage_group_widths[i, k]),
                        )
                        for k in range(ns)
                    )
                    if ok[i] and key != own:
                        value = values[i]
                        new = dict(base, **{field: value if field in ("wa", "wm") else int(value)})
                        moves.append(RegNetHPOConfig.from_dict(new))
                        break
                    i += step
        return moves

    def neighbours(self, config: RegNetHPOConfig | Mapping[str, Any]) -> list[RegNetHPOConfig]:
        """All feasible configs one move away (see the module docstring), de-duplicated."""
        cfg = self.validate(config)
        base = cfg.to_dict()
        out = self._arch_moves(cfg)
        ordered: dict[str, Sequence[Any]] = {
            "learning_rate": LEARNING_RATES,
            "max_epochs": MAX_EPOCHS,
        }
        for field, values in ordered.items():
            i = list(values).index(base[field])
            out.extend(
                RegNetHPOConfig.from_dict(dict(base, **{field: values[j]}))
                for j in (i - 1, i + 1)
                if 0 <= j < len(values)
            )
        nominal: dict[str, Sequence[Any]] = {
            "optimizer": OPTIMIZERS,
            "lr_policy": LR_POLICIES,
            "cutout": CUTOUTS,
        }
        for field, values in nominal.items():
            out.extend(
                RegNetHPOConfig.from_dict(dict(base, **{field: v}))
                for v in values
                if v != base[field]
            )
        seen = {cfg.config_id()}
        unique: list[RegNetHPOConfig] = []
        for c in out:
            cid = c.config_id()
            if cid not in seen:
                seen.add(cid)
                unique.append(c)
        return unique

    def mutate(
        self, config: RegNetHPOConfig | Mapping[str, Any], seed: int | np.random.Generator
    ) -> RegNetHPOConfig:
        """One neighbour drawn uniformly from :meth:`neighbours`."""
        rng = as_generator(seed)
        options = self.neighbours(config)
        return options[int(rng.integers(len(options)))]

    # --- encoding -------------------------------------------------------------------------------
    def _num_stage_slots(self) -> int:
        if self.constraints.num_stages is not None:
            return self.constraints.num_stages[1]
        return max_stages(self.dataset)

    def feature_names(self) -> list[str]:
        """Names of the :meth:`encode` columns (raw, derived, then HPO features)."""
        names = ["depth", "w0", "log_wa", "log_wm", "log2_group_width", "num_stages"]
        for k in range(1, self._num_stage_slots() + 1):
            names += [f"stage{k}_width", f"stage{k}_depth", f"stage{k}_group_width"]
        names += ["log10_flops", "log10_params", "log10_acts", "log10_learning_rate", "max_epochs"]
        names += [f"optimizer_{o}" for o in OPTIMIZERS]
        names += [f"lr_policy_{p}" for p in LR_POLICIES]
        names += ["cutout"]
        return names

    def encode(self, configs: Sequence[RegNetHPOConfig | Mapping[str, Any]]) -> np.ndarray:
        """Encode configs as float64 ``(n, len(feature_names()))`` (validating all, vectorised).

        Columns: depth, w0, log(wa), log(wm), log2(group width); the derived network (stage
        count, then width/depth/group width per stage slot, 0 where a stage is absent; log10 of
        FLOPs, params, activations); log10(learning rate), max epochs, one-hot optimizer and LR
        policy, cutout length in pixels. Unscaled: surrogates standardise.
        """
        cfgs = [self._coerce(c) for c in configs]
        n, slots = len(cfgs), self._num_stage_slots()
        out = np.zeros((n, len(self.feature_names())), dtype=np.float64)
        if n == 0:
            return out
        depth = np.array([c.depth for c in cfgs], dtype=np.int64)
        w0 = np.array([c.w0 for c in cfgs], dtype=np.int64)
        wa = np.array([c.wa for c in cfgs])
        wm = np.array([c.wm for c in cfgs])
        g = np.array([c.group_width for c in cfgs], dtype=np.int64)
        proto = self.protocol
        if n == 1:  # a single query: the network validate() derived (elementwise: same values)
            arr = self._network_row(cfgs[0])
        else:
            arr = derive_arrays(
                depth,
                w0,
                wa,
                wm,
                g,
                stem_width=proto.stem_width,
                num_classes=proto.num_classes,
                input_size_px=proto.input_size_px,
            )
        bad = np.flatnonzero(~self.constraints.feasible(arr))
        if bad.size:
            self.validate(cfgs[int(bad[0])])  # raises the precise InvalidConfigError
        cols = [depth, w0, np.log(wa), np.log(wm), np.log2(g), arr.num_stages]
        for k in range(slots):
            cols += [arr.stage_widths[:, k], arr.stage_depths[:, k], arr.stage_group_widths[:, k]]
        cols += [np.log10(arr.flops), np.log10(arr.params), np.log10(arr.acts)]
        cols += [np.log10([c.learning_rate for c in cfgs]), [c.max_epochs for c in cfgs]]
        cols += [[c.optimizer == o for c in cfgs] for o in OPTIMIZERS]
        cols += [[c.lr_policy == p for c in cfgs] for p in LR_POLICIES]
        cols += [[c.cutout for c in cfgs]]
        for j, col in enumerate(cols):
            out[:, j] = np.asarray(col, dtype=np.float64)
        return out

    def make_accelerator(self) -> None:
        """None: the space is too large to tabulate; configs are validated and encoded."""
        return None

    def plain_key(self, config: Mapping[str, Any]) -> Hashable | None:
        """Memo key of a plain JSON dict with ``str``/``int``/``float`` values only, else None.

        The value's type is part of the key, so ``True``, ``1`` and ``1.0`` never alias.
        """
        if type(config) is not dict:
            return None
        items = []
        for k, v in config.items():
            if type(k) is not str or type(v) not in _PLAIN:
                return None
            items.append((k, type(v).__name__, v))
        return ("regnet-hpo", tuple(sorted(items)))


_PLAIN = frozenset({str, int, float})
