"""The two kinds of benchmark: surrogate predictions and measured tables.

:class:`SurrogateBenchmark` encodes configs with the space and asks a
:class:`~eabench.surrogates.base.Surrogate` for curves; it flags configs outside the training
support (per-feature ``[min, max]`` box of the training features, from the manifest's
``training_support``) and predictions whose spread exceeds the manifest's
``uncertainty_thresholds``.

:class:`TableBenchmark` answers only configs that were measured, with the measured values, and
flags every answer ``MEASURED``. Values the table lacks at the asked epochs (NaN in the table: for
example 7V energy was measured at 4 epochs only) are taken from the surrogate, when the artifact
has one, and flagged ``PREDICTED_<FIELD>`` (e.g. ``PREDICTED_ENERGY_J``); without a surrogate they
raise a ``FidelityError`` naming the measured epochs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from eabench._decoded import page_in
from eabench.benchmark import Benchmark, Prediction
from eabench.errors import FidelityError, InvalidConfigError
from eabench.results import HIGH_UNCERTAINTY, MEASURED, OUTSIDE_TRAINING_SUPPORT
from eabench.surrogates.base import CurvePrediction, CurveRow, RowSurrogate, Surrogate
from eabench.table import ENERGY_PREFIX, MeasuredTable

__all__ = ["SurrogateBenchmark", "TableBenchmark"]

_EMPTY: frozenset[str] = frozenset()
_SUPPORT: frozenset[str] = frozenset({OUTSIDE_TRAINING_SUPPORT})
_UNCERTAIN: frozenset[str] = frozenset({HIGH_UNCERTAINTY})
_BOTH: frozenset[str] = _SUPPORT | _UNCERTAIN


class SurrogateBenchmark(Benchmark):
    """Answers from a surrogate artifact (any object implementing the ``Surrogate`` protocol)."""

    def __init__(self, *, surrogate: Surrogate, **kwargs: Any) -> None:
        super().__init__(kind="surrogate", **kwargs)
        self.surrogate = surrogate
        manifest = surrogate.manifest
        support = manifest.get("training_support") or {}
        lo, hi = support.get("feature_min"), support.get("feature_max")
        self._support = (
            None
            if lo is None or hi is None
            else (np.asarray(lo, dtype=np.float64), np.asarray(hi, dtype=np.float64))
        )
        info = (manifest.get("meter_info") or {}).get(self.primary_meter) or {}
        rng = info.get("plausible_range_factor") if isinstance(info, Mapping) else None
        self._plausible = None if rng is None else (float(rng[0]), float(rng[1]))
        """Factors giving the plausible range of the primary meter's energy (7V: its
        definition is undocumented), reported as ``energy_j_plausible_lo/hi``."""
        thresholds = manifest.get("uncertainty_thresholds") or {}
        self._acc_std_max = thresholds.get("val_accuracy_std")
        self._energy_rel_std_max = thresholds.get("energy_rel_std")
        # 7V: the artifact holds every cell's head outputs; look rows up instead of predicting
        self._indexed = surrogate.has_space_outputs and self._cache.accelerator is not None
        if self._indexed:
            self._cache.activate_after = min(self._cache.activate_after, 64)
        self._by_index = surrogate if isinstance(surrogate, RowSurrogate) else None

    def prepare(self) -> SurrogateBenchmark:
        """Build the space index and, for materialised artifacts, read the head-output table
        (its memory-mapped pages mapped now, not on the first queries)."""
        super().prepare()
        if self._indexed:
            table = self.surrogate.load_space_outputs()
            if isinstance(table, np.ndarray):
                page_in(table)
        return self

    def _flags(
        self, features: np.ndarray | None, curves: CurvePrediction
    ) -> tuple[frozenset[str], ...]:
        n = int(curves.val_accuracy.shape[0])
        nothing = self._acc_std_max is None and self._energy_rel_std_max is None
        if self._support is None and nothing and curves.high_uncertainty is None:
            return (_EMPTY,) * n
        outside = np.zeros(n, dtype=bool)
        if self._support is not None and features is not None:
            lo, hi = self._support
            outside = np.any((features < lo) | (features > hi), axis=1)
        uncertain = np.zeros(n, dtype=bool)
        if curves.high_uncertainty is not None:  # the surrogate's own (e.g. budget-aware) rule
            uncertain |= curves.high_uncertainty
        if self._acc_std_max is not None and curves.val_accuracy_std is not None:
            uncertain |= curves.val_accuracy_std[:, -1] > self._acc_std_max
        std = curves.energy_j_std or {}
        primary_std = std.get(self.primary_meter)
        if self._energy_rel_std_max is not None and primary_std is not None:
            e = curves.energy_j[self.primary_meter][:, -1]
            uncertain |= primary_std[:, -1] > self._energy_rel_std_max * np.maximum(e, 1e-12)
        table = (_EMPTY, _SUPPORT, _UNCERTAIN, _BOTH)
        code = outside.astype(np.int8) + 2 * uncertain.astype(np.int8)
        return tuple(table[i] for i in code.tolist())

    def _predict_batch(
        self, configs: Sequence[Any], config_ids: Sequence[str], epochs: np.ndarray
    ) -> Prediction:
        del config_ids  # the surrogate needs features (or, materialised, table rows) only
        if self._answers_by_row():
            return self._predict_rows(self._cache.rows(configs), epochs)
        features = self._cache.features(configs)
        return self._prediction(features, self.surrogate.predict(features, epochs))

    def _answers_by_row(self) -> bool:
        return self._indexed and self._cache.accelerator is not None

    def _predict_rows(self, rows: np.ndarray, epochs: np.ndarray) -> Prediction:
        """Curves of 7V cells by space row, from the materialised head outputs."""
        acc = self._cache.accelerator
        features = None
        if self._support is not None and acc is not None:
            features = acc.features(rows)
        return self._prediction(features, self.surrogate.predict_indices(rows, epochs))

    def _predict_one_row(
        self, row: int, epochs: np.ndarray
    ) -> tuple[CurveRow, frozenset[str], dict[str, float]] | None:
        """:meth:`_predict_rows` of one row in Python values (:meth:`_flags` and
        :meth:`_prediction` of one config, the same comparisons and products)."""
        if self._by_index is None or not self._answers_by_row():
            return None
        outside = False
        if self._support is not None:
            acc = self._cache.accelerator
            assert acc is not None  # _answers_by_row
            lo, hi = self._support
            x = acc.features(np.array([row]))
            outside = bool(np.any((x < lo) | (x > hi)))
        r = self._by_index.predict_index(row, epochs)
        primary = self.primary_meter
        energy = r.energy_j[primary][-1]
        std = (r.energy_j_std or {}).get(primary)
        val_sd = r.val_accuracy_std
        uncertain = bool(r.high_uncertainty)
        if self._acc_std_max is not None and val_sd is not None:
            uncertain = uncertain or val_sd[-1] > self._acc_std_max
        if self._energy_rel_std_max is not None and std is not None:
            uncertain = uncertain or std[-1] > self._energy_rel_std_max * max(energy, 1e-12)
        flags = (_EMPTY, _SUPPORT, _UNCERTAIN, _BOTH)[outside + 2 * uncertain]
        unc: dict[str, float] = {}
        if val_sd is not None:
            unc["val_accuracy_std"] = val_sd[-1]
        if std is not None:
            unc["energy_j_std"] = std[-1]
        if self._plausible is not None:
            unc["energy_j_plausible_lo"] = energy * self._plausible[0]
            unc["energy_j_plausible_hi"] = energy * self._plausible[1]
        return r, flags, unc

    def _prediction(self, features: np.ndarray | None, curves: CurvePrediction) -> Prediction:
        unc: dict[str, np.ndarray] = {}
        if curves.val_accuracy_std is not None:
            unc["val_accuracy_std"] = curves.val_accuracy_std[:, -1]
        std = curves.energy_j_std or {}
        if self.primary_meter in std:
            unc["energy_j_std"] = std[self.primary_meter][:, -1]
        if self._plausible is not None:
            e = curves.energy_j[self.primary_meter][:, -1]
            unc["energy_j_plausible_lo"] = e * self._plausible[0]
            unc["energy_j_plausible_hi"] = e * self._plausible[1]
        return Prediction(curves=curves, flags=self._flags(features, curves), uncertainty=unc)


class TableBenchmark(Benchmark):
    """Answers measured configs with their measured values (flagged ``MEASURED``)."""

    def __init__(
        self, *, table: MeasuredTable, surrogate: Surrogate | None = None, **kwargs: Any
    ) -> None:
        super().__init__(kind="table", **kwargs)
        self.table = table
        self.surrogate = surrogate

    def _rows(self, config_ids: Sequence[str]) -> np.ndarray:
        index = self.table.index
        rows = np.empty(len(config_ids), dtype=np.int64)
        for i, cid in enumerate(config_ids):
            row = index.get(cid)
            if row is None:
                raise InvalidConfigError.for_field(
                    "config",
                    cid,
                    f"was not measured ({len(index)} configs in the {self.name} table); "
                    "use kind='surrogate' for unmeasured configs",
                )
            rows[i] = row
        return rows

    def _lookup(self, rows: np.ndarray, epochs: np.ndarray) -> dict[str, np.ndarray]:
        tab = self.table
        cols = np.searchsorted(tab.epochs, epochs)
        cols_c = np.minimum(cols, len(tab.epochs) - 1)
        present = tab.epochs[cols_c] == epochs
        out = {}
        for name, arr in tab.values.items():
            vals = arr[np.ix_(rows, cols_c)]
            vals[:, ~present] = np.nan
            out[name] = vals
        return out

    def _predict_batch(
        self, configs: Sequence[Any], config_ids: Sequence[str], epochs: np.ndarray
    ) -> Prediction:
        rows = self._rows(config_ids)
        vals = self._lookup(rows, epochs)
        needed = ["val_accuracy", "train_time_s"] + [ENERGY_PREFIX + m for m in self.meters]
        if "test_accuracy" in vals:
            needed.append("test_accuracy")
        missing = [k for k in needed if k not in vals or np.isnan(vals[k]).any()]
        flags = [{MEASURED} for _ in configs]
        if missing:
            if self.surrogate is None:
                name = missing[0]
                measured = self.table.measured_epochs(name) if name in vals else []
                raise FidelityError.for_field(
                    "epochs",
                    [int(e) for e in epochs],
                    f"{name} was not measured there for every asked config "
                    f"(measured at epochs {measured}); use kind='surrogate'",
                )
            if self.surrogate.has_space_outputs and self._cache.accelerator is not None:
                rows = self._cache.rows(configs)  # 7V: materialised head outputs, no models
                pred = self.surrogate.predict_indices(rows, epochs)
            else:
                pred = self.surrogate.predict(self._cache.features(configs), epochs)
            filled = {
                "val_accuracy": pred.val_accuracy,
                "train_time_s": pred.train_time_s,
                "test_accuracy": pred.test_accuracy,
                **{ENERGY_PREFIX + m: pred.energy_j[m] for m in self.meters},
            }
            for name in missing:
                source = filled.get(name)
                if source is None:
                    raise FidelityError.for_field("epochs", list(epochs), f"{name} not measured")
                nan = np.isnan(vals[name]) if name in vals else np.ones_like(source, bool)
                vals[name] = np.where(nan, source, vals.get(name, source))
                code = "PREDICTED_" + name.replace(ENERGY_PREFIX, "ENERGY_J_").upper()
                for i in np.flatnonzero(nan[:, -1]).tolist():
                    flags[i].add(code)
        curves = CurvePrediction(
            epochs=epochs,
            val_accuracy=vals["val_accuracy"],
            test_accuracy=vals.get("test_accuracy"),
            train_time_s=vals["train_time_s"],
            energy_j={m: vals[ENERGY_PREFIX + m] for m in self.meters},
        )
        return Prediction(curves=curves, flags=tuple(frozenset(f) for f in flags))


def meter_order(surrogate: Surrogate | None, table: MeasuredTable | None) -> tuple[str, ...]:
    """Meter ids in order, primary first: the surrogate's, else the table's."""
    if surrogate is not None:
        return tuple(surrogate.meters)
    assert table is not None
    return table.meters
