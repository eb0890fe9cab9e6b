"""The audit policy: versioned thresholds and the rules that turn statistics into verdicts.

A verdict per design principle of the seed paper (Kocher et al., "Guidelines for the Quality
Assessment of Energy-Aware NAS Benchmarks", ``reference/papers/000_*``):

1. ``reliable``: reliable power measurements;
2. ``usage``: a wide range of GPU usage;
3. ``holistic``: holistic cost reporting.

Each principle is decided by several rules. A rule returns ``pass``, ``warn``, ``fail`` or
``n/a`` (cannot be assessed on this data) with the value it looked at, the threshold and the
grounding. The principle's verdict is the worst non-``n/a`` rule, and the rule that decided it is
named. Every threshold lives in :class:`AuditPolicy`, a frozen, versioned record whose id is
written into every report, so that a report can be recomputed under another policy.

Grounding of the defaults ([K] = the seed paper):

- per-epoch Pearson between comparable meters: fail below 0.90, warn below 0.95. [K] Table I:
  SMI 0.64 (the failure), SMI corrected 0.95, NVML 0.99, Code Carbon 0.99 (acceptable).
- KS test at alpha = 0.05: a rejection warns. [K] Table I: Code Carbon correlates at 0.99 but its
  per-epoch distribution differs (a constant offset), which the KS test catches.
- per-run Pearson: the same thresholds; [K] every tool reached 0.99 on full training.
- share of windows with an ``invalid`` flag (e.g. UNDER_SAMPLED): fail at 10 % or more, warn above
  0. [K]: 39 % under-sampled SMI epochs took the per-epoch Pearson from 0.95 down to 0.64; 10 % is
  our margin.
- share of polled windows with at most 10 samples: same thresholds (the UNDER_SAMPLED rule of
  ``reference/energy-meters.md`` 5.3, computed from the counts even when no flags are stored).
- |Pearson(sample ratio, mean power)|: fail at 0.3, warn at 0.1. [K]: 0.57 before and -0.39 after
  correcting for low sample counts, "ideally these values should be uncorrelated".
- GPU usage: fail when the 95th-percentile power uses less than half of the dynamic range
  ``max - idle`` ([K]: (305 - 75) / (800 - 75) = 0.32 called "relatively narrow"); warn when the
  5-95 % span covers less than half of it ([K]: 0.22) or the idle power is unknown; warn when the
  maximum utilisation stays below 0.8 ([K]: "maximum usage around 40 %").
- holistic: fail when only one on-socket component is measured; warn when no external meter or
  calibration bounds cover off-socket power ([K] section VI-D: GPU energy is not the majority of a
  node's); warn when estimated components exceed 10 % of the account ([K]: Code Carbon's memory
  model assumed 750 W against a measured 12 W); warn when fewer than 90 % of windows' measured
  off-socket power lies inside the calibration bounds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from eabench.errors import InvalidArgumentError

__all__ = [
    "DEFAULT_AUDIT_POLICY",
    "PRINCIPLES",
    "STATUSES",
    "AuditPolicy",
    "RuleResult",
    "Status",
    "Verdict",
    "decide",
    "grade_high_bad",
    "grade_low_bad",
]

Status = Literal["pass", "warn", "fail", "n/a"]
STATUSES: Final[tuple[str, ...]] = ("n/a", "pass", "warn", "fail")
_RANK: Final[dict[str, int]] = {s: i for i, s in enumerate(STATUSES)}
PRINCIPLES: Final[tuple[str, ...]] = ("reliable", "usage", "holistic")


@dataclass(frozen=True, slots=True)
class AuditPolicy:
    """Thresholds of the audit rules (see the module docstring for their grounding)."""

    policy_id: str = "eabench-audit-1"
    alpha: float = 0.05
    pearson_fail: float = 0.90
    pearson_warn: float = 0.95
    invalid_share_fail: float = 0.10
    invalid_share_warn: float = 0.0
    few_samples: int = 10
    low_ratio: float = 0.5
    few_samples_share_fail: float = 0.10
    few_samples_share_warn: float = 0.0
    sample_corr_fail: float = 0.30
    sample_corr_warn: float = 0.10
    usage_upper_fail: float = 0.50
    usage_span_warn: float = 0.50
    utilisation_max_warn: float = 0.80
    estimated_share_warn: float = 0.10
    in_bounds_share_warn: float = 0.90

    def __post_init__(self) -> None:
        pairs = (
            ("pearson_fail", "pearson_warn", self.pearson_fail <= self.pearson_warn),
            (
                "invalid_share_warn",
                "invalid_share_fail",
                self.invalid_share_warn <= self.invalid_share_fail,
            ),
            (
                "few_samples_share_warn",
                "few_samples_share_fail",
                self.few_samples_share_warn <= self.few_samples_share_fail,
            ),
            (
                "sample_corr_warn",
                "sample_corr_fail",
                self.sample_corr_warn <= self.sample_corr_fail,
            ),
        )
        for lo, hi, ok in pairs:
            if not ok:
                raise InvalidArgumentError.for_field(
                    lo, getattr(self, lo), f"must be <= {hi} ({getattr(self, hi)})"
                )
        if not 0 < self.alpha < 1:
            raise InvalidArgumentError.for_field("alpha", self.alpha, "must be in (0, 1)")
        if self.few_samples < 0 or not 0 < self.low_ratio <= 1:
            raise InvalidArgumentError.for_field(
                "few_samples/low_ratio", (self.few_samples, self.low_ratio), "out of range"
            )


DEFAULT_AUDIT_POLICY: Final = AuditPolicy()


@dataclass(frozen=True, slots=True)
class RuleResult:
    """One rule's outcome: status, the value it judged, the thresholds, why, and its grounding."""

    rule_id: str
    principle: str
    status: Status
    value: float | None
    threshold: str
    message: str
    grounding: str


@dataclass(frozen=True, slots=True)
class Verdict:
    """A principle's verdict: the worst rule status, the rule that decided it, and all rules.

    If every rule is ``n/a`` the verdict is ``warn`` (a principle that cannot be checked does not
    pass) and ``deciding_rule`` is ``"not-assessable"``.
    """

    principle: str
    status: Status
    deciding_rule: str
    message: str
    rules: tuple[RuleResult, ...]


def grade_low_bad(value: float, fail_below: float, warn_below: float) -> Status:
    """``fail`` if ``value < fail_below``, ``warn`` if ``value < warn_below``, else ``pass``."""
    if value < fail_below:
        return "fail"
    if value < warn_below:
        return "warn"
    return "pass"


def grade_high_bad(value: float, fail_at: float, warn_above: float) -> Status:
    """``fail`` if ``value >= fail_at``, ``warn`` if ``value > warn_above``, else ``pass``."""
    if value >= fail_at:
        return "fail"
    if value > warn_above:
        return "warn"
    return "pass"


def decide(principle: str, rules: tuple[RuleResult, ...]) -> Verdict:
    """Combine rule results into the principle's :class:`Verdict` (worst status wins; the first
    rule with that status decides)."""
    assessed = [r for r in rules if r.status != "n/a"]
    if not assessed:
        return Verdict(
            principle, "warn", "not-assessable", "no rule could be assessed on this data", rules
        )
    worst = max(assessed, key=lambda r: _RANK[r.status])
    return Verdict(principle, worst.status, worst.rule_id, worst.message, rules)
