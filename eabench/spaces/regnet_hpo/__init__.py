"""The EA-HAS-Bench RegNet x HPO joint search space (``reference/ea-has-bench.md`` section 1).

Public names: :class:`RegNetHPOConfig` (a validated grid point, dict round-trip, ``config_id``),
:class:`TrainingProtocol` / :func:`training_protocol` (the fixed, non-searchable settings),
:func:`derive_network` / :func:`derive_arrays` (the trained network and its analytic complexity,
numpy only), :class:`Constraints` (the training-sweep feasibility rules), :func:`count_space`
(exact space sizes) and :class:`RegNetHPOSpace` (the ``SearchSpace``, ``name = "regnet-hpo"``).
"""

from __future__ import annotations

from eabench.spaces.regnet_hpo.config import (
    CUTOUTS,
    DATASETS,
    DEPTHS,
    GROUP_WIDTHS,
    KEYS,
    LEARNING_RATES,
    LR_POLICIES,
    MAX_EPOCHS,
    OPTIMIZERS,
    W0S,
    WA_TENTHS,
    RegNetHPOConfig,
    TrainingProtocol,
    training_protocol,
    wm_thousandths,
)
from eabench.spaces.regnet_hpo.counting import COUNTS, HPO_COMBINATIONS, SpaceCounts, count_space
from eabench.spaces.regnet_hpo.network import (
    MAX_DEPTH,
    Complexity,
    NetworkArrays,
    RegNetNetwork,
    Stage,
    derive_arrays,
    derive_network,
)
from eabench.spaces.regnet_hpo.sampling import (
    Constraints,
    SamplerStats,
    draw_prior,
    prior_probabilities,
)
from eabench.spaces.regnet_hpo.space import RegNetHPOSpace, max_stages

__all__ = [
    "COUNTS",
    "CUTOUTS",
    "DATASETS",
    "DEPTHS",
    "GROUP_WIDTHS",
    "HPO_COMBINATIONS",
    "KEYS",
    "LEARNING_RATES",
    "LR_POLICIES",
    "MAX_DEPTH",
    "MAX_EPOCHS",
    "OPTIMIZERS",
    "W0S",
    "WA_TENTHS",
    "Complexity",
    "Constraints",
    "NetworkArrays",
    "RegNetHPOConfig",
    "RegNetHPOSpace",
    "RegNetNetwork",
    "SamplerStats",
    "SpaceCounts",
    "Stage",
    "TrainingProtocol",
    "count_space",
    "derive_arrays",
    "derive_network",
    "draw_prior",
    "max_stages",
    "prior_probabilities",
    "training_protocol",
    "wm_thousandths",
]
