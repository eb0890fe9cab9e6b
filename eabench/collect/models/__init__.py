"""PyTorch networks that data collection trains (imports torch: collection code only).

- :mod:`eabench.collect.models.regnet`: the EA-HAS-Bench RegNet (pycls AnyNet with residual
  bottleneck blocks, groups, SE 0.25, CIFAR stem) of a ``RegNetHPOConfig``;
- :mod:`eabench.collect.models.nb101`: the NAS-Bench-101 network of a 7V ``Cell``.

This package ``__init__`` imports nothing, so ``import eabench.collect.models`` stays torch-free;
import the submodules.
"""

from __future__ import annotations

__all__: list[str] = []
