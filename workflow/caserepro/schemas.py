"""Pandera schemas for the raw tables, and the checks that tie the tables to one another.

Two layers, both lazy so that one run reports every problem:
1. each table alone (`CaseTable`, `MeasurementTable`, ...): columns, types, codes, vocabularies,
   duplicates, and the rule that the case table holds no direct identifiers. Validation runs the
   column checks on one row per distinct value, so each must judge one cell alone; checks of the
   whole table (`dataframe_check`) must judge each row alone;
2. the tables together (`RELATIONS`, one `Relation` per rule, checked by `relation_schema`):
   units and plausible ranges from the data dictionary, keys that must exist in another table,
   ESV < EDV, systolic > diastolic, visits in order. `relations.enrich_<table>` computes each
   rule's flag column; the rule's name, blamed column and source tables are written once.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

#: Codes are lower-case words joined by underscores (e.g. `lv_edv`, `visit1`).
CODE = r"^[a-z][a-z0-9_]*$"
#: A case identifier: letters, digits and `-_.`, no spaces (so not a person's name).
CASE_ID = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
#: A number as printed: dot as decimal mark, no thousands separator, no exponent.
PRINTED_NUMBER = r"^-?\d+(\.\d+)?$"
#: Dates are kept at month (or year) precision only.
MONTH_OR_YEAR = r"^\d{4}(-(0[1-9]|1[0-2]))?$"
EMAIL = r"[^@\s]+@[^@\s]+\.[^@\s]+"
EXACT_DATE = r"\b(?:\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[./-]\d{1,2}[./-]\d{2,4})\b"

MODALITIES = [
    "clinical",
    "lab",
    "ecg",
    "echo",
    "mri",
    "questionnaire",
    "intervention",
    "demographic",
]
QUALIFIERS = ["approximately", "more than"]
SEXES = ["male", "female"]
CLAIM_KINDS = ["range", "increase", "decrease", "below", "above", "within"]
#: Table rows that are not a single dictionary parameter.
COMPOSITE_ROWS = ["blood_pressure", "complaints", "complications"]


def holds_identifier(column: pd.Series) -> pd.Series:
    """True where a text cell holds an e-mail address or an exact date (tested once per value)."""
    codes, values = pd.factorize(column, use_na_sentinel=False)
    values = pd.Series(values, dtype=column.dtype)
    found = values.str.contains(EMAIL) | values.str.contains(EXACT_DATE)
    return found.take(codes).set_axis(column.index)


class CaseTable(pa.DataFrameModel):
    """One row per patient: de-identified facts only."""

    case_id: Series[str] = pa.Field(str_matches=CASE_ID, unique=True)
    sex: Series[str] = pa.Field(isin=SEXES)
    age_years: Series[int] = pa.Field(ge=0, le=120, coerce=True)
    diagnosis: Series[str]
    symptom_onset: Series[str] = pa.Field(str_matches=MONTH_OR_YEAR, nullable=True)
    admission: Series[str] = pa.Field(str_matches=MONTH_OR_YEAR)
    nyha_class_at_admission: Series[int] = pa.Field(ge=1, le=4, coerce=True)
    source: Series[str]

    @pa.dataframe_check(name="holds no e-mail address or exact date (direct identifiers)")
    def no_direct_identifiers(cls, df: pd.DataFrame) -> pd.DataFrame:
        return ~df.astype("str").apply(holds_identifier)

    class Config:
        strict = True


class TimepointTable(pa.DataFrameModel):
    """One row per case and timepoint: when it happened (month precision) and the paper's label."""

    case_id: Series[str] = pa.Field(str_matches=CASE_ID)
    timepoint: Series[str] = pa.Field(str_matches=CODE)
    date: Series[str] = pa.Field(str_matches=MONTH_OR_YEAR)
    months_after_first_infusion: Series[pd.Int64Dtype] = pa.Field(
        ge=0, le=600, nullable=True, coerce=True
    )
    label: Series[str]
    #: What readers see in running text and the audit (e.g. "MRI after therapy (2025)"), where
    #: `label` is the paper's column heading ("After (2025)"); blank or absent: the label.
    name: Series[str] | None = pa.Field(nullable=True)
    source: Series[str]

    class Config:
        strict = True
        unique = ["case_id", "timepoint"]


class InfusionTable(pa.DataFrameModel):
    """One row per cell infusion."""

    case_id: Series[str] = pa.Field(str_matches=CASE_ID)
    infusion: Series[int] = pa.Field(ge=1, le=100, coerce=True)
    timepoint: Series[str] = pa.Field(str_matches=CODE)
    cells_million: Series[float] = pa.Field(gt=0, le=10000, coerce=True)
    complications: Series[str]
    complaints: Series[str] = pa.Field(nullable=True)
    source: Series[str]

    class Config:
        strict = True
        unique = ["case_id", "infusion"]


class MeasurementTable(pa.DataFrameModel):
    """One row per value the paper states: case, timepoint, parameter, value as printed, source."""

    case_id: Series[str] = pa.Field(str_matches=CASE_ID)
    timepoint: Series[str] = pa.Field(str_matches=CODE)
    modality: Series[str] = pa.Field(isin=MODALITIES)
    method: Series[str] = pa.Field(str_matches=CODE, nullable=True)
    parameter: Series[str] = pa.Field(str_matches=CODE)
    value: Series[str] = pa.Field(str_matches=PRINTED_NUMBER)
    qualifier: Series[str] = pa.Field(isin=QUALIFIERS, nullable=True)
    unit: Series[str]
    source: Series[str]
    note: Series[str] = pa.Field(nullable=True)

    class Config:
        strict = True
        unique = ["case_id", "timepoint", "modality", "method", "parameter", "source"]


class ClaimTable(pa.DataFrameModel):
    """One row per claim in the prose that a rule can check (ranges, directions, thresholds)."""

    claim_id: Series[str] = pa.Field(str_matches=CODE, unique=True)
    case_id: Series[str] = pa.Field(str_matches=CASE_ID)
    source: Series[str]
    kind: Series[str] = pa.Field(isin=CLAIM_KINDS)
    parameter: Series[str] = pa.Field(str_matches=CODE)
    modality: Series[str] = pa.Field(isin=MODALITIES)
    from_timepoint: Series[str] = pa.Field(str_matches=CODE, nullable=True)
    timepoint: Series[str] = pa.Field(str_matches=CODE)
    stated_low: Series[str] = pa.Field(str_matches=PRINTED_NUMBER, nullable=True)
    stated_high: Series[str] = pa.Field(str_matches=PRINTED_NUMBER, nullable=True)
    criterion: Series[str] = pa.Field(str_matches=r"^[a-z0-9_.]+$", nullable=True)
    statement: Series[str]

    @pa.dataframe_check(name="a change claim names its start timepoint")
    def change_has_start(cls, df: pd.DataFrame) -> pd.Series:
        return ~df["kind"].isin(["increase", "decrease"]) | df["from_timepoint"].notna()

    @pa.dataframe_check(name="a range claim states its low and high value")
    def range_has_bounds(cls, df: pd.DataFrame) -> pd.Series:
        return (df["kind"] != "range") | (df["stated_low"].notna() & df["stated_high"].notna())

    class Config:
        strict = True


class DictionaryTable(pa.DataFrameModel):
    """The data dictionary: one row per parameter with the paper's label, unit, precision and range."""

    parameter: Series[str] = pa.Field(str_matches=CODE, unique=True)
    label: Series[str]
    unit: Series[str]
    printed_unit: Series[str] = pa.Field(nullable=True)
    decimals: Series[int] = pa.Field(ge=0, le=6, coerce=True)
    min: Series[float] = pa.Field(coerce=True)
    max: Series[float] = pa.Field(coerce=True)
    description: Series[str]

    @pa.dataframe_check(name="plausible range has min < max")
    def range_is_ordered(cls, df: pd.DataFrame) -> pd.Series:
        return df["min"] < df["max"]

    class Config:
        strict = True


class MethodTable(pa.DataFrameModel):
    """Measurement methods (the two MRI contouring conventions) and the paper's abbreviations."""

    method: Series[str] = pa.Field(str_matches=CODE, unique=True)
    label: Series[str]
    #: What readers see (e.g. "blood volume"), shown with the label ("blood volume (BV)");
    #: blank or absent: the label alone.
    name: Series[str] | None = pa.Field(nullable=True)
    description: Series[str]
    source: Series[str]

    class Config:
        strict = True


class CheckTable(pa.DataFrameModel):
    """The audit's kinds of check, as readers see them: a short name and a one-line explanation."""

    check: Series[str] = pa.Field(str_matches=CODE, unique=True)
    label: Series[str]
    explanation: Series[str]

    class Config:
        strict = True


class TableLayoutTable(pa.DataFrameModel):
    """The rows of the paper's tables: order, printed label, and the parameter each row shows."""

    table: Series[str] = pa.Field(str_matches=CODE)
    row: Series[int] = pa.Field(ge=1, coerce=True)
    label: Series[str]
    parameter: Series[str] = pa.Field(str_matches=CODE)
    modality: Series[str] = pa.Field(isin=MODALITIES, nullable=True)
    source: Series[str]

    class Config:
        strict = True
        unique = ["table", "row"]


class FormulaTable(pa.DataFrameModel):
    """The audit's identities (caserepro.formulas): expression, scope, softness, citation, name."""

    check: Series[str] = pa.Field(str_matches=CODE, unique=True)
    expression: Series[str]
    scope: Series[str] = pa.Field(isin=["examination", "scan", "case", "visits"])
    soft: Series[str] = pa.Field(isin=["true", "false"])
    citation: Series[str] = pa.Field(nullable=True, str_matches=CODE)
    label: Series[str]
    explanation: Series[str]

    class Config:
        strict = True


TABLE_SCHEMAS: dict[str, type[pa.DataFrameModel]] = {
    "cases": CaseTable,
    "timepoints": TimepointTable,
    "infusions": InfusionTable,
    "measurements": MeasurementTable,
    "claims": ClaimTable,
    "dictionary": DictionaryTable,
    "methods": MethodTable,
    "table_layout": TableLayoutTable,
    "checks": CheckTable,
    "formulas": FormulaTable,
}


@dataclass(frozen=True)
class Relation:
    """A rule across tables: `relations.enrich_<table>` adds the boolean column `flag` (True = the
    row keeps the rule); the report blames the raw `column`; the rule relies on the `sources`
    tables, so a failure there makes this rule's verdicts mere echoes."""

    check: str
    flag: str
    column: str
    sources: tuple[str, ...] = ()


_CASE = Relation("case_id is in cases.csv", "case_known", "case_id", ("cases",))
_TIMEPOINT = Relation(
    "timepoint is in timepoints.csv for this case", "timepoint_known", "timepoint", ("timepoints",)
)
_PARAMETER = Relation(
    "parameter is in the data dictionary", "parameter_known", "parameter", ("dictionary",)
)

#: Every cross-table rule, by the table whose rows it checks.
RELATIONS: dict[str, tuple[Relation, ...]] = {
    "measurements": (
        _PARAMETER,
        Relation(
            "unit is the data dictionary's unit for the parameter",
            "unit_matches",
            "unit",
            ("dictionary",),
        ),
        Relation(
            "value lies in the data dictionary's plausible range",
            "value_plausible",
            "value",
            ("dictionary",),
        ),
        _CASE,
        _TIMEPOINT,
        Relation("method is in methods.csv", "method_known", "method", ("methods",)),
        Relation("ESV is smaller than EDV of the same examination", "esv_below_edv", "value"),
        Relation(
            "systolic is above diastolic pressure of the same reading",
            "systolic_above_diastolic",
            "value",
        ),
    ),
    "timepoints": (
        _CASE,
        Relation(
            "date equals the first infusion's month plus months_after_first_infusion",
            "date_matches_months",
            "date",
        ),
    ),
    "infusions": (
        _CASE,
        _TIMEPOINT,
        Relation(
            "infusions are numbered in the order of their months (visits in order)",
            "visits_in_order",
            "infusion",
            ("timepoints",),
        ),
    ),
    "claims": (
        _PARAMETER,
        _TIMEPOINT,
        Relation(
            "from_timepoint is in timepoints.csv for this case",
            "from_timepoint_known",
            "from_timepoint",
            ("timepoints",),
        ),
    ),
    "table_layout": (
        Relation(
            "parameter is in the data dictionary or a composite row",
            "parameter_known",
            "parameter",
            ("dictionary",),
        ),
    ),
}


def _flag(column: str):
    return lambda df: df[column]


def relation_schema(table: str) -> pa.DataFrameSchema:
    """The pandera schema of a table's cross-table rules, over its enriched frame."""
    return pa.DataFrameSchema(
        checks=[pa.Check(_flag(r.flag), name=r.check) for r in RELATIONS[table]]
    )


#: Row-wise rules over several columns of one table: the column a curator should look at.
_TABLE_RULE_COLUMNS: dict[str, str] = {
    "plausible range has min < max": "min+max",
    "a change claim names its start timepoint": "from_timepoint",
    "a range claim states its low and high value": "stated_low+stated_high",
}

#: The raw column a rule over several columns or tables is about, for the error report.
RELATION_COLUMNS: dict[str, str] = {
    r.check: r.column for rules in RELATIONS.values() for r in rules
} | _TABLE_RULE_COLUMNS

#: The other tables a cross-table check relies on (see `Relation.sources`).
RELATION_SOURCES: dict[str, tuple[str, ...]] = {
    r.check: r.sources for rules in RELATIONS.values() for r in rules if r.sources
}
