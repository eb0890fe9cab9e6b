"""``eabench collect``: dry runs (no torch), bad specs (exit 2), exit status of a sweep."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from eabench.cli import main

SWEEPS = Path(__file__).resolve().parents[2] / "data_collection" / "sweeps"


def test_dry_run_plans_the_real_gpu_sweep_without_torch(repo_root: Path) -> None:
    code = (
        "import sys\n"
        "from eabench.cli import main\n"
        f"rc = main(['collect', {str(SWEEPS / 'regnet_hpo_cifar10_gpu.toml')!r}, '--dry-run', "
        "'--json'])\n"
        "print('TORCH', 'torch' in sys.modules, file=sys.stderr)\n"
        "raise SystemExit(rc)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=repo_root, check=True
    )
    assert "TORCH False" in out.stderr
    doc = json.loads(out.stdout)
    assert len(doc["runs"]) == 500
    assert len({r["run_id"] for r in doc["runs"]}) == 500
    assert {r["schedule_epochs"] for r in doc["runs"]} <= {50, 100, 200}
    assert all(r["state"] in ("pending", "done") for r in doc["runs"])


def test_dry_run_text_and_executor_override(capsys: pytest.CaptureFixture[str]) -> None:
    spec = str(SWEEPS / "smoke_nb101_7v.toml")
    assert main(["collect", spec, "--dry-run", "--executor", "pool", "--workers", "2"]) == 0
    text = capsys.readouterr().out
    assert "2 runs" in text
    assert "executor pool (workers 2)" in text


def test_bad_spec_exits_2_with_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[sweep]\nname = "x"\nspace = "darts"\noutput_dir = "o"\n')
    assert main(["collect", str(bad), "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert "sweep.space" in err
    assert "darts" in err


def test_slurm_sweep_extends_the_gpu_sweep_with_the_same_run_ids() -> None:
    from eabench.collect.plan import plan_sweep
    from eabench.collect.spec import load_spec

    gpu = plan_sweep(load_spec(SWEEPS / "regnet_hpo_cifar10_gpu.toml"))
    slurm = plan_sweep(load_spec(SWEEPS / "regnet_hpo_cifar10_slurm.toml"))
    assert len(slurm) == 2000
    assert [t.run_id for t in slurm[:500]] == [t.run_id for t in gpu]
    assert gpu[0].spec.output_dir == slurm[0].spec.output_dir
