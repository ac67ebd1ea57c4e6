"""Pandera schemas for the raw tables, and the checks that tie the tables to one another.

Two layers, both lazy so that one run reports every problem:
1. each table alone (`CaseTable`, `MeasurementTable`, ...): columns, types, codes, vocabularies,
   duplicates, and the rule that the case table holds no direct identifiers;
2. the tables together (`MeasurementRelations`, ...): units and plausible ranges from the data
   dictionary, keys that must exist in another table, ESV < EDV, systolic > diastolic, visits in order.
"""

from __future__ import annotations

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
        text = df.astype("str")
        return ~text.apply(lambda c: c.str.contains(EMAIL) | c.str.contains(EXACT_DATE))

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
    description: Series[str]
    source: Series[str]

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


TABLE_SCHEMAS: dict[str, type[pa.DataFrameModel]] = {
    "cases": CaseTable,
    "timepoints": TimepointTable,
    "infusions": InfusionTable,
    "measurements": MeasurementTable,
    "claims": ClaimTable,
    "dictionary": DictionaryTable,
    "methods": MethodTable,
    "table_layout": TableLayoutTable,
}


class MeasurementRelations(pa.DataFrameModel):
    """Measurements joined with the dictionary, timepoints and cases (see `relations.enrich`)."""

    @pa.dataframe_check(name="parameter is in the data dictionary")
    def parameter_known(cls, df: pd.DataFrame) -> pd.Series:
        return df["dict_unit"].notna()

    @pa.dataframe_check(name="unit is the data dictionary's unit for the parameter")
    def unit_matches(cls, df: pd.DataFrame) -> pd.Series:
        return df["dict_unit"].isna() | (df["unit"] == df["dict_unit"])

    @pa.dataframe_check(name="value lies in the data dictionary's plausible range")
    def value_plausible(cls, df: pd.DataFrame) -> pd.Series:
        return df["dict_unit"].isna() | df["value_num"].between(df["dict_min"], df["dict_max"])

    @pa.dataframe_check(name="case_id is in cases.csv")
    def case_known(cls, df: pd.DataFrame) -> pd.Series:
        return df["case_known"]

    @pa.dataframe_check(name="timepoint is in timepoints.csv for this case")
    def timepoint_known(cls, df: pd.DataFrame) -> pd.Series:
        return df["timepoint_known"]

    @pa.dataframe_check(name="method is in methods.csv")
    def method_known(cls, df: pd.DataFrame) -> pd.Series:
        return df["method_known"]

    @pa.dataframe_check(name="ESV is smaller than EDV of the same examination")
    def esv_below_edv(cls, df: pd.DataFrame) -> pd.Series:
        return df["esv_below_edv"]

    @pa.dataframe_check(name="systolic is above diastolic pressure of the same reading")
    def systolic_above_diastolic(cls, df: pd.DataFrame) -> pd.Series:
        return df["systolic_above_diastolic"]


class TimepointRelations(pa.DataFrameModel):
    """Timepoints with their case and their infusion order (see `relations.enrich`)."""

    @pa.dataframe_check(name="case_id is in cases.csv")
    def case_known(cls, df: pd.DataFrame) -> pd.Series:
        return df["case_known"]

    @pa.dataframe_check(
        name="date equals the first infusion's month plus months_after_first_infusion"
    )
    def date_matches_months(cls, df: pd.DataFrame) -> pd.Series:
        return df["date_matches_months"]


class InfusionRelations(pa.DataFrameModel):
    """Infusions with their timepoint (see `relations.enrich`)."""

    @pa.dataframe_check(name="case_id is in cases.csv")
    def case_known(cls, df: pd.DataFrame) -> pd.Series:
        return df["case_known"]

    @pa.dataframe_check(name="timepoint is in timepoints.csv for this case")
    def timepoint_known(cls, df: pd.DataFrame) -> pd.Series:
        return df["timepoint_known"]

    @pa.dataframe_check(
        name="infusions are numbered in the order of their months (visits in order)"
    )
    def visits_in_order(cls, df: pd.DataFrame) -> pd.Series:
        return df["visits_in_order"]


class ClaimRelations(pa.DataFrameModel):
    """Claims joined with the dictionary and timepoints (see `relations.enrich`)."""

    @pa.dataframe_check(name="parameter is in the data dictionary")
    def parameter_known(cls, df: pd.DataFrame) -> pd.Series:
        return df["parameter_known"]

    @pa.dataframe_check(name="timepoint is in timepoints.csv for this case")
    def timepoint_known(cls, df: pd.DataFrame) -> pd.Series:
        return df["timepoint_known"]

    @pa.dataframe_check(name="from_timepoint is in timepoints.csv for this case")
    def from_timepoint_known(cls, df: pd.DataFrame) -> pd.Series:
        return df["from_timepoint_known"]


class LayoutRelations(pa.DataFrameModel):
    """Table layout rows joined with the dictionary (see `relations.enrich`)."""

    @pa.dataframe_check(name="parameter is in the data dictionary or a composite row")
    def parameter_known(cls, df: pd.DataFrame) -> pd.Series:
        return df["parameter_known"]


RELATION_SCHEMAS: dict[str, type[pa.DataFrameModel]] = {
    "measurements": MeasurementRelations,
    "timepoints": TimepointRelations,
    "infusions": InfusionRelations,
    "claims": ClaimRelations,
    "table_layout": LayoutRelations,
}

#: The raw column a relational check is about, for the error report.
RELATION_COLUMNS: dict[str, str] = {
    "parameter is in the data dictionary": "parameter",
    "parameter is in the data dictionary or a composite row": "parameter",
    "unit is the data dictionary's unit for the parameter": "unit",
    "value lies in the data dictionary's plausible range": "value",
    "case_id is in cases.csv": "case_id",
    "timepoint is in timepoints.csv for this case": "timepoint",
    "from_timepoint is in timepoints.csv for this case": "from_timepoint",
    "method is in methods.csv": "method",
    "ESV is smaller than EDV of the same examination": "value",
    "systolic is above diastolic pressure of the same reading": "value",
    "date equals the first infusion's month plus months_after_first_infusion": "date",
    "infusions are numbered in the order of their months (visits in order)": "infusion",
    # Row-wise rules over several columns of one table: the column a curator should look at.
    "plausible range has min < max": "min+max",
    "a change claim names its start timepoint": "from_timepoint",
    "a range claim states its low and high value": "stated_low+stated_high",
}

#: The other tables a cross-table check relies on: when one of them fails its own checks, the
#: check's verdicts are echoes of that failure and are left out of the report.
RELATION_SOURCES: dict[str, tuple[str, ...]] = {
    "parameter is in the data dictionary": ("dictionary",),
    "parameter is in the data dictionary or a composite row": ("dictionary",),
    "unit is the data dictionary's unit for the parameter": ("dictionary",),
    "value lies in the data dictionary's plausible range": ("dictionary",),
    "case_id is in cases.csv": ("cases",),
    "timepoint is in timepoints.csv for this case": ("timepoints",),
    "from_timepoint is in timepoints.csv for this case": ("timepoints",),
    "method is in methods.csv": ("methods",),
    "infusions are numbered in the order of their months (visits in order)": ("timepoints",),
}
