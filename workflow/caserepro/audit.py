"""Audit: whether the paper's numbers follow from one another, number by number, rounding-aware.

A printed value stands for the interval its printed precision allows; a derived value is an
interval computed from its inputs' intervals (`caserepro.intervals`). Each check compares a
reported interval with an expected one:

- `consistent` when they meet;
- otherwise `minor` when the gap between them is at most `audit.minor_relative_gap` (config) of
  the reported value, or when they only touch at an end; `inconsistent` when the gap is larger;
  checks listed in `audit.soft_checks` compare different measurements that need not agree and
  are graded `minor` at most;
- `not_checkable` when an input is missing or no cited definition applies (the reason is given).

Checks (the `check` column), all computed over whole tables, every case at once:
- the identities of data/raw/formulas.csv, one check per row, in its order
  (`caserepro.formula_checks`): `ef_from_volumes`, `sv_from_volumes`, `co_from_sv_hr`,
  `bsa_sv_vs_co` at one examination; `bsa_across_methods` (one scan), `bsa_across_timepoints`
  (successive scans), `hr_implied_vs_visit` (the visits of the scan's months). A new identity is
  a new row there, not code here;
- `repeated_value` (a value printed in two places: same case, parameter, timepoint and modality,
  methods equal or one blank); `same_month_value` (a value printed for two timepoints of the same
  month, `formula_checks.check_same_month`); `age_vs_dates` (ages stated later against the age at
  admission and the dates); `claim_<kind>` (prose claims in claims.csv, `caserepro.claims`).
  These are `CHECKS`;
- the reviewer's soft patterns (`caserepro.patterns`): the same values
  at timepoints far apart, an echo value equal to the MRI value, Teichholz volumes, the DCM
  criteria.

Output (`results/audit/consistency.csv`, contract in DESIGN.md): check, case_id, parameter,
timepoint, source, reported, expected_low, expected_high, verdict, detail; then `method` and
`against` (what the reported value is compared with), which tell apart checks of one value.
Rows are sorted by check, case, parameter, time, source, method and against.

Here: the order of the checks, the run over validated tables (`run_audit`) and the Markdown
summary; the checks of values stated twice (`repeated_value`, `age_vs_dates`) are
`caserepro.restated`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from itertools import chain

import numpy as np
import pandas as pd

from caserepro import claims, formula_checks, formulas
from caserepro.claims import CHECKS as CLAIM_CHECKS
from caserepro.io import (
    csv_bytes,
    csv_header,
    csv_lines_of,
    in_order,
    write_appended,
    write_bytes,
    write_csv_parts,
    write_table,
)
from caserepro.metrics import KEY_COLUMNS, MEASURED_COLUMNS
from caserepro.paths import AUDIT_JOBS, AUDIT_PARTS
from caserepro.patterns import CHECKS as PATTERN_CHECKS
from caserepro.patterns import reviewer_parts
from caserepro.restated import check_ages, check_repeated_values
from caserepro.verdicts import COLUMNS, CONSISTENT, VERDICTS, WORST_FIRST, Grading

#: The checks that are code, not formulas (formulas.csv names the others).
CHECKS = (
    "repeated_value",
    "same_month_value",
    "age_vs_dates",
    *CLAIM_CHECKS,  # caserepro.claims
    *PATTERN_CHECKS,  # caserepro.patterns
)
#: The output's text columns.
TEXT_COLUMNS = [c for c in COLUMNS if c not in ("expected_low", "expected_high")]
#: The columns of the validated tables that the audit reads (the other tables it does not need).
INPUT_COLUMNS: dict[str, list[str]] = {
    "measurements": MEASURED_COLUMNS,
    "claims": [
        *("claim_id", "case_id", "source", "kind", "parameter", "modality"),
        *("from_timepoint", "timepoint", "stated_low", "stated_high", "criterion", "statement"),
    ],
    "cases": ["case_id", "age_years", "admission", "sex"],
    "timepoints": ["case_id", "timepoint", "date", "months_after_first_infusion"],
    "table_layout": ["source"],
    "formulas": ["check", "expression", "scope", "soft", "citation", "label", "explanation"],
    "constants": ["constant", "value", "unit"],
    "checks": ["check", "label", "explanation"],
    "dictionary": ["parameter", "unit"],
    "qualifiers": ["qualifier", "printed", "space"],
    "reference_ranges": ["case_id", "parameter", "unit", "low_num", "high_num"],
}
#: The measurements' text columns best read as categorical (`caserepro.io.read_tables`): their
#: codes come from Parquet's dictionaries, and a text is built only for the rows that show it.
CODED_COLUMNS: list[str] = [*KEY_COLUMNS, "value", "qualifier", "qualifier_means"]

# --- the whole audit -------------------------------------------------------------------------

#: The audit in parts: the consistency table is their rows one part after the other, in this
#: order (`_checks` says which checks each part runs). At scale they run in jobs side by side
#: (`AUDIT_JOBS`, rule `audit_part`).
PARTS: tuple[str, ...] = AUDIT_PARTS
#: The parts that are the engine's checks (`audit`); `patterns` are the reviewer's.
ENGINE_PARTS: tuple[str, ...] = AUDIT_JOBS["checks"]


def audit(tables: dict[str, pd.DataFrame], thresholds: dict, grading: Grading) -> pd.DataFrame:
    """Every check on every case, one row per check: the formulas' checks (formulas.csv order),
    then the others (`CHECKS` order); each check returns its rows in output order."""
    return pd.concat(list(audit_parts(tables, thresholds, grading)), ignore_index=True)


def audit_parts(
    tables: dict[str, pd.DataFrame],
    thresholds: dict,
    grading: Grading,
    parts: tuple[str, ...] = ENGINE_PARTS,
) -> Iterator[pd.DataFrame]:
    """`audit`'s rows check by check, in output order, each part made only when the one before
    it is taken (at most three held): a cohort's checks are never all in memory at once.
    `parts` (of `PARTS`, in its order) chooses which checks run."""
    unknown = [part for part in parts if part not in PARTS]
    if unknown:
        raise ValueError(f"no part of the audit is called {unknown[0]!r}; the parts: {PARTS}")
    identities = formulas.load(tables["formulas"], tables["dictionary"], tables.get("constants"))
    grading = grading.with_soft(tuple(f.check for f in identities if f.soft))
    checks = [
        check
        for part in PARTS
        if part in parts
        for check in _checks(part, identities, tables, thresholds, grading)
    ]
    # Two checks at a time: numpy's and Arrow's kernels release the GIL. Each only reads.
    for result in in_order(lambda check: check(), checks):
        for part in [result] if isinstance(result, pd.DataFrame) else result:
            if len(part):
                yield _typed(part)


def _checks(
    part: str, identities: tuple, tables: dict, thresholds: dict, grading: Grading
) -> list[Callable[[], object]]:
    """The checks of one part of the audit, in output order, each a call that makes its rows."""
    if part == "formulas":
        return [partial(formula_checks.check_formulas, identities, tables, grading)]
    if part == "restated":
        return [
            partial(check_repeated_values, tables, grading),
            partial(formula_checks.check_same_month, tables, grading),
            partial(check_ages, tables, grading),
        ]
    if part == "claims":
        return [partial(claims.check_claims, tables, thresholds, grading)]
    # caserepro.patterns: the reviewer's soft patterns, one at a time
    return [partial(reviewer_parts, tables, {"thresholds": thresholds})]


def _typed(part: pd.DataFrame) -> pd.DataFrame:
    """A check's rows with the output's columns and types (texts `str`, bounds float)."""
    bounds = dict.fromkeys(("expected_low", "expected_high"), "float64")
    return part[COLUMNS].astype({**dict.fromkeys(TEXT_COLUMNS, "str"), **bounds})


def known_checks(tables: dict[str, pd.DataFrame]) -> tuple[str, ...]:
    """Every check the audit can emit: formulas.csv's, then `CHECKS`."""
    return (*tables["formulas"]["check"].astype(str), *CHECKS)


def summary_markdown(checks: pd.DataFrame, max_listed: int | None = None) -> str:
    """A Markdown fragment: counts per verdict, then one line per check that is not consistent,
    worst first.

    With `max_listed` (config `audit.summary_max_listed`) and more checks flagged than that, only
    the first `max_listed` are listed, then how many more there are; for more than one case a
    table of counts per kind of check and verdict follows the counts per verdict.
    """
    verdict = verdict_codes(checks["verdict"])
    count = np.bincount(verdict[verdict >= 0], minlength=len(VERDICTS))
    lines = [f"The audit ran {len(checks)} checks.", "", "| Verdict | Checks |", "|---|---|"]
    lines += [f"| {word} | {n} |" for word, n in zip(VERDICTS, count, strict=True)]
    flagged = np.flatnonzero(verdict != CONSISTENT)
    unlisted = 0
    if max_listed is not None and len(flagged) > max_listed:
        unlisted = len(flagged) - max_listed
        flagged = np.sort(flagged[_worst_first(verdict[flagged])[:max_listed]])
        case = checks["case_id"]
        if case.ne(case.iloc[0]).any():  # more than one case
            lines += ["", "Checks per kind and verdict:", ""]
            lines += _counts_per_check(checks["check"], verdict)
    lines += ["", "Checks that are not consistent:", ""]
    lines += _flagged_lines(checks, flagged).take(_worst_first(verdict[flagged])).tolist()
    if unlisted:
        lines += [
            "",
            f"{unlisted} more checks that are not consistent are not listed here "
            f"(`audit.summary_max_listed` is {max_listed}); `consistency.csv` lists every check.",
        ]
    return "\n".join(lines) + "\n"


def verdict_codes(verdict: pd.Series) -> np.ndarray:
    """Each verdict's position in `VERDICTS` (-1 for any other word or none); each distinct
    word looked up once."""
    codes, words = pd.factorize(verdict)
    return np.append(pd.Index(VERDICTS).get_indexer(words), -1)[codes]


#: How early a verdict is listed, by position in `VERDICTS` (the last: other words).
_LISTED_AS = np.array([*(WORST_FIRST.index(v) for v in VERDICTS), len(WORST_FIRST) - 1])


def _worst_first(verdict: np.ndarray) -> np.ndarray:
    """Positions of verdict codes in `WORST_FIRST` order; ties and other words (listed with
    consistent, last) keep their order."""
    return np.argsort(_LISTED_AS[verdict], kind="stable")


def _counts_per_check(check: pd.Series, verdict: np.ndarray) -> list[str]:
    """A Markdown table of how many checks of each kind got each verdict (formulas' checks as
    they appear, then `CHECKS` order; `verdict`: `verdict_codes`)."""
    kind, kinds = pd.factorize(check)
    known = (kind >= 0) & (verdict >= 0)
    size = len(VERDICTS)
    counts = np.bincount(kind[known] * size + verdict[known], minlength=len(kinds) * size)
    counts = counts.reshape(len(kinds), size)
    lines = [f"| Check | {' | '.join(VERDICTS)} |", "|---" * (size + 1) + "|"]
    for i in np.argsort(pd.Index(CHECKS).get_indexer(kinds), kind="stable"):  # formulas' first
        lines.append(f"| `{kinds[i]}` | {' | '.join(str(n) for n in counts[i])} |")
    return lines


def _flagged_lines(checks: pd.DataFrame, flagged: np.ndarray) -> pd.Series:
    """The summary's line for each of the flagged rows of the checks, in table order."""
    rows = np.zeros(len(checks), dtype=bool)
    rows[flagged] = True
    # Column by column: a Series filters its Arrow chunks in place, a frame would join them.
    column = {c: checks[c][rows].astype("str").reset_index(drop=True) for c in TEXT_COLUMNS}
    expected = formula_checks.intervals(checks["expected_low"][rows], checks["expected_high"][rows])
    expected = expected.reset_index(drop=True).replace("", "—")
    reported = column["reported"].fillna("").replace("", "—")
    method = (", " + column["method"]).fillna("")
    where = column["case_id"] + ", " + column["timepoint"] + method + ", " + column["source"]
    return (
        "- **" + column["verdict"] + "** `" + column["check"] + "` " + column["parameter"]
        + " (" + where + "): reported " + reported + " vs expected " + expected
        + ". " + column["detail"]
    )  # fmt: skip


@dataclass(frozen=True)
class AuditReport:
    """The audit's checks, written as CSV (the contract) and as a Markdown summary.

    `max_listed`: how many flagged checks the summary lists at most (None: all).
    """

    checks: pd.DataFrame
    max_listed: int | None = None

    def to_csv(self) -> bytes:
        """The consistency table (columns in `COLUMNS`) as CSV bytes."""
        return csv_bytes(self.checks)

    def to_markdown(self) -> str:
        """The human-readable summary for the manuscript."""
        return summary_markdown(self.checks, self.max_listed)


def run_audit(tables: dict[str, pd.DataFrame], config: dict) -> AuditReport:
    """The audit of validated tables under config (`thresholds` and `audit` sections)."""
    checks = pd.concat(list(audit_rows(tables, config)), ignore_index=True)
    return AuditReport(checks, int(config["audit"]["summary_max_listed"]))


def audit_rows(
    tables: dict[str, pd.DataFrame], config: dict, parts: tuple[str, ...] = PARTS
) -> Iterator[pd.DataFrame]:
    """`run_audit`'s rows part by part in output order: the engine's checks, then the reviewer's
    soft patterns (only those of `parts`); after the last part, an error if a check emitted has
    no label."""
    grading = Grading.from_config(config["audit"], known=known_checks(tables))
    emitted: set[str] = set()
    for part in audit_parts(tables, config["thresholds"], grading, parts):
        emitted.update(part["check"].unique())
        yield part
    if "checks" in tables:  # every check that is emitted has a name for readers
        unnamed = sorted(emitted - set(formulas.check_names(tables)["check"]))
        if unnamed:
            raise formulas.FormulaError(
                f"check {', '.join(unnamed)} has no label: add it to checks.csv (a formula's "
                "check: its label and explanation in formulas.csv)"
            )


def write_audit(tables: dict[str, pd.DataFrame], config: dict, path: str) -> tuple[str, pd.Series]:
    """Write `run_audit`'s checks as CSV to `path` part by part as they are made, keeping of each
    part only what the summary reads; the Markdown summary and the checks per verdict."""
    kept = []

    def parts() -> Iterator[pd.DataFrame]:
        for part in audit_rows(tables, config):
            kept.append(_for_summary(part))
            yield part

    write_csv_parts(path, COLUMNS, parts())
    checks = pd.concat(kept, ignore_index=True)
    summary = summary_markdown(checks, int(config["audit"]["summary_max_listed"]))
    return summary, checks["verdict"].value_counts().sort_index()


def write_audit_part(
    tables: dict[str, pd.DataFrame], config: dict, job: str, lines: str, kept: str
) -> None:
    """Write one job's share of the audit (`AUDIT_JOBS`: a run of consecutive parts): its CSV
    lines to `lines`, under the header if its parts are the first, and what the summary reads
    of its rows (`_for_summary`) as Parquet to `kept`. The jobs' lines one after the other are
    `write_audit`'s CSV (`merge_audit_parts`)."""
    if job not in AUDIT_JOBS:
        raise ValueError(f"no job of the audit is called {job!r}; the jobs: {tuple(AUDIT_JOBS)}")
    parts = AUDIT_JOBS[job]
    summary_rows = []

    def rows() -> Iterator[pd.DataFrame]:
        for checks in audit_rows(tables, config, parts):
            summary_rows.append(_for_summary(checks))
            yield checks

    header = [csv_header(COLUMNS)] if parts[0] == PARTS[0] else []
    write_bytes(lines, chain(header, csv_lines_of(rows())))
    write_table(kept, pd.concat([_typed(pd.DataFrame(columns=COLUMNS)), *summary_rows]))


def merge_audit_parts(
    lines: list[str], kept: list[str], config: dict, path: str
) -> tuple[str, pd.Series]:
    """The jobs' lines (in `AUDIT_JOBS` order, the first under the header) joined as the
    consistency CSV at `path` (the first file becomes it: `lines[0]` is gone afterwards); the
    Markdown summary and the checks per verdict, from the jobs' kept rows. The kernel appends
    the lines on a second thread while the summary is made."""
    with ThreadPoolExecutor(max_workers=1) as helper:
        joined = helper.submit(write_appended, path, lines[0], lines[1:])
        checks = pd.concat([pd.read_parquet(file) for file in kept], ignore_index=True)
        summary = summary_markdown(checks, int(config["audit"]["summary_max_listed"]))
        joined.result()
    return summary, checks["verdict"].value_counts().sort_index()


def _for_summary(part: pd.DataFrame) -> pd.DataFrame:
    """A part's rows as `summary_markdown` reads them: check, verdict and case on every row, the
    other columns only on the rows not consistent (it reads no more; missing elsewhere)."""
    flagged = part["verdict"].to_numpy() != "consistent"
    rows = np.where(flagged, np.arange(len(part)), -1)  # -1: missing (a take, not a `where`)
    kept = ("check", "verdict", "case_id")
    taken = {c: part[c].array.take(rows, allow_fill=True) for c in COLUMNS if c not in kept}
    return part.assign(**{c: pd.Series(values, index=part.index) for c, values in taken.items()})
