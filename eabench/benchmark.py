"""The query API: :class:`Benchmark` (get one with :func:`eabench.load`, in
:mod:`eabench.loading`).

``Benchmark`` has the shape of mf-prior-bench's: the public ``query`` / ``query_batch`` validate
the config and the fidelity, compute flags, and build the frozen result records; a subclass
implements one hook, :meth:`Benchmark._predict_batch`, that turns validated configs and an epoch
grid into curves (:class:`~eabench.surrogates.base.CurvePrediction`).

Two kinds: ``"surrogate"`` (:class:`SurrogateBenchmark`, any object implementing the
:class:`~eabench.surrogates.base.Surrogate` protocol) and ``"table"`` (:class:`TableBenchmark`,
the measured values of the configs the artifact's training data holds; see ``eabench.table``).
``query_batch(configs, t)`` equals a loop of ``query(c, t)`` field by field (tested).
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from eabench._resolve import ConfigCache
from eabench.card import BenchmarkCard, Calibration, standard_metrics
from eabench.errors import (
    EabenchError,
    FidelityError,
    InvalidArgumentError,
    at_index,
    validate_each,
)
from eabench.results import (
    CLIPPED,
    ENERGY_EXTRAPOLATED,
    FIDELITY_EXTRAPOLATED,
    FIDELITY_INTERPOLATED,
    HOLISTIC_CALIBRATED,
    BatchResult,
    Curve,
    EnergyEstimate,
    Fidelity,
    FrozenDict,
    MeterProvenance,
    MetricInfo,
    Provenance,
    QueryResult,
    _curve,
    _energy_estimate,
    _query_result,
)
from eabench.sampling import SAMPLED, check_seed, sample_curves
from eabench.spaces.base import SearchSpace
from eabench.surrogates.base import CurvePrediction, CurveRow

__all__ = ["Benchmark", "BenchmarkCard", "Calibration", "Prediction", "standard_metrics"]


@dataclass(frozen=True, slots=True)
class Prediction:
    """What :meth:`Benchmark._predict_batch` returns: curves plus per-config flags."""

    curves: CurvePrediction
    flags: tuple[frozenset[str], ...]
    uncertainty: Mapping[str, np.ndarray] = field(default_factory=dict)


def _cat(parts: list[Any]) -> Any:
    if parts[0] is None:
        return None
    return np.concatenate(parts, axis=0)


def _cat_maps(parts: list[Any]) -> Any:
    if not parts[0]:
        return parts[0]
    return {k: np.concatenate([p[k] for p in parts], axis=0) for k in parts[0]}


def _concat_predictions(parts: list[Prediction]) -> Prediction:
    """One :class:`Prediction` from predictions of consecutive chunks of configs."""
    cs = [p.curves for p in parts]
    curves = CurvePrediction(
        epochs=cs[0].epochs,
        val_accuracy=np.concatenate([c.val_accuracy for c in cs]),
        test_accuracy=_cat([c.test_accuracy for c in cs]),
        train_time_s=np.concatenate([c.train_time_s for c in cs]),
        energy_j=_cat_maps([c.energy_j for c in cs]),
        val_accuracy_std=_cat([c.val_accuracy_std for c in cs]),
        energy_j_std=_cat_maps([c.energy_j_std for c in cs]),
        clipped=_cat([c.clipped for c in cs]),
        high_uncertainty=_cat([c.high_uncertainty for c in cs]),
    )
    return Prediction(
        curves=curves,
        flags=tuple(f for p in parts for f in p.flags),
        uncertainty=_cat_maps([p.uncertainty for p in parts]),
    )


def _last(a: Any) -> Any:
    return None if a is None else a[:, -1:].copy()


def _last_point(p: Prediction) -> Prediction:
    """``p`` with its curves cut to their last point (what ``query_batch`` returns; flags and
    ``clipped``, computed on the whole curve, are kept): a batch of 10^6 configs then holds
    ``(n, 1)`` arrays, not ``(n, points)`` ones."""
    c = p.curves
    return Prediction(
        curves=dataclasses.replace(
            c,
            val_accuracy=_last(c.val_accuracy),
            test_accuracy=_last(c.test_accuracy),
            train_time_s=_last(c.train_time_s),
            energy_j={k: _last(v) for k, v in c.energy_j.items()},
            val_accuracy_std=_last(c.val_accuracy_std),
            energy_j_std=None
            if c.energy_j_std is None
            else {k: _last(v) for k, v in c.energy_j_std.items()},
        ),
        flags=p.flags,
        uncertainty=p.uncertainty,
    )


def _batch_flags(
    common: frozenset[str],
    flags: tuple[frozenset[str], ...],
    clipped: np.ndarray | None,
    n: int,
) -> tuple[frozenset[str], ...]:
    """Per config: ``common | flags[i]``, plus ``CLIPPED`` where clipped (few distinct sets,
    built once each and shared)."""
    clip = np.zeros(n, dtype=bool) if clipped is None else np.asarray(clipped, dtype=bool)
    distinct = set(flags)
    if len(distinct) == 1:  # the common case: one set; two results, picked in numpy
        (f,) = distinct
        pair = np.array([common | f, common | f | {CLIPPED}], dtype=object)
        out: tuple[frozenset[str], ...] = tuple(pair[clip.astype(np.intp)].tolist())
        return out
    memo: dict[tuple[frozenset[str], bool], frozenset[str]] = {}
    flag_list = []
    for f, cl in zip(flags, clip.tolist(), strict=True):
        got = memo.get((f, cl))
        if got is None:
            got = memo[(f, cl)] = common | f | {CLIPPED} if cl else common | f
        flag_list.append(got)
    return tuple(flag_list)


def _sampled(pred: Prediction, ids: Sequence[str], seed: int) -> Prediction:
    """``pred`` as a seeded draw (``eabench.sampling``), every answer flagged ``SAMPLED``."""
    return Prediction(
        curves=sample_curves(pred.curves, ids, seed),
        flags=tuple(f | _SAMPLED for f in pred.flags),
        uncertainty=pred.uncertainty,
    )


_SAMPLED = frozenset({SAMPLED})


def _readonly(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


class Benchmark(ABC):
    """A queryable benchmark for one search space and dataset.

    Subclasses implement :meth:`_predict_batch` only. Construction does no I/O and no work: use
    :func:`eabench.load` to get one.

    Attributes:
        name: benchmark name, e.g. ``"nb101-7v"``.
        kind: ``"surrogate"`` or ``"table"``.
        space: the search space (``sample``, ``validate``, ``encode``, ...).
        fidelity: the fidelity axis and its semantics.
        metrics: metric name -> unit, direction and bounds.
        card: data, split, held-out metrics, licence and citation.
        provenance: where the answers come from.
        meters: meter id -> provenance of its training data; the first is the primary meter.
    """

    def __init__(
        self,
        *,
        name: str,
        kind: str,
        space: SearchSpace[Any],
        fidelity: Fidelity,
        metrics: Mapping[str, MetricInfo],
        card: BenchmarkCard,
        provenance: Provenance,
        meters: Mapping[str, MeterProvenance],
        base_flags: frozenset[str] = frozenset(),
        calibration: Calibration | None = None,
        observed_epochs: tuple[int, int] | None = None,
        answer_flags: Mapping[str, str] | None = None,
    ) -> None:
        self.name = name
        self.kind = kind
        self.space = space
        self.fidelity = fidelity
        self.metrics = dict(metrics)
        self.card = card
        self.provenance = provenance
        self.meters = dict(meters)
        self.primary_meter = next(iter(self.meters))
        self.calibration = calibration
        self.observed_epochs = observed_epochs
        self._base_flags = base_flags
        self.answer_flags = dict(answer_flags or {})
        """Artifact-level flags on every answer (not on the per-meter estimates), with reasons."""
        self._meter_flags = {m: p.training_data_flags | base_flags for m, p in self.meters.items()}
        self._result_base_flags = (
            base_flags
            | self.meters[self.primary_meter].training_data_flags
            | frozenset(self.answer_flags)
        )
        self._energy_flags: dict[int, dict[str, frozenset[str]]] = {}
        self._grids: dict[int, tuple[np.ndarray, frozenset[str]]] = {}
        self._flag_memo: dict[Any, tuple[frozenset[str], dict[str, frozenset[str]]]] = {}
        self._cache = ConfigCache(space, accelerator=space.make_accelerator())
        self._answers: OrderedDict[tuple[str, int], QueryResult] = OrderedDict()
        self.answer_cache_size = 4096
        self.batch_chunk = 256
        self.row_chunk = 16384
        """Rows per chunk of the by-row batch path (materialised outputs, no model temporaries:
        chunks only bound the ``(rows, points)`` arrays of curve assembly)."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, kind={self.kind!r})"

    def prepare(self) -> Benchmark:
        """Build the space's lookup accelerator now (if it has one) and return ``self``.

        For 7V this maps canonical cells (those ``space.sample``/``neighbours``/``mutate``
        return) to space rows, hence precomputed ids and features (and, for artifacts with
        materialised head outputs, reads that table); otherwise both happen on demand.
        Answers are identical either way; only speed differs.
        """
        acc = self._cache.accelerator
        if acc is not None:
            acc.build()
        return self

    # ------------------------------------------------------------------ the hook
    @abstractmethod
    def _predict_batch(
        self, configs: Sequence[Any], config_ids: Sequence[str], epochs: np.ndarray
    ) -> Prediction:
        """Curves of validated ``configs`` (with their ids) at the ascending epoch grid ``epochs``.

        ``epochs`` is float64 ``(m,)``; the answer holds ``(len(configs), m)`` arrays. Encoded
        features, cached per config, come from ``self._cache.features(configs)``.
        """

    # ------------------------------------------------------------------ fidelity
    def _grid(self, epochs: Any) -> tuple[np.ndarray, frozenset[str]]:
        """The epoch grid of a curve up to ``epochs`` and the fidelity flags of ``epochs``."""
        key = epochs if type(epochs) is int else self._check_epochs(epochs)
        hit = self._grids.get(key)
        if hit is not None:
            return hit
        t = self._check_epochs(epochs)
        fid = self.fidelity
        flags: set[str] = set()
        if fid.semantics == "schedule":
            points = [b for b in fid.budgets if b < t] + [t]
            if t not in fid.budgets:
                flags.add(FIDELITY_INTERPOLATED)
        else:
            points = list(range(1, t + 1))
        if self.observed_epochs is not None and not (
            self.observed_epochs[0] <= t <= self.observed_epochs[1]
        ):
            flags.add(FIDELITY_EXTRAPOLATED)
        grid = _readonly(np.asarray(points, dtype=np.float64))
        out = (grid, frozenset(flags))
        self._grids[t] = out
        return out

    def _check_epochs(self, epochs: Any) -> int:
        if isinstance(epochs, (bool, np.bool_)) or not isinstance(epochs, (int, np.integer)):
            if isinstance(epochs, (float, np.floating)) and float(epochs).is_integer():
                epochs = int(epochs)
            else:
                raise FidelityError.for_field("epochs", epochs, "must be an integer epoch count")
        t = int(epochs)
        fid = self.fidelity
        if not fid.min_epochs <= t <= fid.max_epochs:
            raise FidelityError.for_field(
                "epochs", t, f"must be in [{fid.min_epochs}, {fid.max_epochs}] for {self.name}"
            )
        return t

    def _meter_epoch_flags(self, t: int) -> dict[str, frozenset[str]]:
        """Per meter: ``{ENERGY_EXTRAPOLATED}`` if ``t`` lies outside its measured epochs."""
        hit = self._energy_flags.get(t)
        if hit is None:
            hit = {}
            for m, p in self.meters.items():
                rng = p.measured_epochs
                hit[m] = (
                    frozenset({ENERGY_EXTRAPOLATED})
                    if rng is not None and not rng[0] <= t <= rng[1]
                    else frozenset()
                )
            self._energy_flags[t] = hit
        return hit

    def _check_prefix(self, cfg: Any, t: int) -> None:
        field_name = self.fidelity.max_epochs_field
        if field_name is None:
            return
        limit = int(cfg.to_dict()[field_name])
        if t > limit:
            raise FidelityError.for_field(
                "epochs",
                t,
                f"curves are prefixes of one {limit}-epoch run ({field_name}={limit}); "
                f"epochs must be <= {limit}",
            )

    # ------------------------------------------------------------------ public API
    def query(self, config: Any, epochs: int, seed: int | None = None) -> QueryResult:
        """The curve, accuracy, time and per-meter energy of ``config`` trained ``epochs`` epochs.

        Args:
            config: a config object of ``bench.space`` or its plain-dict form.
            epochs: epoch count, in ``[fidelity.min_epochs, fidelity.max_epochs]``.
            seed: None for the mean answer; an int for a reproducible draw from the predictive
                distribution, as one training run might give (``eabench.sampling``; flagged
                ``SAMPLED``).

        Raises:
            InvalidConfigError: the config is not in the space.
            FidelityError: the epoch count is not allowed (for prefixes: beyond the config's
                own run length).
        """
        grid, fid_flags = self._grid(epochs)
        if seed is not None:
            seed = check_seed(seed)
        cfg = self._cache.validate(config)
        t = int(grid[-1])
        if self.fidelity.semantics == "prefix":
            self._check_prefix(cfg, t)
        cid, row = self._cache.id_and_row(cfg)
        key: tuple[Any, ...] = (cid, t) if seed is None else (cid, t, seed)
        answer = self._answers.get(key)
        if answer is not None:  # the same question again: the same (immutable) answer
            self._answers.move_to_end(key)
            return answer
        one = None if seed is not None or row < 0 else self._predict_one_row(row, grid)
        if one is not None:  # the fast path: one config's curves as Python lists
            r, pred_flags, unc = one
            answer = self._answer_row(cid, t, grid, fid_flags, r, pred_flags, unc)
        else:
            pred = self._predict_batch((cfg,), (cid,), grid)
            if seed is not None:
                pred = _sampled(pred, (cid,), seed)
            answer = self._answer(cid, t, grid, fid_flags, pred)
        if self.answer_cache_size:
            self._answers[key] = answer
            while len(self._answers) > self.answer_cache_size:  # least recently used, O(1)
                self._answers.popitem(last=False)
        return answer

    def _predict_one_row(
        self, row: int, epochs: np.ndarray
    ) -> tuple[CurveRow, frozenset[str], dict[str, float]] | None:
        """One config given by accelerator row: its curves, prediction flags and uncertainty,
        equal to row 0 of ``_predict_rows([row], epochs)``, or None where a kind has no such
        path (then ``query`` takes :meth:`_predict_batch`)."""
        del row, epochs
        return None

    def _answer(
        self, cid: str, t: int, grid: np.ndarray, fid_flags: frozenset[str], pred: Prediction
    ) -> QueryResult:
        """The :class:`QueryResult` of a one-config :class:`Prediction`."""
        c = pred.curves
        clipped = c.clipped is not None and bool(c.clipped[0])
        std = c.energy_j_std or {}
        std_last = {m: None if (s := std.get(m)) is None else float(s[0, -1]) for m in self.meters}
        return self._result(
            cid,
            t,
            grid,
            fid_flags,
            val=_readonly(c.val_accuracy[0]),
            test=None if c.test_accuracy is None else _readonly(c.test_accuracy[0]),
            time=_readonly(c.train_time_s[0]),
            energy={m: c.energy_j[m][0] for m in self.meters},
            std_last=std_last,
            pred_flags=pred.flags[0],
            clipped=clipped,
            uncertainty=FrozenDict({k: float(v[0]) for k, v in pred.uncertainty.items()}),
        )

    def _answer_row(
        self,
        cid: str,
        t: int,
        grid: np.ndarray,
        fid_flags: frozenset[str],
        r: CurveRow,
        pred_flags: frozenset[str],
        uncertainty: dict[str, float],
    ) -> QueryResult:
        """:meth:`_result` of a :class:`CurveRow` (the same record as :meth:`_answer` of the
        equal :class:`Prediction`; tested): the curve arrays are read-only rows of one array,
        the numbers Python floats already."""
        flags, meter_flags = self._single_flags(t, fid_flags, pred_flags, r.clipped)
        pm = self.primary_meter
        energy = r.energy_j
        primary = energy[pm]
        val = r.val_accuracy
        time = r.train_time_s
        test = r.test_accuracy
        stacked = np.array([val, time, primary] if test is None else [val, time, primary, test])
        stacked.setflags(write=False)
        std = r.energy_j_std or {}
        provenance = self.meters
        by_meter = {}
        for m in provenance:
            e = energy[m][-1]
            s = std.get(m)
            by_meter[m] = _energy_estimate(
                e, e / t, provenance[m], meter_flags[m], None if s is None else s[-1]
            )
        return _query_result(
            cid,
            t,
            val[-1],
            None if test is None else test[-1],
            time[-1],
            primary[-1],
            pm,
            FrozenDict(by_meter),
            self._holistic(primary[-1], time[-1]),
            FrozenDict(uncertainty),
            _curve(grid, stacked[0], None if test is None else stacked[3], stacked[2], stacked[1]),
            flags,
            self.provenance,
        )

    def _holistic(self, energy_j: float, time_s: float) -> tuple[float, float] | None:
        """Holistic ``(lower, upper)`` energy (J) of one answer, None without a calibration."""
        cal = self.calibration
        if cal is None:
            return None
        return (
            energy_j * (1.0 - cal.delta_on) + cal.p_off_lo_w * time_s,
            energy_j * (1.0 + cal.delta_on) + cal.p_off_hi_w * time_s,
        )

    def _result(
        self,
        cid: str,
        t: int,
        grid: np.ndarray,
        fid_flags: frozenset[str],
        *,
        val: np.ndarray,
        test: np.ndarray | None,
        time: np.ndarray,
        energy: Mapping[str, Any],
        std_last: Mapping[str, float | None],
        pred_flags: frozenset[str],
        clipped: bool,
        uncertainty: FrozenDict,
    ) -> QueryResult:
        """The record of one answer from its read-only curve rows (``energy``: per meter a row;
        the primary meter's row read-only) and the last point's energy sd per meter."""
        flags, meter_flags = self._single_flags(t, fid_flags, pred_flags, clipped)
        time_s = float(time[-1])
        primary = energy[self.primary_meter]
        by_meter = {}
        for m, row in energy.items():
            e = float(row[-1])
            by_meter[m] = EnergyEstimate(
                energy_j=e,
                per_epoch_j=e / t,
                provenance=self.meters[m],
                flags=meter_flags[m],
                std_j=std_last[m],
            )
        energy_j = float(primary[-1])
        holistic = self._holistic(energy_j, time_s)
        return QueryResult(
            config_id=cid,
            epochs=t,
            val_accuracy=float(val[-1]),
            test_accuracy=None if test is None else float(test[-1]),
            train_time_s=time_s,
            energy_j=energy_j,
            primary_meter=self.primary_meter,
            energy_by_meter=FrozenDict(by_meter),
            holistic_energy_j=holistic,
            uncertainty=uncertainty,
            curve=Curve(
                epochs=grid,
                val_accuracy=val,
                test_accuracy=test,
                energy_j=_readonly(primary),
                train_time_s=time,
            ),
            flags=flags,
            provenance=self.provenance,
        )

    def _single_flags(
        self, t: int, fid_flags: frozenset[str], pred_flags: frozenset[str], clipped: bool
    ) -> tuple[frozenset[str], dict[str, frozenset[str]]]:
        """Flags of one answer and of its per-meter estimates (few distinct sets: memoised)."""
        key = (t, fid_flags, pred_flags, clipped)
        hit = self._flag_memo.get(key)
        if hit is not None:
            return hit
        extra = self._meter_epoch_flags(t)
        flags = self._result_base_flags | fid_flags | pred_flags | extra[self.primary_meter]
        if clipped:
            flags = flags | {CLIPPED}
        own = flags - self._result_base_flags - extra[self.primary_meter]
        meter_flags = {m: self._meter_flags[m] | own | extra[m] for m in self.meters}
        if self.calibration is not None:
            flags = flags | {HOLISTIC_CALIBRATED}
        if len(self._flag_memo) < 1024:
            self._flag_memo[key] = (flags, meter_flags)
        return flags, meter_flags

    def query_batch(
        self, configs: Sequence[Any], epochs: int, seed: int | None = None
    ) -> BatchResult:
        """``query`` for many configs at one epoch count, as a struct of ``(n,)`` arrays.

        Element ``i`` of every field equals the same field of ``query(configs[i], epochs,
        seed)``; curves are not returned. One vectorised model call for the whole batch.
        """
        seed = check_seed(seed)
        if isinstance(configs, (str, bytes, Mapping)) or not isinstance(configs, Sequence):
            raise InvalidArgumentError.for_field(
                "configs", type(configs).__name__, "must be a sequence of configs"
            )
        grid, fid_flags = self._grid(epochs)
        t = int(grid[-1])
        resolved = None
        if self._answers_by_row() and self.fidelity.semantics != "prefix":
            resolved = self._cache.batch_rows(configs)  # None unless the accelerator is on
        if resolved is not None:  # 7V: rows straight from the raw configs, no cache entries
            rows, id_list = resolved
            ids = tuple(id_list)
            pred = self._predict_rows_chunked(rows, grid)
            n = len(rows)
        else:
            cfgs = validate_each(self._cache.validate, configs)
            if self.fidelity.semantics == "prefix":
                for i, cfg in enumerate(cfgs):
                    try:
                        self._check_prefix(cfg, t)
                    except EabenchError as exc:
                        raise at_index(exc, i) from exc
            ids = tuple(self._cache.config_ids(cfgs))
            # the whole grid, as query() does: CLIPPED and the table kind's fills look at every
            # point
            pred = self._predict_chunked(cfgs, ids, grid)
            n = len(cfgs)
        if seed is not None:
            pred = _sampled(pred, ids, seed)
        c = pred.curves
        common = (
            self._result_base_flags | fid_flags | self._meter_epoch_flags(t)[self.primary_meter]
        )
        if self.calibration is not None:
            common = common | {HOLISTIC_CALIBRATED}
        flags = _batch_flags(common, pred.flags, c.clipped, n)
        by_meter = {m: _readonly(np.ascontiguousarray(c.energy_j[m][:, -1])) for m in self.meters}
        energy = by_meter[self.primary_meter]
        time_s = _readonly(np.ascontiguousarray(c.train_time_s[:, -1]))
        lower = upper = None
        if self.calibration is not None:
            cal = self.calibration
            lower = _readonly(energy * (1.0 - cal.delta_on) + cal.p_off_lo_w * time_s)
            upper = _readonly(energy * (1.0 + cal.delta_on) + cal.p_off_hi_w * time_s)
        test = c.test_accuracy
        return BatchResult(
            config_ids=ids,
            epochs=t,
            val_accuracy=_readonly(np.ascontiguousarray(c.val_accuracy[:, -1])),
            test_accuracy=None if test is None else _readonly(np.ascontiguousarray(test[:, -1])),
            train_time_s=time_s,
            energy_j=energy,
            primary_meter=self.primary_meter,
            energy_j_by_meter=by_meter,
            holistic_lower_j=lower,
            holistic_upper_j=upper,
            uncertainty={k: _readonly(np.asarray(v)) for k, v in pred.uncertainty.items()},
            flags=flags,
            provenance=self.provenance,
        )

    # ------------------------------------------------------------------ rows (7V) path
    def _answers_by_row(self) -> bool:
        """True where :meth:`_predict_rows` answers from accelerator rows (7V materialised)."""
        return False

    def _predict_rows(self, rows: np.ndarray, epochs: np.ndarray) -> Prediction:
        """Like :meth:`_predict_batch`, for configs given by accelerator rows. Kinds whose
        :meth:`_answers_by_row` can be True override it; the base never calls it otherwise."""
        del rows, epochs
        raise TypeError(
            f"{type(self).__name__} answers by row (_answers_by_row) but lacks _predict_rows"
        )

    def _predict_rows_chunked(self, rows: np.ndarray, epochs: np.ndarray) -> Prediction:
        """``_predict_rows`` over chunks of ``row_chunk`` rows (elementwise assembly: the same
        bits for any chunking, tested)."""
        size = self.row_chunk
        if len(rows) <= size:
            return self._predict_rows(rows, epochs)
        parts = [
            _last_point(self._predict_rows(rows[i : i + size], epochs))
            for i in range(0, len(rows), size)
        ]
        return _concat_predictions(parts)

    def _predict_chunked(
        self, cfgs: Sequence[Any], ids: Sequence[str], epochs: np.ndarray
    ) -> Prediction:
        """``_predict_batch`` over chunks of ``batch_chunk`` configs, concatenated.

        Every answer is a function of its own config only, so chunking changes no answer (up to
        the last-bit rounding of BLAS matrix products, whose blocking depends on the batch
        size); it bounds the temporaries of vectorised models (tree ensembles allocate arrays of
        shape configs x trees), which lowers peak memory and runs faster.
        """
        size = self.batch_chunk
        if len(cfgs) <= size:
            return self._predict_batch(cfgs, ids, epochs)
        parts = [
            self._predict_batch(cfgs[i : i + size], ids[i : i + size], epochs)
            for i in range(0, len(cfgs), size)
        ]
        return _concat_predictions(parts)

    def describe(self) -> dict[str, Any]:
        """Facts about this benchmark as a JSON-ready dict (used by ``eabench info``)."""
        return {
            "name": self.name,
            "kind": self.kind,
            "space": getattr(self.space, "name", type(self.space).__name__),
            "fidelity": self.fidelity.to_dict(),
            "metrics": {k: v.to_dict() for k, v in self.metrics.items()},
            "primary_meter": self.primary_meter,
            "meters": {k: v.to_dict() for k, v in self.meters.items()},
            "card": self.card.to_dict(),
            "provenance": self.provenance.to_dict(),
        }
