"""Data-quality audit of energy-aware benchmark data (``eabench audit``).

Makes the three design principles of Kocher et al., "Guidelines for the Quality Assessment of
Energy-Aware NAS Benchmarks" executable on any dataset: reliable measurements (meter agreement,
sampling sufficiency, flags), a wide range of GPU usage, and holistic cost reporting. The
statistics are pure functions of numpy arrays (:class:`AuditData`); verdicts come from a
versioned :class:`AuditPolicy`; :func:`write_report` renders Markdown/HTML with figures.

Nothing outside the CLI imports this package (it depends on :mod:`eabench.logs`).
"""

from __future__ import annotations

from eabench.audit.data import AuditData, DeviceInfo
from eabench.audit.inputs import load_input
from eabench.audit.load import concat_runs, from_dataset_table, from_run_logs
from eabench.audit.policy import DEFAULT_AUDIT_POLICY, AuditPolicy, RuleResult, Verdict
from eabench.audit.render import write_report
from eabench.audit.report import AuditReport, run_audit

__all__ = [
    "DEFAULT_AUDIT_POLICY",
    "AuditData",
    "AuditPolicy",
    "AuditReport",
    "DeviceInfo",
    "RuleResult",
    "Verdict",
    "concat_runs",
    "from_dataset_table",
    "from_run_logs",
    "load_input",
    "run_audit",
    "write_report",
]
