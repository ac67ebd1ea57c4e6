"""The second real paper (examples/wang2021) through the same pipeline, no code of its own: its
tables cell by cell against tests/expected/wang2021, its manuscript rendered, and with the
mission's paper in one series, each case's tables as when run alone."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest
from caserepro import manuscript as ms
from caserepro import paths
from caserepro.series import write_series
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


@pytest.fixture(scope="module")
def series_run(tmp_path_factory) -> Path:
    """Both real papers as one case series (`caserepro.series`), up to tables, metrics, audit
    and figures."""
    root = copy_repo(tmp_path_factory.mktemp("series"))
    raw = write_series([root / "data" / "raw", root / PAPER.relative_to(REPO) / "raw"], root / "s")
    results = root / "results" / "series"
    targets = ["tables", "derive_metrics", "audit_consistency", "plot_case"]
    run_snakemake(root, "--config", f"raw_dir={raw}", f"results_dir={results}", "--", *targets)
    return results


def _rows_of(path: Path, case_id: str) -> pd.DataFrame:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    return frame[frame["case_id"] == case_id].reset_index(drop=True)


def test_the_two_papers_as_a_series_give_each_case_its_own_outputs(
    series_run, second_run, pipeline_run
):
    """Every per-case output of the series equals that of the paper run alone: its tables and
    figures byte for byte, its rows of every metrics table and of the audit."""
    alone = {"LAT2026-01": pipeline_run / "results", "WANG2021-01": second_run}
    for case_id, results in alone.items():
        for own in sorted(paths.tables_dir(results).glob("*.*")):
            assert (paths.tables_dir(series_run) / own.name).read_bytes() == own.read_bytes()
        figures = paths.case_figures_dir(results) / case_id
        drawn = sorted(figures.iterdir())
        assert len(drawn) == 9  # course, MRI and timeline: SVG, PNG and caption each
        for own in drawn:
            in_series = paths.case_figures_dir(series_run) / case_id / own.name
            assert in_series.read_bytes() == own.read_bytes(), own.name
        checked = [*paths.metrics_files(results).values(), paths.audit_file(results)]
        for own in checked:
            in_series = series_run / own.relative_to(results)
            pd.testing.assert_frame_equal(_rows_of(in_series, case_id), _rows_of(own, case_id))
        assert len(_rows_of(paths.audit_file(series_run), case_id)) > 0
