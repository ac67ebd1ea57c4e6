"""Table 1 and Table 2 rebuilt from the validated data match the printed tables cell by cell."""

from __future__ import annotations

import csv
import shutil

import pandas as pd
import pytest
import second_case
from caserepro.bands import reference_range_per_parameter
from caserepro.formatting import format_printed
from caserepro.markup import markdown_text
from caserepro.paths import layout_tables, paper_table_outputs
from caserepro.relations import timepoint_sequence
from caserepro.tables import (
    TableError,
    build_table,
    layout_of,
    reference_range_text,
    table1,
    table2,
    table_keys,
)
from caserepro.validate import load_raw
from conftest import EXPECTED, RAW_DIR, REPO, edit_measurement


def expected_rows(name: str) -> list[list[str]]:
    with open(EXPECTED / f"{name}.csv", encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def grid_rows(grid) -> list[list[str]]:
    return grid.header + grid.body


@pytest.mark.parametrize(("name", "build"), [("table1", table1), ("table2", table2)])
def test_table_matches_the_printed_table_cell_by_cell(tables, name, build):
    assert grid_rows(build(tables)) == expected_rows(name)


def test_blood_pressure_cell_joins_systolic_and_diastolic(tables):
    bp = next(row for row in table1(tables).body if row[0] == "BP, mmHg")
    assert bp[1:] == ["120/80", "125/80", "130/85", "130/80"]


def test_printed_precision_is_kept():
    values = pd.Series([12567.0, 264.0, 38.64, 2.1])
    decimals = pd.Series([0, 1, 2, 1])
    assert format_printed(values, decimals).tolist() == ["12567", "264.0", "38.64", "2.1"]


def test_changing_one_raw_value_changes_exactly_one_table1_cell(tmp_path, tables):
    raw = shutil.copytree(RAW_DIR, tmp_path / "raw")
    edit_measurement(raw, "visit3", "lvef", "Table 1", "31")
    before, after = grid_rows(table1(tables)), grid_rows(table1(load_raw(raw)))
    changed = [
        (r, c) for r, row in enumerate(before) for c, cell in enumerate(row) if after[r][c] != cell
    ]
    assert changed == [(9, 3)]
    assert after[9][3] == "31"


def test_change_arrow_is_derived_from_the_values(tmp_path):
    raw = shutil.copytree(RAW_DIR, tmp_path / "raw")
    edit_measurement(raw, "mri_after", "lv_mass", "Table 2", "300")
    mass = next(row for row in table2(load_raw(raw)).body if row[0] == "LV wall mass, g")
    assert mass[-1] == "↑"


def test_change_arrow_says_mixed_when_methods_disagree(tmp_path):
    raw = shutil.copytree(RAW_DIR, tmp_path / "raw")
    edit_measurement(
        raw, "mri_after", "lvef", "Table 2", "15", method="endocardial"
    )  # 17 -> 15; BV 20 -> 53
    lvef = next(row for row in table2(load_raw(raw)).body if row[0] == "LVEF %")
    assert lvef[-1] == "↕"


def test_markdown_fragment_holds_every_cell(tables):
    grid = table2(tables)
    markdown = grid.to_markdown()
    assert markdown.splitlines()[1] == "|:---|:---|:---|:---|:---|:---|"
    for row in grid.body:
        assert "| " + " | ".join(markdown_text(c) for c in row) + " |" in markdown


# --- tables from the layout alone, per case; a case series is the sum of its cases -------------


def test_a_case_with_one_table_of_its_own_name_and_timing_relative_to_a_timepoint(tmp_path):
    alone = load_raw(second_case.write_alone(RAW_DIR, tmp_path / "second"))
    grid = build_table(alone, "table1", second_case.CASE)
    assert grid_rows(grid) == second_case.EXPECTED_TABLE1


def test_the_series_gives_each_case_the_table_it_gets_alone(tmp_path, tables):
    merged = load_raw(second_case.write_merged(RAW_DIR, tmp_path / "series"))
    alone = load_raw(second_case.write_alone(RAW_DIR, tmp_path / "second"))
    for name in ("table1", "table2"):
        assert grid_rows(build_table(merged, name, "LAT2026-01")) == expected_rows(name)
        assert build_table(merged, name, "LAT2026-01") == build_table(tables, name, "LAT2026-01")
    assert build_table(merged, "table1", second_case.CASE) == build_table(
        alone, "table1", second_case.CASE
    )
    assert grid_rows(build_table(merged, "table1", second_case.CASE)) == (
        second_case.EXPECTED_TABLE1
    )


def test_tables_of_a_series_that_share_a_name_get_a_folder_per_case(tmp_path):
    series = second_case.write_merged(RAW_DIR, tmp_path / "series")
    files = paper_table_outputs("results", layout_tables(series))
    assert {key: f["csv"].as_posix() for key, f in files.items()} == {
        ("LAT2026-01", "table1"): "results/tables/LAT2026-01/table1.csv",
        ("LAT2026-01", "table2"): "results/tables/table2.csv",
        (second_case.CASE, "table1"): f"results/tables/{second_case.CASE}/table1.csv",
    }
    alone = paper_table_outputs("results", layout_tables(RAW_DIR))
    assert [f["csv"].as_posix() for f in alone.values()] == [
        "results/tables/table1.csv",
        "results/tables/table2.csv",
    ]


def test_a_value_in_another_unit_is_printed_as_the_paper_prints_it_and_converted(tmp_path):
    alone = load_raw(second_case.write_alone(RAW_DIR, tmp_path / "second"))
    m = alone["measurements"].set_index("parameter")
    assert m.loc["lv_edd", ["value", "unit_given", "unit", "value_num", "scale"]].tolist() == [
        "6.1",
        "cm",
        "mm",
        61.0,
        10.0,
    ]


def test_a_layout_row_that_matches_no_value_is_an_error_not_a_blank_row(tables):
    layout = tables["table_layout"].copy()
    layout.loc[layout["parameter"] == "heart_rate", "source"] = "Table 9"
    with pytest.raises(TableError, match="Heart rate, bpm"):
        build_table(tables | {"table_layout": layout}, "table1", "LAT2026-01")


def test_a_value_landing_in_two_cells_is_an_error(tables):
    layout = tables["table_layout"].copy()
    layout.loc[(layout["table"] == "table1") & (layout["row"] == 2), "modality"] = pd.NA
    extra = tables["measurements"].iloc[[0]].assign(modality="ecg")  # a second heart rate
    measurements = pd.concat([tables["measurements"], extra], ignore_index=True)
    with pytest.raises(TableError, match="two values"):
        build_table(
            tables | {"table_layout": layout, "measurements": measurements}, "table1", "LAT2026-01"
        )


WANG = REPO / "examples" / "wang2021" / "raw"


@pytest.mark.skipif(not WANG.exists(), reason="examples/wang2021 is not in this checkout")
def test_the_two_real_papers_together_give_each_the_tables_it_gets_alone(tmp_path, tables):
    merged = load_raw(second_case.write_merged(RAW_DIR, tmp_path / "series", WANG))
    wang = load_raw(WANG)
    for case_id, name in table_keys(layout_of(wang)):
        assert build_table(merged, name, case_id) == build_table(wang, name, case_id)
    for name in ("table1", "table2"):
        assert grid_rows(build_table(merged, name, "LAT2026-01")) == expected_rows(name)


KHO = REPO / "examples" / "kho2021" / "raw"


@pytest.fixture(scope="module")
def kho() -> dict[str, pd.DataFrame]:
    return load_raw(KHO)


def _blood_gases(tables: dict[str, pd.DataFrame]) -> list[list[str]]:
    return grid_rows(build_table(tables, "blood_gases", "KHO2021-01"))


def test_heading_rows_a_blank_corner_and_a_ranges_column_as_the_paper_prints_them(kho):
    rows = _blood_gases(kho)
    assert rows[0][:3] == ["", "Normal range", "0 h, arterial blood on room air"]
    labels = [r[0] for r in rows[1:]]
    assert labels[:7] == ["pH", "PO2", "mmHg", "kPa", "PCO2", "mmHg", "kPa"]
    assert rows[2] == ["PO2", "", "", "", "", "", ""]  # a heading row: label, empty cells
    # each row's range is the one printed in the unit of its values
    assert [r[1] for r in rows[3:5]] == ["80.0–100.0", "10.5–13.5"]
    assert [r[1] for r in rows[6:8]] == ["35.0–45.0", "4.5–6.0"]


def test_a_row_whose_unit_has_no_printed_range_gets_an_empty_range_cell(kho):
    ranges = kho["reference_ranges"]
    mmhg_only = ranges[ranges["unit"].astype("str") != "kPa"]
    rows = _blood_gases(kho | {"reference_ranges": mmhg_only})
    assert [r[1] for r in rows[3:5]] == ["80.0–100.0", ""]


def test_the_typographic_minus_is_read_as_a_minus_and_printed_as_written(kho):
    m = kho["measurements"]
    be = m[(m["parameter"] == "base_excess") & (m["timepoint"] == "h0")].iloc[0]
    assert (be["value"], be["value_num"]) == ("−5.1", -5.1)
    row = next(r for r in _blood_gases(kho) if r[0] == "BE, mEq·L−1")
    assert row[1:3] == ["−2.0–2.0", "−5.1"]
    assert kho["reference_ranges"].set_index("parameter").loc["base_excess", "low_num"] == -2.0


def test_a_table_without_a_ranges_column_heading_gets_none(kho):
    headed = kho["paper_tables"].assign(ranges=pd.NA, corner="Parameter")
    rows = _blood_gases(kho | {"paper_tables": headed})
    assert rows[0][:2] == ["Parameter", "0 h, arterial blood on room air"]
    assert rows[1] == ["pH", "7.37", "7.30", "7.34", "7.29", "7.34"]


def test_a_one_sided_reference_range_prints_with_its_sign():
    low = pd.Series(["4.0", None, "1"])
    high = pd.Series([None, "12.0", "2"])
    assert reference_range_text(low, high).tolist() == ["≥ 4.0", "≤ 12.0", "1–2"]


def test_one_range_per_parameter_is_the_one_printed_in_the_dictionary_unit(kho):
    kpa_first = kho["reference_ranges"].iloc[::-1]
    chosen = reference_range_per_parameter(kpa_first, kho["dictionary"]).set_index("parameter")
    assert chosen.index.is_unique and len(chosen) == 7
    assert chosen.loc["po2", ["unit", "low_num", "high_num"]].tolist() == ["mmHg", 80.0, 100.0]
    # every row carries its ends in the dictionary's unit: 10.5 kPa is about 78.76 mmHg
    kpa = kho["reference_ranges"].set_index(["parameter", "unit"]).loc[("po2", "kPa")]
    assert kpa["low_num"] == pytest.approx(78.76, abs=0.01)


def test_an_offset_in_hours_places_a_timepoint_between_days():
    t = pd.DataFrame(
        {
            "case_id": ["C-1"] * 3,
            "timepoint": ["onset", "later", "next_day"],
            "date": ["2020-01", None, None],
            "months_after_first_infusion": [None] * 3,
            "offset_months": [None] * 3,
            "offset": [None, 30.0, 1.0],
            "offset_unit": [None, "h", "d"],
            "relative_to": [None, "onset", "onset"],
            "order": [None] * 3,
        }
    )
    sequence = timepoint_sequence(t).set_axis(t["timepoint"])["sequence"]
    assert sequence.to_dict() == {"onset": 1, "later": 3, "next_day": 2}
