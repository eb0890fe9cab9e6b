"""The derived network: stages, quantisation, group-width rounding and analytic complexity."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from eabench.spaces.regnet_hpo import (
    Constraints,
    RegNetHPOConfig,
    RegNetHPOSpace,
    Stage,
    derive_arrays,
    derive_network,
)


def _cfg(depth: int, w0: int, wa: float, wm: float, g: int, dataset: str = "cifar10"):
    return RegNetHPOConfig(
        depth=depth,
        w0=w0,
        wa=wa,
        wm=wm,
        group_width=g,
        learning_rate=0.1,
        max_epochs=100,
        optimizer="sgd",
        lr_policy="cos",
        cutout=0,
        dataset=dataset,
    )


def _reference(depth: int, w0: int, wa: float, wm: float, g: int, stem: int, classes: int):
    """A plain per-block loop over pycls' rules, independent of the vectorised code."""
    ks = [int(np.round(np.log((j * wa + w0) / w0) / np.log(wm))) for j in range(depth)]
    ws = [int(np.round(w0 * np.power(wm, k) / 8)) * 8 for k in ks]
    stages: list[list[int]] = []
    for w in ws:
        if stages and stages[-1][0] == w:
            stages[-1][1] += 1
        else:
            stages.append([w, 1])
    out = []
    for w, d in stages:
        ge = min(g, w)
        out.append((max(ge, round(w / ge) * ge), d, ge))
    flops = 27 * stem * 1024
    params = 29 * stem
    acts = stem * 1024
    w_in, h = stem, 32
    for w, d, ge in out:
        for i in range(d):
            s = 2 if i == 0 else 1
            ho = (h - 1) // s + 1
            se = round(w_in * 0.25)
            if w_in != w or s != 1:
                flops += w_in * w * ho * ho
                params += w_in * w + 2 * w
                acts += w * ho * ho
            flops += w_in * w * h * h + 9 * w * ge * ho * ho + 2 * w * se + se + w + w * w * ho * ho
            params += w_in * w + 2 * w + 9 * w * ge + 2 * w + 2 * w * se + se + w + w * w + 2 * w
            acts += w * h * h + w * ho * ho + se + w + w * ho * ho
            w_in, h = w, ho
    flops += w_in * classes + classes
    params += w_in * classes + classes
    acts += classes
    return out, max(ks) + 1, (flops, params, acts)


def test_regnet_125mf_cifar_matches_the_pycls_reference_numbers() -> None:
    # reference/ea-has-bench.md 1.5: d=12, w0=96, wa=19.5, wm=2.942, g=8 ->
    # 120.5 MFLOPs, 1.81 M params, 0.91 M acts (pycls complexity counting)
    net = derive_network(_cfg(12, 96, 19.5, 2.942, 8))
    assert net.stages == (Stage(96, 4, 8), Stage(280, 8, 8))
    assert round(net.complexity.flops / 1e6, 1) == 120.5
    assert round(net.complexity.params / 1e6, 2) == 1.81
    assert round(net.complexity.acts / 1e6, 2) == 0.91


def test_design_example_derivation_by_hand() -> None:
    # u_j = 48 + 8j; s_j = round(log(u_j/48)/log 2.5) is 1 from u = 80 (> 48 * 2.5**0.5 = 75.9)
    net = derive_network(_cfg(10, 48, 8.0, 2.5, 8))
    assert net.widths_continuous == tuple(48.0 + 8 * j for j in range(10))
    assert net.block_stage_index == (0, 0, 0, 0, 1, 1, 1, 1, 1, 1)
    assert net.widths_quantised == (48,) * 4 + (120,) * 6
    assert net.key() == ((48, 4, 8), (120, 6, 8))
    assert net.total_stages == net.num_stages == 2
    assert (net.stem_width, net.num_classes) == (16, 10)


def test_group_width_rounds_the_stage_width() -> None:
    # quantised widths 56 and 144 with g = 24 -> round(56/24)*24 = 48, round(144/24)*24 = 144
    net = derive_network(_cfg(6, 56, 20.0, 2.5, 24))
    assert net.widths_quantised[0] == 56
    assert net.stages[0] == Stage(48, net.stages[0].depth, 24)
    # a group width above the stage width is cut to the width
    small = derive_network(_cfg(6, 48, 8.0, 3.0, 32))
    assert all(s.group_width == min(32, s.width) for s in small.stages)


def test_tinyimagenet_uses_stem_32_and_200_classes() -> None:
    net = derive_network(_cfg(10, 48, 8.0, 2.5, 8, "tinyimagenet"))
    assert (net.stem_width, net.num_classes) == (32, 200)
    assert net.complexity.params > derive_network(_cfg(10, 48, 8.0, 2.5, 8)).complexity.params


def test_no_grid_point_skips_a_quantisation_index() -> None:
    # consecutive widths grow by at most (w0 + 32) / w0 <= 1.67 < 1.5**1.5, so pycls' "missing
    # stage" check never fires on this grid (worst case: smallest w0 and wm, largest wa)
    wm = np.arange(1500, 3001) / 1000
    for w0 in (48, 56):
        arr = derive_arrays(15, w0, 32.0, wm, 8, stem_width=32, num_classes=200)
        assert np.array_equal(arr.num_stages, arr.total_stages)


def test_missing_stage_rule_reports_the_total_stage_count() -> None:
    net = derive_network(_cfg(10, 48, 8.0, 2.5, 8))
    broken = dataclasses.replace(net, total_stages=3)
    (violation,) = Constraints.two_stage().violations(broken)
    assert violation[0] == "num_stages"
    assert "missing" in violation[2]


@pytest.mark.parametrize("dataset", ["cifar10", "tinyimagenet"])
def test_vectorised_derivation_equals_a_plain_reference_loop(dataset: str) -> None:
    space = RegNetHPOSpace(dataset, constraints=None)
    configs, _ = space.sample_many(150, seed=11)
    proto = space.protocol
    for cfg in configs:
        net = derive_network(cfg)
        stages, total, cx = _reference(
            cfg.depth,
            cfg.w0,
            cfg.wa,
            cfg.wm,
            cfg.group_width,
            proto.stem_width,
            proto.num_classes,
        )
        assert net.key() == tuple(stages)
        assert net.total_stages == total
        assert (net.complexity.flops, net.complexity.params, net.complexity.acts) == cx
        assert sum(s.depth for s in net.stages) == cfg.depth
        assert all(s.width % s.group_width == 0 for s in net.stages)
