"""The paper's data pass validation; typical mistakes are refused with file, line, column and check."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
from caserepro import schemas
from caserepro.errors import RawDataError
from caserepro.paths import RAW_TABLES
from caserepro.raw import read_raw_table
from caserepro.validate import _typed_quickly, load_raw
from conftest import RAW_DIR
from pandera.errors import SchemaErrors


def rows_in(table: str) -> int:
    return len(pd.read_csv(RAW_DIR / f"{table}.csv", dtype=str))


def test_paper_data_validate_with_every_row(tables):
    assert {name: len(frame) for name, frame in tables.items()} == {
        t: rows_in(t) for t in RAW_TABLES
    }


def test_measurements_keep_printed_precision(tables):
    m = tables["measurements"]
    esv = m[
        (m["source"] == "Table 2") & (m["parameter"] == "lv_esv") & (m["timepoint"] == "mri_before")
    ]
    assert esv.set_index("method").loc[
        "endocardial", ["value", "value_num", "decimals"]
    ].tolist() == ["264.0", 264.0, 1]


def problems_after(tmp_path, table: str, edit) -> list[str]:
    raw = shutil.copytree(RAW_DIR, tmp_path / "raw")
    path = raw / f"{table}.csv"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    edit(frame).to_csv(path, index=False, lineterminator="\n")
    with pytest.raises(RawDataError) as caught:
        load_raw(raw, display_dir="raw")
    return [str(p) for p in caught.value.problems]


def test_esv_not_below_edv_is_refused(tmp_path):
    def esv_above_edv(frame):
        hit = (
            (frame.timepoint == "visit3")
            & (frame.parameter == "lv_esv")
            & (frame.source == "Table 1")
        )
        frame.loc[hit, "value"] = "200"
        return frame

    problems = problems_after(tmp_path, "measurements", esv_above_edv)
    line = (
        1
        + 1
        + pd.read_csv(RAW_DIR / "measurements.csv", dtype=str).pipe(
            lambda f: f.index[
                (f.timepoint == "visit3") & (f.parameter == "lv_esv") & (f.source == "Table 1")
            ][0]
        )
    )
    assert problems == [
        f"raw/measurements.csv, line {line}, column 'value': check 'ESV is smaller than EDV of the same "
        "examination' failed for value '200'"
    ]


def test_email_in_case_table_is_refused(tmp_path):
    problems = problems_after(
        tmp_path, "cases", lambda f: f.assign(diagnosis="see patient.s@example.org")
    )
    assert problems == [
        "raw/cases.csv, line 2, column 'diagnosis': check 'holds no e-mail address or exact date "
        "(direct identifiers)' failed for value 'see patient.s@example.org'"
    ]


def test_name_column_in_case_table_is_refused(tmp_path):
    problems = problems_after(tmp_path, "cases", lambda f: f.assign(name="Patient S"))
    assert problems == [
        "raw/cases.csv, line 1, column 'name': check 'is an expected column (unexpected columns, "
        "e.g. names or e-mails, are refused)' failed for value 'name'"
    ]


@pytest.mark.parametrize("table", RAW_TABLES)
def test_quick_check_types_every_table_exactly_like_pandera(table):
    read = read_raw_table(RAW_DIR / f"{table}.csv")
    model = schemas.TABLE_SCHEMAS[table]
    pd.testing.assert_frame_equal(
        _typed_quickly(model, read), model.validate(read.frame, lazy=True), check_exact=True
    )


def test_quick_check_leaves_texts_that_coerce_to_a_duplicate_key_to_pandera(tmp_path):
    path = tmp_path / "table_layout.csv"
    frame = pd.read_csv(RAW_DIR / "table_layout.csv", dtype=str, keep_default_na=False)
    frame.loc[1, ["table", "row"]] = frame.loc[0, ["table", "row"]].tolist()
    frame.loc[1, "row"] = "+" + frame.loc[1, "row"]  # '+1' and '1' are the same row number
    frame.to_csv(path, index=False, lineterminator="\n")
    read = read_raw_table(path)
    assert _typed_quickly(schemas.TableLayoutTable, read) is None
    with pytest.raises(SchemaErrors):
        schemas.TableLayoutTable.validate(read.frame, lazy=True)
