"""The audit's figure: the checks that are not consistent, in the codebook's words, byte-stable."""

from __future__ import annotations

import pandas as pd
import pytest
from caserepro import paths
from caserepro.audit_figure import audit_data, audit_figure, read_audit
from caserepro.figures import write_figure
from caserepro.labels import codebook
from caserepro.verdicts import CONTRACT_COLUMNS


@pytest.fixture(scope="module")
def book(tables):
    return codebook(tables)


@pytest.fixture(scope="module")
def audit(tables) -> pd.DataFrame:
    """A small audit in the contract's shape, its values taken from the paper's Table 1 rows."""
    m = tables["measurements"]
    t1 = m[(m["source"] == "Table 1") & (m["parameter"] == "lvef")].sort_values("timepoint")
    reported = t1["value"].tolist()
    first, last = float(reported[0]), float(reported[3])
    rows = [
        ("repeated_value", "lvef", "visit1", reported[0], first - 0.5, first + 0.5, "consistent"),
        # far off: inconsistent
        ("ef_from_volumes", "lvef", "visit4", reported[3], last + 3, last + 4, "inconsistent"),
        # a one-sided claim on its boundary
        ("claim_below", "nt_probnp", "visit4", "125", None, 125.0, "minor"),
        ("claim_range", "lvef", "mri_before", "17-20", 17.0, 20.0, "consistent"),
        ("claim_decrease", "qol_score", "visit4", "decrease", -23.0, -21.0, "minor"),
        ("claim_within", "crp", "visit4", "4.8", None, None, "not_checkable"),
    ]
    columns = ["check", "parameter", "timepoint", "reported"]
    frame = pd.DataFrame(rows, columns=[*columns, "expected_low", "expected_high", "verdict"])
    frame = frame.assign(case_id=tables["cases"]["case_id"].iloc[0], source="test", detail="")
    return frame[list(CONTRACT_COLUMNS)].assign(method=pd.NA, against="")


def test_only_flagged_checks_with_a_number_are_drawn_grouped_by_kind(tables, book, audit):
    data = audit_data(audit, book)
    # 'decrease' has no number to place; consistent and not-checkable rows are not drawn
    assert data["kind"].tolist() == [book.checks["ef_from_volumes"], book.checks["claim_below"]]
    below = data.set_index("kind").loc[book.checks["claim_below"]]
    assert below["printed_at"] == 0.0 and below["implied_from"] == float("-inf")


def test_rows_are_named_in_the_codebook_words(tables, book, audit):
    ax = audit_figure(audit, book).figure.axes[0]
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    lvef = tables["dictionary"].set_index("parameter").at["lvef", "label"]
    visit4 = tables["timepoints"].set_index("timepoint").at["visit4", "name"]
    assert ticks[0] == book.checks["ef_from_volumes"]  # the kind's heading
    assert " ".join(ticks[1].split()) == f"{lvef}, {visit4}"  # wrapped on two lines
    assert not any("_" in t for t in ticks)


def test_rows_of_a_case_series_name_their_case(tables, book, audit):
    case = tables["cases"]["case_id"].iloc[0]
    timepoints = tables["timepoints"]  # a second case with the same timepoints
    series = {
        **tables,
        "timepoints": pd.concat([timepoints, timepoints.assign(case_id="OTHER-01")]),
    }
    other = audit[audit["check"] == "ef_from_volumes"].assign(case_id="OTHER-01")
    both = pd.concat([audit, other], ignore_index=True)
    ax = audit_figure(both, codebook(series)).figure.axes[0]
    ticks = [" ".join(t.get_text().split()) for t in ax.get_yticklabels()]
    lvef = tables["dictionary"].set_index("parameter").at["lvef", "label"]
    assert ticks[1].startswith(f"{case}: {lvef}") and ticks[2].startswith(f"OTHER-01: {lvef}")
    single = [t.get_text() for t in audit_figure(audit, book).figure.axes[0].get_yticklabels()]
    assert not any(case in t for t in single)  # one case: no case in the labels


def test_caption_counts_every_verdict_and_what_was_left_off(book, audit):
    caption = audit_figure(audit, book).caption
    assert "(2 of 6 checks: 1 inconsistent, 2 minor gap, 1 not checkable, 2 consistent)" in caption
    assert "without a number to draw: 1." in caption


def test_read_audit_keeps_printed_decimals_and_checks_columns(tmp_path, audit):
    path = tmp_path / "consistency.csv"
    audit.assign(reported=["264.0", *audit["reported"][1:]]).to_csv(path, index=False)
    assert read_audit(path)["reported"].iloc[0] == "264.0"
    audit.drop(columns="verdict").to_csv(path, index=False)
    with pytest.raises(ValueError, match="verdict"):
        read_audit(path)


def test_two_builds_give_identical_bytes(book, audit, tmp_path):
    built = []
    for run in ("one", "two"):
        files = paths.figure_files(tmp_path / run, "audit")
        write_figure(audit_figure(audit, book), files["svg"], files["png"], files["json"])
        built.append({suffix: path.read_bytes() for suffix, path in files.items()})
    assert built[0] == built[1]
