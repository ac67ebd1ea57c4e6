"""Reviewer checks: patterns a reviewer looks for.

`reviewer_checks` returns rows with the columns of results/audit/consistency.csv
(`caserepro.audit.COLUMNS`), plain pandas, independent of the audit engine: soft patterns,
graded `minor` at most: `repeated_value_set` (the same values printed for timepoints far apart),
`same_value_across_modalities` (an echo value equal to the MRI value of the same period),
`teichholz_edv` / `teichholz_esv` / `teichholz_ef` (echo volumes and EF against the Teichholz
volumes from the printed dimensions, with the fractional shortening), `dcm_criteria` (the
introduction's DCM criteria at each timepoint). The checks themselves are `caserepro.patterns`;
the paper's prose claims (bands, durations) are `caserepro.claims`, which reads the measured
values (`measured`) and dates (`_dates`) from here.
"""

from __future__ import annotations

import pandas as pd

from caserepro import patterns
from caserepro.intervals import month_span, printed
from caserepro.verdicts import COLUMNS

#: Checks this module emits (each has a row in data/raw/checks.csv).
CHECKS = (
    "repeated_value_set",
    "same_value_across_modalities",
    "teichholz_edv",
    "teichholz_esv",
    "teichholz_lvef",
    "dcm_criteria",
)


def measured(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The measurements with the interval each printed value stands for (`lo`, `hi`)."""
    m = tables["measurements"]
    coded = [c for c in m.columns if isinstance(m[c].dtype, pd.CategoricalDtype)]
    m = m.assign(**{c: m[c].astype("object").astype("str") for c in coded})
    iv = printed(m["value_num"], m["decimals"], m["qualifier_means"])
    return m.assign(lo=iv.lo.to_numpy(), hi=iv.hi.to_numpy())


def _dates(tables: dict) -> pd.DataFrame:
    """Each case's timepoints with the months their date can mean (m_lo, m_hi: [start, end))."""
    t = tables["timepoints"][["case_id", "timepoint", "date"]]
    span = month_span(t["date"])
    return t.assign(m_lo=span.lo.to_numpy(), m_hi=span.hi.to_numpy())


def reviewer_checks(tables: dict[str, pd.DataFrame], config: dict) -> pd.DataFrame:
    """Every soft pattern (`caserepro.patterns`) on every case, in output order."""
    return patterns.reviewer_checks(tables, config)


def _sorted(rows: pd.DataFrame) -> pd.DataFrame:
    """Rows in CHECKS order, then case, parameter, timepoint, source, method, against (the plain
    reference for the order `patterns` builds its rows in)."""
    rank = rows["check"].map({c: i for i, c in enumerate(CHECKS)})
    keys = ["case_id", "parameter", "timepoint", "source", "method", "against"]
    ordered = rows.assign(_rank=rank).sort_values(
        ["_rank", *keys], kind="stable", na_position="first"
    )
    return ordered.drop(columns="_rank").reset_index(drop=True)[COLUMNS]
