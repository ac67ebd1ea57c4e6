"""A raw folder builds on another's codebook (builds_on.csv): the second paper carries only its own
words, a word defined twice differently is refused naming both files, and a problem in an
inherited row is reported at the file and line it came from."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from caserepro import codebook
from caserepro.errors import RawDataError
from caserepro.paths import raw_file
from caserepro.validate import load_raw
from conftest import REPO

RAW = REPO / "data" / "raw"
WANG = REPO / "examples" / "wang2021" / "raw"


def rows(folder: Path, table: str) -> pd.DataFrame:
    return pd.read_csv(raw_file(folder, table), dtype=str, keep_default_na=False)


def folders(tmp_path: Path) -> tuple[Path, Path]:
    """A copy of data/raw (the base) and of the second paper built on it (by an absolute path)."""
    base = shutil.copytree(RAW, tmp_path / "base")
    own = shutil.copytree(WANG, tmp_path / "own")
    raw_file(own, "builds_on").write_text(f"folder\n{base}\n", "utf-8")
    return base, own


def append(folder: Path, table: str, line: str) -> None:
    with raw_file(folder, table).open("a", encoding="utf-8") as handle:
        handle.write(line + "\n")


def test_the_second_paper_reads_the_base_codebook_then_its_own_rows():
    tables = load_raw(WANG)
    base, own = rows(RAW, "dictionary"), rows(WANG, "dictionary")
    assert len(own) == 3  # only its laboratory parameters are its own
    assert tables["dictionary"]["parameter"].tolist() == [*base["parameter"], *own["parameter"]]
    for table in ("checks", "formulas", "modalities", "qualifiers"):
        assert not raw_file(WANG, table).exists()
        assert len(tables[table]) == len(rows(RAW, table)), table
    assert len(tables["methods"]) == 0  # methods are a paper's own, never inherited


def test_builds_on_names_the_folders_and_the_inputs_snakemake_tracks():
    assert codebook.base_folders(WANG) == [RAW]  # normalised, not resolved
    inputs = codebook.inherited_inputs(WANG)
    assert inputs["builds_on"] == raw_file(WANG, "builds_on")
    assert inputs["dictionary_from_1"] == raw_file(RAW, "dictionary")
    assert "methods_from_1" not in inputs
    assert codebook.inherited_inputs(RAW) == {}


def test_a_row_defined_alike_in_both_folders_is_taken_once(tmp_path):
    base, own = folders(tmp_path)
    lvef = rows(base, "dictionary").query("parameter == 'lvef'")
    append(own, "dictionary", lvef.to_csv(index=False, header=False).strip())
    parameters = load_raw(own)["dictionary"]["parameter"]
    assert parameters.is_unique and "lvef" in set(parameters)


def test_a_word_defined_differently_is_refused_naming_both_files_and_lines(tmp_path):
    base, own = folders(tmp_path)
    append(own, "dictionary", "lvef,Ejection fraction,%,%,0,0,100,another definition")
    with pytest.raises(RawDataError) as raised:
        load_raw(own)
    (problem,) = raised.value.problems
    base_line = 2 + rows(base, "dictionary")["parameter"].tolist().index("lvef")
    assert (problem.file, problem.line, problem.column, problem.value) == (
        str(raw_file(own, "dictionary")),
        5,
        "parameter",
        "'lvef'",
    )
    assert f"{raw_file(base, 'dictionary')} line {base_line}" in problem.check
    assert "Fix the raw tables" not in raised.value.report()


def test_a_broken_inherited_row_is_reported_where_it_is_written(tmp_path):
    base, own = folders(tmp_path)
    dictionary = rows(base, "dictionary")
    row = dictionary.index[dictionary["parameter"] == "heart_rate"][0]
    dictionary.loc[row, "decimals"] = "two"
    dictionary.to_csv(raw_file(base, "dictionary"), index=False, lineterminator="\n")
    append(own, "dictionary", "sodium,Sodium,mmol/L,mmol/L,none,100,180,Serum sodium")
    with pytest.raises(RawDataError) as raised:
        load_raw(own)
    where = {(p.file, p.line, p.column, p.value) for p in raised.value.problems}
    assert (str(raw_file(base, "dictionary")), 2 + row, "decimals", "'two'") in where
    assert (str(raw_file(own, "dictionary")), 5, "decimals", "'none'") in where
    assert "Fix the raw tables" in raised.value.report()  # two folders: neither alone


@pytest.mark.parametrize(
    ("folder", "check"),
    [("no-such-folder", "names an existing folder"), (".", "does not build on itself")],
)
def test_a_builds_on_that_cannot_be_followed_is_refused_at_its_line(tmp_path, folder, check):
    _, own = folders(tmp_path)
    raw_file(own, "builds_on").write_text(f"folder\n{folder}\n", "utf-8")
    with pytest.raises(RawDataError) as raised:
        load_raw(own)
    problems = [p for p in raised.value.problems if p.file.endswith("builds_on.csv")]
    assert [(p.line, p.column, p.check, p.value) for p in problems] == [
        (2, "folder", check, repr(folder))
    ]


def test_a_loop_of_two_folders_is_refused(tmp_path):
    base, own = folders(tmp_path)
    raw_file(base, "builds_on").write_text(f"folder\n{own}\n", "utf-8")
    with pytest.raises(RawDataError, match="does not build on itself"):
        codebook.base_folders(own)


def test_a_missing_codebook_file_says_it_may_come_from_a_base_folder(tmp_path):
    raw = shutil.copytree(RAW, tmp_path / "raw")
    raw_file(raw, "checks").unlink()
    with pytest.raises(RawDataError) as raised:
        load_raw(raw)
    assert [(p.line, p.check, p.value) for p in raised.value.problems] == [
        (None, "file exists (or in a folder builds_on.csv names)", "missing")
    ]
