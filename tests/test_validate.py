"""The paper's data pass validation; typical mistakes are refused with file, line, column and check."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
import second_case
from caserepro import schemas
from caserepro.errors import RawDataError
from caserepro.paths import RAW_TABLES
from caserepro.raw import read_raw_table
from caserepro.relations import as_text
from caserepro.validate import (
    _typed_quickly,
    load_raw,
    read_raw_folder,
    validate_tables,
    write_validated,
)
from conftest import RAW_DIR
from pandera.errors import SchemaErrors


def rows_in(table: str) -> int:
    """Data rows of a raw file; an optional table's absent file has none."""
    path = RAW_DIR / f"{table}.csv"
    return len(pd.read_csv(path, dtype=str)) if path.exists() else 0


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
    read = read_paper_tables()[table]
    model = schemas.TABLE_SCHEMAS[table]
    quick, validated = _typed_quickly(model, read), model.validate(read.frame, lazy=True)
    text = [c for c, dtype in validated.dtypes.items() if dtype == "str"]
    assert text == [c for c, dtype in quick.dtypes.items() if dtype == "category"]
    pd.testing.assert_frame_equal(as_text(quick), validated, check_exact=True)


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


def read_paper_tables() -> dict:
    return read_raw_folder(RAW_DIR, {table: f"raw/{table}.csv" for table in RAW_TABLES})[0]


def test_tables_as_categories_hold_the_same_values(tables):
    names = {table: f"raw/{table}.csv" for table in RAW_TABLES}
    raw = read_paper_tables()
    coded = validate_tables(raw, names, text_as_categories=True)
    assert raw == {}  # each table's text was let go once checked
    for table, frame in tables.items():
        text = [
            c for c, dtype in coded[table].dtypes.items() if isinstance(dtype, pd.CategoricalDtype)
        ]
        assert text == [c for c, dtype in frame.dtypes.items() if dtype == "str"]
        as_text = coded[table].astype(dict.fromkeys(text, "str"))
        pd.testing.assert_frame_equal(as_text, frame)


def test_meanwhile_sees_the_validated_tables_before_the_checks_across_tables_end(tables):
    names = {table: f"raw/{table}.csv" for table in RAW_TABLES}
    seen = {}
    result = validate_tables(read_paper_tables(), names, meanwhile=seen.update)
    assert seen.keys() == result.keys()
    pd.testing.assert_frame_equal(seen["measurements"], tables["measurements"])

    def fails(_):
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        validate_tables(read_paper_tables(), names, meanwhile=fails)


def test_meanwhile_is_not_called_when_a_table_fails_alone(tmp_path):
    raw = shutil.copytree(RAW_DIR, tmp_path / "raw")
    frame = pd.read_csv(raw / "cases.csv", dtype=str, keep_default_na=False)
    frame.loc[0, "sex"] = "unknown"
    frame.to_csv(raw / "cases.csv", index=False, lineterminator="\n")
    called = []
    with pytest.raises(RawDataError):
        load_raw(raw, display_dir="raw", meanwhile=called.append)
    assert called == []


def test_write_validated_writes_every_table_or_nothing(tmp_path):
    outputs = {table: tmp_path / "validated" / f"{table}.parquet" for table in RAW_TABLES}
    (tmp_path / "validated").mkdir()
    tables = write_validated(RAW_DIR, outputs)
    expected = load_raw(RAW_DIR)
    for table in RAW_TABLES:  # read back as the text the other stages have always read
        written = pd.read_parquet(outputs[table])
        pd.testing.assert_frame_equal(written, expected[table])
        assert len(tables[table]) == len(expected[table])
    assert sorted(p.name for p in (tmp_path / "validated").iterdir()) == sorted(
        p.name for p in outputs.values()
    )
    # ESV above EDV fails only in the checks across tables, after the writing has begun.
    raw = tmp_path / "raw"
    shutil.copytree(RAW_DIR, raw)
    frame = pd.read_csv(raw / "measurements.csv", dtype=str, keep_default_na=False)
    hit = (
        (frame.timepoint == "visit3") & (frame.parameter == "lv_esv") & (frame.source == "Table 1")
    )
    frame.loc[hit, "value"] = "200"
    frame.to_csv(raw / "measurements.csv", index=False, lineterminator="\n")
    fresh = {table: tmp_path / "again" / f"{table}.parquet" for table in RAW_TABLES}
    (tmp_path / "again").mkdir()
    with pytest.raises(RawDataError, match="ESV is smaller than EDV"):
        write_validated(raw, fresh)
    assert list((tmp_path / "again").iterdir()) == []


# --- a format that fits real papers -----------------------------------------------------------


def test_optional_tables_may_be_absent_or_a_header_alone(tmp_path):
    folder = second_case.write_alone(RAW_DIR, tmp_path / "second")
    (folder / "claims.csv").write_text(
        (RAW_DIR / "claims.csv").read_text(encoding="utf-8").splitlines()[0] + "\n",
        encoding="utf-8",
    )
    tables = load_raw(folder)
    assert not (folder / "infusions.csv").exists()
    assert {t: len(tables[t]) for t in ("infusions", "claims", "methods", "reference_ranges")} == {
        "infusions": 0,
        "claims": 0,
        "methods": 0,
        "reference_ranges": 0,
    }
    assert list(tables["infusions"].columns) == list(schemas.InfusionTable.to_schema().columns)


def test_a_case_without_admission_month_or_nyha_class_validates(tmp_path):
    cases = load_raw(second_case.write_alone(RAW_DIR, tmp_path / "second"))["cases"]
    assert cases[["admission", "nyha_class_at_admission"]].isna().all(axis=None)


def test_a_required_table_missing_is_reported_with_the_cell_problems_of_the_others(tmp_path):
    raw = shutil.copytree(RAW_DIR, tmp_path / "raw")
    (raw / "dictionary.csv").unlink()
    (raw / "claims.csv").write_bytes("claim_id,case_id\nx,\xe9\n".encode("latin-1"))
    frame = pd.read_csv(raw / "cases.csv", dtype=str, keep_default_na=False)
    frame.loc[0, "sex"] = "M"
    frame.to_csv(raw / "cases.csv", index=False, lineterminator="\n")
    with pytest.raises(RawDataError) as caught:
        load_raw(raw, display_dir="elsewhere/raw")
    found = {(p.file, p.line, p.column) for p in caught.value.problems}
    assert found == {
        ("elsewhere/raw/dictionary.csv", None, None),
        ("elsewhere/raw/claims.csv", 2, "case_id"),
        ("elsewhere/raw/cases.csv", 2, "sex"),
    }
    assert caught.value.report().endswith("Fix elsewhere/raw (an explicit commit) and rerun.")


def test_unit_and_range_problems_say_what_was_expected(tmp_path):
    def edit(frame):
        hit = (frame.parameter == "lv_edv") & (frame.timepoint == "visit1")
        hit &= frame.source == "Table 1"
        frame.loc[hit, "unit"] = "mmHg"
        edv = (frame.parameter == "lv_esv") & (frame.timepoint == "visit1")
        frame.loc[edv & (frame.source == "Table 1"), ["value", "unit"]] = ["1.61", "L"]
        return frame

    problems = problems_after(tmp_path, "measurements", edit)
    assert any(
        "column 'unit'" in p
        and "failed for value 'mmHg' (expected 'mL' or a unit that converts" in p
        for p in problems
    )
    assert any(
        "failed for value '1.61' (expected 5 to 600 mL; it is 1610 mL in L)" in p for p in problems
    )


def test_a_value_in_another_unit_is_accepted_and_checked_in_the_dictionarys_unit(tmp_path):
    def in_litres(frame):
        hit = (frame.parameter == "lv_edv") & (frame.timepoint == "visit1")
        frame.loc[hit & (frame.source == "Table 1"), ["value", "unit"]] = ["0.150", "L"]
        return frame

    # 0.150 L is 150 mL, below the ESV of 161 mL of the same examination: the rule sees mL.
    problems = problems_after(tmp_path, "measurements", in_litres)
    assert len(problems) == 1 and "ESV is smaller than EDV" in problems[0]


def test_timepoints_are_ordered_by_date_offset_or_order(tmp_path):
    tables = load_raw(second_case.write_alone(RAW_DIR, tmp_path / "second"))
    t = tables["timepoints"].set_index("timepoint")["sequence"]
    assert t.to_dict() == {"onset": 1, "m6": 3, "baseline": 2}
    paper = load_raw(RAW_DIR)["timepoints"].sort_values("sequence")["timepoint"].tolist()
    assert paper[:2] == ["mri_before", "visit1"] and paper[-1] == "echo_followup"


def test_an_order_given_for_some_timepoints_of_a_case_only_is_refused(tmp_path):
    def partly_ordered(frame):
        return frame.assign(order=["1"] + [""] * (len(frame) - 1))

    problems = problems_after(tmp_path, "timepoints", partly_ordered)
    assert len(problems) == len(pd.read_csv(RAW_DIR / "timepoints.csv")) - 1
    assert all("order is given for every timepoint of the case or for none" in p for p in problems)


def test_a_paper_reference_range_is_validated_in_the_dictionarys_unit(tmp_path):
    folder = second_case.write_alone(RAW_DIR, tmp_path / "second")
    (folder / "reference_ranges.csv").write_text(
        "case_id,parameter,low,high,unit,source\n"
        f"{second_case.CASE},lv_edd,3.5,5.6,cm,Table 1 footnote\n",
        encoding="utf-8",
    )
    ranges = load_raw(folder)["reference_ranges"]
    assert ranges[["low", "high", "low_num", "high_num"]].values.tolist() == [
        ["3.5", "5.6", 35.0, 56.0]
    ]
