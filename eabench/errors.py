"""The exception hierarchy of eabench.

Every invalid config, log, artifact or argument raises a subclass of :class:`EabenchError` whose
message names the field, the value and the rule that was broken, for example::

    InvalidConfigError: 7V cell has 10 edges; at most 9 are allowed

The structured parts are kept as attributes (``field``, ``value``, ``rule``) so that callers such as
ingestion reports can show them without parsing the message.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ArtifactError",
    "BudgetExhaustedError",
    "CalibrationError",
    "ChecksumMismatchError",
    "DatasetError",
    "EabenchError",
    "FidelityError",
    "HubError",
    "InvalidArgumentError",
    "InvalidConfigError",
    "InvalidLogError",
    "InvalidReadingError",
    "MeterUnavailableError",
    "NotCachedError",
    "UnknownBenchmarkError",
    "UnknownFormatError",
    "at_index",
    "validate_each",
]


class EabenchError(Exception):
    """Root of every error raised on purpose by eabench.

    Args:
        message: the full human-readable message (names field, value and rule).
        field: the name of the offending field or argument, if there is one.
        value: the offending value, if there is one.
        rule: the rule that the value broke, in words.
    """

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        value: Any = None,
        rule: str | None = None,
    ) -> None:
        super().__init__(message)
        self.field = field
        self.value = value
        self.rule = rule

    @classmethod
    def for_field(cls, field: str, value: Any, rule: str) -> EabenchError:
        """Build an error whose message reads ``"<field> = <value!r>: <rule>"``."""
        shown = repr(value)
        if len(shown) > 200:
            shown = shown[:197] + "..."
        return cls(f"{field} = {shown}: {rule}", field=field, value=value, rule=rule)


class InvalidArgumentError(EabenchError, ValueError):
    """A function or command-line argument is out of its allowed range or type."""


class InvalidConfigError(EabenchError, ValueError):
    """A configuration does not belong to its search space."""


class FidelityError(EabenchError, ValueError):
    """A fidelity (epoch count, budget) is not allowed for this benchmark or config."""


class InvalidLogError(EabenchError, ValueError):
    """A raw run log (ours or foreign) does not satisfy its schema."""


class UnknownFormatError(InvalidLogError):
    """The format of an input file could not be detected or is not supported."""


class InvalidReadingError(EabenchError, ValueError):
    """A meter reading violates the MeterReading schema."""


class MeterUnavailableError(EabenchError, RuntimeError):
    """A meter cannot measure on this machine (no GPU, no RAPL, no permission, ...)."""


class CalibrationError(EabenchError, ValueError):
    """A calibration profile is invalid or cannot be applied."""


class DatasetError(EabenchError, ValueError):
    """A consolidated dataset file is missing, malformed or inconsistent."""


class ArtifactError(EabenchError, ValueError):
    """A surrogate artifact or its manifest is malformed."""


class ChecksumMismatchError(ArtifactError):
    """A file's sha256 does not equal the one its manifest records."""


class UnknownBenchmarkError(EabenchError, KeyError):
    """No benchmark of that name (or no artifact for it) is known."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0]) if self.args else ""


class BudgetExhaustedError(EabenchError, RuntimeError):
    """A search's cost budget (e.g. ``CostLedger(energy_budget_j=...)``) is spent."""


class HubError(EabenchError, RuntimeError):
    """Downloading from the Hugging Face Hub failed."""


class NotCachedError(HubError):
    """Offline mode is on and the requested artifact is not in the local cache."""


def at_index(exc: EabenchError, index: int) -> EabenchError:
    """A copy of ``exc`` (same class, field, value and rule) whose message starts with
    ``configs[index]:`` and whose ``index`` attribute names the offending element of a batch."""
    new = type(exc)(f"configs[{index}]: {exc}", field=exc.field, value=exc.value, rule=exc.rule)
    new.index = index  # type: ignore[attr-defined]
    return new


def validate_each(validate: Any, configs: Any, indices: Any = None) -> list[Any]:
    """``[validate(configs[i]) for i in indices]`` (all by default); an ``EabenchError`` of
    element ``i`` is re-raised by :func:`at_index` so batch callers learn which config failed."""
    out = []
    for i in range(len(configs)) if indices is None else indices:
        try:
            out.append(validate(configs[i]))
        except EabenchError as exc:
            raise at_index(exc, i) from exc
    return out
