"""The other real papers (examples/wang2021, examples/kho2021) through the same pipeline, no
code of their own: each one's tables cell by cell against tests/expected/<paper>, its manuscript
rendered, and with the mission's paper in one series, each case's tables as when run alone."""

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

#: Each example paper: its case id and a word its rendered manuscript must contain.
PAPERS = {
    "wang2021": ("WANG2021", "hypocalcaemia"),
    "kho2021": ("KHO2021", "salbutamol"),
}


def read(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def _run_paper(tmp_path_factory, name: str) -> Path:
    """The paper's own run (`snakemake --configfile examples/<name>/config.yaml`) in a fresh copy."""
    root = copy_repo(tmp_path_factory.mktemp(name))
    config = (REPO / "examples" / name / "config.yaml").relative_to(REPO)
    run_snakemake(root, "--configfile", str(config))
    return root / "results" / name


@pytest.fixture(scope="module")
def second_run(tmp_path_factory) -> Path:
    return _run_paper(tmp_path_factory, "wang2021")


@pytest.fixture(scope="module")
def third_run(tmp_path_factory) -> Path:
    return _run_paper(tmp_path_factory, "kho2021")


@pytest.fixture
def paper_run(request, second_run, third_run) -> Path:
    """The results folder of the paper a test is parametrised with."""
    return {"wang2021": second_run, "kho2021": third_run}[request.param]


EXPECTED_TABLES = [
    pytest.param(name, expected, id=f"{name}/{expected.name}")
    for name in PAPERS
    for expected in sorted((EXPECTED / name).glob("*.csv"))
]


@pytest.mark.parametrize(("paper_run", "expected"), EXPECTED_TABLES, indirect=["paper_run"])
def test_each_paper_s_tables_are_rebuilt_cell_by_cell(paper_run, expected):
    assert read(paths.paper_table_file(paper_run, expected.stem, "csv")) == read(expected)


def test_the_third_paper_has_a_printed_table_to_check():
    """kho2021's expected table is the printed table (typed from the page): a blank corner, the
    Normal range column, 9 rows of values and 2 heading rows, 5 samples."""
    grid = read(EXPECTED / "kho2021" / "blood_gases.csv")
    assert len(grid) == 12 and {len(row) for row in grid} == {7}
    assert grid[0][:2] == ["", "Normal range"] and grid[2] == ["PO2", *[""] * 6]
    assert grid[10] == ["Lactate, mmol·L−1", "0.50–2.20", "4.40", "8.21", "3.90", "2.00", "2.50"]


@pytest.mark.parametrize("paper_run", list(PAPERS), indirect=True)
def test_each_paper_has_its_own_manuscript(paper_run):
    case, word = PAPERS[paper_run.name]
    variables = (paths.manuscript_inputs_dir(paper_run) / "_variables.yml").read_text("utf-8")
    assert case in variables and "LAT2026" not in variables  # (the id is escaped there)
    if ms.find_quarto() is None:
        pytest.skip("no quarto found: the manuscript's inputs are built, not rendered")
    html = paths.manuscript_rendered_files(paper_run)["html"].read_text(encoding="utf-8")
    assert word in html and "abstract_values" not in html and "blood_gases.csv" not in html


def test_the_third_paper_s_audit_compares_the_units_it_prints(third_run):
    """kho2021 prints PO2 and PCO2 in mmHg and in kPa: the audit converts and compares the ten
    pairs, each kPa value standing for half a unit of its last printed kPa digit (12.2 kPa is
    91.13-91.88 mmHg). Two kPa values look truncated, not rounded (PCO2 at 2 h: 20.0 mmHg is
    2.67 kPa, printed 2.6; PO2 at 24 h: 29.0 mmHg is 3.87 kPa, printed 3.8): only these miss,
    by less than 0.5 %, so they are minor; the other eight meet."""
    audit = pd.read_csv(paths.audit_file(third_run), dtype=str, keep_default_na=False)
    pairs = audit[audit["check"] == "repeated_value"]
    assert len(pairs) == 10 and set(pairs["parameter"]) == {"po2", "pco2"}
    flagged = pairs[pairs["verdict"] != "consistent"]
    assert flagged[["parameter", "timepoint", "reported", "verdict"]].values.tolist() == [
        ["pco2", "h2", "2.6", "minor"],
        ["po2", "h24", "3.8", "minor"],
    ]
    claims = audit[audit["check"].isin(["claim_increase", "claim_decrease"])]
    assert set(claims["verdict"]) == {"consistent"} and len(claims) == 2
    # The readers' table gives these rows' implied interval and gap in kPa, as they are printed.
    flagged = (paths.manuscript_inputs_dir(third_run) / "_audit-flagged.md").read_text("utf-8")
    assert "| 2\\.6 | 2\\.66–2\\.67 | 0\\.01 kPa | minor gap |" in flagged


def test_the_third_paper_s_samples_are_checked_by_the_henderson_hasselbalch_relation(third_run):
    """One row of kho2021's formulas.csv and two of its constants.csv (pK 6.1, CO2 solubility
    0.0307 mmol/L per mmHg) recompute each sample's pH from its HCO3 and PCO2: at 0 h,
    6.1 + log10(18.35..18.45 / (0.0307 x 31.45..31.55)) is 7.3775-7.3812 against 7.37 printed
    (7.365-7.375), a soft check, so minor."""
    audit = pd.read_csv(paths.audit_file(third_run), dtype=str, keep_default_na=False)
    hh = audit[audit["check"] == "ph_from_bicarbonate_and_pco2"]
    assert hh[["timepoint", "reported", "verdict"]].values.tolist() == [
        ["h0", "7.37", "minor"],
        ["h2", "7.30", "consistent"],
        ["h4", "7.34", "minor"],
        ["h8", "7.29", "consistent"],
        ["h24", "7.34", "consistent"],
    ]
    h0 = hh.iloc[0]
    assert (float(h0["expected_low"]), float(h0["expected_high"])) == (7.3775, 7.3812)
    assert set(hh["against"]) == {"bicarbonate, pco2"}


@pytest.fixture(scope="module")
def series_run(tmp_path_factory) -> Path:
    """The three real papers as one case series (`caserepro.series`), up to tables, metrics,
    audit and figures."""
    root = copy_repo(tmp_path_factory.mktemp("series"))
    folders = [root / "data" / "raw", *(root / "examples" / name / "raw" for name in PAPERS)]
    raw = write_series(folders, root / "s")
    results = root / "results" / "series"
    targets = ["tables", "derive_metrics", "audit_consistency", "plot_case"]
    run_snakemake(root, "--config", f"raw_dir={raw}", f"results_dir={results}", "--", *targets)
    return results


def _rows_of(path: Path, case_id: str) -> pd.DataFrame:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    return frame[frame["case_id"] == case_id].reset_index(drop=True)


def test_the_papers_as_a_series_give_each_case_its_own_outputs(
    series_run, second_run, third_run, pipeline_run
):
    """Every per-case output of the series equals that of the paper run alone: its tables and
    figures byte for byte, its rows of every metrics table and of the audit."""
    alone = {
        "LAT2026-01": pipeline_run / "results",
        "WANG2021-01": second_run,
        "KHO2021-01": third_run,
    }
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
