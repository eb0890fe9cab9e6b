"""Torch networks: RegNet vs the analytic complexity, NB101 vs NAS-Bench-101's parameter counts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

from eabench.collect.models.nb101 import build_nb101, compute_vertex_channels  # noqa: E402
from eabench.collect.models.regnet import build_regnet  # noqa: E402
from eabench.spaces.nb101 import Cell  # noqa: E402
from eabench.spaces.regnet_hpo import RegNetHPOConfig, RegNetHPOSpace, derive_network  # noqa: E402

FIXTURE_1K = (
    Path(__file__).resolve().parents[1] / "fixtures" / "nb101" / "nb101_hash_vectors_1k.json"
)


def _sampled_regnets(n_cifar: int, n_grid: int, n_tiny: int, seed: int) -> list[RegNetHPOConfig]:
    configs = RegNetHPOSpace("cifar10").sample_many(n_cifar, seed=seed)[0]
    configs += RegNetHPOSpace("cifar10", constraints=None).sample_many(n_grid, seed=seed)[0]
    configs += RegNetHPOSpace("tinyimagenet").sample_many(n_tiny, seed=seed)[0]
    return configs


def _n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def test_regnet_parameter_count_equals_the_analytic_count_for_200_configs() -> None:
    configs = _sampled_regnets(100, 50, 50, seed=0)
    assert len(configs) == 200
    for cfg in configs:
        with torch.device("meta"):
            model = build_regnet(cfg)
        assert _n_params(model) == derive_network(cfg).complexity.params, cfg


def _torch_complexity(model: nn.Module) -> tuple[int, int]:
    """(pycls-style FLOPs, activations) of one 32x32 image, counted by torch.

    FlopCounterMode counts 2 FLOPs per multiply-add of convs and linears; pycls counts one per
    multiply-add plus one per bias element (biases here only sit on 1x1 spatial outputs: the SE
    convs and the classifier). Activations: output elements of every conv and linear (hooks).
    """
    acts = 0

    def hook(_m: nn.Module, _i: Any, out: torch.Tensor) -> None:
        nonlocal acts
        acts += out[0].numel()

    layers = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    handles = [m.register_forward_hook(hook) for m in layers]
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        model.eval()(torch.zeros(1, 3, 32, 32, device=next(model.parameters()).device))
    for h in handles:
        h.remove()
    bias = sum(m.bias.numel() for m in layers if m.bias is not None)
    return counter.get_total_flops() // 2 + bias, acts


def _check_flops(configs: list[RegNetHPOConfig]) -> None:
    for cfg in configs:
        with torch.device("meta"):  # shapes only: no memory, no arithmetic
            model = build_regnet(cfg)
        cx = derive_network(cfg).complexity
        assert _torch_complexity(model) == (cx.flops, cx.acts), cfg


def test_regnet_flops_and_activations_agree_with_torch() -> None:
    _check_flops(_sampled_regnets(8, 2, 2, seed=1))


@pytest.mark.slow
def test_regnet_flops_and_activations_agree_with_torch_for_200_configs() -> None:
    _check_flops(_sampled_regnets(100, 50, 50, seed=2))


def test_regnet_forward_backward_smoke() -> None:
    cfg = RegNetHPOConfig(
        depth=6,
        w0=48,
        wa=8.0,
        wm=2.5,
        group_width=8,
        learning_rate=0.1,
        max_epochs=50,
        optimizer="sgd",
        lr_policy="cos",
        cutout=0,
    )
    torch.manual_seed(0)
    model = build_regnet(cfg)
    x = torch.randn(2, 3, 32, 32)
    out = model(x)
    assert out.shape == (2, 10)
    loss = nn.functional.cross_entropy(out, torch.tensor([1, 3]))
    loss.backward()
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert any(g.abs().sum() > 0 for g in grads if g is not None)


def _vis_cells() -> list[dict[str, Any]]:
    data = json.loads(FIXTURE_1K.read_text())["vectors"]
    return [{**v, "matrix": [[int(c) for c in row] for row in v["matrix"]]} for v in data]


def test_nb101_parameter_count_equals_nasbench_for_labelled_cells() -> None:
    rows = _vis_cells()
    assert len(rows) == 1000
    for row in rows[::20]:
        cell = Cell(row["matrix"], row["labels"])
        assert cell.hash() == row["key"]
        with torch.device("meta"):
            model = build_nb101(cell)
        assert _n_params(model) == row["trainable_parameters"], row["key"]


@pytest.mark.shared
def test_nb101_parameter_count_on_300_cells_from_the_raw_nasbench_vis_files(
    shared_data: Path,
) -> None:
    nb = shared_data / "nb101"
    raw = json.loads((nb / "nasbench-vis-data-1k.json").read_text())
    params: dict[str, int] = {}
    for name in ("nasbench-vis-data-20k.json", "nasbench-vis-data-10k.json"):
        table = json.loads((nb / name).read_text())
        params.update(zip(table["key"], table["trainable_parameters"], strict=True))
    rows = list(zip(raw["key"], raw["adjacency"], raw["operations"], strict=True))
    checked = 0
    for key, adjacency, operations in rows[::3][:300]:
        keep = [i for i, op in enumerate(operations) if op != -3]
        matrix = [[adjacency[i][j] for j in keep] for i in keep]
        cell = Cell(matrix, [operations[i] for i in keep])
        with torch.device("meta"):
            model = build_nb101(cell)
        assert _n_params(model) == params[key], key
        checked += 1
    assert checked == 300


def test_nb101_vertex_channels_split_the_output() -> None:
    import numpy as np

    # input -> 1 -> 2 -> output, 1 -> output, input -> output: 2 vertices feed the output
    m = np.array([[0, 1, 0, 1], [0, 0, 1, 1], [0, 0, 0, 1], [0, 0, 0, 0]])
    assert compute_vertex_channels(128, 257, m) == [128, 129, 128, 257]


def test_nb101_forward_backward_smoke_on_a_tiny_network() -> None:
    cell = Cell(
        [
            [0, 1, 1, 0, 1],
            [0, 0, 0, 1, 0],
            [0, 0, 0, 1, 0],
            [0, 0, 0, 0, 1],
            [0, 0, 0, 0, 0],
        ],
        ["input", "conv3x3-bn-relu", "maxpool3x3", "conv1x1-bn-relu", "output"],
    )
    torch.manual_seed(0)
    model = build_nb101(cell, stem_channels=8, num_stacks=2, cells_per_stack=1)
    out = model(torch.randn(2, 3, 16, 16))
    assert out.shape == (2, 10)
    out.sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    # a cell that is only input -> output is a projection
    direct = build_nb101({"matrix": [[0, 1], [0, 0]], "ops": ["input", "output"]}, num_stacks=1)
    assert direct(torch.randn(1, 3, 8, 8)).shape == (1, 10)
