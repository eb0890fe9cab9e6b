"""``eabench query ... | head``: a reader that leaves early ends the command quietly."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import eabench


def test_query_into_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    bench = eabench.load("nb101-7v")
    cells = [bench.space.sample(seed=s).to_dict() for s in range(3000)]
    cfg = tmp_path / "cells.json"
    cfg.write_text(json.dumps(cells))
    cmd = [sys.executable, "-m", "eabench", "query", "nb101-7v", "--config", str(cfg), "--json"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None
    assert proc.stderr is not None
    head = proc.stdout.read(100)  # like `| head -c 100`, then the reader goes away
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0
    assert head.startswith(b"{")
    assert "Traceback" not in err
    assert "BrokenPipeError" not in err
