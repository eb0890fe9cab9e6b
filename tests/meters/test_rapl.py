"""cpu.rapl / dram.rapl over powercap trees in temp dirs: all packages, wrap, permissions."""

from __future__ import annotations

from pathlib import Path

import pytest

from eabench.meters.base import Window
from eabench.meters.fakes import FakeClock
from eabench.meters.flags import flags_for
from eabench.meters.rapl import RaplMeter, RaplZone, SysfsRaplSource

MAX = 262_143_328_850  # typical Intel max_energy_range_uj
W = Window("run", 2)


def make_zone(root: Path, zone: str, name: str, energy: int, parent: str | None = None) -> Path:
    d = root / (f"{parent}/{zone}" if parent else zone)
    d.mkdir(parents=True)
    (d / "name").write_text(name + "\n")
    (d / "energy_uj").write_text(f"{energy}\n")
    (d / "max_energy_range_uj").write_text(f"{MAX}\n")
    return d


def set_energy(d: Path, value: int) -> None:
    (d / "energy_uj").write_text(f"{value}\n")


@pytest.fixture
def tree(tmp_path: Path) -> dict[str, Path]:
    return {
        "pkg0": make_zone(tmp_path, "intel-rapl:0", "package-0", 1_000_000),
        "pkg1": make_zone(tmp_path, "intel-rapl:1", "package-1", MAX - 500_000),
        "core0": make_zone(tmp_path, "intel-rapl:0:0", "core", 7, parent="intel-rapl:0"),
        "dram0": make_zone(tmp_path, "intel-rapl:0:1", "dram", 40_000_000, parent="intel-rapl:0"),
        "psys": make_zone(tmp_path, "intel-rapl:2", "psys", 5),
        "root": tmp_path,
    }


def test_all_packages_with_wrap_and_no_overlap(tree: dict[str, Path]) -> None:
    clock = FakeClock()
    meter = RaplMeter("package", SysfsRaplSource(tree["root"]), clock)
    assert meter.availability().devices == ("intel-rapl:0", "intel-rapl:1")  # no psys, no core
    meter.begin(W)
    clock.sleep(2.0)
    set_energy(tree["pkg0"], 1_000_000 + 250_000_000)  # 250 J
    set_energy(tree["pkg1"], 1_500_000)  # wrapped: 0.5 J + 1.5 J
    r0, r1 = meter.end()
    assert r0.energy_j == pytest.approx(250.0)
    assert r0.wraps_corrected == 0
    assert r0.mean_power_w == pytest.approx(125.0)
    assert r1.energy_j == pytest.approx(2.0)
    assert r1.wraps_corrected == 1
    assert r1.counter_max == MAX
    assert r1.wrap_tracker == "edge_compare"
    assert "COUNTER_WRAPPED" in flags_for(r1)
    assert "COUNTER_WRAPPED" not in flags_for(r0)
    assert r0.device == {"zone": "intel-rapl:0", "name": "package-0", "socket": 0}
    assert r1.raw_unit == "uJ"
    assert r1.scope == "package"
    assert r0.meter == "cpu.rapl"


def test_dram_meter_and_psys_fallback(tmp_path: Path, tree: dict[str, Path]) -> None:
    clock = FakeClock()
    dram = RaplMeter("dram", SysfsRaplSource(tree["root"]), clock)
    dram.begin(W)
    set_energy(tree["dram0"], 52_000_000)
    (r,) = dram.end()
    assert r.meter == "dram.rapl"
    assert r.scope == "dram"
    assert r.energy_j == pytest.approx(12.0)
    only_psys = tmp_path / "other"
    make_zone(only_psys, "intel-rapl:0", "psys", 0)
    assert RaplMeter("package", SysfsRaplSource(only_psys)).zones()[0].name == "psys"


class DeniedSource(SysfsRaplSource):
    """energy_uj readable only by root: the error the kernel raises for other users."""

    def read_energy_uj(self, zone: RaplZone) -> int:
        raise PermissionError(13, "Permission denied", zone.path)


def test_permission_error_gives_null_and_no_permission(tree: dict[str, Path]) -> None:
    meter = RaplMeter("package", DeniedSource(tree["root"]), FakeClock())
    av = meter.availability()
    assert av.available
    assert "no permission" in av.reason
    meter.begin(W)
    readings = meter.end()
    assert len(readings) == 2
    for r in readings:
        assert r.energy_j is None  # never 0
        assert r.permissions == {"uid": r.permissions["uid"], "readable": False, "errno": "EACCES"}
        assert "NO_PERMISSION" in flags_for(r)


def test_decrease_without_max_range_is_null(tree: dict[str, Path]) -> None:
    (tree["pkg0"] / "max_energy_range_uj").unlink()
    meter = RaplMeter("package", SysfsRaplSource(tree["root"]), FakeClock())
    meter.begin(W)
    set_energy(tree["pkg0"], 10)
    r0 = meter.end()[0]
    assert r0.energy_j is None
    assert r0.error
    assert "max_energy_range_uj" in r0.error
    assert "READ_FAILED" in flags_for(r0)


def test_long_window_is_wrap_ambiguous(tree: dict[str, Path]) -> None:
    clock = FakeClock()
    meter = RaplMeter("package", SysfsRaplSource(tree["root"]), clock)
    meter.begin(W)
    clock.sleep(MAX / 1e6 / 1000.0 + 1)  # > counter range at 1000 W
    assert all("WRAP_AMBIGUOUS" in flags_for(r) for r in meter.end())


def test_missing_tree_is_unavailable(tmp_path: Path) -> None:
    av = RaplMeter("package", SysfsRaplSource(tmp_path / "none")).availability()
    assert not av.available
    assert "no RAPL package zone" in av.reason
