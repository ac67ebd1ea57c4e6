"""What readers see instead of codes: names from the codebook for checks, parameters, timepoints,
methods and verdicts, and the audit's checks as readable rows.

`consistency.csv` keeps its codes (it is for machines); the manuscript and the figures show these
labels. A code the codebook does not name is an error naming the code and the table to add it to,
never a code shown to readers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from caserepro.formulas import check_names
from caserepro.intervals import (
    Interval,
    gap,
    printed,
    printed_decimals,
    printed_number,
)

#: The verdicts as readers read them (the codes are `consistency.csv`'s).
VERDICT_LABELS: dict[str, str] = {
    "consistent": "consistent",
    "minor": "minor gap",
    "inconsistent": "inconsistent",
    "not_checkable": "not checkable",
}

#: An interval the audit writes as a reported value: "[1.6385, 1.6468]".
_INTERVAL = re.compile(r"^\[\s*(-?[\d.]+(?:e-?\d+)?),\s*(-?[\d.]+(?:e-?\d+)?)\s*\]$")
#: A number as the paper prints it, perhaps after its qualifier and a space ('more than 505').
_QUALIFIED_NUMBER = re.compile(r"^(?:(.+?) )?(-?\d+(?:\.\d+)?)$")


#: The validated tables the codebook's names come from.
CODEBOOK_TABLES: tuple[str, ...] = (
    *("checks", "formulas", "dictionary", "timepoints", "methods", "qualifiers"),
)


class UnnamedCodeError(ValueError):
    """A code that reaches readers has no name in the codebook."""


def _named(codes: pd.Series, names: Mapping[str, str], what: str, table: str) -> pd.Series:
    """Each code's name; an error listing the codes `table` does not name (blank codes stay blank)."""
    shown = codes.astype("string").fillna("")
    missing = sorted(set(shown[shown != ""]) - set(names))
    if missing:
        raise UnnamedCodeError(
            f"{what} {', '.join(repr(m) for m in missing)} ha{'ve' if len(missing) > 1 else 's'} "
            f"no name for readers: add {'them' if len(missing) > 1 else 'it'} to {table}"
        )
    return shown.map(lambda c: names.get(c, "")).astype("string")


@dataclass(frozen=True)
class Codebook:
    """The names readers see, by code, from the validated raw tables."""

    checks: dict[str, str]
    explanations: dict[str, str]
    parameters: dict[str, str]
    units: dict[str, str]
    decimals: dict[str, int]
    timepoints: dict[str, str]  # by `timepoint_key(case_id, timepoint)`
    methods: dict[str, str]
    meanings: dict[str, str]  # what each qualifier means (qualifiers.csv `means`)
    #: The unit a value is printed in where it is not the dictionary's (12.2 kPa where the
    #: dictionary says mmHg), by `printed_unit_key(case_id, parameter, source)`; the audit gives
    #: such a row's intervals in this unit.
    printed_units: dict[str, str] = field(default_factory=dict)

    def check(self, codes: pd.Series) -> pd.Series:
        """Each check code's readable name."""
        return _named(codes, self.checks, "check", "checks.csv (or formulas.csv for a formula)")

    def parameter(self, codes: pd.Series) -> pd.Series:
        """Each parameter's dictionary label."""
        return _named(codes, self.parameters, "parameter", "dictionary.csv")

    def method(self, codes: pd.Series) -> pd.Series:
        """Each method as 'blood volume (BV)' (the name, then the paper's abbreviation)."""
        return _named(codes, self.methods, "method", "methods.csv")

    def timepoint(self, case_ids: pd.Series, codes: pd.Series) -> pd.Series:
        """Each case's timepoint by its reader-facing name (timepoints.csv `name`, else `label`)."""
        keys = timepoint_key(case_ids.astype("string"), codes.astype("string"))
        return _named(keys.fillna(""), self.timepoints, "timepoint", "timepoints.csv")


def timepoint_key(case_ids: pd.Series, timepoints: pd.Series) -> pd.Series:
    """One text per case and timepoint (missing where the timepoint is blank)."""
    return case_ids.astype("string") + "/" + timepoints.astype("string")


def _or(name: pd.Series | None, fallback: pd.Series) -> pd.Series:
    """`name` where given, else `fallback` (an optional column of the codebook)."""
    if name is None:
        return fallback.astype("string")
    name = name.astype("string").str.strip()
    return name.where(name.notna() & (name != ""), fallback.astype("string"))


def codebook(tables: Mapping[str, pd.DataFrame]) -> Codebook:
    """The codebook's names from the validated tables (checks, dictionary, timepoints, methods)."""
    checks, dictionary = check_names(tables), tables["dictionary"]  # formulas.csv + checks.csv
    tp, methods = tables["timepoints"], tables["methods"]
    method_name = _or(methods.get("name"), methods["label"])
    method_text = np.where(
        method_name == methods["label"],
        methods["label"],
        method_name + " (" + methods["label"] + ")",
    )
    return Codebook(
        checks=dict(zip(checks["check"], checks["label"], strict=True)),
        explanations=dict(zip(checks["check"], checks["explanation"], strict=True)),
        parameters=dict(zip(dictionary["parameter"], dictionary["label"], strict=True)),
        units=dict(zip(dictionary["parameter"], dictionary["unit"], strict=True)),
        decimals=dict(
            zip(dictionary["parameter"], dictionary["decimals"].astype(int), strict=True)
        ),
        timepoints=dict(
            zip(
                timepoint_key(tp["case_id"], tp["timepoint"]),
                _or(tp.get("name"), tp["label"]),
                strict=True,
            )
        ),
        methods=dict(zip(methods["method"], method_text, strict=True)),
        meanings=dict(
            zip(tables["qualifiers"]["qualifier"], tables["qualifiers"]["means"], strict=True)
        ),
        printed_units=_printed_units(tables.get("measurements")),
    )


def printed_unit_key(case_ids: pd.Series, parameters: pd.Series, sources: pd.Series) -> pd.Series:
    """One text per case, parameter and source (where a value is printed in a unit)."""
    return (
        case_ids.astype("string")
        + "/"
        + parameters.astype("string")
        + "/"
        + sources.astype("string")
    )


def _printed_units(m: pd.DataFrame | None) -> dict[str, str]:
    """The units values are printed in where they are not the dictionary's (validation's
    `unit_given` against `unit`), by `printed_unit_key`; empty without measurements."""
    if m is None or "unit_given" not in m.columns:
        return {}
    other = m[(m["unit_given"].astype("string") != m["unit"].astype("string")).fillna(False)]
    keys = printed_unit_key(other["case_id"], other["parameter"], other["source"])
    return dict(zip(keys, other["unit_given"].astype("string"), strict=True))


def _number(value: float, decimals: int) -> str:
    """A number at `decimals` places, with a true minus sign; blank when missing or infinite."""
    if not np.isfinite(value):
        return ""
    text = f"{value:.{decimals}f}"
    return text.replace("-", "−") if float(text) != 0 else text.lstrip("-")


def reported_interval(
    reported: pd.Series, dictionary_decimals: pd.Series, meanings: dict[str, str]
) -> tuple[Interval, pd.Series]:
    """What each reported text stands for, read as the audit reads printed values
    (`intervals.printed`, with what each qualifier `meanings` in the codebook: 'more than 505' is
    (505, inf)), and the decimals to show numbers of its row with (its printed decimals, or the
    dictionary's for values the audit computed, plus one). Text before a number that is no
    qualifier of the codebook leaves the text unread (no interval)."""
    text = reported.astype("string").fillna("").str.strip()
    bracket = text.str.extract(_INTERVAL).astype("float64")
    qualifier, number = text.str.extract(_QUALIFIED_NUMBER).T.to_numpy()
    qualifier = pd.Series(qualifier, index=text.index, dtype="object")
    means = qualifier.map(meanings)
    number = pd.Series(number, index=text.index, dtype="string").mask(
        qualifier.notna() & means.isna()
    )
    is_number = number.notna().to_numpy()
    decimals = printed_decimals(number.fillna("")).where(is_number, dictionary_decimals)
    value = printed_number(number, errors="coerce")
    rounding = printed(value, decimals.astype("int64"), means)
    lo = rounding.lo.where(is_number, bracket[0])
    hi = rounding.hi.where(is_number, bracket[1])
    return Interval(lo, hi), (decimals + 1).astype("int64")


def readable_checks(audit: pd.DataFrame, book: Codebook) -> pd.DataFrame:
    """The audit's checks as readers see them: names instead of codes, the reported value, what
    the other numbers imply and the gap between them, at the printed precision plus one digit."""
    a = audit.reset_index(drop=True)
    parameter = a["parameter"].astype("string")
    dict_decimals = parameter.map(book.decimals).fillna(1).astype("int64")
    reported, decimals = reported_interval(a["reported"], dict_decimals, book.meanings)
    low = pd.to_numeric(a["expected_low"], errors="coerce")
    high = pd.to_numeric(a["expected_high"], errors="coerce")
    expected = Interval(low.fillna(-np.inf), high.fillna(np.inf))
    gaps = gap(reported, expected).where(reported.lo.notna() & (low.notna() | high.notna()))
    printed_in = printed_unit_key(a["case_id"], parameter, a["source"]).map(book.printed_units)
    printed_in = printed_in.astype("string")  # (all missing, as for most papers, is not a number)
    unit = printed_in.fillna(parameter.map(book.units)).fillna("")
    rows = zip(low, high, decimals, strict=True)
    implied = [_interval_text(lo, hi, d) for lo, hi, d in rows]
    shown_reported = [
        f"{_interval_text(lo, hi, d)} (derived)" if _INTERVAL.match(str(r)) else str(r)
        for r, lo, hi, d in zip(
            a["reported"].fillna(""), reported.lo, reported.hi, decimals, strict=True
        )
    ]
    return pd.DataFrame(
        {
            "case_id": a["case_id"].astype("string"),
            "kind": book.check(a["check"]),
            "parameter": book.parameter(parameter),
            "timepoint": book.timepoint(a["case_id"], a["timepoint"]),
            "method": book.method(a.get("method", pd.Series(pd.NA, index=a.index))),
            "source": a["source"].astype("string").fillna(""),
            "reported": shown_reported,
            "implied": implied,
            "gap": [
                f"{_number(g, d)} {u}".strip() if pd.notna(g) and g > 0 else ""
                for g, d, u in zip(gaps, decimals, unit, strict=True)
            ],
            "verdict": a["verdict"].map(VERDICT_LABELS).astype("string"),
        }
    )


def _interval_text(low: float, high: float, decimals: int) -> str:
    """An interval in words: '20.4–20.5', 'above 100', 'below 125', or blank."""
    lo_ok, hi_ok = pd.notna(low) and np.isfinite(low), pd.notna(high) and np.isfinite(high)
    if lo_ok and hi_ok:
        lo, hi = _number(low, decimals), _number(high, decimals)
        return lo if lo == hi else f"{lo}–{hi}"
    if lo_ok:
        return f"above {_number(low, decimals)}"
    if hi_ok:
        return f"below {_number(high, decimals)}"
    return ""
