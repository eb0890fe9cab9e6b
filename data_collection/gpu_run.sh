#!/usr/bin/env bash
# One command on a GPU node: validate the GPU meters, train as many RegNet x HPO prefixes as fit,
# print a summary. Runs from the checkout (PYTHONPATH=., no pip install); about 10 minutes.
#
#   bash data_collection/gpu_run.sh                 # real run: CUDA GPU, real meters only
#   bash data_collection/gpu_run.sh --dry-run       # the same steps on CPU at smoke size (<1 min)
#   bash data_collection/gpu_run.sh --dry-run --out DIR
#
# See data_collection/README.md ("One command on a GPU node") and --help for the settings.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: bash data_collection/gpu_run.sh [--dry-run] [--out DIR] [-h|--help]

Real run (default; needs python3 with torch+CUDA, nvidia-ml-py, h5py; no internet):
  0. checks prerequisites, finds the CIFAR-10 JPEG pack and decodes it into the cache once
  1. eabench meters validate (~2 min): every GPU meter side by side
       -> data_collection/runs/meter_validation/<UTC stamp>/
  2. eabench collect data_collection/sweeps/regnet_hpo_cifar10_gpu_quick.toml under a time budget
     (~7 min; a run starts only if it is expected to end in time; `timeout` is the backstop)
       -> data_collection/runs/regnet_hpo_cifar10/logs/
  3. an ingest check of the logs and a summary (printed last)
       -> data_collection/runs/gpu_run/<UTC stamp>/summary.json
  Real meters only: the real run never uses fake meters.

--dry-run (or EABENCH_GPU_RUN_DRY=1): the same steps on CPU at smoke size with SIMULATED meters
  (meter validation against the fake NVML of `eabench meters validate --simulate`; collection on
  tests/fixtures/cifar10/cifar10_tiny_jpeg.npz with fake meters). Writes only into --out DIR
  (or $EABENCH_GPU_RUN_OUT; default data_collection/runs/_smoke/gpu_run, git-ignored).

Environment:
  PYTHON                       python to use (default python3)
  EABENCH_CIFAR10              the JPEG pack (else data_collection/_cifar10/cifar10_jpeg.npz,
                               ../shared/data/cifar10/cifar10_jpeg.npz, shared/data/cifar10/...)
  EABENCH_CACHE                decoded-image cache (default ~/.cache/eabench)
  EABENCH_GPU_RUN_TOTAL_S      wall-time target of the whole script (real 570, dry 90)
  EABENCH_GPU_RUN_COLLECT_S    collection budget, at most (real 420, dry 25)
  EABENCH_GPU_RUN_GRACE_S      hard limit past the budget before `timeout` kills (real 45, dry 30)
  EABENCH_GPU_RUN_HARD_S       the hard limit itself, overriding budget + grace (tests)
  EABENCH_GPU_RUN_WINDOWS      meter-validation window lengths in s (default 1,4,12)
  EABENCH_GPU_RUN_REPEATS      windows per length and workload (default 3)
  EABENCH_GPU_RUN_IDLE_S       idle window of the validation in s (default 10)
Exit status: 0 all steps ok; 1 a step failed (the summary says which); 2 bad usage or missing
prerequisites; 130 interrupted (the summary is still printed; rerunning continues the sweep).
EOF
}

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

DRY="${EABENCH_GPU_RUN_DRY:-0}"
OUT="${EABENCH_GPU_RUN_OUT:-}"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --dry-run) DRY=1 ;;
    --out)
      [[ $# -ge 2 ]] || { echo "gpu_run.sh: --out needs a directory" >&2; exit 2; }
      OUT="$2"
      shift
      ;;
    --out=*) OUT="${1#--out=}" ;;
    -h | --help) usage; exit 0 ;;
    *) echo "gpu_run.sh: unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
[[ "$DRY" == 1 ]] && DRY=1 || DRY=0
[[ -z "$OUT" || "$OUT" == /* ]] || OUT="$PWD/$OUT" # relative to where the script was called
cd "$ROOT"

say() { printf '%s\n' "$*"; }
step() { printf '\n== [%4ds] %s\n' "$SECONDS" "$*"; }
die() { printf 'gpu_run.sh: error: %s\n' "$*" >&2; exit 2; }
warn() { printf 'gpu_run.sh: warning: %s\n' "$*" >&2; }

PY="${PYTHON:-python3}"
CIFAR10_SHA256="b1091c5ea41ae05745b054dfe78e169e8ec1f4dc2df004961759ace1b182b15c"
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
START_UNIX="$(date +%s)"

if [[ $DRY == 1 ]]; then
  MODE="dry-run"
  RUNS="${OUT:-$ROOT/data_collection/runs/_smoke/gpu_run}"
  TOTAL_S="${EABENCH_GPU_RUN_TOTAL_S:-90}"
  COLLECT_S="${EABENCH_GPU_RUN_COLLECT_S:-25}"
  GRACE_S="${EABENCH_GPU_RUN_GRACE_S:-30}"
  RESERVE_S=10
else
  MODE="gpu"
  [[ -z "$OUT" ]] || die "--out / EABENCH_GPU_RUN_OUT is for --dry-run only: real data go to data_collection/runs/"
  RUNS="$ROOT/data_collection/runs"
  TOTAL_S="${EABENCH_GPU_RUN_TOTAL_S:-570}"
  COLLECT_S="${EABENCH_GPU_RUN_COLLECT_S:-420}"
  GRACE_S="${EABENCH_GPU_RUN_GRACE_S:-45}"
  RESERVE_S=20
fi
WINDOWS="${EABENCH_GPU_RUN_WINDOWS:-1,4,12}"
REPEATS="${EABENCH_GPU_RUN_REPEATS:-3}"
IDLE_S="${EABENCH_GPU_RUN_IDLE_S:-10}"
HARD_S="${EABENCH_GPU_RUN_HARD_S:-}"
for v in TOTAL_S COLLECT_S GRACE_S REPEATS IDLE_S ${HARD_S:+HARD_S}; do
  [[ "${!v}" =~ ^[0-9]+$ ]] || die "$v must be a whole number of seconds (got '${!v}')"
done
[[ "$WINDOWS" =~ ^[0-9.,]+$ ]] || die "EABENCH_GPU_RUN_WINDOWS must look like 1,4,12 (got '$WINDOWS')"

RUNS="${RUNS%/}"
SESSION="$RUNS/gpu_run/$STAMP"
VAL_DIR="$RUNS/meter_validation/$STAMP"

# Run from the checkout, as on the node: no install, no bytecode written into the tree.
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONDONTWRITEBYTECODE=1
export PYTHONUNBUFFERED=1

# run_timed LIMIT_S CMD...: CMD under `timeout` (TERM at LIMIT_S, KILL 20 s later, to its whole
# process group: pool workers too). Ctrl-C / TERM to this script become a TERM to that group
# (`timeout` runs in its own process group, so the terminal's Ctrl-C would not reach it).
INTERRUPTED=0
CHILD=""
RC=0
on_signal() {
  INTERRUPTED=1
  [[ -z "$CHILD" ]] || kill -TERM "$CHILD" 2>/dev/null || true
}
run_timed() {
  local limit="$1"
  shift
  timeout --kill-after=20 "$limit" "$@" &
  CHILD=$!
  trap on_signal INT TERM
  RC=0
  wait "$CHILD" || RC=$?
  while kill -0 "$CHILD" 2>/dev/null; do # a trapped signal ends `wait` early: wait again
    RC=0
    wait "$CHILD" || RC=$?
  done
  trap - INT TERM
  CHILD=""
}

say "eabench GPU run ($MODE), $STAMP, checkout $ROOT"
say "writes: $RUNS/{gpu_run,meter_validation}/$STAMP and the sweep's folder under $RUNS"
[[ $DRY == 0 ]] || say "DRY RUN: CPU, smoke size, SIMULATED meters; nothing here is a measurement"

# ------------------------------------------------------------------------------------------------
step "0/3 prerequisites"
command -v "$PY" >/dev/null 2>&1 || die "$PY not found: install Python >= 3.10 or set PYTHON=/path/to/python3"
command -v timeout >/dev/null 2>&1 || die "'timeout' (GNU coreutils) not found"
command -v git >/dev/null 2>&1 && GIT_COMMIT="$(git -C "$ROOT" rev-parse HEAD 2>/dev/null || true)"
GIT_COMMIT="${GIT_COMMIT:-}"
GIT_DIRTY=""
[[ -z "$GIT_COMMIT" ]] || GIT_DIRTY="$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null | wc -l | tr -d ' ')"

GR_MODE="$MODE" GR_ROOT="$ROOT" "$PY" - <<'PY' || die "prerequisites missing (see above)"
import importlib
import os
import sys
from pathlib import Path

dry = os.environ["GR_MODE"] == "dry-run"
root = Path(os.environ["GR_ROOT"]).resolve()
problems = []


def ok(what):
    print(f"  ok    {what}")


def bad(what, fix):
    print(f"  MISSING {what}: {fix}")
    problems.append(what)


if sys.version_info < (3, 10):
    bad(f"python >= 3.10 (this is {sys.version.split()[0]})", "use a newer python3 (PYTHON=...)")
else:
    ok(f"python {sys.version.split()[0]} ({sys.executable})")
for mod, fix in (
    ("numpy", "pip install numpy"),
    ("PIL", "pip install pillow (decodes the CIFAR-10 JPEGs)"),
    ("tqdm", "pip install tqdm"),
    ("tomllib" if sys.version_info >= (3, 11) else "tomli", "pip install tomli (python 3.10)"),
):
    try:
        importlib.import_module(mod)
        ok(mod)
    except ImportError as exc:
        bad(mod, f"{fix} ({exc})")
try:
    import eabench

    where = Path(eabench.__file__).resolve().parent
    if root not in where.parents:
        bad(f"eabench from this checkout (got {where})", "run from the checkout with PYTHONPATH=.")
    else:
        ok(f"eabench {eabench.__version__} from {where}")
except Exception as exc:  # any import failure is a setup problem
    bad("eabench importable from the checkout", f"{type(exc).__name__}: {exc}")
try:
    import h5py

    ok(f"h5py {h5py.__version__} (ingest check)")
except ImportError:
    print("  warn  h5py not importable: the ingest check of the logs is skipped")
try:
    import torch

    if dry:
        ok(f"torch {torch.__version__} (dry run: CPU)")
    elif not torch.cuda.is_available():
        bad(
            f"torch with CUDA (torch {torch.__version__}, CUDA build {torch.version.cuda})",
            "no usable CUDA device: install the CUDA build of torch for this driver",
        )
    else:
        names = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
        ok(f"torch {torch.__version__}, CUDA {torch.version.cuda}: {', '.join(names)}")
        if len(names) > 1:
            print("  note  several GPUs: this script trains and measures device 0 only")
except ImportError as exc:
    bad("torch", f"pip install torch ({exc})")
if not dry:
    try:
        import pynvml

        pynvml.nvmlInit()
        drv = pynvml.nvmlSystemGetDriverVersion()
        drv = drv.decode() if isinstance(drv, bytes) else drv
        ok(f"pynvml (nvidia-ml-py): driver {drv}, {pynvml.nvmlDeviceGetCount()} GPU(s)")
        pynvml.nvmlShutdown()
    except Exception as exc:  # ImportError or an NVML error
        bad("pynvml (nvidia-ml-py) with a working NVML", f"{type(exc).__name__}: {exc}")
sys.exit(1 if problems else 0)
PY

NO_SMI=()
if [[ $DRY == 0 ]]; then
  if command -v nvidia-smi >/dev/null 2>&1; then
    say "  ok    nvidia-smi ($(command -v nvidia-smi))"
    others="$(nvidia-smi --query-compute-apps=pid,process_name,used_memory --format=csv,noheader 2>/dev/null || true)"
    if [[ -n "$others" ]]; then
      warn "other processes use the GPU; their work is in every energy reading:"
      printf '        %s\n' "$others" >&2
    fi
  else
    warn "nvidia-smi not on PATH: gpu.smi_poll is left out of the validation and recorded unavailable in the runs"
    NO_SMI=(--no-smi)
  fi
fi

# The CIFAR-10 JPEG pack.
if [[ $DRY == 1 ]]; then
  PACK="$ROOT/tests/fixtures/cifar10/cifar10_tiny_jpeg.npz"
  [[ -f "$PACK" ]] || die "the CIFAR-10 fixture $PACK is missing (is this a full checkout?)"
  CACHE_DIR="$RUNS/_cache"
else
  PACK=""
  if [[ -n "${EABENCH_CIFAR10:-}" ]]; then
    [[ -f "$EABENCH_CIFAR10" ]] || die "EABENCH_CIFAR10=$EABENCH_CIFAR10 is no file"
    PACK="$EABENCH_CIFAR10"
  else
    for c in "$ROOT/data_collection/_cifar10/cifar10_jpeg.npz" \
      "$ROOT/../shared/data/cifar10/cifar10_jpeg.npz" \
      "$ROOT/shared/data/cifar10/cifar10_jpeg.npz"; do
      if [[ -f "$c" ]]; then PACK="$c"; break; fi
    done
  fi
  [[ -n "$PACK" ]] || die "no CIFAR-10 JPEG pack: copy cifar10_jpeg.npz (../shared/data/cifar10/README.md) to data_collection/_cifar10/ or set EABENCH_CIFAR10"
  PACK="$(cd "$(dirname "$PACK")" && pwd)/$(basename "$PACK")"
  export EABENCH_CIFAR10="$PACK"
  CACHE_DIR=""
fi

say "  ...   CIFAR-10 pack $PACK: checking, then decoding into the cache (once per pack)"
[[ $DRY == 1 ]] && WANT_SHA="" || WANT_SHA="$CIFAR10_SHA256"
PACK_SHA="$(GR_PACK="$PACK" GR_CACHE="$CACHE_DIR" GR_WANT_SHA="$WANT_SHA" "$PY" - <<'PY'
import hashlib
import json
import os
import sys
from pathlib import Path

from eabench.collect.data import cifar10_cache

pack, want = Path(os.environ["GR_PACK"]), os.environ["GR_WANT_SHA"]
h = hashlib.sha256()
with open(pack, "rb") as fh:
    for block in iter(lambda: fh.read(1 << 22), b""):
        h.update(block)
if want and h.hexdigest() != want:
    print(f"  BAD   {pack}: sha256 {h.hexdigest()}, not {want}", file=sys.stderr)
    print("        (see ../shared/data/cifar10/README.md): another or a damaged file", file=sys.stderr)
    sys.exit(1)
cache = os.environ["GR_CACHE"] or None
folder = cifar10_cache(pack, Path(cache) if cache else None, progress=True)
print(f"  ok    decoded cache {folder}", file=sys.stderr)
print(json.loads((folder / "meta.json").read_text())["source_sha256"])
PY
)" || die "the CIFAR-10 pack $PACK is unusable (see above)"
say "  ok    pack sha256 $PACK_SHA"

# Nothing is written into the output folder before the checks above pass (the decoded cache is
# in the cache folder; in a dry run under the output folder).
[[ ! -e "$SESSION" ]] || die "$SESSION exists already (two runs in the same second?)"
mkdir -p "$SESSION"

# The sweep spec: the committed quick spec, or (dry run) the same sweep at smoke size, written here.
if [[ $DRY == 1 ]]; then
  SWEEP_NAME="gpu_run_dry"
  SWEEP_OUT="$RUNS/regnet_hpo_cifar10_dryrun"
  SPEC="$SESSION/dry_run_spec.toml"
  for p in "$SWEEP_OUT" "$PACK" "$CACHE_DIR"; do
    [[ "$p" != *"'"* ]] || die "paths with a single quote are not supported: $p"
  done
  cat >"$SPEC" <<EOF
# Generated by data_collection/gpu_run.sh --dry-run: regnet_hpo_cifar10_gpu_quick.toml at smoke
# size (same sampler, configs and executor; CPU, tiny data, 2-epoch prefixes, fake meters).
[sweep]
name = "$SWEEP_NAME"
space = "regnet-hpo"
dataset = "cifar10"
seed = 1
output_dir = '$SWEEP_OUT'

[sampler]
kind = "random"
seed = 0
num_configs = 500
constraints = true

[protocol]
batch_size = 32
eval_batch_size = 100
amp = true
eval_every_epoch = true
val_size = 20
split_seed = 0
train_limit = 64
test_limit = 50
epoch_limit = 2
device = "cpu"
num_threads = 1

[data]
source = '$PACK'
cache_dir = '$CACHE_DIR'

[meters]
fake = true                       # SIMULATED: the dry run measures nothing
names = ["gpu.nvml_counter", "gpu.nvml_power"]
[meters.rates_hz]
"gpu.nvml_power" = 10.0

[executor]
kind = "pool"
workers = 1
EOF
else
  SWEEP_NAME="regnet_hpo_cifar10_gpu_quick"
  SWEEP_OUT="$RUNS/regnet_hpo_cifar10"
  SPEC="$ROOT/data_collection/sweeps/$SWEEP_NAME.toml"
  grep -q '^fake *= *true' "$SPEC" && die "$SPEC asks for fake meters: the real run measures"
fi
say "  ok    sweep spec $SPEC"

# ------------------------------------------------------------------------------------------------
VAL_RC=-1
VAL_START=$SECONDS
if [[ $DRY == 1 ]]; then
  step "1/3 meter validation against the fake NVML (--simulate: SIMULATED, instantaneous)"
  VAL_CMD=("$PY" -m eabench meters validate --simulate --out "$VAL_DIR"
    --windows "$WINDOWS" --repeats "$REPEATS" --idle-s "$IDLE_S" --rate-hz 10)
  VAL_LIMIT=60
else
  step "1/3 meter validation (~2 min): every GPU meter side by side -> $VAL_DIR"
  VAL_CMD=("$PY" -m eabench meters validate --out "$VAL_DIR"
    --windows "$WINDOWS" --repeats "$REPEATS" --idle-s "$IDLE_S" --rate-hz 10 ${NO_SMI[@]+"${NO_SMI[@]}"})
  VAL_LIMIT=$((IDLE_S + 2 * REPEATS * $(tr ',' '\n' <<<"$WINDOWS" | awk '{s += $1} END {printf "%d", s + 0.999}') + 120))
fi
say "\$ ${VAL_CMD[*]}   (killed after ${VAL_LIMIT}s)"
run_timed "$VAL_LIMIT" "${VAL_CMD[@]}"
VAL_RC=$RC
VAL_S=$((SECONDS - VAL_START))
[[ $VAL_RC == 0 ]] || warn "meter validation exited with status $VAL_RC; going on with the collection"

# ------------------------------------------------------------------------------------------------
COLLECT_RC=-1
BUDGET=0
HARD=0
COLLECT_S_USED=0
GR_LOGS="$SWEEP_OUT/logs" "$PY" - >"$SESSION/state_before.json" <<'PY' || warn "cannot read the logs before the collection: the summary will count every log as new"
import json
import os
from pathlib import Path

from eabench.logs import read_run_log

state = {}
for p in sorted(Path(os.environ["GR_LOGS"]).glob("*.runlog.jsonl")):
    try:
        log = read_run_log(p)
        state[log.run_id] = len(log.epochs)
    except Exception:  # reported by the summary
        state[p.name] = None
print(json.dumps(state, indent=1))
PY
if [[ $INTERRUPTED == 1 ]]; then
  step "2/3 collection skipped: interrupted"
else
  left=$((TOTAL_S - SECONDS - RESERVE_S))
  BUDGET=$((COLLECT_S < left ? COLLECT_S : left))
  if ((BUDGET < 5)); then
    step "2/3 collection skipped: no time left of the ${TOTAL_S}s target"
    BUDGET=0
  else
    HARD="${HARD_S:-$((BUDGET + GRACE_S))}"
    step "2/3 collection: $SWEEP_NAME, time budget ${BUDGET}s (killed at ${HARD}s) -> $SWEEP_OUT/logs"
    COLLECT_CMD=("$PY" -m eabench collect "$SPEC" --time-budget "$BUDGET")
    say "\$ ${COLLECT_CMD[*]}"
    C0=$SECONDS
    run_timed "$HARD" "${COLLECT_CMD[@]}"
    COLLECT_RC=$RC
    COLLECT_S_USED=$((SECONDS - C0))
    case $COLLECT_RC in
      0) ;;
      1) warn "some runs failed (listed in the summary)" ;;
      124 | 137) warn "the collection outran its budget and was killed at ${HARD}s: the run in flight is partial (its log is intact)" ;;
      *) warn "eabench collect exited with status $COLLECT_RC" ;;
    esac
  fi
fi

# ------------------------------------------------------------------------------------------------
step "3/3 ingest check and summary"
INGEST_RC=-1
if compgen -G "$SWEEP_OUT/logs/*.runlog.jsonl" >/dev/null; then
  if "$PY" -c 'import h5py' 2>/dev/null; then
    tmp="$(mktemp -d "$SESSION/.ingest_check.XXXXXX")"
    INGEST_RC=0
    "$PY" -m eabench ingest "$SWEEP_OUT/logs" --out "$tmp/check.h5" >"$SESSION/ingest_check.txt" 2>&1 || INGEST_RC=$?
    [[ ! -f "$tmp/check.h5.ingest-report.json" ]] || mv "$tmp/check.h5.ingest-report.json" "$SESSION/ingest_check.json"
    rm -rf "$tmp"
    [[ $INGEST_RC == 0 ]] || warn "eabench ingest failed on the logs (status $INGEST_RC): $SESSION/ingest_check.txt"
  else
    say "  (h5py missing: ingest check skipped)"
  fi
fi

export GR_MODE="$MODE" GR_ROOT="$ROOT" GR_RUNS="$RUNS" GR_SESSION="$SESSION" GR_STAMP="$STAMP"
export GR_VAL_DIR="$VAL_DIR" GR_VAL_RC="$VAL_RC" GR_VAL_S="$VAL_S" GR_SPEC="$SPEC"
export GR_SWEEP_NAME="$SWEEP_NAME" GR_SWEEP_OUT="$SWEEP_OUT" GR_COLLECT_RC="$COLLECT_RC"
export GR_BUDGET="$BUDGET" GR_HARD="$HARD" GR_COLLECT_S="$COLLECT_S_USED" GR_INGEST_RC="$INGEST_RC"
export GR_INTERRUPTED="$INTERRUPTED" GR_START_UNIX="$START_UNIX" GR_ELAPSED="$SECONDS"
export GR_PACK="$PACK" GR_PACK_SHA="$PACK_SHA" GR_GIT_COMMIT="$GIT_COMMIT" GR_GIT_DIRTY="$GIT_DIRTY"
SUMMARY_RC=0
"$PY" - <<'PY' || SUMMARY_RC=$?
"""Summarise this session from the files on disk (run logs are the ground truth: a killed
collection writes no summary of its own)."""
import json
import os
import socket
import statistics
import time
from pathlib import Path

from eabench.logs import read_run_log

E = os.environ
root, runs, session = Path(E["GR_ROOT"]), Path(E["GR_RUNS"]), Path(E["GR_SESSION"])
sweep_out, name, dry = Path(E["GR_SWEEP_OUT"]), E["GR_SWEEP_NAME"], E["GR_MODE"] == "dry-run"


def rel(p):
    p = Path(p)
    try:
        return str(p.relative_to(root))
    except ValueError:
        return str(p)


def load(p):
    try:
        return json.loads(Path(p).read_text())
    except (OSError, ValueError):
        return None


# --- meter validation
val_dir, val_rc = Path(E["GR_VAL_DIR"]), int(E["GR_VAL_RC"])
vs = load(val_dir / "summary.json")
validation = {"status": "ok" if val_rc == 0 and vs else f"failed (exit {val_rc})",
              "dir": rel(val_dir), "seconds": int(E["GR_VAL_S"]), "simulated": None}
if vs:
    rel_diff = {}
    for w in vs.get("windows", []):
        if w["kind"] == "idle":
            continue
        for m in w["meters"]:
            if m.get("rel_diff_vs_counter") is not None:
                rel_diff.setdefault(m["meter"], []).append(m["rel_diff_vs_counter"])
    validation.update(
        simulated=vs.get("simulated"),
        device=(vs.get("device") or {}).get("name"),
        counter_update_period_s=vs.get("counter_update_period_s"),
        idle_power_w=vs.get("idle_power_w"),
        busy_power_w=vs.get("busy_power_w"),
        unavailable=vs.get("unavailable"),
        median_rel_diff_vs_counter={k: statistics.median(v) for k, v in sorted(rel_diff.items())},
        windows=len(vs.get("windows", [])),
    )

# --- collection: compare the logs with their state before this session
before = load(session / "state_before.json") or {}
plan = load(sweep_out / "sweeps" / f"{name}.plan.json") or {}
targets = {r["run_id"]: r["target_epochs"] for r in plan.get("runs", [])}
session_runs, unreadable = [], []
energy, nulls, simulated, unavailable = {}, {}, set(), {}
folder = {"run_logs": 0, "epochs": 0, "finished": 0}
for p in sorted((sweep_out / "logs").glob("*.runlog.jsonl")):
    try:
        log = read_run_log(p)
    except Exception as exc:  # a corrupt log: reported, never fatal
        unreadable.append({"log": rel(p), "error": f"{type(exc).__name__}: {exc}"})
        continue
    rid, n = log.run_id, len(log.epochs)
    target = targets.get(rid, log.header.max_epochs)
    folder["run_logs"] += 1
    folder["epochs"] += n
    folder["finished"] += int(target is not None and n >= target)
    n0 = before.get(rid)
    if rid in before and (n0 is None or n <= n0):
        continue  # untouched this session
    n0 = n0 or 0
    new = [e for e in log.epochs if e.epoch >= n0]
    run_energy = {}
    for e in new:
        for r in e.readings:
            if r.simulated:
                simulated.add(r.meter)
            if r.energy_j is None:
                nulls[r.meter] = nulls.get(r.meter, 0) + 1
            else:
                run_energy[r.meter] = run_energy.get(r.meter, 0.0) + r.energy_j
    for m, j in run_energy.items():
        energy[m] = energy.get(m, 0.0) + j
    for m in log.header.meters:
        if not m.get("available", True) and m.get("meter"):
            unavailable[m["meter"]] = m.get("reason")
    last = log.epochs[-1] if log.epochs else None
    session_runs.append({
        "run_id": rid,
        "config_id": log.header.config_id,
        "epochs_before": n0,
        "epochs": n,
        "target_epochs": target,
        "state": "finished" if target is not None and n >= target else "partial",
        "train_s": round(sum(e.train_time_s or 0.0 for e in new), 3),
        "eval_s": round(sum(e.eval_time_s or 0.0 for e in new), 3),
        "energy_j_by_meter": {k: round(v, 3) for k, v in sorted(run_energy.items())},
        "val_accuracy": None if last is None else last.val_accuracy,
        "torn_tail": log.torn_tail,
        "log": rel(p),
    })

start_unix = int(E["GR_START_UNIX"])
cs = load(sweep_out / "sweeps" / f"{name}.summary.json")
cs_path = sweep_out / "sweeps" / f"{name}.summary.json"
fresh = cs is not None and cs_path.stat().st_mtime >= start_unix
collect_rc, budget = int(E["GR_COLLECT_RC"]), int(E["GR_BUDGET"])
if E["GR_INTERRUPTED"] == "1":
    stopped = "interrupted"
elif collect_rc == -1:
    stopped = "not run"
elif collect_rc in (124, 137):
    stopped = "killed at the hard limit"
elif fresh and cs["counts"].get("deferred"):
    stopped = "time budget reached"
elif collect_rc in (0, 1):
    stopped = "sweep complete"
else:
    stopped = f"exit {collect_rc}"
if fresh:
    failures = cs.get("failures", [])
else:  # killed: the failures the runs recorded themselves during this session
    failures = []
    fj = sweep_out / "sweeps" / f"{name}.failures.jsonl"
    for line in fj.read_text().splitlines() if fj.is_file() else []:
        try:
            f = json.loads(line)
        except ValueError:
            continue
        if f.get("time_unix_s", 0) >= start_unix:
            failures.append({"run_id": f.get("run_id"), "reason": f.get("error")})
collection = {
    "sweep": name,
    "spec": rel(E["GR_SPEC"]),
    "logs": rel(sweep_out / "logs"),
    "exit_status": collect_rc,
    "time_budget_s": budget,
    "hard_limit_s": int(E["GR_HARD"]),
    "seconds": int(E["GR_COLLECT_S"]),
    "stopped": stopped,
    "counts": cs["counts"] if fresh else None,
    "failures": failures,
    "runs_finished": sum(r["state"] == "finished" for r in session_runs),
    "runs_partial": sum(r["state"] == "partial" for r in session_runs),
    "epochs_trained": sum(r["epochs"] - r["epochs_before"] for r in session_runs),
    "energy_j_by_meter": {k: round(v, 3) for k, v in sorted(energy.items())},
    "null_readings_by_meter": dict(sorted(nulls.items())),
    "simulated_meters": sorted(simulated),
    "unavailable_meters": dict(sorted(unavailable.items())),
    "runs": session_runs,
    "unreadable_logs": unreadable,
    "folder": folder,
}
ingest_rc = int(E["GR_INGEST_RC"])
ingest = {"status": {-1: "skipped", 0: "ok"}.get(ingest_rc, f"failed (exit {ingest_rc})")}
rep = load(session / "ingest_check.json")
if rep:
    ingest.update(ingested=rep.get("ingested"), failed=rep.get("failed"), errors=rep.get("errors"))

# a real run must never carry simulated readings (fake meters): say so loudly if it does
fake_in_real = not dry and bool(simulated or validation["simulated"])
ok = (validation["status"] == "ok" and collect_rc in (0, 124, 137) and not unreadable
      and ingest["status"] in ("ok", "skipped") and not failures and not fake_in_real)
add = [rel(p) for p in (sweep_out / "logs", sweep_out / "sweeps", val_dir, session) if p.exists()]
summary = {
    "format": "eabench-gpu-run-1",
    "mode": E["GR_MODE"],
    "simulated": dry,
    "stamp": E["GR_STAMP"],
    "host": socket.gethostname(),
    "started_unix": start_unix,
    "finished_unix": int(time.time()),
    "wall_s": int(E["GR_ELAPSED"]),
    "git_commit": E["GR_GIT_COMMIT"] or None,
    "git_dirty_files": int(E["GR_GIT_DIRTY"]) if E["GR_GIT_DIRTY"] else None,
    "cifar10_pack": {"path": E["GR_PACK"], "sha256": E["GR_PACK_SHA"]},
    "meter_validation": validation,
    "collection": collection,
    "ingest_check": ingest,
    "ok": ok,
    "commit_next": None if dry else "git add " + " ".join(add),
}
(session / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")

# --- the human-readable part, printed last
sim = " [SIMULATED]" if dry else ""
print(f"\n=== eabench GPU run {E['GR_STAMP']} ({E['GR_MODE']}) on {summary['host']}: "
      f"{'OK' if ok else 'WITH PROBLEMS'}, {summary['wall_s']} s")
if dry:
    print("DRY RUN on CPU with fake meters: the energies below are SIMULATED, not measurements.")
if fake_in_real:
    print("ERROR: simulated readings in a real run: do not commit these logs; check the spec")
print(f"meter validation: {validation['status']} ({validation['seconds']} s, "
      f"{validation.get('windows', 0)} windows{sim}) -> {validation['dir']}")
if vs:
    busy = ", ".join(f"{k} {v:.0f} W" for k, v in (vs.get("busy_power_w") or {}).items() if v)
    idle = vs.get("idle_power_w")
    print(f"  {validation.get('device')}: idle {idle:.0f} W, busy {busy}" if idle else
          f"  {validation.get('device')}")
    for m, d in validation["median_rel_diff_vs_counter"].items():
        print(f"  {m}: median |difference| to gpu.nvml_counter {100 * d:.1f}%")
    for m, why in (vs.get("unavailable") or {}).items():
        print(f"  {m}: unavailable ({why})")
print(f"collection: {stopped}; {collection['seconds']} s of a {budget} s budget "
      f"(exit {collect_rc}) -> {collection['logs']}")
print(f"  runs this session: {collection['runs_finished']} finished, "
      f"{collection['runs_partial']} partial; {collection['epochs_trained']} epochs")
for r in session_runs:
    acc = "" if r["val_accuracy"] is None else f", val acc {r['val_accuracy']:.3f}"
    print(f"    {r['run_id']}  {r['epochs']}/{r['target_epochs']} epochs {r['state']}, "
          f"train {r['train_s']:.1f} s{acc}")
if energy:
    print(f"  energy this session (train + eval windows){sim}:")
    for m, j in sorted(energy.items()):
        tag = " SIMULATED" if m in simulated else ""
        null = f" ({nulls[m]} null windows)" if nulls.get(m) else ""
        print(f"    {m:18s} {j:14.1f} J = {j / 3.6e6:.6f} kWh{tag}{null}")
else:
    print("  energy this session: none measured")
for m, why in collection["unavailable_meters"].items():
    print(f"  {m}: unavailable on this node ({why})")
for f in failures[:10]:
    print(f"  FAILED {f['run_id']}: {f['reason']}")
if len(failures) > 10:
    print(f"  ... {len(failures) - 10} more failures: {rel(session / 'summary.json')}")
for u in unreadable:
    print(f"  UNREADABLE {u['log']}: {u['error']}")
print(f"  folder total: {folder['run_logs']} run logs, {folder['epochs']} epochs, "
      f"{folder['finished']} runs at their target")
print(f"ingest check: {ingest['status']}"
      + (f" ({ingest.get('ingested')} runs)" if rep else ""))
print(f"summary file: {rel(session / 'summary.json')}")
if dry:
    print("next: nothing to commit (dry run). On a GPU node: bash data_collection/gpu_run.sh")
else:
    print("next: commit the logs (checkpoints/ and locks/ are git-ignored):")
    print(f"  {summary['commit_next']}")
    print("  git commit -m 'GPU run " + E["GR_STAMP"] + "'")
    print("  run the script again to add the next configs (finished runs are skipped)")
raise SystemExit(0 if ok else 1)
PY

if [[ $INTERRUPTED == 1 ]]; then exit 130; fi
exit "$SUMMARY_RC"
