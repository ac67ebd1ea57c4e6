"""The second real paper (examples/wang2021) through the same pipeline, no code of its own: its
tables cell by cell against tests/expected/wang2021, its manuscript rendered, and with the
mission's paper in one series, each case's tables as when run alone."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from caserepro import manuscript as ms
from caserepro import paths
from conftest import EXPECTED, REPO, copy_repo, run_snakemake

pytestmark = pytest.mark.e2e

PAPER = REPO / "examples" / "wang2021"


def read(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


@pytest.fixture(scope="module")
def second_run(tmp_path_factory) -> Path:
    root = copy_repo(tmp_path_factory.mktemp("wang2021"))
    run_snakemake(root, "--configfile", str(PAPER.relative_to(REPO) / "config.yaml"))
    return root / "results" / "wang2021"


@pytest.mark.parametrize("expected", sorted((EXPECTED / "wang2021").glob("*.csv")), ids=str)
def test_the_second_paper_tables_are_rebuilt_cell_by_cell(second_run, expected):
    assert read(paths.paper_table_file(second_run, expected.stem, "csv")) == read(expected)


def test_the_second_paper_has_its_own_manuscript(second_run):
    variables = (paths.manuscript_inputs_dir(second_run) / "_variables.yml").read_text("utf-8")
    assert "WANG2021" in variables and "LAT2026" not in variables  # (the id is escaped there)
    if ms.find_quarto() is None:
        pytest.skip("no quarto found: the manuscript's inputs are built, not rendered")
    html = paths.manuscript_rendered_files(second_run)["html"].read_text(encoding="utf-8")
    assert "hypocalcaemia" in html and "abstract_values" not in html
