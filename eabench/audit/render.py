"""Write an audit report: ``audit.json``, figures (PNG) and a Markdown and/or HTML page.

The page is built once as a list of blocks (heading, paragraph, table, image) and rendered to
either format, so both always say the same thing.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eabench.audit.data import AuditData
from eabench.audit.report import AuditReport
from eabench.errors import InvalidArgumentError

__all__ = ["FORMATS", "write_report"]

FORMATS = ("md", "html")


@dataclass(frozen=True, slots=True)
class _Block:
    kind: str  # h1, h2, p, table, img, list
    content: Any


def _f(x: float | None, fmt: str = ".3f") -> str:
    return "n/a" if x is None else format(x, fmt)


def _blocks(rep: AuditReport, figs: dict[str, str], title: str) -> list[_Block]:
    b: list[_Block] = [_Block("h1", title)]
    if rep.simulated:
        b.append(_Block("p", "**SIMULATED data**: synthetic, for testing only; not a measurement."))
    b.append(
        _Block(
            "p",
            f"Source: `{rep.source}`. {rep.n_runs} runs, {rep.n_windows} epoch windows, "
            f"{len(rep.channels)} meter channels. Policy `{rep.policy.policy_id}` "
            f"(thresholds and grounding: `eabench/audit/policy.py`, docs/audit.md).",
        )
    )
    b.append(_Block("h2", "Verdicts"))
    b.append(
        _Block(
            "table",
            (
                ["principle", "verdict", "deciding rule", "why"],
                [[v.principle, v.status.upper(), v.deciding_rule, v.message] for v in rep.verdicts],
            ),
        )
    )
    b.append(_Block("h2", "What can and cannot be assessed on this data"))
    b.append(_Block("list", [f"{k}: {v}" for k, v in rep.assessable.items()]))
    if rep.input_notes:
        b.append(_Block("p", "Caveats of the input:"))
        b.append(_Block("list", list(rep.input_notes)))
    b.append(_Block("h2", "Meter channels"))
    b.append(
        _Block(
            "table",
            (
                ["channel", "method", "component"],
                [
                    [c, m, k]
                    for c, m, k in zip(rep.channels, rep.methods, rep.components, strict=True)
                ],
            ),
        )
    )
    b.append(_Block("h2", "1. Reliable measurements"))
    rows = [
        [
            f"{a.channel_a} vs {a.channel_b}",
            a.level,
            "yes" if a.clean else "no",
            "yes" if a.comparable else "no",
            str(a.stats.n),
            _f(a.stats.spearman),
            _f(a.stats.pearson),
            _f(a.stats.ks_pvalue, ".3g"),
            {True: "same", False: "differs", None: "n/a"}[a.stats.ks_same_distribution],
            _f(a.stats.median_rel_diff, "+.1%"),
        ]
        for a in rep.agreement
    ]
    if rows:
        b.append(
            _Block(
                "p",
                "Pairwise agreement of per-epoch-window and per-run energy (the seed paper's "
                "Table I). *clean* leaves out windows (runs) with an invalid flag on either "
                "channel; *comparable* pairs measure the same component; KS at "
                f"alpha = {rep.policy.alpha}.",
            )
        )
        b.append(
            _Block(
                "table",
                (
                    [
                        "pair (a vs b)",
                        "level",
                        "clean",
                        "comparable",
                        "n",
                        "Spearman",
                        "Pearson",
                        "KS p",
                        "KS",
                        "median (b-a)/a",
                    ],
                    rows,
                ),
            )
        )
    else:
        b.append(_Block("p", "Only one meter channel: no pairwise agreement can be computed."))
    if rep.sampling:
        b.append(_Block("p", "Sampling of polling channels (samples per epoch window):"))
        b.append(
            _Block(
                "table",
                (
                    [
                        "channel",
                        "counts",
                        "windows",
                        "median",
                        "p5",
                        "min",
                        "ratio median",
                        f"share <= {rep.policy.few_samples}",
                        "r(samples, energy)",
                        "r(samples, power)",
                        "r(ratio, power)",
                        "mean window [s]",
                        "median epoch [s]",
                        "median samples per epoch",
                    ],
                    [
                        [
                            s.channel,
                            s.counts,
                            str(s.n_windows),
                            _f(s.samples_median, "g"),
                            _f(s.samples_p5, "g"),
                            _f(s.samples_min, "g"),
                            _f(s.ratio_median),
                            _f(s.share_few_samples, ".1%"),
                            _f(s.r_samples_energy),
                            _f(s.r_samples_power),
                            _f(s.r_ratio_power),
                            _f(s.mean_duration_s, ".1f"),
                            _f(s.epoch_s_median, ".1f"),
                            _f(s.samples_per_epoch_median, ".2g"),
                        ]
                        for s in rep.sampling
                    ],
                ),
            )
        )
    flag_rows = [
        [ch, code, f"{v:.1%}"] for ch, d in rep.flag_shares.items() for code, v in d.items()
    ]
    if flag_rows:
        b.append(_Block("p", "Share of measured epoch windows per flag:"))
        b.append(_Block("table", (["channel", "flag", "share"], flag_rows)))
    for key in ("ecdf_power", "power_vs_samples", "agreement", "flags"):
        if key in figs:
            b.append(_Block("img", figs[key]))
    b.append(_Block("h2", "2. Range of GPU usage"))
    u = rep.usage
    if u is None:
        b.append(_Block("p", "No GPU power in this data."))
    else:
        b.append(
            _Block(
                "table",
                (
                    ["quantity", "value"],
                    [
                        ["GPU power source", f"{u.channel} ({u.level} level, n = {u.n_windows})"],
                        ["device", f"{u.device_name} (max/idle from: {u.device_source})"],
                        [
                            "power min / p5 / median / p95 / max [W]",
                            " / ".join(
                                f"{x:.0f}"
                                for x in (
                                    u.power_min_w,
                                    u.power_p5_w,
                                    u.power_median_w,
                                    u.power_p95_w,
                                    u.power_max_w,
                                )
                            ),
                        ],
                        [
                            "idle / max power [W]",
                            f"{_f(u.idle_power_w, 'g')} / {_f(u.max_power_w, 'g')}",
                        ],
                        ["upper fraction (p95 - idle) / (max - idle)", _f(u.upper_fraction)],
                        ["span fraction (p95 - p5) / (max - idle)", _f(u.span_fraction)],
                        [
                            "utilisation min / median / max",
                            f"{_f(u.utilisation_min)} / {_f(u.utilisation_median)} / "
                            f"{_f(u.utilisation_max)}",
                        ],
                        ["note", u.note or "-"],
                    ],
                ),
            )
        )
    if "gpu_usage" in figs:
        b.append(_Block("img", figs["gpu_usage"]))
    b.append(_Block("h2", "3. Holistic cost"))
    h = rep.holistic
    rows = [
        [
            k,
            h.channels.get(k, "external minus on-socket" if k == "off_socket" else "-"),
            f"{v / 3.6e6:.4f}",
            _f(h.shares.get(k), ".1%"),
            "-"
            if k not in h.share_bounds
            else f"{h.share_bounds[k][0]:.1%} .. {h.share_bounds[k][1]:.1%}",
        ]
        for k, v in h.energy_j.items()
    ]
    b.append(
        _Block(
            "table",
            (
                ["component", "channel", "energy [kWh]", "share", "share with calibration bounds"],
                rows,
            ),
        )
    )
    extra = [f"windows (or runs) used: {h.n_windows}"]
    if h.pue_applied is not None:
        extra.append(f"the source had applied PUE {h.pue_applied:g}; it is divided out here")
    if h.off_socket is not None:
        o = h.off_socket
        extra.append(
            f"off-socket ({o.source}): mean {_f(o.mean_power_w, '.1f')} W, sd "
            f"{_f(o.std_power_w, '.1f')} W, CV {_f(o.cv)}; calibration bounds "
            f"{o.bounds_w} W; share of windows inside the bounds {_f(o.share_in_bounds, '.1%')}"
        )
    extra.extend(h.notes)
    b.append(_Block("list", extra))
    if "cost_shares" in figs:
        b.append(_Block("img", figs["cost_shares"]))
    b.append(_Block("h2", "Rules"))
    b.append(
        _Block(
            "table",
            (
                ["rule", "status", "value", "threshold", "finding", "grounding"],
                [
                    [r.rule_id, r.status, _f(r.value, ".3g"), r.threshold, r.message, r.grounding]
                    for v in rep.verdicts
                    for r in v.rules
                ],
            ),
        )
    )
    return b


def _md_cell(x: str) -> str:
    return x.replace("|", "\\|").replace("\n", " ")


def _to_md(blocks: list[_Block]) -> str:
    out: list[str] = []
    for blk in blocks:
        if blk.kind == "h1":
            out.append(f"# {blk.content}\n")
        elif blk.kind == "h2":
            out.append(f"## {blk.content}\n")
        elif blk.kind == "p":
            out.append(f"{blk.content}\n")
        elif blk.kind == "list":
            out.append("\n".join(f"- {x}" for x in blk.content) + "\n")
        elif blk.kind == "img":
            out.append(f"![{blk.content}]({blk.content})\n")
        elif blk.kind == "table":
            head, rows = blk.content
            lines = ["| " + " | ".join(_md_cell(h) for h in head) + " |"]
            lines.append("|" + "---|" * len(head))
            lines += ["| " + " | ".join(_md_cell(str(c)) for c in r) + " |" for r in rows]
            out.append("\n".join(lines) + "\n")
    return "\n".join(out)


def _inline(text: str) -> str:
    """Escape, then render `code` and **bold** spans."""
    import re

    t = html.escape(text)
    t = re.sub(r"`([^`]+)`", r"<code>\1</code>", t)
    return re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", t)


def _to_html(blocks: list[_Block], title: str) -> str:
    out = [
        "<!DOCTYPE html>",
        f'<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>',
        "<style>body{font-family:sans-serif;max-width:1200px;margin:auto}"
        "table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;"
        "padding:3px 6px}img{max-width:100%}</style></head><body>",
    ]
    for blk in blocks:
        if blk.kind in ("h1", "h2"):
            out.append(f"<{blk.kind}>{_inline(blk.content)}</{blk.kind}>")
        elif blk.kind == "p":
            out.append(f"<p>{_inline(blk.content)}</p>")
        elif blk.kind == "list":
            out.append("<ul>" + "".join(f"<li>{_inline(x)}</li>" for x in blk.content) + "</ul>")
        elif blk.kind == "img":
            src = html.escape(blk.content)
            out.append(f'<p><img src="{src}" alt="{src}"></p>')
        elif blk.kind == "table":
            head, rows = blk.content
            out.append("<table><tr>" + "".join(f"<th>{_inline(h)}</th>" for h in head) + "</tr>")
            out += [
                "<tr>" + "".join(f"<td>{_inline(str(c))}</td>" for c in r) + "</tr>" for r in rows
            ]
            out.append("</table>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def write_report(
    data: AuditData,
    report: AuditReport,
    out_dir: str | Path,
    *,
    formats: tuple[str, ...] = ("md",),
    title: str = "eabench audit",
    figures: bool = True,
) -> dict[str, Path]:
    """Write ``audit.json``, the figures and ``audit.<fmt>`` for each of ``formats``.

    Returns the written paths by key (``json``, ``md``, ``html``, and one per figure).
    """
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        raise InvalidArgumentError.for_field("formats", formats, f"must be some of {FORMATS}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    figs: dict[str, str] = {}
    if figures:
        from eabench.audit.figures import make_figures

        figs = make_figures(data, report, out)
    written: dict[str, Path] = {k: out / v for k, v in figs.items()}
    payload = report.to_dict()
    payload["figures"] = figs
    (out / "audit.json").write_text(json.dumps(payload, indent=1, sort_keys=False) + "\n")
    written["json"] = out / "audit.json"
    blocks = _blocks(report, figs, title)
    if "md" in formats:
        (out / "audit.md").write_text(_to_md(blocks))
        written["md"] = out / "audit.md"
    if "html" in formats:
        (out / "audit.html").write_text(_to_html(blocks, title))
        written["html"] = out / "audit.html"
    return written
