"""EC-NAS ``results.json`` (one 4-epoch training run, Carbontracker on a Quadro RTX 6000) -> RunLog.

Layout: ``.../<4V9E|5V9E>/<N>_epochs/<hash[:2]>/<hash>/repeat_<r>/results.json``; the path gives
the subspace, the NB101 module hash and the repeat (5V files also carry ``model_hash``, which
must agree). The config (matrix, ops) comes from ``graphs/generated_graphs_<sub>.json`` found
next to ``train_model_results`` (or passed in); without it the run is kept with ``config=None``
and a ``missing`` entry.

Quirks handled (../shared/data/ecnas/README.md): the key ``"avg_power_usages:"`` (trailing colon;
the plain key is accepted too), CPU device ``" cpu:1"`` (stripped), two GPU names (kept
verbatim), the mid evaluation at epoch 1 (4V) or 2 (5V) (-> ``span_epochs``), PUE 1.59 in every
kWh (divided out; ``pue_applied=1.59`` and the PUE_APPLIED flag on each reading), cumulative
training energy that excludes evaluation passes (-> per-window differences; evaluations get no
reading). The evaluation at epoch 0 (init step + graph build) becomes the run's ``setup``.

Sampling: Carbontracker polled power every 10 s and multiplied the mean by the window length,
so a window of d seconds holds ``floor(d / 10)`` samples (at least the one Carbontracker copies
when it has none). Those implied counts are recorded (``samples_expected``/``samples_taken``),
and windows with at most 10 samples carry UNDER_SAMPLED (invalid), as the policy says.
Window times come from the segment's ``start_emission``/``stop_emission`` (1 s resolution, local
time of the cluster; stored relative to the run's start as ``window_*_mono_ns``).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from eabench.errors import InvalidLogError
from eabench.logs.adapters._common import (
    J_PER_KWH,
    err,
    file_sha256,
    get_int,
    get_number,
    get_str,
    read_bytes,
    with_derived_flags,
)
from eabench.logs.consistency import check_ecnas_totals, check_ecnas_window
from eabench.logs.schema import EpochRecord, RunHeader, RunLog, SetupWindow
from eabench.meters.provenance import MeterReading

__all__ = [
    "ECNAS_PUE",
    "GraphTable",
    "find_graphs_file",
    "load_graphs",
    "read_ecnas_results",
    "results_subspace",
]

ECNAS_PUE: Final = 1.59
POLL_PERIOD_S: Final = 10.0
_OP_NAMES: Final = {-1: "input", -2: "output", 0: "conv3x3-bn-relu", 1: "conv1x1-bn-relu"}
_OP_NAMES_ALL: Final = {**_OP_NAMES, 2: "maxpool3x3"}
_PATH_RE: Final = re.compile(
    r"(?P<sub>[0-9]+V[0-9]+E)/(?P<budget>[0-9]+)_epochs/(?P<prefix>[0-9a-f]{2})/"
    r"(?P<hash>[0-9a-f]{32})/repeat_(?P<repeat>[0-9]+)/results\.json$"
)
_TIME_FMT: Final = "%Y-%m-%d %H:%M:%S"

#: hash -> (matrix as nested lists, op names)
GraphTable = Mapping[str, tuple[list[list[int]], list[str]]]


def load_graphs(path: Path) -> dict[str, tuple[list[list[int]], list[str]]]:
    """Read ``generated_graphs_*.json`` (``{hash: [adjacency, labels]}``) into hash -> config.

    Only valid entries are returned (see :func:`read_graphs` for the rejected ones and why).
    """
    return read_graphs(path)[0]


def read_graphs(
    path: Path,
) -> tuple[dict[str, tuple[list[list[int]], list[str]]], dict[str, str]]:
    """``(good, bad)``: hash -> (matrix, ops) for every entry that is a valid 7V cell whose NB101
    hash equals its key, and hash -> reason for every other entry (swapped, invalid, wrong type).

    Raises ``InvalidLogError`` only when the file as a whole is unreadable or not a JSON object.
    """
    try:
        raw = json.loads(read_bytes(path).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise err("graphs", str(path), f"not a JSON file: {exc}") from exc
    if not isinstance(raw, dict):
        raise err("graphs", str(path), "must be a JSON object {hash: [adjacency, labels]}")
    out: dict[str, tuple[list[list[int]], list[str]]] = {}
    bad: dict[str, str] = {}
    for key, value in raw.items():
        try:
            out[key] = _graph_entry(key, value)
        except InvalidLogError as exc:
            bad[key] = str(exc)
    return out, bad


def _graph_entry(key: str, value: Any) -> tuple[list[list[int]], list[str]]:
    from eabench.errors import InvalidConfigError
    from eabench.spaces.nb101 import Cell

    if not (isinstance(value, list) and len(value) == 2):
        raise err(f"graphs[{key}]", value, "must be [adjacency, labels]")
    matrix, labels = value
    if not (isinstance(labels, list) and all(_is_int(v) for v in labels)):
        raise err(f"graphs[{key}].labels", labels, "must be a list of integers")
    if not (
        isinstance(matrix, list)
        and len(matrix) == len(labels)
        and all(isinstance(row, list) and len(row) == len(labels) for row in matrix)
        and all(_is_int(x) and x in (0, 1) for row in matrix for x in row)
    ):
        raise err(f"graphs[{key}].adjacency", matrix, "must be a V x V list of 0/1 integers")
    try:
        ops = [_OP_NAMES_ALL[v] for v in labels]
    except KeyError as exc:
        raise err(f"graphs[{key}].labels", labels, "labels must be in {-2,-1,0,1,2}") from exc
    try:
        cell_hash = Cell(matrix, ops).hash()
    except InvalidConfigError as exc:
        raise err(f"graphs[{key}]", value, f"not a valid 7V cell: {exc}") from exc
    if cell_hash != key:
        raise err(f"graphs[{key}]", cell_hash, "the entry's NB101 hash must equal its key")
    return [list(row) for row in matrix], ops


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _check_config_hash(config: Mapping[str, Any], arch_hash: str) -> None:
    """The config stored for a run must hash to the run's NB101 hash."""
    from eabench.errors import InvalidConfigError
    from eabench.spaces.nb101 import Cell

    try:
        cell_hash = Cell.from_dict(config).hash()
    except (InvalidConfigError, KeyError, TypeError, ValueError) as exc:
        raise err("config", config, f"graphs entry is not a valid 7V cell: {exc}") from exc
    if cell_hash != arch_hash:
        raise err("config", cell_hash, f"graphs entry must hash to the run's hash {arch_hash}")


def results_subspace(path: Path) -> str | None:
    """The subspace (``4V9E``, ``5V9E``) named by an EC-NAS results path, or None."""
    m = _PATH_RE.search(Path(path).as_posix())
    return m["sub"] if m else None


def find_graphs_file(results_path: Path, subspace: str) -> Path | None:
    """``graphs/generated_graphs_<sub>.json`` in an ancestor folder of ``results_path``."""
    for parent in results_path.resolve().parents:
        candidate = parent / "graphs" / f"generated_graphs_{subspace}.json"
        if candidate.is_file():
            return candidate
    return None


def _parse_time(value: Any, where: str) -> dt.datetime:
    if not isinstance(value, str):
        raise err(where, value, f"must be a time string {_TIME_FMT}")
    try:
        return dt.datetime.strptime(value, _TIME_FMT)
    except ValueError as exc:
        raise err(where, value, f"must match {_TIME_FMT}") from exc


def _device_list(data: Any, where: str, n: int | None = None) -> list[float]:
    """``[[v0, v1, ...]]`` (one inner list per tracker) -> flat list of finite non-negatives."""
    if not (isinstance(data, list) and len(data) == 1 and isinstance(data[0], list) and data[0]):
        raise err(where, data, "must be [[value per device]]")
    values = []
    for i, v in enumerate(data[0]):
        values.append(get_number({"v": v}, "v", f"{where}[0][{i}]"))
    if n is not None and len(values) != n:
        raise err(where, data, f"must have one value per device ({n})")
    return values


def _components(top: Mapping[str, Any]) -> dict[str, Any]:
    key = "avg_power_usages:" if "avg_power_usages:" in top else "avg_power_usages"
    comps = top.get(key)
    if not isinstance(comps, Mapping):
        raise err("avg_power_usages:", comps, "required object {gpu, cpu} is missing")
    out: dict[str, Any] = {}
    for comp in ("gpu", "cpu"):
        c = comps.get(comp)
        where = f"avg_power_usages:.{comp}"
        if not isinstance(c, Mapping):
            raise err(where, c, "must be an object")
        devices = c.get("devices")
        if not (isinstance(devices, list) and devices and all(isinstance(d, str) for d in devices)):
            raise err(f"{where}.devices", devices, "must be a non-empty list of names")
        out[f"{comp}_devices"] = [d.strip() for d in devices]
        out[f"{comp}_power_w"] = _device_list(
            c.get("avg_power_usages (W)"), f"{where}.avg_power_usages (W)", len(devices)
        )
        out[f"{comp}_energy_j"] = _device_list(
            c.get("avg_energy_usages (J)"), f"{where}.avg_energy_usages (J)", len(devices)
        )
    return out


def read_ecnas_results(
    path: str | Path,
    graphs: GraphTable | None = None,
    *,
    rel_to: Path | None = None,
    graph_errors: Mapping[str, str] | None = None,
) -> RunLog:
    """Convert one EC-NAS ``results.json`` into a validated :class:`RunLog`.

    Args:
        path: the file; its path must follow the EC-NAS layout (see module docstring).
        graphs: hash -> (matrix, ops); if None, looked up next to the data (and left out with a
            ``missing`` entry when not found).
        rel_to: recorded source paths are made relative to this folder when possible.
        graph_errors: hash -> why its graphs-file entry was rejected (see :func:`read_graphs`);
            the run is then kept without a config and its ``missing`` entry says why.

    Raises:
        InvalidLogError: any schema violation (names field, value and rule).
    """
    path = Path(path)
    raw = read_bytes(path)
    m = _PATH_RE.search(path.as_posix())
    if m is None:
        raise err(
            "path", str(path), "must end in <sub>/<N>_epochs/<hh>/<hash>/repeat_<r>/results.json"
        )
    subspace, arch_hash, repeat = m["sub"], m["hash"], int(m["repeat"])
    budget = int(m["budget"])
    if m["prefix"] != arch_hash[:2]:
        raise err("path", str(path), "the 2-character folder must equal hash[:2]")
    try:
        top = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise err("results.json", str(path), f"is not valid UTF-8: {exc.reason}") from exc
    except (json.JSONDecodeError, RecursionError) as exc:
        raise err("results.json", str(path), f"is not valid JSON: {exc}") from exc
    if not isinstance(top, dict):
        raise err("results.json", type(top).__name__, "top level must be an object")
    if "model_hash" in top and top["model_hash"] != arch_hash:
        raise err("model_hash", top["model_hash"], f"must equal the directory hash {arch_hash}")
    run_id = f"ecnas-{subspace}-{arch_hash}-r{repeat}"

    params = get_int(top, "trainable_params", "results.json", lo=1)
    total_time_s = get_number(top, "total_time", "results.json")
    total_kwh = get_number(top, "total_energy (kWh)", "results.json", hi=1e6)
    comps = _components(top)
    evals = top.get("evaluation_results")
    if not (isinstance(evals, list) and len(evals) >= 2):
        raise err("evaluation_results", evals, "must be a list of at least 2 evaluations")
    run_start = _parse_time(top.get("start_emission"), "start_emission")
    run_stop = _parse_time(top.get("stop_emission"), "stop_emission")
    if run_stop < run_start:
        raise err("stop_emission", top.get("stop_emission"), "must not precede start_emission")

    records: list[EpochRecord] = []
    setup: SetupWindow | None = None
    prev_epochs, prev_time, prev_kwh = 0, 0.0, 0.0
    for i, ev in enumerate(evals):
        where = f"evaluation_results[{i}]"
        if not isinstance(ev, Mapping):
            raise err(where, ev, "must be an object")
        epochs_f = get_number(ev, "epochs", where, hi=1e6)
        if epochs_f != int(epochs_f):
            raise err(f"{where}.epochs", epochs_f, "must be a whole number of epochs")
        epochs = int(epochs_f)
        if (i == 0) != (epochs == 0):
            raise err(f"{where}.epochs", epochs_f, "only the first evaluation is at epoch 0")
        if i > 0 and epochs <= prev_epochs:
            raise err(f"{where}.epochs", epochs_f, f"must be > {prev_epochs} (increasing)")
        train_time = get_number(ev, "training_time", where)
        kwh = get_number(ev, "energy (kWh)", where, hi=1e6)
        if train_time < prev_time:
            raise err(f"{where}.training_time", train_time, "cumulative time must not decrease")
        if kwh < prev_kwh:
            raise err(f"{where}.energy (kWh)", kwh, "cumulative energy must not decrease")
        seg_start = _parse_time(ev.get("start_emission"), f"{where}.start_emission")
        seg_stop = _parse_time(ev.get("stop_emission"), f"{where}.stop_emission")
        if not run_start <= seg_start <= seg_stop:
            raise err(f"{where}.stop_emission", ev.get("stop_emission"), "segment out of order")
        metrics = {
            "train_accuracy": get_number(ev, "train_accuracy", where, hi=1.0),
            "val_accuracy": get_number(ev, "validation_accuracy", where, hi=1.0),
            "test_accuracy": get_number(ev, "test_accuracy", where, hi=1.0),
        }
        extra: dict[str, Any] = {
            "energy_kwh_cumulative_with_pue": kwh,
            "training_time_s_cumulative": train_time,
            "training_steps": get_int(ev, "training_steps", where),
            "predict_time_s": get_number(ev, "predict_time", where),
            "co2eq_g": get_number(ev, "co2eq (g)", where, hi=1e9),
            "avg_intensity_g_per_kwh": get_number(ev, "avg_intensity (gCO2/kWh)", where, hi=1e5),
            "start_emission": ev["start_emission"],
            "stop_emission": ev["stop_emission"],
        }
        for key, out_key, hi in (
            ("predicted_energy (kWh)", "predicted_energy_kwh_with_pue", 1e6),
            ("predicted_co2eq (g)", "predicted_co2eq_g", 1e9),
            ("predicted_training_time", "predicted_training_time_s", 1e9),
            ("predicted_avg_intensity (gCO2/kWh)", "predicted_avg_intensity_g_per_kwh", 1e5),
        ):
            if key in ev:
                extra[out_key] = get_number(ev, key, where, hi=hi)
        duration_s = (seg_stop - seg_start).total_seconds()
        if i > 0:
            check_ecnas_window(where, train_time - prev_time, duration_s)
        window_epoch = max(epochs - 1, 0)
        energy_j = (kwh - prev_kwh) * J_PER_KWH / ECNAS_PUE
        implied = max(1, math.floor(duration_s / POLL_PERIOD_S))
        reading = MeterReading(
            reading_id=f"{run_id}/{'setup' if i == 0 else f'e{window_epoch}'}/carbontracker",
            run_id=run_id,
            epoch=window_epoch,
            window_name="setup" if i == 0 else "train",
            meter="carbontracker",
            method="polling",
            quantity="power (GPU) + RAPL energy deltas (CPU), summed",
            api_call="nvmlDeviceGetPowerUsage; /sys/class/powercap/intel-rapl:*/energy_uj",
            backend="carbontracker",
            backend_version="1.1.6 (EC-NAS fork)",
            scope="gpu+package",
            device={"gpu": comps["gpu_devices"], "cpu": comps["cpu_devices"]},
            window_start_mono_ns=int((seg_start - run_start).total_seconds() * 1e9),
            window_end_mono_ns=int((seg_stop - run_start).total_seconds() * 1e9),
            integration="rectangle_mean",
            energy_j=energy_j,
            duration_s=duration_s,
            mean_power_w=energy_j / duration_s if duration_s > 0 else None,
            power_source_kind="unknown",
            requested_rate_hz=1.0 / POLL_PERIOD_S,
            samples_expected=math.floor(duration_s / POLL_PERIOD_S),
            samples_taken=implied,
            pue_applied=ECNAS_PUE,
        )
        reading = with_derived_flags(reading)
        if i == 0:
            setup = SetupWindow(wall_time_s=duration_s, readings=(reading,), metrics=metrics)
        else:
            records.append(
                EpochRecord(
                    run_id=run_id,
                    epoch=window_epoch,
                    span_epochs=epochs - prev_epochs,
                    train_time_s=train_time - prev_time,
                    readings=(reading,),
                    extra=extra,
                    train_accuracy=metrics["train_accuracy"],
                    val_accuracy=metrics["val_accuracy"],
                    test_accuracy=metrics["test_accuracy"],
                )
            )
        prev_epochs, prev_time, prev_kwh = epochs, train_time, kwh

    if prev_epochs != budget:
        raise err("evaluation_results", prev_epochs, f"last evaluation must be at epoch {budget}")
    check_ecnas_totals(
        total_kwh=total_kwh,
        total_time_s=total_time_s,
        wall_s=(run_stop - run_start).total_seconds(),
        gpu_j=comps["gpu_energy_j"],
        cpu_j=comps["cpu_energy_j"],
        gpu_w=comps["gpu_power_w"],
        cpu_w=comps["cpu_power_w"],
        last_eval_kwh=prev_kwh,
        pue=ECNAS_PUE,
    )
    missing = [
        {"field": "train_loss/val_loss/test_loss", "reason": "results.json records no losses"},
        {"field": "eval_time_s", "reason": "evaluation passes are not timed separately"},
        {"field": "readings[eval]", "reason": "Carbontracker did not track evaluation passes"},
        {"field": "seed", "reason": "results.json records no seed"},
        {"field": "per-device energy per epoch", "reason": "only whole-run per-device totals"},
    ]
    config: dict[str, Any] | None = None
    if graphs is None:
        gpath = find_graphs_file(path, subspace)
        graphs = load_graphs(gpath) if gpath is not None else {}
    if arch_hash in graphs:
        matrix, ops = graphs[arch_hash]
        config = {"matrix": matrix, "ops": ops}
        _check_config_hash(config, arch_hash)
    elif graph_errors and arch_hash in graph_errors:
        reason = f"graphs-file entry rejected: {graph_errors[arch_hash]}"
        missing.append({"field": "config", "reason": reason})
    else:
        missing.append({"field": "config", "reason": f"{arch_hash} not in the graphs file"})
    source_path = path
    if rel_to is not None:
        try:
            source_path = path.resolve().relative_to(rel_to.resolve())
        except ValueError:
            source_path = path
    header = RunHeader(
        run_id=run_id,
        space="nb101-7v",
        dataset="cifar10",
        source={
            "kind": "ecnas-results",
            "path": source_path.as_posix(),
            "sha256": file_sha256(raw),
            "subspace": subspace,
            "repeat": repeat,
            "citation": "Bakhtiarifard, Igel, Selvan. EC-NAS. ICASSP 2024. arXiv:2210.06015",
            "licence": "Apache-2.0 (EC-NAS-Bench NOTICE.md; NAS-Bench-101)",
        },
        config=config,
        config_id=arch_hash,
        max_epochs=budget,
        hardware={
            "gpu_name": comps["gpu_devices"][0],
            "gpu_count": len(comps["gpu_devices"]),
            "cpu_devices": comps["cpu_devices"],
        },
        software={"tracker": "carbontracker 1.1.6 (EC-NAS fork)", "framework": "tensorflow"},
        protocol={
            "batch_size": 256,
            "optimizer": "sgd momentum 0.9, lr 0.1 cosine, wd 1e-4",
            "train_images": 40000,
            "pue_in_source": ECNAS_PUE,
        },
        meters=({"meter": "carbontracker", "poll_period_s": POLL_PERIOD_S, "pue": ECNAS_PUE},),
        missing=tuple(missing),
        setup=setup,
        extra={
            "trainable_params": params,
            "total_time_s": total_time_s,
            "total_energy_kwh_with_pue": total_kwh,
            "total_co2eq_g": get_number(top, "total_co2eq (g)", "results.json", hi=1e9),
            "avg_intensity_g_per_kwh": get_number(
                top, "avg_intensity (gCO2/kWh)", "results.json", hi=1e5
            ),
            "start_emission": get_str(top, "start_emission", "results.json"),
            "stop_emission": get_str(top, "stop_emission", "results.json"),
            "run_gpu_energy_j": comps["gpu_energy_j"],
            "run_cpu_energy_j": comps["cpu_energy_j"],
            "run_gpu_power_w": comps["gpu_power_w"],
            "run_cpu_power_w": comps["cpu_power_w"],
        },
    )
    return RunLog(header=header, epochs=tuple(records))
