"""Corruptions of a staged EC-NAS tree and of run logs (the issue-16 campaign's classes).

:func:`corrupt` applies one named corruption to a copy of an EC-NAS tree (or adds a bad run log
beside it) and returns what ingestion must do with it: the paths that must appear in the report
and the run ids that must (not) be kept. Used by the fast per-class tests, the hypothesis fuzz
suite and the slow whole-tree campaign.
"""

from __future__ import annotations

import json
import os
import random
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from eabench.logs import RunLog
from eabench.logs.runlog_io import RUNLOG_SUFFIX
from eabench.meters.provenance import Flag
from tests.logs.helpers import header, record

#: corruptions of one EC-NAS results.json (each must be rejected, alone)
FILE_KINDS: Final = (
    "energy_x1000",
    "energy_x3.6e6",
    "time_ms",
    "power_mw",
    "huge_int_time",
    "huge_int_params",
    "epoch_1e12",
    "truncate",
    "bad_utf8",
    "nan",
    "list_in_field",
)
#: corruptions that add a bad run log next to the tree
RUNLOG_KINDS: Final = (
    "unknown_source_kind",
    "many_flag_codes",
    "lone_surrogate_run_id",
    "slash_space_name",
    "huge_int_runlog",
    "epoch_1e12_runlog",
    "counter_mismatch",
    "gigawatt",
    "overlapping_windows",
    "zero_window_energy",
    "unknown_raw_unit",
    "bad_line_mid_file",
)
#: corruptions of the tree's structure
TREE_KINDS: Final = ("fifo", "dangling_link", "non_utf8_folder", "graph_list", "graph_swap")
ALL_KINDS: Final = (*FILE_KINDS, *RUNLOG_KINDS, *TREE_KINDS)


@dataclass
class Expect:
    """What ingestion must do: report ``bad_paths``; keep none of ``rejected`` run ids."""

    bad_paths: set[Path] = field(default_factory=set)
    rejected: set[str] = field(default_factory=set)
    config_dropped: set[tuple[str, str]] = field(default_factory=set)


def run_id_of(path: Path) -> str:
    """The run id ingestion gives an EC-NAS results.json."""
    parts = path.parts
    return f"ecnas-{parts[-6]}-{parts[-3]}-r{parts[-2].split('_')[1]}"


def _doc(path: Path) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(path.read_bytes())
    return out


def _write(path: Path, doc: Any) -> None:
    path.write_text(json.dumps(doc, allow_nan=True))


def _comps(doc: dict[str, Any]) -> dict[str, Any]:
    key = "avg_power_usages:" if "avg_power_usages:" in doc else "avg_power_usages"
    out: dict[str, Any] = doc[key]
    return out


def _corrupt_file(path: Path, kind: str, rng: random.Random) -> None:
    raw = path.read_bytes()
    if kind == "truncate":
        path.write_bytes(raw[: rng.randrange(1, len(raw) - 2)])
        return
    if kind == "bad_utf8":
        pos = rng.randrange(len(raw))
        path.write_bytes(raw[:pos] + b"\xff\xfe" + raw[pos:])
        return
    doc = _doc(path)
    evals = doc["evaluation_results"]
    if kind in ("energy_x1000", "energy_x3.6e6"):
        f = 1000.0 if kind == "energy_x1000" else 3.6e6
        doc["total_energy (kWh)"] *= f
        for ev in evals:
            ev["energy (kWh)"] *= f
    elif kind == "time_ms":
        doc["total_time"] *= 1000.0
        for ev in evals:
            ev["training_time"] *= 1000.0
    elif kind == "power_mw":
        for comp in ("gpu", "cpu"):
            c = _comps(doc)[comp]
            c["avg_power_usages (W)"] = [[w * 1000.0 for w in c["avg_power_usages (W)"][0]]]
    elif kind == "huge_int_time":
        evals[-1]["training_time"] = 10**400
    elif kind == "huge_int_params":
        doc["trainable_params"] = 10**400
    elif kind == "epoch_1e12":
        evals[-1]["epochs"] = 10**12
    elif kind == "nan":
        doc["total_time"] = float("nan")
    elif kind == "list_in_field":
        evals[1]["train_accuracy"] = [0.5]
    else:
        raise ValueError(kind)
    _write(path, doc)


def _runlog(folder: Path, name: str, log_lines: list[Any], raw_tail: bytes = b"") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}{RUNLOG_SUFFIX}"
    text = "".join(json.dumps(x, ensure_ascii=True) + "\n" for x in log_lines)
    path.write_bytes(text.encode() + raw_tail)
    return path


def good_runlog(folder: Path, run_id: str, n_epochs: int = 3) -> Path:
    """A valid run log (kept by ingestion)."""
    h = header(run_id, max_epochs=n_epochs).to_dict()
    return _runlog(folder, run_id, [h, *(record(run_id, e).to_dict() for e in range(n_epochs))])


def _bad_runlog(folder: Path, kind: str, n: int) -> tuple[Path, str]:
    run_id = f"bad-{kind.replace('_', '-')}-{n}"
    h = header(run_id, max_epochs=3).to_dict()
    recs = [record(run_id, e).to_dict() for e in range(3)]
    if kind == "unknown_source_kind":
        h["source"] = {"kind": "no-such-source"}
    elif kind == "many_flag_codes":
        codes = [Flag(f"CODE_{i}", "warn", "x").to_dict() for i in range(40)]
        recs[0]["readings"][0]["flags"] = codes
    elif kind == "lone_surrogate_run_id":
        h["run_id"] = run_id + "\ud800"
        for r in recs:
            r["run_id"] = h["run_id"]
            for rd in r["readings"]:
                rd["run_id"] = h["run_id"]
    elif kind == "slash_space_name":
        h["space"] = "x/../y"
    elif kind == "huge_int_runlog":
        recs[1]["train_time_s"] = 10**400
    elif kind == "epoch_1e12_runlog":
        h["max_epochs"] = 10**12
        recs[2]["epoch"] = 10**12 - 1
        recs[2]["span_epochs"] = 10**12 - 3
        recs[2]["readings"] = []
    elif kind == "counter_mismatch":
        recs[1]["readings"][0]["raw_end"] *= 2
    elif kind == "gigawatt":
        rd = recs[1]["readings"][0]
        rd["energy_j"] = 9e9
        rd["raw_end"] = int(9e12)
    elif kind == "overlapping_windows":
        recs[1]["readings"][0]["window_start_mono_ns"] = 5_000_000_000
    elif kind == "zero_window_energy":
        rd = recs[1]["readings"][0]
        rd["window_end_mono_ns"] = rd["window_start_mono_ns"]
        rd["duration_s"] = 0.0
    elif kind == "unknown_raw_unit":
        recs[1]["readings"][0]["raw_unit"] = "furlongs"
    elif kind == "bad_line_mid_file":
        path = _runlog(folder, run_id, [h, recs[0]], b"{not json\n" + json.dumps(recs[1]).encode())
        return path, run_id
    else:
        raise ValueError(kind)
    return _runlog(folder, run_id, [h, *recs]), run_id


def _graphs_file(tree: Path, sub: str) -> Path:
    return tree / "graphs" / f"generated_graphs_{sub}.json"


def corrupt(tree: Path, extra: Path, kind: str, target: Path | None, n: int, seed: int) -> Expect:
    """Apply corruption ``kind``; ``target`` is a results.json for file/graph kinds.

    ``extra`` is a folder (ingested beside the tree) for new run logs and special files.
    """
    rng = random.Random(seed)
    ex = Expect()
    if kind in FILE_KINDS:
        assert target is not None
        _corrupt_file(target, kind, rng)
        ex.bad_paths.add(target)
        ex.rejected.add(run_id_of(target))
    elif kind in RUNLOG_KINDS:
        path, run_id = _bad_runlog(extra / "runlogs", kind, n)
        ex.bad_paths.add(path)
        ex.rejected.add(run_id)
    elif kind == "fifo":
        path = extra / f"pipe-{n}.runlog.jsonl"
        extra.mkdir(parents=True, exist_ok=True)
        os.mkfifo(path)
        ex.bad_paths.add(path)
    elif kind == "dangling_link":
        path = extra / f"link-{n}.runlog.jsonl"
        extra.mkdir(parents=True, exist_ok=True)
        path.symlink_to(extra / f"nowhere-{n}")
        ex.bad_paths.add(path)
    elif kind == "non_utf8_folder":
        folder = Path(os.fsdecode(os.fsencode(extra) + b"/odd-\xff\xfe-" + str(n).encode()))
        path = good_runlog(folder, f"odd-folder-{n}")
        # a valid run in an oddly named folder: kept (its name is only reported if it fails)
        del path
    elif kind in ("graph_list", "graph_swap"):
        assert target is not None
        parts = target.parts
        sub, arch_hash = parts[-6], parts[-3]
        gfile = _graphs_file(tree, sub)
        if not gfile.is_file():
            return ex
        graphs = _doc(gfile)
        if arch_hash not in graphs:
            return ex
        if kind == "graph_list":
            graphs[arch_hash][0][0][0] = [0, 1]
        else:
            others = [k for k in graphs if k != arch_hash and graphs[k] != graphs[arch_hash]]
            other = rng.choice(sorted(others))
            graphs[arch_hash], graphs[other] = graphs[other], graphs[arch_hash]
            ex.config_dropped.add((sub, other))
        _write(gfile, graphs)
        ex.bad_paths.add(gfile)
        ex.config_dropped.add((sub, arch_hash))
    else:
        raise ValueError(kind)
    return ex


def kept_run_ids(report_tables: dict[str, int], out: Path) -> set[str]:
    """Run ids stored in the dataset written by ingestion."""
    from eabench.logs import open_dataset

    ds = open_dataset(out)
    ids: set[str] = set()
    for t in ds.tables:
        table = ds.table(*t)
        if table.run_ids is not None:
            ids.update(table.run_ids.tolist())
    return ids


def configs_of(out: Path) -> dict[tuple[str, str], bool]:
    """(subspace, config_id) -> whether the ecnas_runs table stores a config for it (any row)."""
    from eabench.logs import open_dataset

    t = open_dataset(out).table("nb101-7v", "cifar10", "ecnas_runs")
    assert t.configs is not None
    assert t.row_paths is not None
    has = t.configs.n_vertices > 0
    out_map: dict[tuple[str, str], bool] = {}
    for cid, h, path in zip(t.config_ids.tolist(), has.tolist(), t.row_paths.tolist(), strict=True):
        sub = "4V9E" if "/4V9E/" in path else "5V9E"
        out_map[sub, cid] = out_map.get((sub, cid), False) or bool(h)
    return out_map


__all__ = [
    "ALL_KINDS",
    "FILE_KINDS",
    "RUNLOG_KINDS",
    "TREE_KINDS",
    "Expect",
    "RunLog",
    "configs_of",
    "corrupt",
    "good_runlog",
    "kept_run_ids",
    "run_id_of",
]


def campaign(src: Path, root: Path, n: int, seed: int) -> tuple[Path, Path, Expect, set[str]]:
    """Copy the EC-NAS tree ``src`` to ``root`` and apply ``n`` mixed corruptions.

    Returns ``(tree, extra, expect, all_run_ids)``: ``all_run_ids`` are the run ids of every
    input before corruption (results.json files and the good run logs added beside them).
    """
    rng = random.Random(seed)
    tree, extra = root / "ecnas", root / "extra"
    shutil.copytree(src, tree, ignore=shutil.ignore_patterns("surrogate-ec-nasbench"))
    files = sorted(tree.rglob("results.json"))
    all_ids = {run_id_of(p) for p in files}
    for i in range(5):
        good_runlog(extra / "good", f"good-{i}")
        all_ids.add(f"good-{i}")
    ex = Expect()
    free = files[:]
    rng.shuffle(free)
    kinds = [*FILE_KINDS] * 4 + [*RUNLOG_KINDS] * 2 + [*TREE_KINDS]
    for i in range(n):
        kind = kinds[i % len(kinds)] if i < len(kinds) else rng.choice(ALL_KINDS)
        target = free.pop() if kind in ("graph_list", "graph_swap") or kind in FILE_KINDS else None
        one = corrupt(tree, extra, kind, target, i, seed=seed + i)
        ex.bad_paths |= one.bad_paths
        ex.rejected |= one.rejected
        ex.config_dropped |= one.config_dropped
        if kind == "non_utf8_folder":
            all_ids.add(f"odd-folder-{i}")
    return tree, extra, ex, all_ids
