"""Sweep specs: loading, defaults, path resolution and typed errors naming field/value/rule."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from eabench.collect.spec import load_spec, parse_spec
from eabench.errors import EabenchError, InvalidArgumentError

BASE: dict[str, Any] = {
    "sweep": {"name": "t", "space": "regnet-hpo", "output_dir": "out"},
    "sampler": {"num_configs": 2},
}


def _raw(**tables: dict[str, Any]) -> dict[str, Any]:
    raw = {k: dict(v) for k, v in BASE.items()}
    for name, table in tables.items():
        raw.setdefault(name, {}).update(table)
    return raw


def test_defaults_follow_the_space_reference_protocol(tmp_path: Path) -> None:
    spec = parse_spec(_raw(), base_dir=tmp_path)
    assert spec.output_dir == (tmp_path / "out").resolve()
    assert spec.protocol.batch_size == 1024  # EA-HAS-Bench
    assert spec.protocol.budgets == ()
    assert spec.executor.kind == "pool"
    nb = parse_spec(_raw(sweep={"space": "nb101-7v"}), base_dir=tmp_path)
    assert nb.protocol.batch_size == 256  # NAS-Bench-101
    assert nb.protocol.budgets == (108,)


def test_repository_sweeps_all_load(repo_root: Path) -> None:
    files = sorted((repo_root / "data_collection" / "sweeps").glob("*.toml"))
    assert len(files) >= 4
    for f in files:
        spec = load_spec(f)
        assert spec.name == f.stem
        assert spec.output_dir.is_absolute()


@pytest.mark.parametrize(
    ("tables", "field"),
    [
        ({"sweep": {"space": "darts"}}, "sweep.space"),
        ({"sweep": {"seed": -1}}, "sweep.seed"),
        ({"sampler": {"kind": "grid"}}, "sampler.kind"),
        ({"sampler": {"num_configs": 0}}, "sampler.num_configs"),
        ({"sampler": {"kind": "list"}}, "sampler.configs"),
        ({"sampler": {"num_configs": None}}, "sampler.num_configs"),
        ({"sampler": {"bogus": 1}}, "sampler.bogus"),
        ({"protocol": {"batch_size": 0}}, "protocol.batch_size"),
        ({"protocol": {"amp": "yes"}}, "protocol.amp"),
        ({"protocol": {"val_size": 55}}, "protocol.val_size"),
        ({"protocol": {"budgets": [4]}}, "protocol.budgets"),
        ({"protocol": {"device": "tpu"}}, "protocol.device"),
        ({"meters": {"names": []}}, "meters.names"),
        ({"meters": {"names": ["cpu.rapl", "cpu.rapl"]}}, "meters.names"),
        ({"meters": {"names": ["gpu.magic"]}}, "meters.names"),
        ({"meters": {"names": ["cpu.rapl"], "fake": True}}, "meters.names"),
        ({"meters": {"names": ["cpu.rapl"], "rates_hz": {"b": 10}}}, "meters.rates_hz.b"),
        (
            {"meters": {"names": ["cpu.rapl"], "rates_hz": {"cpu.rapl": -1}}},
            "meters.rates_hz.cpu.rapl",
        ),
        ({"executor": {"kind": "k8s"}}, "executor.kind"),
        ({"executor": {"timeout_min": 0}}, "executor.timeout_min"),
    ],
)
def test_bad_fields_raise_typed_errors(tmp_path: Path, tables: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        parse_spec(_raw(**tables), base_dir=tmp_path)
    assert info.value.field == field
    assert field in str(info.value)
    assert info.value.rule


def test_missing_sweep_table_and_unknown_table(tmp_path: Path) -> None:
    with pytest.raises(EabenchError, match="sweep"):
        parse_spec({}, base_dir=tmp_path)
    with pytest.raises(EabenchError, match="unknown table"):
        parse_spec(_raw(extra={"a": 1}), base_dir=tmp_path)


def test_configs_file(tmp_path: Path) -> None:
    import json

    cfg = {"matrix": [[0, 1], [0, 0]], "ops": ["input", "output"]}
    (tmp_path / "cfgs.json").write_text(json.dumps([cfg, cfg]))
    raw = _raw(sweep={"space": "nb101-7v"}, sampler={"kind": "list", "configs_file": "cfgs.json"})
    raw["sampler"].pop("num_configs")
    spec = parse_spec(raw, base_dir=tmp_path)
    assert spec.sampler.configs == (cfg, cfg)
    assert spec.sampler.num_configs == 2
    (tmp_path / "bad.json").write_text("{}")
    raw["sampler"]["configs_file"] = "bad.json"
    with pytest.raises(InvalidArgumentError, match="JSON list"):
        parse_spec(raw, base_dir=tmp_path)
    # the same cell twice is one config: planning refuses the duplicate
    from eabench.collect.plan import plan_sweep

    with pytest.raises(InvalidArgumentError, match="twice"):
        plan_sweep(spec)


def test_bad_toml_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[sweep\nname=")
    with pytest.raises(InvalidArgumentError, match="not valid TOML"):
        load_spec(bad)
    with pytest.raises(InvalidArgumentError, match="existing TOML"):
        load_spec(tmp_path / "missing.toml")


def test_protocol_digest_ignores_epoch_limit_but_not_batch_size(tmp_path: Path) -> None:
    a = parse_spec(_raw(protocol={"epoch_limit": 2}), base_dir=tmp_path).protocol
    b = parse_spec(_raw(protocol={"epoch_limit": 5}), base_dir=tmp_path).protocol
    c = parse_spec(_raw(protocol={"batch_size": 512}), base_dir=tmp_path).protocol
    assert a.digest() == b.digest() != c.digest()
    assert a.to_dict()["version"].startswith("eabench-collect-protocol")


def test_executor_override(tmp_path: Path) -> None:
    spec = parse_spec(_raw(), base_dir=tmp_path).with_executor("inprocess", 3)
    assert (spec.executor.kind, spec.executor.workers) == ("inprocess", 3)
    with pytest.raises(InvalidArgumentError):
        spec.with_executor("nope")
