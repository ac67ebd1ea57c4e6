"""Table 1 and Table 2 rebuilt from the validated data match the printed tables cell by cell."""

from __future__ import annotations

import csv
import shutil

import pandas as pd
import pytest
from caserepro.formatting import format_printed
from caserepro.markup import markdown_text
from caserepro.tables import table1, table2
from caserepro.validate import load_raw
from conftest import EXPECTED, RAW_DIR, edit_measurement


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
