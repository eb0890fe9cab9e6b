"""Surrogate artifacts: ``manifest.json`` + ``weights.npz`` (+ ``table.npz``); numpy inference.

Manifest (format version 2; version 1 artifacts, whose ``energy{k}`` trees predicted log energy
directly and whose head table had 11 columns, are refused), JSON object with: ``format_version``,
``name``, ``version``, ``space_name``, ``kind`` (``"nb101-7v-bcs-gbdt"``), ``files`` ({name:
sha256}), ``data_id``, ``split`` (the held-out sets in words and counts), ``metrics`` (held-out),
``space_outputs`` (description of the optional ``space_outputs.npz``), ``meters`` ({meter id:
{"trained_on", "pue_removed"}}), ``max_epochs``, ``min_epochs``, ``heads``, ``table`` (array
descriptions), ``licence``, ``citation``, ``training`` (recipe, seconds, library versions).

:func:`from_manifest` (the loader of this kind in :mod:`eabench.surrogates.registry`, after
``eabench.manifest`` read the manifest and checked every file's sha256) returns a
:class:`Nb101Surrogate`,
which implements :class:`~eabench.surrogates.base.Surrogate` with numpy only. ``energy_j_std``
combines the energy ensemble's spread with a residual term (log-residual sd of a member fitted on
the seed-42 train part and scored on its valid part, stored as ``energy.log_sigma``).

The energy head is :class:`~eabench.surrogates.nb101_energy.EnergyHead` (additive work model
times GBDT residuals).

``predict`` = :meth:`Nb101Surrogate.heads` (the models: features -> 15 numbers per config) then
:meth:`Nb101Surrogate.assemble` (numbers -> curves at the asked epochs). An artifact with
``space_outputs.npz`` (every 7V cell's head outputs, :mod:`eabench.surrogates.space_outputs`)
also answers :meth:`Nb101Surrogate.predict_indices` by space row without running the models.
"""

from __future__ import annotations

import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from math import sqrt
from pathlib import Path

import numpy as np

from eabench.errors import ArtifactError, FidelityError
from eabench.manifest import Manifest
from eabench.surrogates.acc_uncertainty import sd_from_heads
from eabench.surrogates.base import CurvePrediction, CurveRow, ManifestFacts
from eabench.surrogates.bezier import BezierCurves
from eabench.surrogates.heads import test_head_from_arrays
from eabench.surrogates.nb101_energy import EnergyHead
from eabench.surrogates.nb101_features import cell_features
from eabench.surrogates.nb101_post import (
    LOG_BUDGETS,
    HermiteBasis,
    Postprocess,
    pchip_slopes,
    pchip_slopes_row,
)
from eabench.surrogates.space_outputs import SPACE_OUTPUTS_FILE, read_space_outputs
from eabench.surrogates.trees import TreeEnsemble

__all__ = [
    "BUDGETS",
    "HEAD_COLUMNS",
    "KIND",
    "Nb101Surrogate",
    "from_manifest",
]

KIND = "nb101-7v-bcs-gbdt"
_WH_TO_J = 3600.0
BUDGETS = (4.0, 12.0, 36.0, 108.0)
"""The 7V training budgets (epochs): the stored validation accuracies are at these."""
HEAD_COLUMNS = (
    "val_acc_4",
    "val_acc_12",
    "val_acc_36",
    "val_acc_108",
    "bezier_y1",
    "bezier_y2",
    "bezier_log_gamma",
    "test_acc_108_head",
    "time_per_epoch_s",
    "energy_per_epoch_j_mean",
    "energy_per_epoch_j_sd",
    "val_acc_sd_4",
    "val_acc_sd_12",
    "val_acc_sd_36",
    "val_acc_sd_108",
)
"""Columns of :meth:`Nb101Surrogate.heads` and of ``space_outputs.npz``: the raw (unclipped)
validation accuracy of the cubic at the 4 budgets (the curve's end control points are the first
and last), its interior control y's and log gamma (for epochs between budgets), the test@108 head,
the time head per epoch (s), the energy ensemble's per-epoch mean and population sd (J,
device level: PUE divided out), and the predictive sd of the validation accuracy at the 4 budgets
(:mod:`eabench.surrogates.acc_uncertainty`)."""


_KNOT_H = np.diff(LOG_BUDGETS).tolist()


@dataclass(frozen=True, slots=True)
class _Grid:
    """Everything about an epoch grid that does not depend on the config, computed once per
    grid and surrogate instance (:meth:`Nb101Surrogate._grid`): budget columns, the cubic
    Hermite basis of PCHIP between budgets and the weights of the sd interpolation (both in log
    epochs), the energy factors; as arrays for batches and as Python lists for one config."""

    ep: np.ndarray
    col: np.ndarray
    all_budgets: bool
    basis: HermiteBasis | None
    sd_lo: np.ndarray
    sd_w_lo: np.ndarray
    sd_w_hi: np.ndarray
    factor: np.ndarray
    ext: np.ndarray
    limit_last: float
    col_list: list[int]
    basis_rows: list[tuple[int, float, float, float, float]]
    sd_rows: list[tuple[int, float, float]]
    eps: list[float]
    factor_list: list[float]
    ext_list: list[float]

    @classmethod
    def of(cls, ep: np.ndarray, post: Postprocess) -> _Grid:
        """``ep``: checked epochs (read-only float64) in [4, 108]."""
        budgets = np.asarray(BUDGETS, dtype=np.float64)
        col = np.searchsorted(budgets, ep)
        on_budget = (col < 4) & (budgets[np.minimum(col, 3)] == ep)
        all_budgets = bool(on_budget.all())
        log_e = np.log(ep)
        basis = None if all_budgets else HermiteBasis.at(LOG_BUDGETS, log_e)
        # acc_uncertainty.interp_sd: linear in log epochs between budgets
        hi = np.clip(np.searchsorted(LOG_BUDGETS, log_e), 1, 3)
        w = (log_e - LOG_BUDGETS[hi - 1]) / (LOG_BUDGETS[hi] - LOG_BUDGETS[hi - 1])
        limit = post.uncertainty_ratio * post.spread_at(log_e)
        factor = post.energy_factor(ep)
        ext = post.extrapolation_rel_sd(ep)
        basis_rows = (
            []
            if basis is None
            else list(
                zip(
                    basis.seg.tolist(),
                    basis.w00.tolist(),
                    basis.w10.tolist(),
                    basis.w01.tolist(),
                    basis.w11.tolist(),
                    strict=True,
                )
            )
        )
        return cls(
            ep=ep,
            col=col,
            all_budgets=all_budgets,
            basis=basis,
            sd_lo=hi - 1,
            sd_w_lo=1.0 - w,
            sd_w_hi=w,
            factor=factor,
            ext=ext,
            limit_last=float(limit[-1]),
            col_list=col.tolist(),
            basis_rows=basis_rows,
            sd_rows=list(zip((hi - 1).tolist(), (1.0 - w).tolist(), w.tolist(), strict=True)),
            eps=ep.tolist(),
            factor_list=factor.tolist(),
            ext_list=ext.tolist(),
        )


class Nb101Surrogate(ManifestFacts):
    """The nb101-7v surrogate: BCS over budgets (val acc), test-acc, time and energy tree heads."""

    def __init__(
        self,
        manifest: Manifest,
        weights: Mapping[str, np.ndarray],
        space_outputs: np.ndarray | Path | None = None,
    ) -> None:
        self._manifest = manifest
        self._space_outputs = space_outputs
        meters = manifest["meters"]
        if (
            not isinstance(meters, list)
            or not meters
            or not all(isinstance(m, str) for m in meters)
        ):
            raise ArtifactError.for_field("manifest.meters", meters, "must list meter ids")
        self._meters = tuple(meters)
        lo, hi = manifest["min_epochs"], manifest["max_epochs"]
        if (lo, hi) != (BUDGETS[0], BUDGETS[-1]) or isinstance(lo, bool) or isinstance(hi, bool):
            raise ArtifactError.for_field(
                "manifest.min_epochs/max_epochs", [lo, hi], "must be 4 and 108 (the 7V budgets)"
            )
        self._min_epochs, self._max_epochs = float(lo), float(hi)
        info = manifest.get("space_outputs") or {}
        digest = info.get("space_hashes_sha256") if isinstance(info, Mapping) else None
        if space_outputs is not None and not isinstance(digest, str):
            raise ArtifactError.for_field(
                "manifest.space_outputs.space_hashes_sha256", digest, "must be the space's hash"
            )
        self._outputs_digest = digest
        self._grids: dict[bytes, _Grid] = {}
        heads = manifest["heads"]
        if not isinstance(heads, Mapping):
            raise ArtifactError.for_field("manifest.heads", heads, "must be an object")
        self._bcs = tuple(TreeEnsemble.from_arrays(dict(weights), f"bcs{k}") for k in range(5))
        self._bcs_sd = tuple(
            TreeEnsemble.from_arrays(dict(weights), f"bcs_sd{b}") for b in range(len(BUDGETS))
        )
        self._test = test_head_from_arrays(weights)
        self._time = TreeEnsemble.from_arrays(dict(weights), "time")
        self._energy = EnergyHead.from_arrays(weights, int(heads["energy_members"]))
        self._pue = float(heads["energy_divide_by"])
        self._post = Postprocess.from_manifest(heads.get("postprocess"))
        post = self._post
        self._val_post = list(  # per budget: the numbers of the one-config path
            zip(
                post.val_mean.tolist(),
                (post.val_sd * post.val_sd).tolist(),
                post.val_min.tolist(),
                post.val_max.tolist(),
                post.shrink.tolist(),
                strict=True,
            )
        )
        self._test_floor = float(post.val_min.min())
        self._log_sigma = (
            float(weights["energy.log_sigma"][0]) if "energy.log_sigma" in weights else 0.0
        )

    def _epochs(self, epochs: np.ndarray) -> np.ndarray:
        return self._grid(epochs).ep

    def _grid(self, epochs: np.ndarray) -> _Grid:
        """Checked epochs and their fixed facts (:class:`_Grid`, memoised per grid)."""
        ep = np.asarray(epochs, dtype=np.float64).reshape(-1)
        key = ep.tobytes()
        hit = self._grids.get(key)
        if hit is not None:
            return hit
        lo = self._min_epochs
        if ep.size == 0 or np.any(ep < lo) or np.any(ep > self.max_epochs):
            raise FidelityError.for_field(
                "epochs", ep.tolist()[:8], f"must be in [{lo}, {self.max_epochs}] (7V budgets)"
            )
        ep = ep.copy()
        ep.flags.writeable = False
        out = _Grid.of(ep, self._post)
        if len(self._grids) < 256:
            self._grids[key] = out
        return out

    def heads(self, features: np.ndarray) -> np.ndarray:
        """Per-config head outputs ``(n, len(HEAD_COLUMNS))`` float64 (see :data:`HEAD_COLUMNS`).

        Everything :meth:`predict` needs from the models; the rest is curve assembly.
        """
        x = cell_features(features)
        ctrl = np.column_stack([m.predict(x) for m in self._bcs])
        budgets = np.asarray(BUDGETS, dtype=np.float64)
        val_b = self._bezier(ctrl[:, :4], ctrl[:, 4], budgets)
        wh = self._energy.members_wh(features, base=x)  # Wh per 4 epochs, PUE included
        per_epoch_j = wh / 4.0 * _WH_TO_J / self._pue  # (members, n)
        return np.column_stack(
            [
                val_b,
                ctrl[:, 1:3],
                ctrl[:, 4],
                self._test.predict(x),
                np.exp(self._time.predict(x)) / 108.0,
                per_epoch_j.mean(axis=0),
                per_epoch_j.std(axis=0),
                sd_from_heads(self._bcs_sd, x),
            ]
        )

    def _bezier(self, y: np.ndarray, log_gamma: np.ndarray, ep: np.ndarray) -> np.ndarray:
        curves = BezierCurves(
            y=y,
            gamma=np.exp(log_gamma),
            t_first=self._min_epochs,
            t_last=np.full(y.shape[0], 108.0),
            axis="log",
        )
        out: np.ndarray = curves(ep)
        return out

    def assemble(self, heads: np.ndarray, epochs: np.ndarray) -> CurvePrediction:
        """Curves at ``epochs`` from head outputs (rows of :meth:`heads` or ``space_outputs``).

        The raw budget values are shrunk and clamped, epochs between budgets interpolated
        monotonically, energy extrapolated with setup counted once
        (:mod:`eabench.surrogates.nb101_post`).
        """
        g = self._grid(epochs)
        if len(heads) == 1:
            return self._one(self._assemble_row(np.asarray(heads[0]).tolist(), g))
        h = np.asarray(heads, dtype=np.float64)
        post = self._post
        raw = h[:, 0:4]
        sd_b = h[:, 11:15]
        s2 = post.val_sd * post.val_sd
        shrunk = np.where(
            post.shrink & (raw > post.val_mean),
            post.val_mean + (raw - post.val_mean) * (s2 / (s2 + sd_b * sd_b)),
            raw,
        )
        val_b = np.minimum(np.maximum(shrunk, post.val_min), post.val_max)
        t_raw = h[:, 7]
        ts2 = post.test_sd * post.test_sd
        sd108 = sd_b[:, 3]
        t_shr = np.where(
            t_raw > post.test_mean,
            post.test_mean + (t_raw - post.test_mean) * (ts2 / (ts2 + sd108 * sd108)),
            t_raw,
        )
        t108 = np.minimum(np.maximum(t_shr, post.test_min), post.test_max)
        col = g.col
        if g.basis is None:
            val = val_b[:, col]
            val_sd = h[:, 11 + col]
        else:
            val = g.basis(val_b, pchip_slopes(val_b, LOG_BUDGETS))
            val_sd = sd_b[:, g.sd_lo] * g.sd_w_lo + sd_b[:, g.sd_lo + 1] * g.sd_w_hi
        raw_test = val + (t108 - val_b[:, 3])[:, None]
        test = np.minimum(np.maximum(raw_test, self._test_floor), post.test_max)
        clipped = (
            np.any(val_b != shrunk, axis=1) | (t108 != t_shr) | np.any(test != raw_test, axis=1)
        )
        mean = h[:, 9:10] * g.factor
        sd = h[:, 10:11] * g.factor
        rel = mean * self._log_sigma
        xs = mean * g.ext
        meter = self.meters[0]
        return CurvePrediction(
            epochs=g.ep,
            val_accuracy=val,
            test_accuracy=test,
            train_time_s=h[:, 8:9] * g.ep,
            energy_j={meter: mean},
            val_accuracy_std=val_sd,
            energy_j_std={meter: np.sqrt(sd * sd + rel * rel + xs * xs)},
            clipped=clipped,
            high_uncertainty=val_sd[:, -1] > g.limit_last,
        )

    def _assemble_row(self, h: list[float], g: _Grid) -> CurveRow:
        """:meth:`assemble` of one config in Python floats: the same IEEE operations in the
        same order as the vectorised path, so the same bits (tested against it and through
        ``query_batch`` == a loop of ``query``), at a fraction of the cost of numpy calls on
        arrays of one row. (``a if a > b else b`` is ``np.maximum`` for the finite numbers
        here.)"""
        post = self._post
        val_b: list[float] = []
        clipped = False
        for (m, s2, lo, hi, shrink), v, sd in zip(self._val_post, h[0:4], h[11:15], strict=True):
            shr = m + (v - m) * (s2 / (s2 + sd * sd)) if shrink and v > m else v
            c = lo if shr < lo else shr
            c = hi if c > hi else c
            if c != shr:
                clipped = True
            val_b.append(c)
        sd108 = h[14]
        tm, ts = post.test_mean, post.test_sd
        ts2 = ts * ts
        t_raw = h[7]
        t_shr = tm + (t_raw - tm) * (ts2 / (ts2 + sd108 * sd108)) if t_raw > tm else t_raw
        t108 = post.test_min if t_shr < post.test_min else t_shr
        t108 = post.test_max if t108 > post.test_max else t108
        if t108 != t_shr:
            clipped = True
        if g.basis is None:
            val = [val_b[c] for c in g.col_list]
            val_sd = [h[11 + c] for c in g.col_list]
        else:
            d = pchip_slopes_row(val_b, _KNOT_H)
            val = [
                w00 * val_b[j] + w10 * d[j] + w01 * val_b[j + 1] + w11 * d[j + 1]
                for j, w00, w10, w01, w11 in g.basis_rows
            ]
            val_sd = [h[11 + j] * wl + h[12 + j] * wh for j, wl, wh in g.sd_rows]
        shift = t108 - val_b[3]
        floor, top = self._test_floor, post.test_max
        test = []
        for v in val:
            raw = v + shift
            t = floor if raw < floor else raw
            t = top if t > top else t
            if t != raw:
                clipped = True
            test.append(t)
        e4, s4, ls, per_epoch = h[9], h[10], self._log_sigma, h[8]
        mean = []
        std = []
        for f, x in zip(g.factor_list, g.ext_list, strict=True):
            e = e4 * f
            a = s4 * f
            r = e * ls
            b = e * x
            mean.append(e)
            std.append(sqrt(a * a + r * r + b * b))
        meter = self._meters[0]
        return CurveRow(  # positional: epochs, val, test, time, energy, val sd, energy sd, ...
            g.ep,
            val,
            test,
            [per_epoch * e for e in g.eps],
            {meter: mean},
            val_sd,
            {meter: std},
            clipped,
            val_sd[-1] > g.limit_last,
        )

    @staticmethod
    def _one(row: CurveRow) -> CurvePrediction:
        """A :class:`CurvePrediction` of one config from its :class:`CurveRow`."""
        std = row.energy_j_std
        return CurvePrediction(
            epochs=row.epochs,
            val_accuracy=np.array([row.val_accuracy]),
            test_accuracy=None if row.test_accuracy is None else np.array([row.test_accuracy]),
            train_time_s=np.array([row.train_time_s]),
            energy_j={m: np.array([v]) for m, v in row.energy_j.items()},
            val_accuracy_std=None
            if row.val_accuracy_std is None
            else np.array([row.val_accuracy_std]),
            energy_j_std=None if std is None else {m: np.array([v]) for m, v in std.items()},
            clipped=np.array([row.clipped]),
            high_uncertainty=None
            if row.high_uncertainty is None
            else np.array([row.high_uncertainty]),
        )

    def predict(self, features: np.ndarray, epochs: np.ndarray) -> CurvePrediction:
        """Curves at ``epochs`` (each in [4, 108]) for ``features`` from ``NB101Space.encode``."""
        ep = self._epochs(epochs)
        return self.assemble(self.heads(features), ep)

    @property
    def has_space_outputs(self) -> bool:
        """True when the artifact ships the materialised head outputs of every 7V cell."""
        return self._space_outputs is not None

    def load_space_outputs(self) -> np.ndarray:
        """The materialised table, read from the artifact on first use (~0.1 s)."""
        table = self._space_outputs
        if table is None:
            raise ArtifactError.for_field("space_outputs.npz", None, "this artifact has none")
        if isinstance(table, Path):
            table = self._space_outputs = read_space_outputs(
                table, len(HEAD_COLUMNS), self._outputs_digest
            )
        return table

    def predict_indices(self, indices: np.ndarray, epochs: np.ndarray) -> CurvePrediction:
        """Curves of 7V cells given by row (``NB101Space.index_of`` / sorted-hash order).

        Reads the materialised ``space_outputs.npz`` (equal to :meth:`predict` on the cells'
        features up to its float32 storage); raises ``ArtifactError`` if the artifact has none.
        """
        table = self.load_space_outputs()  # read on first use (~0.1 s), not at load time
        return self.assemble(table[np.asarray(indices, dtype=np.intp)], epochs)

    def predict_index(self, row: int, epochs: np.ndarray) -> CurveRow:
        """:meth:`predict_indices` of one row, as Python lists (the single-query fast path of
        :class:`~eabench.kinds.SurrogateBenchmark`; the same numbers)."""
        table = self._space_outputs
        if not isinstance(table, np.ndarray):
            table = self.load_space_outputs()
        return self._assemble_row(table[row].tolist(), self._grid(epochs))


def from_manifest(folder: Path, manifest: Manifest) -> Nb101Surrogate:
    """Load an ``nb101-7v-bcs-gbdt`` artifact whose manifest was read and whose files were
    verified (:func:`eabench.surrogates.registry.load_artifact`).

    Raises:
        ArtifactError: a required file or manifest field is missing or malformed.
    """
    weights_path = manifest.path_of(folder, "weights", "weights.npz")
    try:
        with np.load(weights_path, allow_pickle=False) as z:
            weights = {k: z[k] for k in z.files}
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise ArtifactError.for_field(
            "weights.npz", str(weights_path), f"unreadable ({exc})"
        ) from exc
    for key, arr in weights.items():  # a NaN weight would be served as NaN answers
        if arr.dtype.kind in "fc" and not np.isfinite(arr).all():
            raise ArtifactError.for_field(f"weights.npz[{key}]", "non-finite", "must be finite")
    outputs = None
    if SPACE_OUTPUTS_FILE in manifest.files:
        outputs = folder / SPACE_OUTPUTS_FILE
    try:
        return Nb101Surrogate(manifest, weights, outputs)
    except ArtifactError:
        raise
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise ArtifactError.for_field(
            "artifact", str(folder), f"malformed nb101-7v-bcs-gbdt artifact ({exc!r})"
        ) from exc
