"""Data collection: sweep specs, CIFAR-10 data, trainers, executors (local and SLURM).

Imported only by the ``eabench collect`` command and by collection scripts: nothing on the query
path imports this package. Torch is imported lazily inside the functions that train, so
``import eabench.collect`` (spec validation, planning, dry runs) stays torch-free.

Entry points: :func:`eabench.collect.spec.load_spec`, :func:`eabench.collect.harness.collect`,
:func:`eabench.collect.harness.plan_status`.
"""

from __future__ import annotations

__all__: list[str] = []
