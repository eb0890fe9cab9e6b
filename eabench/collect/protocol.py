"""The training protocol of a sweep: what is fixed for every run, recorded in every run log.

``data_collection/PROTOCOL.md`` describes the protocol in words; :data:`PROTOCOL_VERSION` names
that document's version and is stored in each run log together with :meth:`Protocol.to_dict`.

Run identity: :meth:`Protocol.digest` hashes the fields that change what a run computes (batch
sizes, AMP, splits and subsets). It leaves out ``epoch_limit`` (a run stopped early by the limit
is a prefix of the full run and is extended, not retrained, when the limit is raised),
``budgets`` (each budget is its own run), ``device`` and ``num_threads`` (hardware is recorded
separately).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from eabench.errors import InvalidArgumentError

__all__ = ["DEVICES", "PROTOCOL_VERSION", "Protocol", "parse_protocol"]

PROTOCOL_VERSION = "eabench-collect-protocol-1"
DEVICES: tuple[str, ...] = ("auto", "cpu", "cuda")
CIFAR10_TRAIN_IMAGES = 50_000
_NB101_BUDGETS: tuple[int, ...] = (4, 12, 36, 108)

_KEYS: tuple[str, ...] = (
    "batch_size",
    "eval_batch_size",
    "amp",
    "eval_every_epoch",
    "val_size",
    "split_seed",
    "train_limit",
    "val_limit",
    "test_limit",
    "epoch_limit",
    "budgets",
    "device",
    "num_threads",
    "nb101_network",
)
#: Keys of ``protocol.nb101_network`` (NAS-Bench-101 network shape; defaults 128 / 3 / 3).
NB101_NETWORK_KEYS: tuple[str, ...] = ("stem_channels", "num_stacks", "cells_per_stack")


@dataclass(frozen=True, slots=True)
class Protocol:
    """Fixed training settings of a sweep (per-config hyperparameters live in the config).

    Attributes:
        batch_size: training mini-batch size (images); the last partial batch is dropped.
        eval_batch_size: batch size of the validation and test passes.
        amp: mixed precision on CUDA (fp16 ``torch.autocast`` with a gradient scaler, as
            EA-HAS-Bench's ``torch.cuda.amp``); ignored on CPU, where the log records it as off.
        eval_every_epoch: evaluate val and test after every epoch (else only after the last).
        val_size: images held out from the 50,000 CIFAR-10 training images as a validation split
            (stratified by class, drawn with ``split_seed``); 0 disables the split.
        split_seed: seed of the validation split (same split for every run of every sweep that
            uses the same value).
        train_limit, val_limit, test_limit: use only the first N images of each split (smoke runs);
            None means all.
        epoch_limit: stop after this many epochs of the config's schedule (a prefix of the full
            run; the LR schedule is that of the full run); None means the full schedule.
        budgets: 7V only: training budgets in epochs, one run (own cosine schedule) per budget.
        device: ``"auto"`` (CUDA when available), ``"cpu"`` or ``"cuda"``.
        num_threads: torch CPU threads per run (None: torch's default).
        nb101_network: 7V only: overrides of the NAS-Bench-101 network shape (``stem_channels``,
            ``num_stacks``, ``cells_per_stack``; empty = NB101's 128 / 3 / 3). Only smoke sweeps
            shrink it; the override is part of the run id.
    """

    batch_size: int
    eval_batch_size: int = 1000
    amp: bool = True
    eval_every_epoch: bool = True
    val_size: int = 5000
    split_seed: int = 0
    train_limit: int | None = None
    val_limit: int | None = None
    test_limit: int | None = None
    epoch_limit: int | None = None
    budgets: tuple[int, ...] = ()
    device: str = "auto"
    num_threads: int | None = None
    nb101_network: Mapping[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form with the protocol version, as stored in run logs."""
        out: dict[str, Any] = {"version": PROTOCOL_VERSION}
        for key in _KEYS:
            value = getattr(self, key)
            if isinstance(value, tuple):
                value = list(value)
            elif isinstance(value, Mapping):
                value = dict(value)
            out[key] = value
        return out

    def digest(self) -> str:
        """16 hex chars identifying what a run under this protocol computes (see module doc)."""
        ident = {
            k: v
            for k, v in self.to_dict().items()
            if k not in ("epoch_limit", "budgets", "device", "num_threads")
        }
        blob = json.dumps(ident, sort_keys=True, separators=(",", ":")).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


def _opt_int(name: str, value: Any, minimum: int) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise InvalidArgumentError.for_field(name, value, f"must be an int >= {minimum} or absent")
    return value


def _req_int(name: str, value: Any, minimum: int) -> int:
    out = _opt_int(name, value, minimum)
    if out is None:
        raise InvalidArgumentError.for_field(name, value, f"must be an int >= {minimum}")
    return out


def _bool(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise InvalidArgumentError.for_field(name, value, "must be true or false")
    return value


def parse_protocol(raw: Any, space: str) -> Protocol:
    """Validate the ``[protocol]`` table; defaults follow each space's reference protocol.

    RegNet x HPO defaults to batch 1024 (EA-HAS-Bench); 7V to batch 256 and budget 108
    (NAS-Bench-101). ``budgets`` is allowed for 7V only (RegNet epochs come from the config).
    """
    if not isinstance(raw, Mapping):
        raise InvalidArgumentError.for_field("protocol", raw, "must be a TOML table")
    unknown = sorted(set(raw) - set(_KEYS))
    if unknown:
        raise InvalidArgumentError.for_field(
            f"protocol.{unknown[0]}", raw[unknown[0]], f"unknown key; allowed: {_KEYS}"
        )
    default_batch = 256 if space == "nb101-7v" else 1024
    budgets_raw = raw.get("budgets")
    if space != "nb101-7v" and budgets_raw is not None:
        raise InvalidArgumentError.for_field(
            "protocol.budgets", budgets_raw, "only for space 'nb101-7v'; RegNet epochs are config"
        )
    budgets: tuple[int, ...] = ()
    if space == "nb101-7v":
        if budgets_raw is None:
            budgets_raw = [108]
        if not isinstance(budgets_raw, list) or not budgets_raw:
            raise InvalidArgumentError.for_field(
                "protocol.budgets", budgets_raw, "must be a non-empty list of epochs"
            )
        budgets = tuple(_req_int("protocol.budgets[]", b, 1) for b in budgets_raw)
        if len(set(budgets)) != len(budgets):
            raise InvalidArgumentError.for_field("protocol.budgets", budgets_raw, "repeats a value")
    val_size = _req_int("protocol.val_size", raw.get("val_size", 5000), 0)
    if val_size >= CIFAR10_TRAIN_IMAGES or val_size % 10:
        raise InvalidArgumentError.for_field(
            "protocol.val_size", val_size, "must be a multiple of 10 (stratified) below 50000"
        )
    network = raw.get("nb101_network", {})
    if not isinstance(network, Mapping):
        raise InvalidArgumentError.for_field("protocol.nb101_network", network, "must be a table")
    if network and space != "nb101-7v":
        raise InvalidArgumentError.for_field(
            "protocol.nb101_network", dict(network), "only for space 'nb101-7v'"
        )
    for key, value in network.items():
        if key not in NB101_NETWORK_KEYS:
            raise InvalidArgumentError.for_field(
                f"protocol.nb101_network.{key}",
                value,
                f"unknown key; allowed: {NB101_NETWORK_KEYS}",
            )
        _req_int(f"protocol.nb101_network.{key}", value, 1)
    device = raw.get("device", "auto")
    if device not in DEVICES:
        raise InvalidArgumentError.for_field("protocol.device", device, f"must be one of {DEVICES}")
    return Protocol(
        batch_size=_req_int("protocol.batch_size", raw.get("batch_size", default_batch), 1),
        eval_batch_size=_req_int("protocol.eval_batch_size", raw.get("eval_batch_size", 1000), 1),
        amp=_bool("protocol.amp", raw.get("amp", True)),
        eval_every_epoch=_bool("protocol.eval_every_epoch", raw.get("eval_every_epoch", True)),
        val_size=val_size,
        split_seed=_req_int("protocol.split_seed", raw.get("split_seed", 0), 0),
        train_limit=_opt_int("protocol.train_limit", raw.get("train_limit"), 1),
        val_limit=_opt_int("protocol.val_limit", raw.get("val_limit"), 1),
        test_limit=_opt_int("protocol.test_limit", raw.get("test_limit"), 1),
        epoch_limit=_opt_int("protocol.epoch_limit", raw.get("epoch_limit"), 1),
        budgets=budgets,
        device=str(device),
        num_threads=_opt_int("protocol.num_threads", raw.get("num_threads"), 1),
        nb101_network={str(k): int(v) for k, v in network.items()},
    )
