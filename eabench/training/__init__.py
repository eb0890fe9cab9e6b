"""Training side of eabench: fitting, evaluating and publishing surrogate artifacts.

Kept apart from the query path (``eabench.surrogates`` numpy inference, ``eabench.manifest``,
artifact loading), as JAHS-Bench-201 keeps ``surrogate_training`` apart from ``surrogate``:
modules here may import xgboost, torch, scipy and h5py; nothing on the query path imports them.
Trainers are chosen by the recipe's artifact kind (:mod:`eabench.training.recipes`).
"""
