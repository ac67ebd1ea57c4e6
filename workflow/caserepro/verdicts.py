"""Verdicts of the audit, in one place: their names, their order, how a gap becomes one, and
the columns of the rows that carry them (`COLUMNS`, every check module's output).

`VERDICTS` is the order in which counts are shown (consistent first); `WORST_FIRST` the order in
which flagged checks are listed (inconsistent first; consistent last). The audit, the figures
and the manuscript import both from here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from caserepro.intervals import Interval, gap, meets

VERDICTS: tuple[str, ...] = ("consistent", "minor", "inconsistent", "not_checkable")
WORST_FIRST: tuple[str, ...] = ("inconsistent", "minor", "not_checkable", "consistent")
#: Verdicts as integers while checks run (their positions in VERDICTS).
CONSISTENT, MINOR, INCONSISTENT, NOT_CHECKABLE = range(4)
#: Decimals of expected_low / expected_high and of derived numbers in every output.
ROUND = 4
#: The columns of results/audit/consistency.csv that DESIGN.md fixes (the figures rely on them).
CONTRACT_COLUMNS: tuple[str, ...] = (
    *("check", "case_id", "parameter", "timepoint", "source", "reported"),
    *("expected_low", "expected_high", "verdict", "detail"),
)
#: All columns: the contract, then which method and what the value was compared against.
COLUMNS: list[str] = [*CONTRACT_COLUMNS, "method", "against"]


@dataclass(frozen=True)
class Grading:
    """How a gap between reported and expected intervals becomes a verdict (config `audit`)."""

    minor_relative_gap: float
    soft_checks: tuple[str, ...] = ()

    @classmethod
    def from_config(cls, audit: dict, known: tuple[str, ...] | None = None) -> Grading:
        """Read the `audit:` section of config.yaml; a soft check not in `known` is an error."""
        soft = tuple(audit.get("soft_checks") or ())
        unknown = sorted(set(soft) - set(known)) if known is not None else []
        if unknown:
            raise ValueError(
                f"config.yaml audit.soft_checks: {', '.join(unknown)} is not a check of the "
                f"audit (known: {', '.join(known)})"
            )
        return cls(float(audit["minor_relative_gap"]), soft)

    def with_soft(self, checks: tuple[str, ...]) -> Grading:
        """The same grading with more soft checks (formulas.csv's `soft` column)."""
        return Grading(self.minor_relative_gap, tuple(dict.fromkeys((*self.soft_checks, *checks))))


def grade(
    reported: tuple[np.ndarray, np.ndarray],
    expected: tuple[np.ndarray, np.ndarray],
    scale: np.ndarray,
    grading: Grading,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Verdict, gap and gap relative to the scale, per row: meet, gap within tolerance, or not."""
    rep = Interval(*(np.asarray(end, dtype=np.float64) for end in reported))
    exp = Interval(*(np.asarray(end, dtype=np.float64) for end in expected))
    size = np.abs(np.asarray(scale, dtype=np.float64))
    with np.errstate(invalid="ignore"):  # inf - inf and inf / inf are NaN, as in pandas
        distance = gap(rep, exp)
        relative = distance / np.where(size > 0, size, 1.0)
        verdict = np.select(
            [rep.missing | exp.missing, meets(rep, exp), relative <= grading.minor_relative_gap],
            [NOT_CHECKABLE, CONSISTENT, MINOR],
            INCONSISTENT,
        )
    return verdict, distance, relative
