"""A case series from papers' raw folders: case tables stacked, codebook rows shared once, every
conflict reported with both files and lines, nothing written on a conflict."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from caserepro.errors import RawDataError
from caserepro.paths import raw_file
from caserepro.series import main, merged_tables, write_series
from conftest import REPO

RAW = REPO / "data" / "raw"
WANG = REPO / "examples" / "wang2021" / "raw"


def rows(folder: Path, table: str) -> int:
    return len(pd.read_csv(raw_file(folder, table), dtype=str))


def test_the_two_papers_give_every_case_row_and_each_codebook_row_once(tmp_path):
    out = write_series([RAW, WANG], tmp_path / "series")
    for table in ("cases", "timepoints", "measurements", "claims", "table_layout"):
        assert rows(out, table) == rows(RAW, table) + rows(WANG, table), table
    dictionary = pd.read_csv(raw_file(out, "dictionary"), dtype=str)
    assert dictionary["parameter"].is_unique
    assert {"lvef", "lv_edv", "pth", "calcium_total"} <= set(dictionary["parameter"])
    # Wang's timepoints have offsets, the paper's dates: each keeps its own, the other's blank.
    timepoints = pd.read_csv(raw_file(out, "timepoints"), dtype=str, keep_default_na=False)
    onset = timepoints.set_index(["case_id", "timepoint"]).loc[("WANG2021-01", "symptom_onset")]
    assert (onset["offset"], onset["offset_unit"], onset["date"]) == ("-4", "d", "")
    visit1 = timepoints.set_index(["case_id", "timepoint"]).loc[("LAT2026-01", "visit1")]
    assert (visit1["date"], visit1["offset"]) == ("2022-08", "")


def test_text_reaches_the_series_verbatim(tmp_path):
    out = write_series([RAW, WANG], tmp_path / "series")
    original = pd.read_csv(raw_file(RAW, "claims"), dtype=str)["statement"]
    merged = pd.read_csv(raw_file(out, "claims"), dtype=str)["statement"]
    assert merged.iloc[: len(original)].tolist() == original.tolist()


def test_a_word_two_papers_define_differently_is_refused_naming_both_files(tmp_path):
    other = tmp_path / "other"
    shutil.copytree(WANG, other)
    raw_file(other, "builds_on").unlink()  # the copy's codebook is its own: RAW's, one word changed
    for table in ("dictionary", "checks", "formulas", "modalities", "qualifiers"):
        shutil.copyfile(raw_file(RAW, table), raw_file(other, table))
    with raw_file(WANG, "dictionary").open() as own, raw_file(other, "dictionary").open("a") as d:
        d.writelines(own.readlines()[1:])
    path = raw_file(other, "modalities")
    path.write_text(path.read_text("utf-8").replace("Blood and other", "Only"), "utf-8")
    with pytest.raises(RawDataError) as raised:
        merged_tables([RAW, other])
    (problem,) = raised.value.problems
    assert (problem.file, problem.line, problem.column, problem.value) == (
        str(path),
        3,
        "modality",
        "'lab'",
    )
    assert f"{raw_file(RAW, 'modalities')} line 3" in problem.check


def test_a_case_in_two_folders_is_refused_and_nothing_is_written(tmp_path, capsys):
    out = tmp_path / "series"
    assert main([str(RAW), str(RAW), "--out", str(out)]) == 1
    report = capsys.readouterr().out
    assert f"{raw_file(RAW, 'cases')}, line 2, column 'case_id'" in report
    assert "'LAT2026-01'" in report and not out.exists()


def test_the_series_may_not_overwrite_a_paper(tmp_path):
    with pytest.raises(SystemExit):
        main([str(RAW), str(WANG), "--out", str(RAW)])
