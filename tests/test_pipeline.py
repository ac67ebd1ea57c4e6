"""End to end: the real `snakemake` in a temporary copy rebuilds the paper's tables, and stops on bad data."""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
import second_case
from caserepro import paths
from caserepro.manuscript import QUARTO_ENV, generated_files
from conftest import EXPECTED, copy_repo, run_snakemake

pytestmark = pytest.mark.e2e

NUMBER = re.compile(r"^\d+(\.\d+)?$")


def read(path) -> list[list[str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


@pytest.mark.parametrize("name", ["table1", "table2"])
def test_snakemake_rebuilds_the_printed_tables_cell_by_cell(pipeline_run, name):
    produced = read(pipeline_run / "results" / "tables" / f"{name}.csv")
    expected = read(EXPECTED / f"{name}.csv")
    assert len(produced) == len(expected)
    for line, (got, want) in enumerate(zip(produced, expected, strict=True), start=1):
        assert got == want, f"{name}.csv line {line}"


def test_the_paper_has_seventy_numbers_and_eight_arrows(pipeline_run):
    cells = [
        c
        for name in ("table1", "table2")
        for row in read(pipeline_run / "results" / "tables" / f"{name}.csv")
        for c in row[1:]
    ]
    numbers = sum(bool(NUMBER.match(c)) for c in cells) + 2 * sum(
        bool(re.match(r"^\d+/\d+$", c)) for c in cells
    )
    assert numbers == 70
    assert sum(c in {"↑", "↓"} for c in cells) == 8


def test_invalid_value_stops_the_run_with_a_clear_message_and_no_tables(tmp_path):
    root = copy_repo(tmp_path / "repo")
    path = root / "data" / "raw" / "measurements.csv"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    hit = (
        (frame.timepoint == "visit4") & (frame.parameter == "lv_esv") & (frame.source == "Table 1")
    )
    frame.loc[hit, "value"] = "140"
    frame.to_csv(path, index=False, lineterminator="\n")
    result = run_snakemake(root, check=False)
    assert result.returncode != 0
    line = frame.index[hit][0] + 2
    assert (
        f"data/raw/measurements.csv, line {line}, column 'value': check 'ESV is smaller than EDV of the same "
        "examination' failed for value '140'"
    ) in result.stderr
    assert not (root / "results" / "tables").exists()
    assert not (root / "results" / "validated").exists()


def test_a_second_run_does_nothing(pipeline_run):
    result = run_snakemake(pipeline_run)
    assert "Nothing to be done" in result.stdout + result.stderr


@pytest.fixture(scope="module")
def run_without_quarto(pipeline_run, tmp_path_factory) -> tuple[Path, str]:
    """The clean run again, where no Quarto is to be found (`CASEREPRO_QUARTO` set empty)."""
    root = tmp_path_factory.mktemp("no_quarto") / "run"
    shutil.copytree(pipeline_run, root, symlinks=True)
    result = run_snakemake(root, env={QUARTO_ENV: ""})
    return root, result.stdout + result.stderr


def test_a_run_without_quarto_says_once_at_the_end_that_the_manuscript_was_not_rendered(
    run_without_quarto,
):
    _, said = run_without_quarto
    assert said.count("Manuscript NOT rendered") == 1
    assert said.index("Manuscript NOT rendered") > said.index("steps (100%) done")
    assert "bash .ci/install-quarto" in said


def test_a_run_without_quarto_leaves_a_one_line_note_and_every_input_of_the_manuscript(
    run_without_quarto,
):
    root, _ = run_without_quarto
    results = root / "results"
    note = paths.manuscript_not_rendered_file(results).read_text(encoding="utf-8")
    assert note.count("\n") == 1 and "NOT rendered" in note
    assert not paths.manuscript_output_dir(results).joinpath("index.html").exists()  # not stale
    for name in generated_files():
        assert (paths.manuscript_inputs_dir(results) / name).is_file(), name


def test_a_series_run_gives_each_case_the_table_files_of_its_own_run(tmp_path):
    """The paper's case with a second case, through snakemake: the table names come from the
    layout; each case's files are byte-identical to those of the case run alone."""
    root = copy_repo(tmp_path / "repo")
    series = second_case.write_merged(root / "data" / "raw", tmp_path / "series")
    alone = second_case.write_alone(root / "data" / "raw", tmp_path / "second")
    runs = {"series": series, "paper": root / "data" / "raw", "second": alone}
    for name, raw in runs.items():
        results = tmp_path / "results" / name
        run_snakemake(root, "--config", f"raw_dir={raw}", f"results_dir={results}", "--", "tables")
    out = tmp_path / "results"
    for suffix in ("csv", "md"):
        own = {
            f"LAT2026-01/table1.{suffix}": out / "paper" / "tables" / f"table1.{suffix}",
            f"table2.{suffix}": out / "paper" / "tables" / f"table2.{suffix}",
            f"{second_case.CASE}/table1.{suffix}": out / "second" / "tables" / f"table1.{suffix}",
        }
        for in_series, alone_file in own.items():
            assert (out / "series" / "tables" / in_series).read_bytes() == alone_file.read_bytes()
    assert read(out / "paper" / "tables" / "table1.csv") == read(EXPECTED / "table1.csv")
    assert read(out / "second" / "tables" / "table1.csv") == second_case.EXPECTED_TABLE1
