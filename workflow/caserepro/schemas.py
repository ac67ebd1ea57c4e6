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

from caserepro.intervals import printed_number
from caserepro.paths import OPTIONAL_TABLES  # noqa: F401  (the format's optional tables)

#: Codes are lower-case words joined by underscores (e.g. `lv_edv`, `visit1`).
CODE = r"^[a-z][a-z0-9_]*$"
#: A case identifier: letters, digits and `-_.`, no spaces (so not a person's name).
CASE_ID = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
#: A number as printed: dot as decimal mark, no thousands separator, no exponent; the minus
#: sign as a hyphen or as the typographic minus (U+2212) a paper prints.
PRINTED_NUMBER = r"^[-\u2212]?\d+(\.\d+)?$"
#: Dates are kept at month (or year) precision only.
MONTH_OR_YEAR = r"^\d{4}(-(0[1-9]|1[0-2]))?$"
EMAIL = r"[^@\s]+@[^@\s]+\.[^@\s]+"
EXACT_DATE = r"\b(?:\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[./-]\d{1,2}[./-]\d{2,4})\b"

#: A prefix a table prints before a qualified value ("<", "≥", "~"), or nothing.
QUALIFIER_MEANINGS = ["<", "≤", ">", "≥", "≈"]
SEXES = ["male", "female"]
CLAIM_KINDS = ["range", "increase", "decrease", "below", "above", "within"]
#: Table rows that are not a single dictionary parameter.
COMPOSITE_ROWS = ["blood_pressure", "complaints", "complications"]
#: Units of a timepoint's `offset`, in months (a month is a twelfth of a year, as pint has it).
OFFSET_UNITS: dict[str, float] = {
    "d": 12 / 365.25,
    "h": 12 / 365.25 / 24,
    "wk": 7 * 12 / 365.25,
    "mo": 1.0,
    "y": 12.0,
}
#: A claim's `criterion` that means the paper's own printed range (reference_ranges.csv).
REFERENCE_CRITERION = "reference_range"

#: Columns a raw file may leave out (read as blank): added by the format after its first paper.
OPTIONAL_COLUMNS: dict[str, tuple[str, ...]] = {
    "timepoints": (
        "months_after_first_infusion",
        "offset_months",
        "offset",
        "offset_unit",
        "relative_to",
        "order",
        "name",
    ),
    "methods": ("name",),
    "measurements": ("value_high", "note"),
    "qualifiers": ("space",),
    "table_layout": ("case_id",),
    "paper_tables": ("ranges",),
}


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
    admission: Series[str] = pa.Field(str_matches=MONTH_OR_YEAR, nullable=True)
    nyha_class_at_admission: Series[pd.Int64Dtype] = pa.Field(
        ge=1, le=4, nullable=True, coerce=True
    )
    source: Series[str]

    @pa.dataframe_check(name="holds no e-mail address or exact date (direct identifiers)")
    def no_direct_identifiers(cls, df: pd.DataFrame) -> pd.DataFrame:
        return ~df.astype("str").apply(holds_identifier)

    class Config:
        strict = True


class TimepointTable(pa.DataFrameModel):
    """One row per case and timepoint: when it happened (a month, an offset in months from another
    timepoint of the case, or only a place in the order) and the paper's label."""

    case_id: Series[str] = pa.Field(str_matches=CASE_ID)
    timepoint: Series[str] = pa.Field(str_matches=CODE)
    date: Series[str] = pa.Field(str_matches=MONTH_OR_YEAR, nullable=True)
    months_after_first_infusion: Series[pd.Int64Dtype] = pa.Field(
        ge=0, le=600, nullable=True, coerce=True
    )
    offset_months: Series[pd.Float64Dtype] = pa.Field(ge=-1200, le=1200, nullable=True, coerce=True)
    offset: Series[pd.Float64Dtype] = pa.Field(nullable=True, coerce=True)
    offset_unit: Series[str] = pa.Field(isin=list(OFFSET_UNITS), nullable=True)
    relative_to: Series[str] = pa.Field(str_matches=CODE, nullable=True)
    order: Series[pd.Int64Dtype] = pa.Field(ge=1, le=10000, nullable=True, coerce=True)
    label: Series[str]
    #: What readers see in running text and the audit (e.g. "MRI after therapy (2025)"), where
    #: `label` is the paper's column heading ("After (2025)"); blank or absent: the label.
    name: Series[str] | None = pa.Field(nullable=True)
    source: Series[str]

    class Config:
        strict = True
        unique = ["case_id", "timepoint"]

    @pa.dataframe_check(name="an offset names the timepoint it counts from, and only then")
    def offset_has_reference(cls, df: pd.DataFrame) -> pd.Series:
        offset = df["offset_months"].notna() | df["offset"].notna()
        return offset == df["relative_to"].notna()

    @pa.dataframe_check(name="an offset is in months or in offset + offset_unit, not both")
    def offset_said_once(cls, df: pd.DataFrame) -> pd.Series:
        paired = df["offset"].notna() == df["offset_unit"].notna()
        return paired & ~(df["offset_months"].notna() & df["offset"].notna())


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
    modality: Series[str] = pa.Field(str_matches=CODE)
    method: Series[str] = pa.Field(str_matches=CODE, nullable=True)
    parameter: Series[str] = pa.Field(str_matches=CODE)
    value: Series[str] = pa.Field(str_matches=PRINTED_NUMBER)
    value_high: Series[str] = pa.Field(str_matches=PRINTED_NUMBER, nullable=True)
    qualifier: Series[str] = pa.Field(nullable=True)
    unit: Series[str]
    source: Series[str]
    note: Series[str] = pa.Field(nullable=True)

    class Config:
        strict = True
        unique = ["case_id", "timepoint", "modality", "method", "parameter", "source"]

    @pa.dataframe_check(name="a range (value to value_high) has no qualifier")
    def range_is_unqualified(cls, df: pd.DataFrame) -> pd.Series:
        return df["value_high"].isna() | df["qualifier"].isna()


class ClaimTable(pa.DataFrameModel):
    """One row per claim in the prose that a rule can check (ranges, directions, thresholds)."""

    claim_id: Series[str] = pa.Field(str_matches=CODE, unique=True)
    case_id: Series[str] = pa.Field(str_matches=CASE_ID)
    source: Series[str]
    kind: Series[str] = pa.Field(isin=CLAIM_KINDS)
    parameter: Series[str] = pa.Field(str_matches=CODE)
    modality: Series[str] = pa.Field(str_matches=CODE)
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
    """The rows of the paper's tables: case (blank: every case), order, printed label, the
    parameter each row shows, and the source its values come from. A row with neither parameter
    nor source is a heading row: its label, and empty cells (a table printing "PO2" above its
    "mmHg" and "kPa" rows)."""

    case_id: Series[str] = pa.Field(str_matches=CASE_ID, nullable=True)
    table: Series[str] = pa.Field(str_matches=CODE)
    row: Series[int] = pa.Field(ge=1, coerce=True)
    label: Series[str]
    parameter: Series[str] = pa.Field(str_matches=CODE, nullable=True)
    modality: Series[str] = pa.Field(str_matches=CODE, nullable=True)
    source: Series[str] = pa.Field(nullable=True)

    class Config:
        strict = True
        unique = ["case_id", "table", "row"]

    @pa.dataframe_check(
        name="a row names both parameter and source, or neither (a heading row, no modality)"
    )
    def heading_or_values(cls, df: pd.DataFrame) -> pd.Series:
        heading = df["parameter"].isna() & df["source"].isna() & df["modality"].isna()
        return heading | (df["parameter"].notna() & df["source"].notna())


class PaperTableTable(pa.DataFrameModel):
    """How each reproduced table is headed: its top-left cell (blank: printed empty), whether it
    ends in a Change column (the direction from its first to its last timepoint), and the heading
    of a column of the paper's reference ranges after the row labels (`ranges`, blank: none). A
    table not listed here gets 'Parameter', no Change column and no ranges column."""

    case_id: Series[str] = pa.Field(str_matches=CASE_ID, nullable=True)
    table: Series[str] = pa.Field(str_matches=CODE)
    corner: Series[str] = pa.Field(nullable=True)
    change: Series[str] = pa.Field(isin=["yes", "no"])
    ranges: Series[str] = pa.Field(nullable=True)

    class Config:
        strict = True
        unique = ["case_id", "table"]


class ModalityTable(pa.DataFrameModel):
    """The codebook of modalities (how a value was obtained): an open list."""

    modality: Series[str] = pa.Field(str_matches=CODE, unique=True)
    label: Series[str]
    description: Series[str]

    class Config:
        strict = True


class QualifierTable(pa.DataFrameModel):
    """The codebook of qualifiers a value may carry, what each means, and what a table prints."""

    qualifier: Series[str] = pa.Field(unique=True)
    means: Series[str] = pa.Field(isin=QUALIFIER_MEANINGS)
    printed: Series[str] = pa.Field(nullable=True)
    space: Series[str] = pa.Field(isin=["yes", "no"], nullable=True)
    description: Series[str]

    class Config:
        strict = True


class InterventionTable(pa.DataFrameModel):
    """A treatment other than the cell infusions (a drug, a procedure): its own name, when, dose."""

    case_id: Series[str] = pa.Field(str_matches=CASE_ID)
    intervention: Series[int] = pa.Field(ge=1, le=1000, coerce=True)
    timepoint: Series[str] = pa.Field(str_matches=CODE)
    name: Series[str]
    dose: Series[str] = pa.Field(str_matches=PRINTED_NUMBER, nullable=True)
    unit: Series[str] = pa.Field(nullable=True)
    source: Series[str]
    note: Series[str] = pa.Field(nullable=True)

    class Config:
        strict = True
        unique = ["case_id", "intervention"]


class ReferenceRangeTable(pa.DataFrameModel):
    """A range the paper prints as normal for a parameter (per case), in the unit it prints it
    (one row per unit where a table prints it in two): a claim criterion, and the cells of a
    table's ranges column (`paper_tables.csv`)."""

    case_id: Series[str] = pa.Field(str_matches=CASE_ID)
    parameter: Series[str] = pa.Field(str_matches=CODE)
    low: Series[str] = pa.Field(str_matches=PRINTED_NUMBER, nullable=True)
    high: Series[str] = pa.Field(str_matches=PRINTED_NUMBER, nullable=True)
    unit: Series[str]
    source: Series[str]

    @pa.dataframe_check(name="a reference range has a low or a high end, low below high")
    def range_has_an_end(cls, df: pd.DataFrame) -> pd.Series:
        low = printed_number(df["low"], errors="coerce")
        high = printed_number(df["high"], errors="coerce")
        return (low.notna() | high.notna()) & ~(low >= high)

    class Config:
        strict = True
        unique = ["case_id", "parameter", "unit"]


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


class ConstantTable(pa.DataFrameModel):
    """A constant a formula names (caserepro.formulas): its value and unit, where the value
    comes from (a citation key), and what it is."""

    constant: Series[str] = pa.Field(str_matches=CODE, unique=True)
    value: Series[str] = pa.Field(str_matches=PRINTED_NUMBER)
    unit: Series[str]
    citation: Series[str] = pa.Field(nullable=True, str_matches=CODE)
    description: Series[str]

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
    "constants": ConstantTable,
    "paper_tables": PaperTableTable,
    "modalities": ModalityTable,
    "qualifiers": QualifierTable,
    "reference_ranges": ReferenceRangeTable,
    "interventions": InterventionTable,
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
    #: Whether the report says what was expected (`relations.DETAILS[flag]`).
    detailed: bool = False


_CASE = Relation("case_id is in cases.csv", "case_known", "case_id", ("cases",))
_TIMEPOINT = Relation(
    "timepoint is in timepoints.csv for this case", "timepoint_known", "timepoint", ("timepoints",)
)
_PARAMETER = Relation(
    "parameter is in the data dictionary", "parameter_known", "parameter", ("dictionary",)
)
_MODALITY = Relation("modality is in modalities.csv", "modality_known", "modality", ("modalities",))
_CASE_OR_BLANK = Relation(
    "case_id is blank (every case) or in cases.csv", "case_known", "case_id", ("cases",)
)
_UNIT = Relation(
    "unit is the data dictionary's unit for the parameter or converts to it",
    "unit_matches",
    "unit",
    ("dictionary",),
    detailed=True,
)

#: Every cross-table rule, by the table whose rows it checks.
RELATIONS: dict[str, tuple[Relation, ...]] = {
    "measurements": (
        _PARAMETER,
        _UNIT,
        Relation(
            "value lies in the data dictionary's plausible range",
            "value_plausible",
            "value",
            ("dictionary",),
            detailed=True,
        ),
        Relation(
            "value_high lies in the plausible range and is not below value",
            "value_high_plausible",
            "value_high",
            ("dictionary",),
            detailed=True,
        ),
        _CASE,
        _TIMEPOINT,
        Relation("method is in methods.csv", "method_known", "method", ("methods",)),
        _MODALITY,
        Relation("qualifier is in qualifiers.csv", "qualifier_known", "qualifier", ("qualifiers",)),
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
        Relation(
            "relative_to is a timepoint of the same case",
            "relative_to_known",
            "relative_to",
        ),
        Relation(
            "timepoint has a place in time (a date, months after the first infusion, an offset "
            "from a placed timepoint, or an order)",
            "placed_in_time",
            "date+offset_months+relative_to+order",
        ),
        Relation(
            "order is given for every timepoint of the case or for none",
            "order_complete",
            "order",
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
        _MODALITY,
        _TIMEPOINT,
        Relation(
            "from_timepoint is in timepoints.csv for this case",
            "from_timepoint_known",
            "from_timepoint",
            ("timepoints",),
        ),
        Relation(
            f"criterion '{REFERENCE_CRITERION}' has a row in reference_ranges.csv for the case "
            "and parameter",
            "reference_range_known",
            "criterion",
            ("reference_ranges",),
        ),
    ),
    "table_layout": (
        Relation(
            "parameter is in the data dictionary or a composite row",
            "parameter_known",
            "parameter",
            ("dictionary",),
        ),
        _CASE_OR_BLANK,
        _MODALITY,
        Relation(
            "row shows at least one value (a measurement or infusion of its parameter, source, "
            "modality and case)",
            "row_has_values",
            "parameter+source",
            ("measurements", "infusions"),
        ),
        Relation(
            "no cell of the row holds two values, and no value of the row is shown by another row",
            "row_cells_single",
            "parameter+source",
            ("measurements", "infusions", "methods"),
        ),
    ),
    "paper_tables": (
        _CASE_OR_BLANK,
        Relation(
            "table is in table_layout.csv for the same case_id",
            "table_known",
            "table",
            ("table_layout",),
        ),
    ),
    "reference_ranges": (
        _CASE,
        _PARAMETER,
        _UNIT,
    ),
    "interventions": (_CASE, _TIMEPOINT),
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
    "an offset names the timepoint it counts from, and only then": "offset_months+offset+relative_to",
    "an offset is in months or in offset + offset_unit, not both": "offset_months+offset+offset_unit",
    "a range (value to value_high) has no qualifier": "value_high+qualifier",
    "a reference range has a low or a high end, low below high": "low+high",
    "a row names both parameter and source, or neither (a heading row, no modality)": (
        "parameter+source+modality"
    ),
}

#: The rules whose report says what was expected, by check: the rule's flag (whose words are
#: `relations.DETAILS[flag]`).
RELATION_DETAILS: dict[str, str] = {
    r.check: r.flag for rules in RELATIONS.values() for r in rules if r.detailed
}

#: The raw column a rule over several columns or tables is about, for the error report.
RELATION_COLUMNS: dict[str, str] = {
    r.check: r.column for rules in RELATIONS.values() for r in rules
} | _TABLE_RULE_COLUMNS

#: The other tables a cross-table check relies on (see `Relation.sources`).
RELATION_SOURCES: dict[str, tuple[str, ...]] = {
    r.check: r.sources for rules in RELATIONS.values() for r in rules if r.sources
}
