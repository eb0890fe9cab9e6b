"""The syne-tune Blackbox adapter, also driven by syne-tune's simulator with ASHA."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("syne_tune", reason="syne-tune is in the 'adapters' and 'dev' extras")

from eabench.adapters.syne_tune import to_blackbox
from eabench.spaces.nb101_configspace import from_cell


def test_blackbox_attributes_and_answers(nb101: Any) -> None:
    bb = to_blackbox(nb101)
    assert len(bb.configuration_space) == 26
    assert list(bb.fidelity_space) == ["epochs"]
    assert bb.objectives_names == ["val_accuracy", "energy_j", "train_time_s", "test_accuracy"]
    assert bb.fidelity_values.tolist() == [4, 12, 36, 108]
    cell = nb101.space.sample(seed=0)
    config = dict(from_cell(cell))
    got = bb.objective_function(config, fidelity=36)
    res = nb101.query(cell, 36)
    assert got["val_accuracy"] == res.val_accuracy
    assert got["energy_j"] == res.energy_j
    table = bb.objective_function(config)
    assert table.shape == (4, 4)
    assert table[2, 0] == pytest.approx(res.val_accuracy)
    assert bb.objective_function(config, fidelity=6.75)["val_accuracy"] == (
        nb101.query(cell, 7).val_accuracy
    )
    invalid = {**config, **{k: 0 for k in config if k.startswith("edge_")}}
    assert bb.objective_function(invalid, fidelity=4)["val_accuracy"] == 0.0
    assert np.all(bb.objective_function(invalid)[:, 0] == 0.0)


def test_asha_on_the_simulator(nb101: Any, tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("SYNETUNE_FOLDER", str(tmp_path))
    from syne_tune import StoppingCriterion, Tuner
    from syne_tune.backend.simulator_backend.simulator_callback import SimulatorCallback
    from syne_tune.blackbox_repository.simulated_tabular_backend import UserBlackboxBackend
    from syne_tune.experiments import load_experiment
    from syne_tune.optimizer.baselines import ASHA

    bb = to_blackbox(nb101, penalty={"energy_j": 1e7, "train_time_s": 1e5})
    backend = UserBlackboxBackend(blackbox=bb, elapsed_time_attr="train_time_s")
    scheduler = ASHA(
        bb.configuration_space,
        metric="val_accuracy",
        do_minimize=False,
        time_attr="epochs",
        max_t=108,
        random_seed=0,
    )
    tuner = Tuner(
        trial_backend=backend,
        scheduler=scheduler,
        stop_criterion=StoppingCriterion(max_num_trials_started=30),
        n_workers=4,
        sleep_time=0,
        callbacks=[SimulatorCallback()],
        save_tuner=False,
        print_update_interval=1e9,
        results_update_interval=1e9,
    )
    tuner.run()
    results = load_experiment(tuner.name).results
    assert set(results["epochs"].unique()) <= {4.0, 12.0, 36.0, 108.0}
    assert results["val_accuracy"].max() > 0.85
