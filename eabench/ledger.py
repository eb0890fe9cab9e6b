"""Search-cost accounting: what a NAS/HPO run on the benchmark would have spent on real hardware.

A :class:`CostLedger` wraps a benchmark and charges training energy (J) and time (s) for every
evaluation an optimiser makes, honouring the benchmark's fidelity semantics
(``bench.fidelity.semantics``):

- ``"prefix"`` (RegNet x HPO): curves are prefixes of one run, so continuing a config that was
  already trained to ``t0`` epochs up to ``t`` pays only ``E(t) - E(t0)``; asking again for an
  epoch already trained costs nothing (the checkpoint's log has it). ``resume=False`` charges a
  retraining from scratch instead.
- ``"schedule"`` (NB101 7V): every budget is a separate run with its own schedule, so every
  evaluation pays its full cost, even for a config seen before at a smaller budget.

The ledger is an explicit object (not hidden state on the benchmark); records are append-only and
exportable (JSON lines or CSV).

De-duplication (``dedupe=True``, off by default): an optimiser that re-proposes a (config,
epochs) pair it already evaluated would, on real hardware, look the result up instead of
training again, so the repeat is recorded with ``duplicate=True`` and charged nothing, under
either semantics. Without it, a schedule repeat pays in full (a retraining) and a prefix repeat
is free only through ``resume``.

Energy budget (``energy_budget_j=``, e.g. ``3.6e6`` for 1 kWh): a stopping rule. The evaluation
that crosses the budget is still charged (it ran); after it :attr:`CostLedger.exhausted` is True
and :meth:`CostLedger.evaluate` raises ``BudgetExhaustedError``.
"""

from __future__ import annotations

import csv
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from eabench.errors import BudgetExhaustedError, InvalidArgumentError
from eabench.results import QueryResult

__all__ = ["CostLedger", "LedgerRecord"]


@dataclass(frozen=True, slots=True)
class LedgerRecord:
    """One charged evaluation.

    Attributes:
        index: 0-based position in the ledger.
        config_id: canonical config id.
        epochs: epoch count evaluated.
        resumed_from_epochs: epochs already trained that this evaluation continued from (0 when
            it trained from scratch).
        charged_epochs: epochs paid for by this evaluation.
        charged_energy_j: primary-meter energy charged (J).
        charged_time_s: training time charged (s).
        total_energy_j: ledger total after this record (J).
        total_time_s: ledger total after this record (s).
        val_accuracy: the validation accuracy the optimiser saw.
        duplicate: the (config, epochs) pair was evaluated before and ``dedupe`` was on, so
            nothing was charged.
    """

    index: int
    config_id: str
    epochs: int
    resumed_from_epochs: int
    charged_epochs: int
    charged_energy_j: float
    charged_time_s: float
    total_energy_j: float
    total_time_s: float
    val_accuracy: float
    duplicate: bool = False


class CostLedger:
    """Charges energy and time for every evaluation made through it.

    Args:
        bench: a ``Benchmark`` (anything with ``query`` and ``fidelity``).
        dedupe: charge nothing for a (config, epochs) pair already evaluated (module docs).
        energy_budget_j: stop (raise ``BudgetExhaustedError``) once this much energy (J,
            primary meter) was charged; None = no budget.
    """

    def __init__(
        self, bench: Any, *, dedupe: bool = False, energy_budget_j: float | None = None
    ) -> None:
        if energy_budget_j is not None and not energy_budget_j > 0:
            raise InvalidArgumentError.for_field(
                "energy_budget_j", energy_budget_j, "must be a positive number of joules"
            )
        self.bench = bench
        self.dedupe = dedupe
        self.energy_budget_j = None if energy_budget_j is None else float(energy_budget_j)
        self._records: list[LedgerRecord] = []
        self._trained: dict[str, tuple[int, float, float]] = {}
        self._seen: set[tuple[str, int]] = set()

    # ------------------------------------------------------------------ charging
    def evaluate(self, config: Any, epochs: int, *, resume: bool = True) -> QueryResult:
        """Query ``config`` at ``epochs`` through the benchmark and charge its cost.

        Args:
            config: a config of the benchmark's space (object or dict).
            epochs: epoch count.
            resume: prefix fidelities only: continue from the longest run of this config seen
                so far (True) or retrain from scratch (False). Ignored for schedules.
        """
        if self.exhausted:
            raise BudgetExhaustedError.for_field(
                "energy_budget_j",
                self.energy_budget_j,
                f"spent {self.total_energy_j:.6g} J in {self.n_evaluations} evaluations; "
                "no further evaluation is allowed",
            )
        res: QueryResult = self.bench.query(config, epochs)
        prefix = self.bench.fidelity.semantics == "prefix"
        key = (res.config_id, res.epochs)
        duplicate = self.dedupe and key in self._seen
        self._seen.add(key)
        t0, e0, s0 = 0, 0.0, 0.0
        if prefix and resume and res.config_id in self._trained:
            t0, e0, s0 = self._trained[res.config_id]
        if duplicate or t0 >= res.epochs:
            charged_epochs, energy, time_s = 0, 0.0, 0.0
        else:
            charged_epochs = res.epochs - t0
            energy = max(res.energy_j - e0, 0.0)
            time_s = max(res.train_time_s - s0, 0.0)
        if prefix and (res.config_id not in self._trained or res.epochs > t0):
            self._trained[res.config_id] = (res.epochs, res.energy_j, res.train_time_s)
        self._records.append(
            LedgerRecord(
                index=len(self._records),
                config_id=res.config_id,
                epochs=res.epochs,
                resumed_from_epochs=t0,
                charged_epochs=charged_epochs,
                charged_energy_j=energy,
                charged_time_s=time_s,
                total_energy_j=self.total_energy_j + energy,
                total_time_s=self.total_time_s + time_s,
                val_accuracy=res.val_accuracy,
                duplicate=duplicate,
            )
        )
        return res

    # ------------------------------------------------------------------ totals
    @property
    def records(self) -> tuple[LedgerRecord, ...]:
        """Every charged evaluation, in order."""
        return tuple(self._records)

    @property
    def total_energy_j(self) -> float:
        """Energy charged so far (J, primary meter)."""
        return self._records[-1].total_energy_j if self._records else 0.0

    @property
    def total_time_s(self) -> float:
        """Training time charged so far (s)."""
        return self._records[-1].total_time_s if self._records else 0.0

    @property
    def remaining_energy_j(self) -> float | None:
        """Energy left in the budget (J; may be negative after the crossing), or None."""
        if self.energy_budget_j is None:
            return None
        return self.energy_budget_j - self.total_energy_j

    @property
    def exhausted(self) -> bool:
        """True once the energy charged reached ``energy_budget_j`` (never without a budget)."""
        return self.energy_budget_j is not None and self.total_energy_j >= self.energy_budget_j

    @property
    def n_duplicates(self) -> int:
        """Evaluations charged nothing as duplicates (``dedupe=True``)."""
        return sum(r.duplicate for r in self._records)

    @property
    def n_evaluations(self) -> int:
        """Number of evaluations made."""
        return len(self._records)

    @property
    def full_evaluation_equivalents(self) -> float:
        """Charged epochs divided by the benchmark's maximum epoch count."""
        charged = sum(r.charged_epochs for r in self._records)
        return charged / float(self.bench.fidelity.max_epochs)

    def summary(self) -> dict[str, Any]:
        """Totals as a JSON-ready dict."""
        return {
            "n_evaluations": self.n_evaluations,
            "total_energy_j": self.total_energy_j,
            "total_energy_kwh": self.total_energy_j / 3.6e6,
            "total_time_s": self.total_time_s,
            "full_evaluation_equivalents": self.full_evaluation_equivalents,
            "fidelity_semantics": self.bench.fidelity.semantics,
            "dedupe": self.dedupe,
            "n_duplicates": self.n_duplicates,
            "energy_budget_j": self.energy_budget_j,
            "exhausted": self.exhausted,
        }

    # ------------------------------------------------------------------ export
    def to_records(self) -> list[dict[str, Any]]:
        """The records as a list of plain dicts."""
        return [asdict(r) for r in self._records]

    def export(self, path: str | Path) -> Path:
        """Write the records to ``path``: ``.jsonl`` (one JSON object a line) or ``.csv``."""
        p = Path(path)
        rows = self.to_records()
        if p.suffix == ".jsonl":
            with open(p, "w", encoding="utf-8") as fh:
                for row in rows:
                    fh.write(json.dumps(row) + "\n")
        elif p.suffix == ".csv":
            names = list(LedgerRecord.__dataclass_fields__)
            with open(p, "w", encoding="utf-8", newline="") as fh:
                writer = csv.DictWriter(fh, fieldnames=names)
                writer.writeheader()
                writer.writerows(rows)
        else:
            raise InvalidArgumentError.for_field("path", str(p), "must end in .jsonl or .csv")
        return p
