"""Statistics of the *reliable measurements* principle, as pure functions of numpy arrays.

- :func:`agreement`: Spearman, Pearson and a two-sample Kolmogorov-Smirnov test between two
  meters' paired values (the seed paper's Table I; scipy.stats).
- :func:`pairwise_agreement`: :func:`agreement` for every pair of channels, per window (epoch)
  and per run, on all windows and on windows without an ``invalid`` flag (the paper's "SMI
  corrected" row).
- :func:`ecdf`: the empirical CDF of per-window power (the paper's Figs. 2, 4 and 7).
- :func:`sampling_stats`: samples per window, the sample ratio (taken / expected), and the
  correlation of the sample count with energy (the paper found 0.57; it should be near 0).
- :func:`flag_shares`: share of windows per channel that carry each flag code.

A statistic that cannot be computed (too few pairs, a constant input) is ``None`` together with
a ``note`` that says why; it is never NaN or 0.
"""

from __future__ import annotations

import itertools
import warnings
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

from eabench.audit.data import AuditData
from eabench.errors import InvalidArgumentError

__all__ = [
    "NOT_A_MEASUREMENT_DEFECT",
    "Agreement",
    "PairAgreement",
    "SamplingStats",
    "agreement",
    "ecdf",
    "flag_shares",
    "invalid_mask",
    "pairwise_agreement",
    "safe_pearson",
    "sampling_stats",
]

#: Fewest paired values for which correlations and the KS test are reported.
MIN_PAIRS = 3


@dataclass(frozen=True, slots=True)
class Agreement:
    """Agreement of two paired samples ``a`` and ``b`` (same windows or runs).

    ``ks_same_distribution`` is True when the two-sample KS test does *not* reject equal
    distributions at level ``alpha`` (the paper's check mark). ``median_rel_diff`` is the median of
    ``(b - a) / a``. Fields are None when ``n < MIN_PAIRS`` or an input is constant (``note``).
    """

    n: int
    spearman: float | None
    pearson: float | None
    ks_statistic: float | None
    ks_pvalue: float | None
    ks_same_distribution: bool | None
    alpha: float
    median_rel_diff: float | None
    note: str = ""


@dataclass(frozen=True, slots=True)
class PairAgreement:
    """:class:`Agreement` of two channels at one level (``"epoch"`` or ``"run"``).

    ``comparable`` is True when both channels measure the same cost component (two GPU meters),
    the only case in which agreement is expected. ``clean`` says whether windows with an
    ``invalid`` flag on either channel were left out.
    """

    channel_a: str
    channel_b: str
    level: str
    clean: bool
    comparable: bool
    stats: Agreement


def _finite_pairs(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(a, dtype=np.float64).ravel()
    b = np.asarray(b, dtype=np.float64).ravel()
    if a.shape != b.shape:
        raise InvalidArgumentError.for_field("b", b.shape, f"must have the shape of a {a.shape}")
    keep = np.isfinite(a) & np.isfinite(b)
    return a[keep], b[keep]


def safe_pearson(x: np.ndarray, y: np.ndarray) -> float | None:
    """Pearson r of the finite pairs of ``x`` and ``y``; None if < 3 pairs or a constant input."""
    a, b = _finite_pairs(x, y)
    if a.size < MIN_PAIRS or np.ptp(a) == 0 or np.ptp(b) == 0:
        return None
    return float(sps.pearsonr(a, b).statistic)


def agreement(a: np.ndarray, b: np.ndarray, *, alpha: float = 0.05) -> Agreement:
    """Spearman, Pearson, two-sample KS and median relative difference of paired values.

    NaN pairs are dropped. Args: ``a`` the reference values, ``b`` the compared meter's values
    (same length), ``alpha`` the KS test level.
    """
    if not 0 < alpha < 1:
        raise InvalidArgumentError.for_field("alpha", alpha, "must be in (0, 1)")
    x, y = _finite_pairs(a, b)
    n = int(x.size)
    if n < MIN_PAIRS:
        return Agreement(n, None, None, None, None, None, alpha, None, f"fewer than {MIN_PAIRS}")
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = (y - x) / x
    rel = rel[np.isfinite(rel)]
    med = float(np.median(rel)) if rel.size else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "exact calculation unsuccessful" -> asymptotic
        ks = sps.ks_2samp(x, y)
    ks_stat, ks_p = float(ks.statistic), float(ks.pvalue)
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        return Agreement(n, None, None, ks_stat, ks_p, ks_p >= alpha, alpha, med, "constant input")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rho = float(sps.spearmanr(x, y).statistic)
        r = float(sps.pearsonr(x, y).statistic)
    return Agreement(n, rho, r, ks_stat, ks_p, ks_p >= alpha, alpha, med)


#: ``invalid`` codes that do not make a window's measurement untrustworthy for the audit:
#: SIMULATED bars data from publication, not from analysis; METER_DISAGREEMENT marks *both*
#: meters of a disagreeing pair without saying which is wrong (the agreement statistics measure
#: disagreement directly).
NOT_A_MEASUREMENT_DEFECT: frozenset[str] = frozenset({"SIMULATED", "METER_DISAGREEMENT"})


def invalid_mask(data: AuditData) -> np.ndarray:
    """``(R, W, C)`` True where a window's reading carries a flag of severity ``invalid``
    (other than the codes in :data:`NOT_A_MEASUREMENT_DEFECT`)."""
    r, w, c = data.shape
    sev = np.array(
        [
            s == "invalid" and code not in NOT_A_MEASUREMENT_DEFECT
            for code, s in zip(data.flag_codes, data.flag_severities, strict=True)
        ],
        dtype=bool,
    )
    if not sev.any():
        return np.zeros((r, w, c), dtype=bool)
    return np.asarray(np.any(data.flags[..., sev], axis=-1))


def pairwise_agreement(data: AuditData, *, alpha: float = 0.05) -> list[PairAgreement]:
    """Agreement of every pair of channels on per-window and per-run energy.

    Per window: all windows both channels measured, and again without windows that carry an
    ``invalid`` flag on either channel. Per run: run totals of runs both measured completely
    (for the clean variant, runs without any invalid window). The reference channel, where set,
    is always ``channel_a``.
    """
    out: list[PairAgreement] = []
    inv = invalid_mask(data)
    run_e = data.run_energy_j()
    order = list(range(len(data.channels)))
    if data.reference_channel is not None:
        ref = data.channel_index(data.reference_channel)
        order.remove(ref)
        order.insert(0, ref)
    for i, j in itertools.combinations(order, 2):
        comparable = data.components[i] == data.components[j]
        a_e, b_e = data.energy_j[:, :, i], data.energy_j[:, :, j]
        bad = inv[:, :, i] | inv[:, :, j]
        bad_run = np.any(bad, axis=1)
        ca, cb = data.channels[i], data.channels[j]
        for clean in (False, True):
            ae = np.where(bad, np.nan, a_e) if clean else a_e
            be = np.where(bad, np.nan, b_e) if clean else b_e
            out.append(
                PairAgreement(ca, cb, "epoch", clean, comparable, agreement(ae, be, alpha=alpha))
            )
            ar = np.where(bad_run, np.nan, run_e[:, i]) if clean else run_e[:, i]
            br = np.where(bad_run, np.nan, run_e[:, j]) if clean else run_e[:, j]
            out.append(
                PairAgreement(ca, cb, "run", clean, comparable, agreement(ar, br, alpha=alpha))
            )
    return out


def ecdf(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Empirical CDF of the finite ``values``: sorted x and F(x) = rank / n (via scipy.stats)."""
    v = np.asarray(values, dtype=np.float64).ravel()
    v = v[np.isfinite(v)]
    if v.size == 0:
        return np.zeros(0), np.zeros(0)
    res = sps.ecdf(v).cdf
    return np.asarray(res.quantiles, dtype=np.float64), np.asarray(
        res.probabilities, dtype=np.float64
    )


@dataclass(frozen=True, slots=True)
class SamplingStats:
    """How densely a polling channel sampled its windows.

    ``samples_*`` are samples per window (median, 5th percentile, minimum); ``ratio_*`` the sample
    ratio taken / expected; ``share_few_samples`` the share of windows with at most
    ``few_samples`` samples; ``share_low_ratio`` the share with ratio below ``low_ratio``.
    ``r_samples_energy`` is Pearson(samples taken, window energy) as in the paper (0.57 for SMI;
    it should be near 0, but longer windows have both more samples and more energy, so it is
    confounded by duration); ``r_ratio_power`` is Pearson(sample ratio, mean power), which is free
    of that confound; ``r_samples_power`` is Pearson(samples taken, mean power), the duration-free
    variant when the expected count is not known. ``counts`` says where the counts came from:
    ``"taken"`` (recorded by the poller) or ``"implied (duration x requested rate)"`` when only
    the expected count is known (then the ratio is 1 by construction and says nothing); a source
    whose "taken" count equals max(1, expected) in every window (EC-NAS: counts implied from
    Carbontracker's 10 s period) is labelled as implied too.
    ``epoch_s_median`` and ``samples_per_epoch_median`` divide by the window's ``span_epochs``
    (windows of foreign logs can hold several epochs); None without span information.
    """

    channel: str
    n_windows: int
    samples_median: float | None
    samples_p5: float | None
    samples_min: float | None
    ratio_median: float | None
    share_few_samples: float | None
    share_low_ratio: float | None
    r_samples_energy: float | None
    r_samples_power: float | None
    r_ratio_power: float | None
    mean_duration_s: float | None
    few_samples: int
    low_ratio: float
    counts: str = "taken"
    epoch_s_median: float | None = None
    samples_per_epoch_median: float | None = None


def sampling_stats(
    data: AuditData, channel: str, *, few_samples: int = 10, low_ratio: float = 0.5
) -> SamplingStats | None:
    """Sampling statistics of ``channel``, or None if it has no sample counts (a counter).

    Uses the recorded ``samples_taken``; a channel with only ``samples_expected`` (a dataset,
    which keeps no counts) is summarised by the expected counts, labelled in ``counts``.
    """
    c = data.channel_index(channel)
    taken = data.samples_taken[:, :, c].ravel()
    counts = "taken"
    if not np.isfinite(taken).any():
        taken = data.samples_expected[:, :, c].ravel()
        counts = "implied (duration x requested rate)"
    have = np.isfinite(taken) & np.isfinite(data.energy_j[:, :, c].ravel())
    if not have.any():
        return None
    taken = taken[have]
    energy = data.energy_j[:, :, c].ravel()[have]
    dur = data.duration_s[:, :, c].ravel()[have]
    power = data.power_w()[:, :, c].ravel()[have]
    expected = data.samples_expected[:, :, c].ravel()[have]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(expected > 0, taken / expected, np.nan)
    fin_ratio = ratio[np.isfinite(ratio)]
    fin_exp = np.isfinite(expected)
    if counts == "taken" and fin_exp.all() and np.all(taken == np.maximum(expected, 1)):
        counts = "taken = expected in every window (implied by the source, not recorded)"
    epoch_s = per_epoch = None
    if data.span_epochs is not None:
        span = np.broadcast_to(data.span_epochs[:, :, None], data.duration_s.shape)[:, :, c]
        span = span.ravel()[have]
        ok = np.isfinite(span) & (span > 0) & np.isfinite(dur)
        if ok.any():
            epoch_s = float(np.median(dur[ok] / span[ok]))
            per_epoch = float(np.median(taken[ok] / span[ok]))
    return SamplingStats(
        channel=channel,
        n_windows=int(taken.size),
        samples_median=float(np.median(taken)),
        samples_p5=float(np.percentile(taken, 5)),
        samples_min=float(taken.min()),
        ratio_median=float(np.median(fin_ratio)) if fin_ratio.size else None,
        share_few_samples=float(np.mean(taken <= few_samples)),
        share_low_ratio=float(np.mean(fin_ratio < low_ratio)) if fin_ratio.size else None,
        r_samples_energy=safe_pearson(taken, energy),
        r_samples_power=safe_pearson(taken, power),
        r_ratio_power=safe_pearson(ratio, power),
        mean_duration_s=float(np.nanmean(dur)) if np.isfinite(dur).any() else None,
        few_samples=few_samples,
        low_ratio=low_ratio,
        counts=counts,
        epoch_s_median=epoch_s,
        samples_per_epoch_median=per_epoch,
    )


def flag_shares(data: AuditData) -> dict[str, dict[str, float]]:
    """Per channel: the share of its measured windows carrying each flag code.

    Also ``"any_invalid"``: the share with at least one ``invalid``-severity flag (as in
    :func:`invalid_mask`). Windows the
    channel did not measure (NaN duration) are not counted.
    """
    inv = invalid_mask(data)
    out: dict[str, dict[str, float]] = {}
    for c, name in enumerate(data.channels):
        measured = np.isfinite(data.duration_s[:, :, c])
        n = int(measured.sum())
        shares: dict[str, float] = {}
        if n:
            for f, code in enumerate(data.flag_codes):
                k = int(np.sum(data.flags[:, :, c, f] & measured))
                if k:
                    shares[code] = k / n
            shares["any_invalid"] = float(np.sum(inv[:, :, c] & measured)) / n
        out[name] = shares
    return out
