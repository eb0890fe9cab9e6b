"""Figures of the audit report (PNG, matplotlib with the Agg backend, imported lazily).

Each function takes the data and/or report, writes one PNG into ``out_dir`` and returns its file
name, or None when there is nothing to draw. Matplotlib is imported inside :func:`make_figures`
only, so ``import eabench.audit`` stays light.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from eabench.audit.data import AuditData
from eabench.audit.derive import with_external_gpu
from eabench.audit.report import AuditReport
from eabench.audit.stats import ecdf, invalid_mask

__all__ = ["make_figures"]

_MAX_CHANNELS = 8


def make_figures(data: AuditData, report: AuditReport, out_dir: Path) -> dict[str, str]:
    """Write every figure; returns figure key -> PNG file name (relative to ``out_dir``)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir.mkdir(parents=True, exist_ok=True)
    data = with_external_gpu(data)  # the channels the report saw
    figs: dict[str, str] = {}
    for key, fn in (
        ("ecdf_power", _ecdf_power),
        ("power_vs_samples", _power_vs_samples),
        ("agreement", _agreement),
        ("flags", _flags),
        ("gpu_usage", _gpu_usage),
        ("cost_shares", _cost_shares),
    ):
        name = fn(plt, data, report, out_dir)
        if name is not None:
            figs[key] = name
    return figs


def _save(plt: Any, fig: Any, out_dir: Path, name: str) -> str:
    fig.tight_layout()
    fig.savefig(out_dir / name, dpi=110, bbox_inches="tight")  # keep suptitles whole
    plt.close(fig)
    return name


def _title(report: AuditReport, text: str) -> str:
    return f"{text} (SIMULATED data)" if report.simulated else text


def _ecdf_power(plt: Any, data: AuditData, report: AuditReport, out_dir: Path) -> str | None:
    power = data.power_w()
    comps = [c for c in ("gpu", "combined", "cpu", "dram", "node") if c in data.components]
    if not comps:
        return None
    fig, axes = plt.subplots(1, len(comps), figsize=(5.2 * len(comps), 4.0), squeeze=False)
    for ax, comp in zip(axes[0], comps, strict=True):
        for c, name in enumerate(data.channels):
            if data.components[c] != comp:
                continue
            x, f = ecdf(power[:, :, c])
            if x.size:
                ax.step(x, f, where="post", label=f"{name} (n={x.size})")
        ax.set_xlabel("mean power per epoch window [W]")
        ax.set_ylabel("eCDF")
        ax.set_title(comp)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="lower right")
    fig.suptitle(
        _title(report, "eCDF of per-window power per meter\n(cf. Kocher et al. Figs. 2, 4)")
    )
    return _save(plt, fig, out_dir, "ecdf_power.png")


def _power_vs_samples(plt: Any, data: AuditData, report: AuditReport, out_dir: Path) -> str | None:
    if not report.sampling:
        return None
    sampling = report.sampling[:_MAX_CHANNELS]
    fig, axes = plt.subplots(1, len(sampling), figsize=(5.0 * len(sampling), 4.0), squeeze=False)
    power = data.power_w()
    for ax, s in zip(axes[0], sampling, strict=True):
        c = data.channel_index(s.channel)
        taken = data.samples_taken[:, :, c]
        exp = data.samples_expected[:, :, c]
        implied = s.counts != "taken"  # implied counts: the ratio is 1 by construction
        counts = exp if implied else taken
        p = power[:, :, c]
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(exp > 0, taken / exp, np.nan)
        fin = ratio[np.isfinite(ratio)]
        # a ratio that is 1 everywhere (counts implied from durations) says nothing: plot counts
        use_ratio = not implied and fin.size > 0 and float(np.ptp(fin)) > 0.05
        x = ratio if use_ratio else counts
        ok = np.isfinite(x) & np.isfinite(p)
        bad = invalid_mask(data)[:, :, c] & ok
        ax.scatter(x[ok & ~bad], p[ok & ~bad], s=6, alpha=0.5, label="no invalid flag")
        ax.scatter(x[bad], p[bad], s=6, alpha=0.5, color="tab:red", label="invalid flag")
        if use_ratio:
            ax.axvline(s.low_ratio, color="gray", ls="--", lw=1)
            ax.set_xlabel("sample ratio (taken / expected)")
        else:
            ax.axvline(
                s.few_samples + 0.5, color="gray", ls="--", lw=1, label="UNDER_SAMPLED limit"
            )
            kind = "recorded" if s.counts == "taken" else "implied from duration"
            ax.set_xlabel(f"samples per window ({kind})")
        ax.set_ylabel("mean power per window [W]")
        ax.set_title(s.channel, fontsize=9)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle(_title(report, "Power against sampling\n(cf. Kocher et al. Fig. 3)"), fontsize=10)
    return _save(plt, fig, out_dir, "power_vs_samples.png")


def _agreement(plt: Any, data: AuditData, report: AuditReport, out_dir: Path) -> str | None:
    pairs = [a for a in report.agreement if a.comparable and a.level == "epoch" and not a.clean][:4]
    pairs = [a for a in pairs if a.stats.n > 0]
    if not pairs:
        return None
    fig, axes = plt.subplots(1, len(pairs), figsize=(4.6 * len(pairs), 4.2), squeeze=False)
    inv = invalid_mask(data)
    for ax, a in zip(axes[0], pairs, strict=True):
        i, j = data.channel_index(a.channel_a), data.channel_index(a.channel_b)
        x, y = data.energy_j[:, :, i] / 1e3, data.energy_j[:, :, j] / 1e3
        ok = np.isfinite(x) & np.isfinite(y)
        bad = (inv[:, :, i] | inv[:, :, j]) & ok
        ax.scatter(x[ok & ~bad], y[ok & ~bad], s=6, alpha=0.5, label="clean")
        ax.scatter(x[bad], y[bad], s=6, alpha=0.5, color="tab:red", label="invalid flag")
        hi = float(np.nanmax([x[ok].max(), y[ok].max()]))
        ax.plot([0, hi], [0, hi], color="gray", lw=1)
        r = a.stats.pearson
        ax.set_title(f"r = {r:.3f}" if r is not None else "r = n/a", fontsize=9)
        ax.set_xlabel(f"{a.channel_a} [kJ]", fontsize=8)
        ax.set_ylabel(f"{a.channel_b} [kJ]", fontsize=8)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle(_title(report, "Per-window energy of comparable meters"), fontsize=10)
    return _save(plt, fig, out_dir, "agreement.png")


def _flags(plt: Any, _data: AuditData, report: AuditReport, out_dir: Path) -> str | None:
    rows = [(ch, code, v) for ch, d in report.flag_shares.items() for code, v in d.items() if v > 0]
    if not rows:
        return None
    fig, ax = plt.subplots(figsize=(8.0, 0.32 * len(rows) + 1.4))
    labels = [f"{ch}  {code}" for ch, code, _ in rows]
    ax.barh(range(len(rows)), [v for *_, v in rows], color="tab:orange")
    ax.set_yticks(range(len(rows)), labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of measured windows")
    ax.grid(axis="x", alpha=0.3)
    ax.set_title(_title(report, "Share of epoch windows per quality flag"), fontsize=10)
    return _save(plt, fig, out_dir, "flags.png")


def _gpu_usage(plt: Any, data: AuditData, report: AuditReport, out_dir: Path) -> str | None:
    u = report.usage
    if u is None:
        return None
    if u.level == "run" and data.run_gpu_power_w is not None:
        p = data.run_gpu_power_w[np.isfinite(data.run_gpu_power_w)]
    else:
        c = data.channel_index(u.channel)
        pw = data.power_w()[:, :, c]
        p = pw[np.isfinite(pw) & ~invalid_mask(data)[:, :, c]]
    fig, ax = plt.subplots(figsize=(7.5, 3.8))
    ax.hist(p, bins=40, color="tab:green", alpha=0.7)
    for x, lab, col in (
        (u.idle_power_w, "idle", "black"),
        (u.max_power_w, "max", "red"),
        (u.power_p5_w, "p5", "gray"),
        (u.power_p95_w, "p95", "gray"),
    ):
        if x is not None:
            ax.axvline(x, color=col, ls="--", lw=1)
            ax.text(x, ax.get_ylim()[1] * 0.95, lab, rotation=90, va="top", fontsize=8)
    ax.set_xlim(0, (u.max_power_w or float(p.max())) * 1.05)
    ax.set_xlabel(f"GPU power [W] ({u.level}-level, {u.channel})")
    ax.set_ylabel("count")
    ax.set_title(_title(report, "GPU power range against idle and maximum"), fontsize=10)
    return _save(plt, fig, out_dir, "gpu_usage.png")


def _cost_shares(plt: Any, _data: AuditData, report: AuditReport, out_dir: Path) -> str | None:
    h = report.holistic
    if not h.energy_j:
        return None
    keys = list(h.energy_j)
    if h.share_bounds and "off_socket" not in keys:
        keys.append("off_socket")
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    for k_i, k in enumerate(keys):
        if k in h.share_bounds:
            lo, hi = h.share_bounds[k]
            ax.bar(k_i, (lo + hi) / 2, color="tab:blue", alpha=0.6)
            ax.errorbar(k_i, (lo + hi) / 2, yerr=[[(hi - lo) / 2]], color="black", capsize=4)
        elif k in h.shares:
            ax.bar(k_i, h.shares[k], color="tab:blue")
    ax.set_xticks(range(len(keys)), keys)
    ax.set_ylim(0, 1)
    ax.set_ylabel("share of the energy account")
    ax.grid(axis="y", alpha=0.3)
    ax.set_title(_title(report, "Holistic cost shares"), fontsize=10)
    return _save(plt, fig, out_dir, "cost_shares.png")
