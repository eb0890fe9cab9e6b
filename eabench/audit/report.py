"""Run the whole audit: statistics of the three principles, rules, verdicts, JSON form.

:func:`run_audit` is a pure function of an :class:`~eabench.audit.data.AuditData` and an
:class:`~eabench.audit.policy.AuditPolicy`; rendering (Markdown/HTML, figures) is in
:mod:`eabench.audit.render` and needs matplotlib only there.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from eabench.audit.data import AuditData
from eabench.audit.derive import with_external_gpu
from eabench.audit.holistic import HolisticCost, holistic_cost
from eabench.audit.policy import (
    DEFAULT_AUDIT_POLICY,
    AuditPolicy,
    RuleResult,
    Verdict,
    decide,
    grade_high_bad,
    grade_low_bad,
)
from eabench.audit.stats import (
    NOT_A_MEASUREMENT_DEFECT,
    PairAgreement,
    SamplingStats,
    flag_shares,
    pairwise_agreement,
    sampling_stats,
)
from eabench.audit.usage import UsageRange, gpu_usage_range

__all__ = ["AUDIT_FORMAT_VERSION", "AuditReport", "run_audit"]

AUDIT_FORMAT_VERSION = 1


@dataclass(frozen=True, slots=True)
class AuditReport:
    """Everything the audit found, ready for rendering and for ``audit.json``."""

    format_version: int
    policy: AuditPolicy
    source: str
    simulated: bool
    n_runs: int
    n_windows: int
    channels: tuple[str, ...]
    components: tuple[str, ...]
    methods: tuple[str, ...]
    reference_channel: str | None
    agreement: tuple[PairAgreement, ...]
    sampling: tuple[SamplingStats, ...]
    flag_shares: dict[str, dict[str, float]]
    usage: UsageRange | None
    holistic: HolisticCost
    verdicts: tuple[Verdict, ...]
    assessable: dict[str, str]
    input_notes: tuple[str, ...] = ()

    def verdict(self, principle: str) -> Verdict:
        """The verdict of ``principle`` (reliable, usage, holistic)."""
        for v in self.verdicts:
            if v.principle == principle:
                return v
        raise KeyError(principle)

    def rule(self, rule_id: str) -> RuleResult:
        """The result of one rule, by id."""
        for v in self.verdicts:
            for r in v.rules:
                if r.rule_id == rule_id:
                    return r
        raise KeyError(rule_id)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (None for statistics that could not be computed)."""
        out: dict[str, Any] = _jsonable(dataclasses.asdict(self))
        return out


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (np.floating, float)):
        f = float(obj)
        return f if math.isfinite(f) else None
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj


def run_audit(data: AuditData, policy: AuditPolicy = DEFAULT_AUDIT_POLICY) -> AuditReport:
    """Audit ``data`` under ``policy`` (see :mod:`eabench.audit.policy` for the rules)."""
    holistic = holistic_cost(data)
    data = with_external_gpu(data)
    agree = tuple(pairwise_agreement(data, alpha=policy.alpha))
    sampling = tuple(
        s
        for ch in data.channels
        if (
            s := sampling_stats(
                data, ch, few_samples=policy.few_samples, low_ratio=policy.low_ratio
            )
        )
        is not None
    )
    shares = flag_shares(data)
    usage = gpu_usage_range(data)
    assessable: dict[str, str] = {}
    verdicts = (
        decide("reliable", _reliable_rules(data, agree, sampling, shares, policy, assessable)),
        decide("usage", _usage_rules(usage, policy, assessable)),
        decide("holistic", _holistic_rules(holistic, policy, assessable)),
    )
    present = np.any(np.isfinite(data.duration_s), axis=2)
    return AuditReport(
        format_version=AUDIT_FORMAT_VERSION,
        policy=policy,
        source=data.source,
        simulated=data.simulated,
        n_runs=data.shape[0],
        n_windows=int(present.sum()),
        channels=data.channels,
        components=data.components,
        methods=data.methods,
        reference_channel=data.reference_channel,
        agreement=agree,
        sampling=sampling,
        flag_shares=shares,
        usage=usage,
        holistic=holistic,
        verdicts=verdicts,
        assessable=assessable,
        input_notes=data.notes,
    )


_K = "Kocher et al. (seed paper)"


def _reliable_rules(
    data: AuditData,
    agree: tuple[PairAgreement, ...],
    sampling: tuple[SamplingStats, ...],
    shares: dict[str, dict[str, float]],
    p: AuditPolicy,
    assessable: dict[str, str],
) -> tuple[RuleResult, ...]:
    rules: list[RuleResult] = []
    comp = [a for a in agree if a.comparable and not a.clean]
    thr = f"fail < {p.pearson_fail}, warn < {p.pearson_warn}"
    for level, rid, ground in (
        ("epoch", "reliable.epoch_pearson", f"{_K} Table I: SMI 0.64 (bad), NVML 0.99"),
        ("run", "reliable.run_pearson", f"{_K} Table I: all tools 0.99 on full training"),
    ):
        vals = [
            (a.stats.pearson, a) for a in comp if a.level == level and a.stats.pearson is not None
        ]
        if not vals:
            why = (
                "no two channels measure the same component"
                if not comp
                else "too few paired values or a constant input"
            )
            assessable[f"meter agreement ({level})"] = f"not assessable: {why}"
            rules.append(RuleResult(rid, "reliable", "n/a", None, thr, why, ground))
            continue
        worst, pair = min(vals, key=lambda t: t[0])
        assessable[f"meter agreement ({level})"] = "assessed"
        rules.append(
            RuleResult(
                rid,
                "reliable",
                grade_low_bad(worst, p.pearson_fail, p.pearson_warn),
                worst,
                thr,
                f"lowest {level} Pearson {worst:.3f}: {pair.channel_a} vs {pair.channel_b}",
                ground,
            )
        )
    ks = [a for a in comp if a.level == "epoch" and a.stats.ks_same_distribution is not None]
    if ks:
        rejected = [a for a in ks if not a.stats.ks_same_distribution]
        msg = (
            "KS rejects equal distributions: "
            + ", ".join(f"{a.channel_a} vs {a.channel_b}" for a in rejected)
            if rejected
            else "KS does not reject equal per-epoch distributions for any comparable pair"
        )
        rules.append(
            RuleResult(
                "reliable.epoch_ks",
                "reliable",
                "warn" if rejected else "pass",
                float(len(rejected)),
                f"warn if any comparable pair is rejected at alpha = {p.alpha}",
                msg,
                f"{_K} Table I: Code Carbon r = 0.99 but KS rejected (offset)",
            )
        )
    else:
        rules.append(
            RuleResult(
                "reliable.epoch_ks",
                "reliable",
                "n/a",
                None,
                f"alpha = {p.alpha}",
                "no comparable pair to test",
                f"{_K} Table I",
            )
        )
    energy_channels = [
        c
        for c, comp_ in zip(data.channels, data.components, strict=True)
        if comp_ not in ("estimated",) and shares.get(c)
    ]
    if energy_channels and data.flag_codes:
        worst_c = max(energy_channels, key=lambda c: shares[c].get("any_invalid", 0.0))
        v = shares[worst_c].get("any_invalid", 0.0)
        codes = sorted(
            k
            for k in shares[worst_c]
            if _severity(data, k) == "invalid" and k not in NOT_A_MEASUREMENT_DEFECT
        )
        rules.append(
            RuleResult(
                "reliable.invalid_share",
                "reliable",
                grade_high_bad(v, p.invalid_share_fail, p.invalid_share_warn),
                v,
                f"fail >= {p.invalid_share_fail}, warn > {p.invalid_share_warn}",
                f"{v:.1%} of {worst_c} windows carry an invalid flag ({', '.join(codes) or '-'})",
                f"{_K}: 39 % under-sampled SMI epochs; dropping them lifted r 0.64 -> 0.95",
            )
        )
        assessable["quality flags"] = "assessed"
    else:
        assessable["quality flags"] = "not assessable: the data carries no flags"
        rules.append(
            RuleResult(
                "reliable.invalid_share",
                "reliable",
                "n/a",
                None,
                f"fail >= {p.invalid_share_fail}",
                "no flags recorded",
                _K,
            )
        )
    if sampling:
        worst_s = max(sampling, key=lambda s: s.share_few_samples or 0.0)
        v = worst_s.share_few_samples or 0.0
        rules.append(
            RuleResult(
                "reliable.few_samples",
                "reliable",
                grade_high_bad(v, p.few_samples_share_fail, p.few_samples_share_warn),
                v,
                f"share of windows with <= {p.few_samples} samples: "
                f"fail >= {p.few_samples_share_fail}, warn > {p.few_samples_share_warn}",
                f"{v:.1%} of {worst_s.channel} windows have <= {p.few_samples} power samples "
                f"(median {worst_s.samples_median:g} per window)",
                f"{_K}: <= 10 samples in 39 % of 11.8-s epochs; energy-meters.md 5.3 UNDER_SAMPLED",
            )
        )
        corr = [(abs(s.r_ratio_power), s) for s in sampling if s.r_ratio_power is not None]
        if corr:
            v, s = max(corr, key=lambda t: t[0])
            rules.append(
                RuleResult(
                    "reliable.sample_power_corr",
                    "reliable",
                    grade_high_bad(v, p.sample_corr_fail, p.sample_corr_warn),
                    s.r_ratio_power,
                    f"|r| fail >= {p.sample_corr_fail}, warn > {p.sample_corr_warn}",
                    f"Pearson(sample ratio, power) = {s.r_ratio_power:+.3f} for {s.channel}",
                    f"{_K}: r(samples, energy) 0.57, corrected -0.39; should be ~0",
                )
            )
            assessable["sampling bias"] = "assessed"
        else:
            implied = all(s.counts != "taken" for s in sampling)
            assessable["sampling bias"] = (
                "not assessable: sample counts are implied from window durations, so the "
                "sample ratio is 1 by construction"
                if implied
                else "not assessable: the sample ratio is constant"
            )
            rules.append(
                RuleResult(
                    "reliable.sample_power_corr",
                    "reliable",
                    "n/a",
                    None,
                    f"|r| fail >= {p.sample_corr_fail}",
                    "sample ratio constant or unknown",
                    _K,
                )
            )
    else:
        assessable["sampling"] = "not assessable: no polling channel with sample counts"
    if not comp:
        rules.append(
            RuleResult(
                "reliable.meter_coverage",
                "reliable",
                "warn",
                0.0,
                "warn without two meters on one component",
                "a single meter per component: agreement cannot be checked",
                f"{_K}: reliability was established against an external power meter",
            )
        )
    return tuple(rules)


def _severity(data: AuditData, code: str) -> str:
    try:
        return data.flag_severities[data.flag_codes.index(code)]
    except ValueError:
        return "info"


def _usage_rules(
    u: UsageRange | None, p: AuditPolicy, assessable: dict[str, str]
) -> tuple[RuleResult, ...]:
    ground = f"{_K}: 146-305 W on a 75-800 W H100 is 'relatively narrow'"
    if u is None:
        assessable["GPU usage range"] = "not assessable: no GPU power"
        return (RuleResult("usage.upper", "usage", "n/a", None, "", "no GPU power", ground),)
    rules: list[RuleResult] = []
    if u.upper_fraction is None or u.span_fraction is None:
        assessable["GPU usage range"] = f"not assessable: {u.note}"
        rules.append(RuleResult("usage.upper", "usage", "n/a", None, "", u.note, ground))
    else:
        assessable["GPU usage range"] = "assessed" + (f" ({u.note})" if u.note else "")
        idle_txt = f"{u.idle_power_w:g} W" if u.idle_power_w is not None else "unknown (0 W used)"
        rules.append(
            RuleResult(
                "usage.upper",
                "usage",
                "fail" if u.upper_fraction < p.usage_upper_fail else "pass",
                u.upper_fraction,
                f"fail < {p.usage_upper_fail} of (max - idle)",
                f"p95 power {u.power_p95_w:.0f} W reaches {u.upper_fraction:.0%} of the range "
                f"idle {idle_txt} .. max {u.max_power_w:g} W",
                ground,
            )
        )
        rules.append(
            RuleResult(
                "usage.span",
                "usage",
                "warn" if u.span_fraction < p.usage_span_warn else "pass",
                u.span_fraction,
                f"warn < {p.usage_span_warn} of (max - idle)",
                f"p5-p95 power {u.power_p5_w:.0f}-{u.power_p95_w:.0f} W spans "
                f"{u.span_fraction:.0%} of the dynamic range",
                f"{_K}: (305 - 146) / (800 - 75) = 0.22",
            )
        )
        rules.append(
            RuleResult(
                "usage.idle_known",
                "usage",
                "pass" if u.idle_power_w is not None else "warn",
                u.idle_power_w,
                "warn if the idle power is unknown",
                "idle power known" if u.idle_power_w is not None else "idle power unknown",
                f"{_K}: 75 W H100 base consumption from calibration",
            )
        )
    if u.utilisation_max is not None:
        rules.append(
            RuleResult(
                "usage.utilisation",
                "usage",
                "warn" if u.utilisation_max < p.utilisation_max_warn else "pass",
                u.utilisation_max,
                f"warn if max utilisation < {p.utilisation_max_warn}",
                f"GPU utilisation {u.utilisation_min:.0%}-{u.utilisation_max:.0%}",
                f"{_K}: 'maximum usage around 40 %'",
            )
        )
        assessable["GPU utilisation"] = "assessed"
    else:
        assessable["GPU utilisation"] = "not assessable: not recorded"
    return tuple(rules)


def _holistic_rules(
    h: HolisticCost, p: AuditPolicy, assessable: dict[str, str]
) -> tuple[RuleResult, ...]:
    rules: list[RuleResult] = []
    measured = list(h.covered)
    rules.append(
        RuleResult(
            "holistic.components",
            "holistic",
            "fail" if len(measured) < 2 else "pass",
            float(len(measured)),
            "fail if fewer than 2 on-socket components are measured",
            f"measured: {', '.join(measured) or 'none'}; missing: {', '.join(h.missing) or '-'}",
            f"{_K} section I: cost of the complete training device",
        )
    )
    off = h.off_socket
    off_w: float | None = None
    if off is not None:
        off_w = off.mean_power_w
        if off_w is None and off.bounds_w is not None:
            off_w = off.bounds_w[1]
    rules.append(
        RuleResult(
            "holistic.off_socket",
            "holistic",
            "pass" if off is not None else "warn",
            off_w,
            "warn without an external meter or calibration bounds",
            "off-socket power unaccounted" if off is None else f"off-socket from {off.source}",
            f"{_K} section VI-D: GPU energy is not the majority of a node's; calibrate P_off",
        )
    )
    assessable["off-socket energy"] = (
        "not assessable: no external meter or calibration" if off is None else "assessed"
    )
    est = h.shares.get("estimated")
    if est is not None:
        rules.append(
            RuleResult(
                "holistic.estimated_share",
                "holistic",
                "warn" if est > p.estimated_share_warn else "pass",
                est,
                f"warn if estimated components exceed {p.estimated_share_warn}",
                f"estimated components are {est:.1%} of the account",
                f"{_K}: Code Carbon's memory model 750 W vs 12 W measured",
            )
        )
    if off is not None and off.share_in_bounds is not None:
        rules.append(
            RuleResult(
                "holistic.calibration_bounds",
                "holistic",
                "warn" if off.share_in_bounds < p.in_bounds_share_warn else "pass",
                off.share_in_bounds,
                f"warn if fewer than {p.in_bounds_share_warn} of windows lie inside the bounds",
                f"{off.share_in_bounds:.1%} of windows' off-socket power in "
                f"[{off.bounds_w[0]:g}, {off.bounds_w[1]:g}] W"
                if off.bounds_w
                else "",
                f"{_K} Fig. 8: bounds from idle and busy calibration runs",
            )
        )
    return tuple(rules)
