"""Statistics of the reliable-measurements principle (eabench.audit.stats)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from eabench.audit.stats import (
    agreement,
    ecdf,
    flag_shares,
    invalid_mask,
    pairwise_agreement,
    safe_pearson,
    sampling_stats,
)
from eabench.errors import InvalidArgumentError
from tests.audit.conftest import make_data


def test_agreement_matches_scipy_and_detects_offset() -> None:
    rng = np.random.default_rng(0)
    a = rng.uniform(1000, 3000, 200)
    b = a * 1.01 + rng.normal(0, 5, 200)
    res = agreement(a, b)
    assert res.n == 200
    assert res.pearson == pytest.approx(sps.pearsonr(a, b).statistic)
    assert res.spearman == pytest.approx(sps.spearmanr(a, b).statistic)
    assert res.ks_same_distribution is True
    assert res.median_rel_diff == pytest.approx(0.01, abs=0.005)
    shifted = agreement(a, a + 800.0)  # perfectly correlated, different distribution
    assert shifted.pearson == pytest.approx(1.0)
    assert shifted.ks_same_distribution is False
    assert shifted.ks_pvalue is not None
    assert shifted.ks_pvalue < 0.05


def test_agreement_drops_nan_pairs_and_reports_too_few() -> None:
    a = np.array([1.0, 2.0, np.nan, 4.0])
    b = np.array([1.0, np.nan, 3.0, 4.0])
    res = agreement(a, b)
    assert res.n == 2
    assert res.pearson is None
    assert res.spearman is None
    assert res.ks_pvalue is None
    assert "fewer than" in res.note


def test_agreement_constant_input_has_no_correlation() -> None:
    res = agreement(np.ones(10), np.arange(10.0))
    assert res.pearson is None
    assert res.note == "constant input"
    assert res.ks_statistic is not None


def test_agreement_rejects_bad_alpha_and_shapes() -> None:
    with pytest.raises(InvalidArgumentError, match="alpha"):
        agreement(np.ones(3), np.ones(3), alpha=1.5)
    with pytest.raises(InvalidArgumentError, match="shape"):
        agreement(np.ones(3), np.ones(4))


def test_safe_pearson_none_for_constant() -> None:
    assert safe_pearson(np.arange(5.0), np.full(5, 2.0)) is None
    assert safe_pearson(np.arange(5.0), 2 * np.arange(5.0)) == pytest.approx(1.0)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=60))
def test_ecdf_is_a_monotone_step_function_ending_at_one(values: list[float]) -> None:
    x, f = ecdf(np.array(values))
    assert np.all(np.diff(x) > 0)
    assert np.all(np.diff(f) > 0)
    assert f[-1] == pytest.approx(1.0)
    # F(x_i) = share of values <= x_i
    v = np.array(values)
    assert np.allclose(f, [(v <= xi).mean() for xi in x])


def test_ecdf_ignores_nan_and_handles_empty() -> None:
    x, f = ecdf(np.array([np.nan, 2.0, 1.0]))
    assert x.tolist() == [1.0, 2.0]
    assert f.tolist() == [0.5, 1.0]
    assert ecdf(np.array([np.nan]))[0].size == 0


def _polling(taken: np.ndarray, expected: np.ndarray, energy: np.ndarray, dur: float = 10.0):
    e = energy.reshape(-1, 1, 1)
    return make_data(
        e,
        channels=("p/gpu",),
        methods=("polling",),
        duration_s=dur,
        samples_taken=taken.reshape(-1, 1, 1).astype(float),
        samples_expected=expected.reshape(-1, 1, 1).astype(float),
    )


def test_sampling_stats_counts_few_samples_and_ratio_correlation() -> None:
    taken = np.array([2, 5, 10, 11, 100, 100, 100, 100, 100, 100])
    expected = np.full(10, 100)
    power = np.array([50, 60, 70, 200, 210, 220, 230, 240, 250, 260.0])
    s = sampling_stats(_polling(taken, expected, power * 10.0), "p/gpu")
    assert s is not None
    assert s.n_windows == 10
    assert s.share_few_samples == pytest.approx(0.3)  # <= 10 is inclusive (2, 5, 10)
    assert s.share_low_ratio == pytest.approx(0.4)  # ratio < 0.5
    assert s.samples_min == 2
    assert s.samples_median == 100
    assert s.r_ratio_power == pytest.approx(sps.pearsonr(taken / 100, power).statistic)
    assert s.r_ratio_power is not None
    assert s.r_ratio_power > 0.7
    assert s.counts == "taken"


def test_sampling_stats_per_epoch_divides_by_span() -> None:
    data = make_data(
        np.full((2, 1, 1), 1000.0),
        channels=("p/gpu",),
        methods=("polling",),
        duration_s=np.array([20.0, 60.0]).reshape(2, 1, 1),
        samples_taken=np.array([2.0, 6.0]).reshape(2, 1, 1),
        samples_expected=np.array([2.0, 6.0]).reshape(2, 1, 1),
        span_epochs=np.array([[1.0], [3.0]]),
    )
    s = sampling_stats(data, "p/gpu")
    assert s is not None
    assert s.epoch_s_median == pytest.approx(20.0)
    assert s.samples_per_epoch_median == pytest.approx(2.0)
    assert s.r_ratio_power is None  # ratio constant: nothing to say


def test_sampling_stats_falls_back_to_implied_counts_and_none_for_counters() -> None:
    nan = np.full((3, 1, 1), np.nan)
    data = _polling(nan.ravel(), np.array([1, 2, 30]), np.array([1.0, 2.0, 3.0]))
    s = sampling_stats(data, "p/gpu")
    assert s is not None
    assert s.counts.startswith("implied")
    assert s.share_few_samples == pytest.approx(2 / 3)
    counter = make_data(np.ones((3, 1, 1)), channels=("c/gpu",))
    assert sampling_stats(counter, "c/gpu") is None


def test_flag_shares_and_invalid_mask_ignore_simulated_and_disagreement() -> None:
    flags = np.zeros((4, 1, 1, 3), dtype=bool)
    flags[:, 0, 0, 0] = True  # SIMULATED everywhere
    flags[:2, 0, 0, 1] = True  # UNDER_SAMPLED on half
    flags[3, 0, 0, 2] = True  # METER_DISAGREEMENT on one
    data = make_data(
        np.ones((4, 1, 1)),
        channels=("p/gpu",),
        flag_codes=("SIMULATED", "UNDER_SAMPLED", "METER_DISAGREEMENT"),
        flag_severities=("invalid", "invalid", "invalid"),
        flags=flags,
    )
    assert invalid_mask(data)[:, 0, 0].tolist() == [True, True, False, False]
    shares = flag_shares(data)["p/gpu"]
    assert shares == {
        "SIMULATED": 1.0,
        "UNDER_SAMPLED": 0.5,
        "METER_DISAGREEMENT": 0.25,
        "any_invalid": 0.5,
    }


def test_pairwise_agreement_levels_clean_variant_and_reference_first() -> None:
    rng = np.random.default_rng(1)
    truth = rng.uniform(1000, 3000, (30, 4))
    bad = truth.copy()
    bad[:, 0] *= 0.3  # first epoch of every run reads low
    flags = np.zeros((30, 4, 2, 1), dtype=bool)
    flags[:, 0, 1, 0] = True
    e = np.stack([truth, bad], axis=2)
    data = make_data(
        e,
        channels=("z.ref/gpu", "a.bad/gpu"),
        flag_codes=("UNDER_SAMPLED",),
        flag_severities=("invalid",),
        flags=flags,
        reference_channel="z.ref/gpu",
    )
    res = {(p.level, p.clean): p for p in pairwise_agreement(data)}
    assert len(res) == 4
    assert all(p.channel_a == "z.ref/gpu" and p.comparable for p in res.values())
    assert res["epoch", False].stats.n == 120
    assert res["epoch", True].stats.n == 90
    assert res["epoch", True].stats.pearson == pytest.approx(1.0)
    assert res["epoch", False].stats.pearson is not None
    assert res["epoch", False].stats.pearson < 0.9
    assert res["run", False].stats.n == 30
    assert res["run", True].stats.n == 0  # every run has an invalid window


def test_run_energy_requires_every_window() -> None:
    e = np.array([[[1.0], [2.0]], [[1.0], [np.nan]]])
    dur = np.array([[[1.0], [1.0]], [[1.0], [1.0]]])
    data = make_data(e, channels=("a/gpu",), duration_s=dur)
    run = data.run_energy_j()
    assert run[0, 0] == 3.0
    assert np.isnan(run[1, 0])
    # a padding window (no duration on any channel) does not count as missing
    dur2 = np.array([[[1.0], [1.0]], [[1.0], [np.nan]]])
    assert make_data(e, channels=("a/gpu",), duration_s=dur2).run_energy_j()[1, 0] == 1.0
