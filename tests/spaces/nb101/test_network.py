from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from eabench.spaces.nb101 import Cell, load_space, network_cost, network_cost_padded


def test_trainable_parameters_of_the_1k_vectors(vis_1k: list[dict[str, Any]]) -> None:
    costs = network_cost([{"matrix": v["matrix"], "ops": v["labels"]} for v in vis_1k])
    assert [c.trainable_parameters for c in costs] == [v["trainable_parameters"] for v in vis_1k]


def test_hand_computed_smallest_network() -> None:
    # input -> output only: every cell is one 1x1 conv-BN-ReLU projection C_in -> C
    cost = network_cost(Cell([[0, 1], [0, 0]], ["input", "output"]))
    stem = 27 * 128 + 2 * 128
    cells = [(128, 128)] * 3 + [(128, 256)] + [(256, 256)] * 2 + [(256, 512)] + [(512, 512)] * 2
    sizes = [32 * 32] * 3 + [16 * 16] * 3 + [8 * 8] * 3
    params = stem + sum(ci * co + 2 * co for ci, co in cells) + 512 * 10 + 10
    flops = 32 * 32 * 27 * 128 + sum(
        hw * ci * co for (ci, co), hw in zip(cells, sizes, strict=True)
    )
    assert cost.trainable_parameters == params
    assert cost.flops == flops + 5120
    assert cost.batchnorm_outputs == 32 * 32 * 128 + sum(
        hw * co for (_, co), hw in zip(cells, sizes, strict=True)
    )
    assert cost.flops_with_batchnorm == cost.flops + 2 * cost.batchnorm_outputs


def test_channel_split_gives_extra_channels_to_the_first_feeders() -> None:
    # three interior 3x3 convs all feeding the output: 128 = 43 + 43 + 42 in stack 1
    m = np.zeros((5, 5), dtype=int)
    m[0, 1:4] = 1
    m[1:4, 4] = 1
    cost = network_cost(Cell(m, ["input"] + ["conv3x3-bn-relu"] * 3 + ["output"]))
    expected = 27 * 128 + 256 + 5130
    c_in = 128
    for c in [128] * 3 + [256] * 3 + [512] * 3:
        vc = [c // 3 + (k < c % 3) for k in range(3)]
        expected += sum(c_in * v + 2 * v + 9 * v * v + 2 * v for v in vc)
        c_in = c
    assert cost.trainable_parameters == expected


def test_network_cost_accepts_dicts_and_sequences() -> None:
    d = {"matrix": [[0, 1, 0], [0, 0, 1], [0, 0, 0]], "ops": ["input", "maxpool3x3", "output"]}
    single = network_cost(d)
    assert network_cost([d, Cell.from_dict(d)]) == [single, single]


@pytest.mark.shared
def test_trainable_parameters_of_all_30001_labelled_cells(shared_data: Path) -> None:
    data = load_space()
    params, _, _ = network_cost_padded(data.matrices, data.labels)
    n = 0
    for name in ("nasbench-vis-data-20k.json", "nasbench-vis-data-10k.json"):
        table = json.loads((shared_data / "nb101" / name).read_text())
        idx = data.index_of(table["key"])
        np.testing.assert_array_equal(params[idx], table["trainable_parameters"])
        n += len(idx)
    assert n == 30_001


@pytest.mark.shared
def test_flops_agree_with_flops_npy_for_every_cell(shared_data: Path) -> None:
    data = load_space()
    _, flops, bn_outputs = network_cost_padded(data.matrices, data.labels)
    torch_macs = np.load(shared_data / "nb101" / "flops.npy", allow_pickle=False)
    assert torch_macs.shape == flops.shape
    # flops.npy also charges 2 operations per batch-norm output (thop convention): exact match
    np.testing.assert_array_equal(flops + 2 * bn_outputs, torch_macs)
    # conv + dense MACs alone are 0.1-2.8 % lower
    ratio = torch_macs / flops
    assert 1.0 < ratio.min() < ratio.max() < 1.03
