"""A corpus of realistic mistakes in the raw data: each must be refused with a report that names it.

Every variant is a copy of data/raw (in tmp_path) with one mistake a curator could make when
transcribing or exporting the tables. `load_raw` must raise RawDataError, and the report must name
the file, the line, the column and the check of that mistake (asserted per variant). A few
variants also go through the real `snakemake` (marked e2e). Harmless, unambiguous quirks (UTF-8
byte-order mark, whitespace around cells, Windows line endings) are accepted on purpose and must
give the same validated data as the clean files.
"""

from __future__ import annotations

import csv
import hashlib
import io
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
import yaml
from caserepro.errors import RawDataError
from caserepro.paths import RAW_TABLES, raw_file
from caserepro.validate import load_raw
from conftest import RAW_DIR, REPO, copy_repo, run_snakemake
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate as validate_config

SHOWN = "data/raw"
CONFIG_SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"


# --- editing a copy of data/raw --------------------------------------------------------------------


def _rows(raw: Path, table: str) -> tuple[list[str], list[list[str]]]:
    text = raw_file(raw, table).read_text(encoding="utf-8")
    header, *rows = list(csv.reader(io.StringIO(text)))
    return header, rows


def _write_rows(raw: Path, table: str, header: list[str], rows: list[list[str]]) -> None:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *rows])
    raw_file(raw, table).write_text(out.getvalue(), encoding="utf-8")


def _find(header: list[str], rows: list[list[str]], where: dict[str, str]) -> int:
    """Position of the one row whose cells equal `where` (a test error if not exactly one)."""
    hits = [i for i, r in enumerate(rows) if all(r[header.index(c)] == v for c, v in where.items())]
    assert len(hits) == 1, f"{where} matches {len(hits)} rows"
    return hits[0]


def set_cells(raw: Path, table: str, where: dict[str, str], cells: dict[str, str]) -> int:
    """Overwrite cells of the row matching `where`; return that row's line in the file."""
    header, rows = _rows(raw, table)
    i = _find(header, rows, where)
    for column, value in cells.items():
        rows[i][header.index(column)] = value
    _write_rows(raw, table, header, rows)
    return i + 2


def set_cell(raw: Path, table: str, where: dict[str, str], column: str, value: str) -> int:
    """Overwrite one cell of the row matching `where`; return that row's line in the file."""
    return set_cells(raw, table, where, {column: value})


def duplicate_row(raw: Path, table: str, where: dict[str, str]) -> int:
    """Insert a copy of the row matching `where` right after it; return the copy's line."""
    header, rows = _rows(raw, table)
    i = _find(header, rows, where)
    rows.insert(i + 1, list(rows[i]))
    _write_rows(raw, table, header, rows)
    return i + 3


def append_row(raw: Path, table: str, cells: dict[str, str]) -> int:
    """Append a row (cells by column, others blank); return its line."""
    header, rows = _rows(raw, table)
    _write_rows(raw, table, header, [*rows, [cells.get(c, "") for c in header]])
    return len(rows) + 2


def fill_new_column(raw: Path, table: str, where: dict[str, str], column: str, value: str) -> int:
    """Add an optional column, blank, and fill it in the row matching `where`; return its line."""
    add_column(raw, table, column, "")
    return set_cell(raw, table, where, column, value)


def add_column(raw: Path, table: str, column: str, value: str) -> int:
    """Append a column (same value in every row); the header is line 1."""
    header, rows = _rows(raw, table)
    _write_rows(raw, table, [*header, column], [[*r, value] for r in rows])
    return 1


def drop_column(raw: Path, table: str, column: str, keep_in_rows: bool = False) -> int:
    """Remove a column from the header and (unless `keep_in_rows`) from every row."""
    header, rows = _rows(raw, table)
    j = header.index(column)
    rows = rows if keep_in_rows else [r[:j] + r[j + 1 :] for r in rows]
    _write_rows(raw, table, header[:j] + header[j + 1 :], rows)
    return 1


def replace_text(raw: Path, table: str, old: str, new: str) -> int:
    """Replace the one occurrence of `old` in the file's text; return its line."""
    path = raw_file(raw, table)
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {table}"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return text[: text.index(old)].count("\n") + 1


def write_bytes(raw: Path, table: str, data: bytes, line: int | None) -> int | None:
    raw_file(raw, table).write_bytes(data)
    return line


def reencode(raw: Path, table: str, encoding: str) -> int:
    """Save the file in another encoding (as a spreadsheet might); return the first non-ASCII line."""
    path = raw_file(raw, table)
    text = path.read_text(encoding="utf-8")
    path.write_bytes(text.encode(encoding, errors="replace"))
    return next(n for n, line in enumerate(text.splitlines(), 1) if not line.isascii())


def swap_cells(
    raw: Path, table: str, first: dict[str, str], second: dict[str, str], column: str
) -> int:
    """Swap one column's values between two rows; return the second row's line."""
    header, rows = _rows(raw, table)
    i, k, j = _find(header, rows, first), _find(header, rows, second), header.index(column)
    rows[i][j], rows[k][j] = rows[k][j], rows[i][j]
    _write_rows(raw, table, header, rows)
    return k + 2


# --- the corpus ---------------------------------------------------------------------------------

#: Rows the variants edit, found by their key cells (not by position, so edits to data/raw follow).
HR_V1 = {"timepoint": "visit1", "parameter": "heart_rate", "source": "Table 1"}
NT_V1 = {"timepoint": "visit1", "parameter": "nt_probnp", "source": "Table 1"}
EDV_V1 = {"timepoint": "visit1", "parameter": "lv_edv", "source": "Table 1"}
ESV_V1 = {"timepoint": "visit1", "parameter": "lv_esv", "source": "Table 1"}
ESV_MRI = {
    "timepoint": "mri_after",
    "method": "endocardial",
    "parameter": "lv_esv",
    "source": "Table 2",
}
LVEF_V4 = {"timepoint": "visit4", "parameter": "lvef", "source": "Table 1"}
SBP_V3 = {"timepoint": "visit3", "parameter": "sbp", "source": "Table 1"}
DBP_V1 = {"timepoint": "visit1", "parameter": "dbp", "source": "Table 1"}
DBP_V3 = {"timepoint": "visit3", "parameter": "dbp", "source": "Table 1"}
SVI_BV = {"timepoint": "mri_after", "method": "blood_volume", "parameter": "stroke_volume_index"}
CASE = {"case_id": "LAT2026-01"}
VISIT2 = {"timepoint": "visit2"}
VISIT3 = {"timepoint": "visit3"}
LVEF_DICT = {"parameter": "lvef"}
RANGE_CLAIM = {"claim_id": "range_lvef_mri_before"}
MASS_CLAIM = {"claim_id": "lv_mass_decreased"}
M, C, T, I, D = "measurements", "cases", "timepoints", "infusions", "dictionary"  # noqa: E741


def _add_constant(raw: Path, row: str) -> int:
    """Write constants.csv with one row; return its line."""
    header = "constant,value,unit,citation,description"
    raw_file(raw, "constants").write_text(f"{header}\n{row}\n", encoding="utf-8")
    return 2


@dataclass(frozen=True)
class Variant:
    """One mistake: how to make it in a copy of data/raw, and what the report must say about it."""

    name: str
    table: str
    make: Callable[[Path], int | None]  # returns the line of the mistake
    column: str | None
    check: str  # words of the check, as the report prints them


def _v(
    name: str, table: str, make: Callable[[Path], int | None], column: str | None, check: str
) -> Variant:
    return Variant(name, table, make, column, check)


KEY = "case_id+timepoint+modality+method+parameter+source"
NUMBER = "is a number as printed"
WIDTH = "row has 10 fields like the header"
CORPUS: list[Variant] = [
    # measurements.csv: types and printed numbers
    _v(
        "value is a word",
        M,
        lambda r: set_cell(r, M, HR_V1, "value", "ninety-two"),
        "value",
        NUMBER,
    ),
    _v(
        "value carries its unit",
        M,
        lambda r: set_cell(r, M, HR_V1, "value", "92 bpm"),
        "value",
        NUMBER,
    ),
    _v("value is NA", M, lambda r: set_cell(r, M, HR_V1, "value", "NA"), "value", NUMBER),
    _v("value is blank", M, lambda r: set_cell(r, M, HR_V1, "value", ""), "value", "is not blank"),
    _v(
        "value in exponent notation",
        M,
        lambda r: set_cell(r, M, NT_V1, "value", "1.2567e4"),
        "value",
        NUMBER,
    ),
    _v(
        "decimal comma, quoted",
        M,
        lambda r: set_cell(r, M, SVI_BV, "value", "38,64"),
        "value",
        NUMBER,
    ),
    _v(
        "decimal comma, unquoted",
        M,
        lambda r: replace_text(r, M, ",38.64,", ",38,64,"),
        "value",
        WIDTH,
    ),
    _v(
        "thousands comma, quoted",
        M,
        lambda r: set_cell(r, M, NT_V1, "value", "12,567"),
        "value",
        NUMBER,
    ),
    _v(
        "thousands comma, unquoted",
        M,
        lambda r: replace_text(
            r, M, "nt_probnp,12567,,pg/mL,Table 1", "nt_probnp,12,567,,pg/mL,Table 1"
        ),
        "value",
        WIDTH,
    ),
    _v("thousands space", M, lambda r: set_cell(r, M, NT_V1, "value", "12 567"), "value", NUMBER),
    # measurements.csv: plausible ranges from the data dictionary
    _v(
        "heart rate with an extra digit",
        M,
        lambda r: set_cell(r, M, HR_V1, "value", "920"),
        "value",
        "value lies in the data dictionary's plausible range",
    ),
    _v(
        "LVEF as a fraction",
        M,
        lambda r: set_cell(r, M, LVEF_V4, "value", "0.53"),
        "value",
        "value lies in the data dictionary's plausible range",
    ),
    _v(
        "NT-proBNP with an extra zero",
        M,
        lambda r: set_cell(r, M, NT_V1, "value", "125670"),
        "value",
        "value lies in the data dictionary's plausible range",
    ),
    _v(
        "negative volume",
        M,
        lambda r: set_cell(r, M, EDV_V1, "value", "-210"),
        "value",
        "value lies in the data dictionary's plausible range",
    ),
    # measurements.csv: units
    _v(
        "wrong unit",
        M,
        lambda r: set_cell(r, M, NT_V1, "unit", "mmol/L"),
        "unit",
        "unit is the data dictionary's unit for the parameter or converts to it",
    ),
    _v(
        "unit in the wrong case (ML is megalitres)",
        M,
        lambda r: set_cell(r, M, EDV_V1, "unit", "ML"),
        "value",
        "value lies in the data dictionary's plausible range",
    ),
    _v("missing unit", M, lambda r: set_cell(r, M, EDV_V1, "unit", ""), "unit", "is not blank"),
    # measurements.csv: cross-field rules
    _v(
        "ESV above EDV (echo)",
        M,
        lambda r: set_cell(r, M, ESV_V1, "value", "261"),
        "value",
        "ESV is smaller than EDV of the same examination",
    ),
    _v(
        "ESV equal to EDV (MRI)",
        M,
        lambda r: set_cell(r, M, ESV_MRI, "value", "160.8"),
        "value",
        "ESV is smaller than EDV of the same examination",
    ),
    _v(
        "diastolic equal to systolic",
        M,
        lambda r: set_cell(r, M, DBP_V1, "value", "120"),
        "value",
        "systolic is above diastolic pressure of the same reading",
    ),
    _v(
        "systolic and diastolic swapped",
        M,
        lambda r: swap_cells(r, M, SBP_V3, DBP_V3, "value"),
        "value",
        "systolic is above diastolic pressure of the same reading",
    ),
    # measurements.csv: keys and codes
    _v(
        "duplicated measurement", M, lambda r: duplicate_row(r, M, HR_V1), KEY, "is not a duplicate"
    ),
    _v(
        "unknown parameter code",
        M,
        lambda r: set_cell(r, M, HR_V1, "parameter", "heart_rte"),
        "parameter",
        "parameter is in the data dictionary",
    ),
    _v(
        "parameter label instead of code",
        M,
        lambda r: set_cell(r, M, LVEF_V4, "parameter", "LVEF"),
        "parameter",
        "is a lower-case code",
    ),
    _v(
        "blank parameter",
        M,
        lambda r: set_cell(r, M, HR_V1, "parameter", ""),
        "parameter",
        "is not blank",
    ),
    _v(
        "unknown timepoint",
        M,
        lambda r: set_cell(r, M, HR_V1, "timepoint", "visit5"),
        "timepoint",
        "timepoint is in timepoints.csv for this case",
    ),
    _v(
        "space inside a code",
        M,
        lambda r: set_cell(r, M, HR_V1, "timepoint", "visit 1"),
        "timepoint",
        "is a lower-case code",
    ),
    _v(
        "unknown modality",
        M,
        lambda r: set_cell(r, M, EDV_V1, "modality", "echocardiography"),
        "modality",
        "modality is in modalities.csv",
    ),
    _v(
        "unknown method",
        M,
        lambda r: set_cell(r, M, ESV_MRI, "method", "endocardal"),
        "method",
        "method is in methods.csv",
    ),
    _v(
        "unknown qualifier",
        M,
        lambda r: set_cell(r, M, HR_V1, "qualifier", "about"),
        "qualifier",
        "qualifier is in qualifiers.csv",
    ),
    _v(
        "case id missing from cases.csv",
        M,
        lambda r: set_cell(r, M, HR_V1, "case_id", "LAT2026-02"),
        "case_id",
        "case_id is in cases.csv",
    ),
    # measurements.csv: shape of the file
    _v(
        "truncated row",
        M,
        lambda r: replace_text(
            r, M, "visit4,clinical,,dbp,80,,mmHg,Table 1,\n", "visit4,clinical,,dbp,80\n"
        ),
        "qualifier",
        WIDTH,
    ),
    _v(
        "unbalanced quote",
        M,
        lambda r: replace_text(r, M, 'Abstract,"printed as 25,000"', 'Abstract,"printed as 25,000'),
        "note",
        "quotes are balanced",
    ),
    _v(
        "extra unexpected column",
        M,
        lambda r: add_column(r, M, "patient_initials", "I.P."),
        "patient_initials",
        "is an expected column",
    ),
    _v(
        "missing required column",
        M,
        lambda r: drop_column(r, M, "unit"),
        "unit",
        "required column is present",
    ),
    _v(
        "column name lost from the header",
        M,
        lambda r: drop_column(r, M, "unit", keep_in_rows=True),
        None,
        "header names every column",
    ),
    _v(
        "column name duplicated",
        M,
        lambda r: replace_text(r, M, "source,note\n", "source,value\n"),
        "value",
        "column names are unique",
    ),
    _v(
        "semicolon-separated export",
        "methods",
        lambda r: write_bytes(
            r, "methods", raw_file(RAW_DIR, "methods").read_bytes().replace(b",", b";"), 1
        ),
        None,
        "file is comma-separated",
    ),
    _v("Latin-1 bytes", M, lambda r: reencode(r, M, "latin-1"), "unit", "file is UTF-8 text"),
    _v(
        "UTF-16 export",
        "methods",
        lambda r: write_bytes(
            r, "methods", raw_file(RAW_DIR, "methods").read_text().encode("utf-16"), 1
        ),
        None,
        "file is UTF-8 text",
    ),
    _v("empty file", M, lambda r: write_bytes(r, M, b"", 1), None, "file is not empty"),
    _v(
        "header only",
        M,
        lambda r: write_bytes(r, M, raw_file(RAW_DIR, M).read_bytes().split(b"\n")[0] + b"\n", 2),
        None,
        "file has at least one data row",
    ),
    _v("missing file", M, lambda r: raw_file(r, M).unlink(), None, "file exists"),
    # cases.csv: types, vocabularies and direct identifiers
    _v(
        "patient name column",
        C,
        lambda r: add_column(r, C, "patient_name", "Ivan Petrov"),
        "patient_name",
        "is an expected column",
    ),
    _v(
        "e-mail address in the case table",
        C,
        lambda r: set_cell(r, C, CASE, "source", "ivan.petrov@mail.ru"),
        "source",
        "holds no e-mail address or exact date",
    ),
    _v(
        "exact birth date in free text",
        C,
        lambda r: set_cell(r, C, CASE, "diagnosis", "dilated cardiomyopathy, born 14.03.2000"),
        "diagnosis",
        "holds no e-mail address or exact date",
    ),
    _v(
        "exact date instead of month",
        C,
        lambda r: set_cell(r, C, CASE, "symptom_onset", "2022-01-15"),
        "symptom_onset",
        "is a YYYY-MM or YYYY date",
    ),
    _v(
        "person's name as case id",
        C,
        lambda r: set_cell(r, C, CASE, "case_id", "Ivan Petrov"),
        "case_id",
        "is a case code",
    ),
    _v(
        "age with its unit",
        C,
        lambda r: set_cell(r, C, CASE, "age_years", "22 years"),
        "age_years",
        "is a whole number",
    ),
    _v(
        "age out of range",
        C,
        lambda r: set_cell(r, C, CASE, "age_years", "220"),
        "age_years",
        "is at most 120",
    ),
    _v(
        "sex as a letter",
        C,
        lambda r: set_cell(r, C, CASE, "sex", "M"),
        "sex",
        "is one of the allowed values",
    ),
    _v(
        "NYHA class as a Roman numeral",
        C,
        lambda r: set_cell(r, C, CASE, "nyha_class_at_admission", "IV"),
        "nyha_class_at_admission",
        "is a whole number",
    ),
    _v(
        "NYHA class 5",
        C,
        lambda r: set_cell(r, C, CASE, "nyha_class_at_admission", "5"),
        "nyha_class_at_admission",
        "is at most 4",
    ),
    _v(
        "sex blank",
        C,
        lambda r: set_cell(r, C, CASE, "sex", ""),
        "sex",
        "is not blank",
    ),
    _v("duplicated case", C, lambda r: duplicate_row(r, C, CASE), "case_id", "is unique"),
    # timepoints.csv
    _v(
        "visit date out of order",
        T,
        lambda r: set_cell(r, T, VISIT3, "date", "2022-10"),
        "date",
        "date equals the first infusion's month plus months_after_first_infusion",
    ),
    _v(
        "negative months",
        T,
        lambda r: set_cell(r, T, VISIT2, "months_after_first_infusion", "-4"),
        "months_after_first_infusion",
        "is at least 0",
    ),
    _v(
        "date with a day",
        T,
        lambda r: set_cell(r, T, VISIT2, "date", "2022-12-15"),
        "date",
        "is a YYYY-MM or YYYY date",
    ),
    _v(
        "date as MM/YYYY",
        T,
        lambda r: set_cell(r, T, VISIT2, "date", "12/2022"),
        "date",
        "is a YYYY-MM or YYYY date",
    ),
    _v(
        "duplicated timepoint",
        T,
        lambda r: duplicate_row(r, T, VISIT2),
        "case_id+timepoint",
        "is not a duplicate",
    ),
    _v(
        "case id typo in timepoints",
        T,
        lambda r: set_cell(r, T, VISIT2, "case_id", "LAT2026-1"),
        "case_id",
        "case_id is in cases.csv",
    ),
    # infusions.csv
    _v(
        "infusions numbered out of visit order",
        I,
        lambda r: swap_cells(r, I, VISIT3, VISIT2, "infusion"),
        "infusion",
        "infusions are numbered in the order of their months",
    ),
    _v(
        "negative cell count",
        I,
        lambda r: set_cell(r, I, VISIT2, "cells_million", "-100"),
        "cells_million",
        "is greater than 0",
    ),
    _v(
        "cells as an absolute count",
        I,
        lambda r: set_cell(r, I, VISIT2, "cells_million", "100000000"),
        "cells_million",
        "is at most 10000",
    ),
    _v(
        "infusion at an unknown timepoint",
        I,
        lambda r: set_cell(r, I, VISIT2, "timepoint", "visit0"),
        "timepoint",
        "timepoint is in timepoints.csv for this case",
    ),
    _v(
        "infusion number as a word",
        I,
        lambda r: set_cell(r, I, VISIT2, "infusion", "second"),
        "infusion",
        "is a whole number",
    ),
    # dictionary.csv, claims.csv, methods.csv, table_layout.csv
    _v(
        "plausible range reversed",
        D,
        lambda r: set_cells(r, D, LVEF_DICT, {"min": "95", "max": "1"}),
        "min+max",
        "plausible range has min < max",
    ),
    _v(
        "decimals as a word",
        D,
        lambda r: set_cell(r, D, LVEF_DICT, "decimals", "none"),
        "decimals",
        "is a whole number",
    ),
    _v(
        "duplicated dictionary entry",
        D,
        lambda r: duplicate_row(r, D, LVEF_DICT),
        "parameter",
        "is unique",
    ),
    _v(
        "range claim without its high value",
        "claims",
        lambda r: set_cell(r, "claims", RANGE_CLAIM, "stated_high", ""),
        "stated_low+stated_high",
        "a range claim states its low and high value",
    ),
    _v(
        "change claim without its start",
        "claims",
        lambda r: set_cell(r, "claims", MASS_CLAIM, "from_timepoint", ""),
        "from_timepoint",
        "a change claim names its start timepoint",
    ),
    _v(
        "claim about an unknown parameter",
        "claims",
        lambda r: set_cell(r, "claims", MASS_CLAIM, "parameter", "lv_massa"),
        "parameter",
        "parameter is in the data dictionary",
    ),
    _v(
        "duplicated method",
        "methods",
        lambda r: duplicate_row(r, "methods", {"method": "endocardial"}),
        "method",
        "is unique",
    ),
    _v(
        "check kind named twice",
        "checks",
        lambda r: duplicate_row(r, "checks", {"check": "repeated_value"}),
        "check",
        "is unique",
    ),
    _v(
        "table row numbered twice",
        "table_layout",
        lambda r: set_cell(r, "table_layout", {"table": "table1", "row": "3"}, "row", "2"),
        "case_id+table+row",
        "is not a duplicate",
    ),
    # formulas.csv (the audit's identities; their units are checked when the audit loads them)
    _v(
        "formula of an unknown scope",
        "formulas",
        lambda r: set_cell(r, "formulas", {"check": "sv_from_volumes"}, "scope", "visit"),
        "scope",
        "is one of the allowed values",
    ),
    _v(
        "formula softness as a word",
        "formulas",
        lambda r: set_cell(r, "formulas", {"check": "sv_from_volumes"}, "soft", "yes"),
        "soft",
        "is one of the allowed values",
    ),
    _v(
        "formula check named twice",
        "formulas",
        lambda r: duplicate_row(r, "formulas", {"check": "sv_from_volumes"}),
        "check",
        "is unique",
    ),
    _v(
        "table row that shows no value",
        "table_layout",
        lambda r: set_cell(r, "table_layout", {"table": "table1", "row": "2"}, "source", "Table 9"),
        "parameter+source",
        "row shows at least one value",
    ),
    _v(
        "two table rows showing the same values",
        "table_layout",
        lambda r: set_cell(r, "table_layout", {"table": "table2", "row": "2"}, "parameter", "lvef"),
        "parameter+source",
        "no cell of the row holds two values",
    ),
    _v(
        "table row with a parameter but no source",
        "table_layout",
        lambda r: set_cell(r, "table_layout", {"table": "table1", "row": "2"}, "source", ""),
        "parameter+source+modality",
        "a row names both parameter and source, or neither",
    ),
    _v(
        "heading row (no parameter, no source) that names a modality",
        "table_layout",
        lambda r: set_cells(
            r, "table_layout", {"table": "table1", "row": "2"}, {"parameter": "", "source": ""}
        ),
        "parameter+source+modality",
        "a row names both parameter and source, or neither",
    ),
    _v(
        "table layout of an unknown case",
        "table_layout",
        lambda r: set_cell(r, "table_layout", {"table": "table1", "row": "2"}, "case_id", "X-1"),
        "case_id",
        "case_id is blank (every case) or in cases.csv",
    ),
    # paper_tables.csv, modalities.csv, qualifiers.csv, reference_ranges.csv
    _v(
        "heading of a table the layout does not have",
        "paper_tables",
        lambda r: set_cell(r, "paper_tables", {"table": "table2"}, "table", "table3"),
        "table",
        "table is in table_layout.csv",
    ),
    _v(
        "change column neither yes nor no",
        "paper_tables",
        lambda r: set_cell(r, "paper_tables", {"table": "table2"}, "change", "true"),
        "change",
        "is one of the allowed values",
    ),
    _v(
        "modality listed twice",
        "modalities",
        lambda r: duplicate_row(r, "modalities", {"modality": "echo"}),
        "modality",
        "is unique",
    ),
    _v(
        "qualifier with an unknown meaning",
        "qualifiers",
        lambda r: set_cell(r, "qualifiers", {"qualifier": "more than"}, "means", "above"),
        "means",
        "is one of the allowed values",
    ),
    _v(
        "reference range in a unit that does not convert",
        "reference_ranges",
        lambda r: append_row(
            r,
            "reference_ranges",
            {
                "case_id": "LAT2026-01",
                "parameter": "crp",
                "high": "5",
                "unit": "mmol/L",
                "source": "Table 3",
            },
        ),
        "unit",
        "unit is the data dictionary's unit for the parameter or converts to it",
    ),
    _v(
        "reference range with low above high",
        "reference_ranges",
        lambda r: append_row(
            r,
            "reference_ranges",
            {
                "case_id": "LAT2026-01",
                "parameter": "crp",
                "low": "5",
                "high": "1",
                "unit": "mg/L",
                "source": "Table 3",
            },
        ),
        "low+high",
        "a reference range has a low or a high end, low below high",
    ),
    _v(
        "claim citing a reference range the paper does not print",
        "claims",
        lambda r: set_cell(
            r, "claims", {"claim_id": "sv_within_normal"}, "criterion", "reference_range"
        ),
        "criterion",
        "criterion 'reference_range' has a row in reference_ranges.csv",
    ),
    _v(
        "intervention at a timepoint the case does not have",
        "interventions",
        lambda r: append_row(
            r,
            "interventions",
            {
                "case_id": "LAT2026-01",
                "intervention": "1",
                "timepoint": "visit9",
                "name": "Furosemide",
                "source": "Treatment",
            },
        ),
        "timepoint",
        "timepoint is in timepoints.csv for this case",
    ),
    # new measurement and timepoint rules
    _v(
        "range whose high end is below its low end",
        M,
        lambda r: fill_new_column(r, M, HR_V1, "value_high", "60"),
        "value_high",
        "value_high lies in the plausible range and is not below value",
    ),
    _v(
        "offset without the timepoint it counts from",
        "timepoints",
        lambda r: fill_new_column(
            r, "timepoints", {"timepoint": "echo_followup"}, "offset_months", "-3"
        ),
        "offset_months+offset+relative_to",
        "an offset names the timepoint it counts from",
    ),
    _v(
        "timepoint with no place in time",
        "timepoints",
        lambda r: set_cell(r, "timepoints", {"timepoint": "echo_followup"}, "date", ""),
        "date+offset_months+relative_to+order",
        "timepoint has a place in time",
    ),
    # constants.csv (a formula's named constants: data/raw has none, the variant adds the file)
    _v(
        "constant whose value is a word",
        "constants",
        lambda r: _add_constant(r, "co2_solubility,about 0.03,mmol/L/mmHg,,CO2 solubility"),
        "value",
        NUMBER,
    ),
]


def sha256s(raw: Path) -> dict[str, str]:
    """SHA-256 of every file in a raw folder."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(raw.iterdir())}


def bad_copy(tmp_path: Path, variant: Variant) -> tuple[Path, int | None]:
    raw = tmp_path / "raw"
    shutil.copytree(RAW_DIR, raw)
    before = sha256s(raw)
    line = variant.make(raw)
    assert sha256s(raw) != before, f"variant {variant.name!r} did not change the data"
    return raw, line


def test_corpus_is_large_and_covers_every_kind_of_file():
    assert len(CORPUS) >= 40
    assert len({v.name for v in CORPUS}) == len(CORPUS)
    assert {v.table for v in CORPUS} == set(RAW_TABLES)


@pytest.mark.parametrize("variant", CORPUS, ids=[v.name for v in CORPUS])
def test_bad_input_is_refused_with_file_line_column_and_check(tmp_path: Path, variant: Variant):
    raw, line = bad_copy(tmp_path, variant)
    before = sha256s(raw)
    with pytest.raises(RawDataError) as caught:
        load_raw(raw, SHOWN)
    assert sha256s(raw) == before, "validation must never touch the raw files"
    report = caught.value.report()
    hits = [
        p
        for p in caught.value.problems
        if p.file == f"{SHOWN}/{variant.table}.csv"
        and p.line == line
        and p.column == variant.column
        and variant.check in p.check
    ]
    assert hits, (
        f"expected {variant.table}.csv line {line} column {variant.column!r}: {variant.check}\n{report}"
    )
    shown = str(hits[0])
    assert f"{SHOWN}/{variant.table}.csv" in shown and variant.check in shown and shown in report
    if line is not None:
        assert f"line {line}," in shown
    if variant.column is not None:
        assert f"column '{variant.column}'" in shown


# --- accepted on purpose ----------------------------------------------------------------------


def _pad_cells(text: str) -> str:
    rows = list(csv.reader(io.StringIO(text)))
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(
        [[f"  {c} " if c else c for c in r] for r in rows]
    )
    return out.getvalue()


HARMLESS = {
    "UTF-8 byte-order mark": lambda data: b"\xef\xbb\xbf" + data,
    "whitespace around every cell": lambda data: _pad_cells(data.decode("utf-8")).encode("utf-8"),
    "Windows line endings": lambda data: data.replace(b"\n", b"\r\n"),
    "all three at once": lambda data: (
        b"\xef\xbb\xbf" + _pad_cells(data.decode()).replace("\n", "\r\n").encode()
    ),
}


@pytest.mark.parametrize("quirk", list(HARMLESS), ids=list(HARMLESS))
def test_harmless_quirks_are_accepted_and_change_nothing(tmp_path: Path, quirk: str, tables):
    raw = tmp_path / "raw"
    raw.mkdir()
    for table in RAW_TABLES:
        raw_file(raw, table).write_bytes(HARMLESS[quirk](raw_file(RAW_DIR, table).read_bytes()))
    assert sha256s(raw) != sha256s(RAW_DIR)
    accepted = load_raw(raw)
    assert accepted.keys() == tables.keys()
    for name, frame in tables.items():
        pd.testing.assert_frame_equal(accepted[name], frame, check_exact=True)


def test_every_problem_is_reported_in_one_run(tmp_path: Path):
    """A broken case table or an unreadable value does not hide cross-table problems elsewhere."""
    raw = tmp_path / "raw"
    shutil.copytree(RAW_DIR, raw)
    mistakes = {
        (f"{SHOWN}/measurements.csv", set_cell(raw, M, ESV_V1, "value", "261"), "value"),
        (f"{SHOWN}/measurements.csv", set_cell(raw, M, NT_V1, "unit", "mmol/L"), "unit"),
        (f"{SHOWN}/measurements.csv", set_cell(raw, M, HR_V1, "value", "NA"), "value"),
        (f"{SHOWN}/cases.csv", set_cell(raw, C, CASE, "sex", "M"), "sex"),
    }
    with pytest.raises(RawDataError) as caught:
        load_raw(raw, SHOWN)
    assert {(p.file, p.line, p.column) for p in caught.value.problems} == mistakes
    assert caught.value.report().endswith(
        f"{len(caught.value.problems)} problem(s). Fix data/raw (an explicit commit) and rerun."
    )


# --- malformed config.yaml --------------------------------------------------------------------


def _config() -> dict:
    return yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))


BAD_CONFIGS: dict[str, tuple[Callable[[dict], None], str]] = {
    "unknown top-level key": (lambda c: c.update(raw_directory="data/raw"), "raw_directory"),
    "unknown threshold key": (
        lambda c: c["thresholds"]["lvef"].update(reduced_maximum=40),
        "reduced_maximum",
    ),
    "threshold as text": (
        lambda c: c["thresholds"]["nt_probnp"].update(rule_out_below="125 pg/mL"),
        "rule_out_below",
    ),
    "threshold out of range": (
        lambda c: c["thresholds"]["lvef"].update(reduced_max=400),
        "reduced_max",
    ),
    "negative threshold": (
        lambda c: c["thresholds"]["nt_probnp"].update(rule_out_below=-125),
        "rule_out_below",
    ),
    "required threshold missing": (
        lambda c: c["thresholds"]["heart_rate"].pop("resting_high"),
        "resting_high",
    ),
    "citation with a space": (
        lambda c: c["thresholds"]["lvef"].update(citation="Bozkurt 2021"),
        "citation",
    ),
    "raw_dir as a list": (lambda c: c.update(raw_dir=["data/raw"]), "raw_dir"),
}


def test_the_shipped_config_is_valid():
    validate_config(_config(), str(CONFIG_SCHEMA))


@pytest.mark.parametrize("mistake", list(BAD_CONFIGS), ids=list(BAD_CONFIGS))
def test_malformed_config_is_refused_naming_the_key(mistake: str):
    config = _config()
    edit, key = BAD_CONFIGS[mistake]
    edit(config)
    with pytest.raises(WorkflowError) as caught:
        validate_config(config, str(CONFIG_SCHEMA))
    assert key in str(caught.value)


# --- through the real snakemake ----------------------------------------------------------------

E2E_MISTAKES = {
    # Several schema mistakes in different files: all reported in one run.
    "schema mistakes": [
        CORPUS[i]
        for i, v in enumerate(CORPUS)
        if v.name
        in {
            "ESV above EDV (echo)",
            "thousands comma, quoted",
            "e-mail address in the case table",
            "infusions numbered out of visit order",
        }
    ],
    # A file that cannot be read at all.
    "unreadable file": [v for v in CORPUS if v.name == "Latin-1 bytes"],
}


@pytest.mark.e2e
@pytest.mark.parametrize("scenario", list(E2E_MISTAKES), ids=list(E2E_MISTAKES))
def test_snakemake_refuses_bad_raw_data_cleanly(tmp_path: Path, scenario: str):
    root = copy_repo(tmp_path / "repo")
    raw = root / SHOWN
    expected = [(v, v.make(raw)) for v in E2E_MISTAKES[scenario]]
    before = sha256s(raw)
    result = run_snakemake(root, check=False)
    assert result.returncode != 0
    assert "Raw data failed validation; nothing was written." in result.stderr
    assert "Traceback (most recent call last)" not in result.stderr
    for variant, line in expected:
        where = f"{SHOWN}/{variant.table}.csv, line {line}, column '{variant.column}': check '{variant.check}"
        assert where in result.stderr
    assert not (root / "results" / "validated").exists()
    assert not (root / "results" / "tables").exists()
    assert sha256s(raw) == before
    log = (root / "results" / "logs" / "validate_raw.log").read_text(encoding="utf-8")
    assert log.startswith("Raw data failed validation")


@pytest.mark.e2e
def test_snakemake_refuses_a_malformed_config_naming_the_key(tmp_path: Path):
    root = copy_repo(tmp_path / "repo")
    config = root / "config.yaml"
    config.write_text(
        config.read_text(encoding="utf-8").replace("reduced_max: 40", "reduced_max: 400"),
        encoding="utf-8",
    )
    result = run_snakemake(root, check=False)
    assert result.returncode != 0
    assert "reduced_max" in result.stderr and "400" in result.stderr
    assert not (root / "results").exists()
