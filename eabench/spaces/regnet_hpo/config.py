"""The RegNet x HPO configuration (EA-HAS-Bench), its value grid and the fixed training protocol.

The ten searched dimensions and their value sets are those the EA-HAS-Bench sampler actually
produces (``reference/ea-has-bench.md`` 1.1), not the paper table (which under-counts w0 and the
group width). Real-valued dimensions live on a decimal grid: ``wa`` on multiples of 0.1, ``wm`` on
multiples of 0.001. A config stores them as the float nearest to the grid value, so that ``8.1``,
``8.100000000000001`` and ``81 / 10`` give the same config and the same :meth:`config_id`.

The dataset is part of the config: CIFAR-10 has ``wm`` in [2.5, 3.0], TinyImageNet in [1.5, 3.0].
"""

from __future__ import annotations

import hashlib
import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from eabench.errors import InvalidConfigError

__all__ = [
    "CUTOUTS",
    "DATASETS",
    "DEPTHS",
    "GROUP_WIDTHS",
    "KEYS",
    "LEARNING_RATES",
    "LR_POLICIES",
    "MAX_EPOCHS",
    "OPTIMIZERS",
    "W0S",
    "WA_TENTHS",
    "RegNetHPOConfig",
    "TrainingProtocol",
    "training_protocol",
    "wm_thousandths",
]

DATASETS: Final[tuple[str, ...]] = ("cifar10", "tinyimagenet")
DEPTHS: Final[tuple[int, ...]] = tuple(range(6, 16))
W0S: Final[tuple[int, ...]] = tuple(range(48, 129, 8))
WA_TENTHS: Final[tuple[int, int]] = (80, 320)
"""Inclusive range of ``wa`` in units of 0.1 (8.0 .. 32.0, 241 values)."""
_WM_THOUSANDTHS: Final[dict[str, tuple[int, int]]] = {
    "cifar10": (2500, 3000),
    "tinyimagenet": (1500, 3000),
}
GROUP_WIDTHS: Final[tuple[int, ...]] = (1, 2, 4, 8, 16, 24, 32)
LEARNING_RATES: Final[tuple[float, ...]] = (
    0.001,
    0.003,
    0.005,
    0.01,
    0.03,
    0.05,
    0.1,
    0.3,
    0.5,
    1.0,
)
MAX_EPOCHS: Final[tuple[int, ...]] = (50, 100, 200)
OPTIMIZERS: Final[tuple[str, ...]] = ("sgd", "adam", "adamw")
LR_POLICIES: Final[tuple[str, ...]] = ("cos", "exp", "lin")
CUTOUTS: Final[tuple[int, ...]] = (0, 16)
KEYS: Final[tuple[str, ...]] = (
    "depth",
    "w0",
    "wa",
    "wm",
    "group_width",
    "learning_rate",
    "max_epochs",
    "optimizer",
    "lr_policy",
    "cutout",
    "dataset",
)
_GRID_TOL: Final[float] = 1e-6


def wm_thousandths(dataset: str) -> tuple[int, int]:
    """Inclusive range of ``wm`` in units of 0.001 for ``dataset``."""
    if dataset not in _WM_THOUSANDTHS:
        raise InvalidConfigError.for_field("dataset", dataset, f"must be one of {DATASETS}")
    return _WM_THOUSANDTHS[dataset]


def _int_in(field: str, value: Any, allowed: tuple[int, ...]) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise InvalidConfigError.for_field(field, value, "must be an int")
    if value not in allowed:
        raise InvalidConfigError.for_field(field, value, f"must be one of {list(allowed)}")
    return int(value)


def _str_in(field: str, value: Any, allowed: tuple[str, ...]) -> str:
    if not isinstance(value, str):
        raise InvalidConfigError.for_field(field, value, "must be a str")
    if value not in allowed:
        raise InvalidConfigError.for_field(field, value, f"must be one of {list(allowed)}")
    return str(value)


def _grid_units(field: str, value: Any, scale: int, lo: int, hi: int) -> int:
    """``value`` as an integer number of ``1/scale`` steps in ``[lo, hi]`` (tolerance 1e-6 step)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidConfigError.for_field(field, value, "must be a real number")
    x = float(value)
    if not math.isfinite(x):
        raise InvalidConfigError.for_field(field, value, "must be finite")
    units = round(x * scale)
    if abs(x * scale - units) > _GRID_TOL:
        raise InvalidConfigError.for_field(field, value, f"must be a multiple of {1 / scale:g}")
    if not lo <= units <= hi:
        raise InvalidConfigError.for_field(
            field, value, f"must be in [{lo / scale:g}, {hi / scale:g}]"
        )
    return units


def _learning_rate(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidConfigError.for_field("learning_rate", value, "must be a real number")
    for lr in LEARNING_RATES:
        if math.isclose(float(value), lr, rel_tol=1e-9, abs_tol=0.0):
            return lr
    raise InvalidConfigError.for_field(
        "learning_rate", value, f"must be one of {list(LEARNING_RATES)}"
    )


@dataclass(frozen=True, slots=True)
class RegNetHPOConfig:
    """One point of the RegNet x HPO space (validated and canonicalised on construction).

    Attributes:
        depth: number of blocks d, 6..15.
        w0: initial width, a multiple of 8 in [48, 128] (channels).
        wa: width slope, a multiple of 0.1 in [8.0, 32.0] (channels per block).
        wm: width multiplier, a multiple of 0.001 in [2.5, 3.0] (CIFAR-10) or [1.5, 3.0] (Tiny).
        group_width: channels per group of the 3x3 conv, one of 1, 2, 4, 8, 16, 24, 32.
        learning_rate: base learning rate, one of the ten values of ``LEARNING_RATES``.
        max_epochs: schedule length T in epochs, 50, 100 or 200.
        optimizer: ``"sgd"`` (Nesterov momentum), ``"adam"`` or ``"adamw"``.
        lr_policy: ``"cos"``, ``"exp"`` or ``"lin"`` (after a 5-epoch linear warm-up).
        cutout: Cutout square side in pixels, 0 (off) or 16.
        dataset: ``"cifar10"`` or ``"tinyimagenet"``.

    Raises:
        InvalidConfigError: naming the field, the value and the rule, for any off-grid value.
    """

    depth: int
    w0: int
    wa: float
    wm: float
    group_width: int
    learning_rate: float
    max_epochs: int
    optimizer: str
    lr_policy: str
    cutout: int
    dataset: str = "cifar10"

    def __post_init__(self) -> None:
        dataset = _str_in("dataset", self.dataset, DATASETS)
        wm_lo, wm_hi = wm_thousandths(dataset)
        fixed: dict[str, Any] = {
            "depth": _int_in("depth", self.depth, DEPTHS),
            "w0": _int_in("w0", self.w0, W0S),
            "wa": _grid_units("wa", self.wa, 10, *WA_TENTHS) / 10,
            "wm": _grid_units("wm", self.wm, 1000, wm_lo, wm_hi) / 1000,
            "group_width": _int_in("group_width", self.group_width, GROUP_WIDTHS),
            "learning_rate": _learning_rate(self.learning_rate),
            "max_epochs": _int_in("max_epochs", self.max_epochs, MAX_EPOCHS),
            "optimizer": _str_in("optimizer", self.optimizer, OPTIMIZERS),
            "lr_policy": _str_in("lr_policy", self.lr_policy, LR_POLICIES),
            "cutout": _int_in("cutout", self.cutout, CUTOUTS),
        }
        for name, value in fixed.items():
            object.__setattr__(self, name, value)

    @property
    def wa_tenths(self) -> int:
        """``wa`` as an integer number of 0.1 steps (exact)."""
        return round(self.wa * 10)

    @property
    def wm_thousandths(self) -> int:
        """``wm`` as an integer number of 0.001 steps (exact)."""
        return round(self.wm * 1000)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RegNetHPOConfig:
        """Build from the plain-dict form; ``dataset`` defaults to ``"cifar10"``.

        Raises:
            InvalidConfigError: for a non-mapping, missing or unknown keys, or off-grid values.
        """
        if not isinstance(data, Mapping):
            raise InvalidConfigError.for_field("config", data, "must be a mapping (dict)")
        unknown = sorted(str(k) for k in data if k not in KEYS)
        if unknown:
            raise InvalidConfigError.for_field(
                "config", unknown, f"unknown keys; allowed keys are {list(KEYS)}"
            )
        missing = [k for k in KEYS if k != "dataset" and k not in data]
        if missing:
            raise InvalidConfigError.for_field("config", missing, "missing required keys")
        return cls(**{k: data[k] for k in KEYS if k in data})

    def to_dict(self) -> dict[str, Any]:
        """The plain-dict form, keys in the order of ``KEYS`` (JSON-serialisable)."""
        return {k: getattr(self, k) for k in KEYS}

    def canonical_string(self) -> str:
        """A readable canonical form, independent of float formatting.

        Example: ``cifar10/d10/w048/wa080/wm2500/g8/lr0.1/e100/sgd/cos/c0`` (wa in 0.1 steps,
        wm in 0.001 steps).
        """
        return (
            f"{self.dataset}/d{self.depth}/w0{self.w0}/wa{self.wa_tenths:03d}"
            f"/wm{self.wm_thousandths:04d}/g{self.group_width}/lr{self.learning_rate!r}"
            f"/e{self.max_epochs}/{self.optimizer}/{self.lr_policy}/c{self.cutout}"
        )

    def config_id(self) -> str:
        """32 hex chars: the first half of the sha256 of :meth:`canonical_string`.

        Equal for equal raw parameters. Note that many raw configs derive the same trained
        network (see ``derive_network``); ``RegNetHPOSpace.training_id`` keys on that instead.
        """
        return hashlib.sha256(self.canonical_string().encode()).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class TrainingProtocol:
    """The training settings EA-HAS-Bench fixed for every configuration (not searchable).

    Values from the sweep yamls and pycls defaults (``reference/ea-has-bench.md`` 1.2).
    """

    dataset: str
    num_classes: int
    stem_width: int
    input_size_px: int = 32
    batch_size_train: int = 1024
    batch_size_test: int = 1000
    drop_last: bool = True
    weight_decay: float = 5e-4
    bn_weight_decay: float = 0.0
    sgd_momentum: float = 0.9
    sgd_nesterov: bool = True
    adam_betas: tuple[float, float] = (0.9, 0.999)
    warmup_epochs: int = 5
    warmup_factor: float = 0.1
    min_lr_ratio: float = 1e-6
    label_smoothing: float = 0.1
    mixed_precision: bool = True
    ema_alpha: float = 2.5e-4
    ema_update_period_iters: int = 32
    precise_bn_images: int = 8192
    se_ratio: float = 0.25
    bottleneck_multiplier: float = 1.0
    stage_stride: int = 2
    pad_crop_px: int = 4
    horizontal_flip: bool = True
    seed: int = 1


def training_protocol(dataset: str = "cifar10") -> TrainingProtocol:
    """The fixed protocol for ``dataset`` (CIFAR-10: 10 classes, stem 16; Tiny: 200, stem 32)."""
    if dataset == "cifar10":
        return TrainingProtocol(dataset=dataset, num_classes=10, stem_width=16)
    if dataset == "tinyimagenet":
        return TrainingProtocol(dataset=dataset, num_classes=200, stem_width=32)
    raise InvalidConfigError.for_field("dataset", dataset, f"must be one of {DATASETS}")
