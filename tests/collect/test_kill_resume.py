"""Kill and resume: SIGKILL a sweep subprocess mid-run, re-run it, and check that no finished run
is trained again and that at most the in-flight epoch is lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from eabench.collect.harness import collect
from eabench.collect.spec import load_spec
from eabench.logs import read_run_log

pytest.importorskip("torch")

SPEC = """
[sweep]
name = "kill"
space = "regnet-hpo"
seed = 1
output_dir = "{out}"
[sampler]
kind = "list"
constraints = false

[[sampler.configs]]
depth = 6
w0 = 48
wa = 8.0
wm = 2.5
group_width = 8
learning_rate = 0.1
max_epochs = 50
optimizer = "sgd"
lr_policy = "cos"
cutout = 0

[[sampler.configs]]
depth = 6
w0 = 48
wa = 8.0
wm = 3.0
group_width = 16
learning_rate = 0.01
max_epochs = 50
optimizer = "adamw"
lr_policy = "exp"
cutout = 16

[protocol]
batch_size = 32
eval_batch_size = 100
val_size = 20
train_limit = 32
test_limit = 20
epoch_limit = 3
device = "cpu"
num_threads = 1
[data]
source = "{pack}"
cache_dir = "{out}/cache"
[meters]
fake = true
names = ["gpu.nvml_counter"]
[executor]
kind = "inprocess"
"""


def _epochs(out: Path) -> dict[str, int]:
    done = {}
    for p in (out / "logs").glob("*.runlog.jsonl"):
        try:
            done[p.name] = len(read_run_log(p).epochs)
        except Exception:  # header being written right now
            continue
    return done


def _collect(repo_root: Path, spec: Path) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "eabench", "collect", str(spec), "--no-progress", "--json"]
    return subprocess.Popen(cmd, cwd=repo_root, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_sigkill_mid_sweep_then_resume(repo_root: Path, tmp_path: Path, tiny_pack: Path) -> None:
    out = tmp_path / "sweep"
    spec = tmp_path / "kill.toml"
    spec.write_text(SPEC.format(out=out, pack=tiny_pack))
    proc = _collect(repo_root, spec)
    deadline = time.monotonic() + 120
    # kill once the first run is finished and the second has recorded 1 of its 3 epochs
    while time.monotonic() < deadline and proc.poll() is None:
        done = _epochs(out)
        if sum(done.values()) >= 4:
            break
        time.sleep(0.02)
    assert proc.poll() is None, proc.communicate()
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    at_kill = _epochs(out)
    assert sum(at_kill.values()) >= 4
    written = {}
    for p in (out / "logs").glob("*.runlog.jsonl"):
        data = p.read_bytes()
        written[p.name] = data[: data.rfind(b"\n") + 1]  # complete lines only

    # resume in this process (saves a second torch import; the killed one was a subprocess)
    summary = collect(load_spec(spec), progress=False).to_dict()
    final = _epochs(out)
    assert sorted(final.values()) == [3, 3]
    by_id = {o["run_id"]: o for o in summary["outcomes"]}
    for name, n_before in at_kill.items():
        outcome = by_id[name.removesuffix(".runlog.jsonl")]
        if n_before == 3:
            assert outcome["status"] == "already_done"  # never trained twice
        else:  # only the missing epochs were trained: nothing recorded was lost or redone
            assert outcome["status"] == "trained"
            assert outcome["epochs_trained"] == 3 - n_before
            assert outcome["resumed_from_epoch"] == (n_before or None)
    assert summary["epochs_trained"] == 6 - sum(at_kill.values())
    for name, prefix in written.items():  # every recorded epoch survives, byte for byte
        assert (out / "logs" / name).read_bytes().startswith(prefix)
