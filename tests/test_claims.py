"""Prose claims: each claim of claims.csv checked once against the values it summarises."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from caserepro.claims import (
    _summary as summary,
)
from caserepro.claims import (
    check_claims,
    g_text,
    joined,
    routed,
    span_text,
    text_rank,
)
from caserepro.validate import load_raw
from caserepro.verdicts import Grading
from conftest import REPO


@pytest.fixture(scope="module")
def claim_rows(tables, config) -> pd.DataFrame:
    """The paper's claim rows, indexed by claim_id."""
    rows = check_claims(tables, config["thresholds"], Grading.from_config(config["audit"]))
    return rows.set_index(rows["detail"].str.partition("]")[0].str.slice(1))


def test_range_claim_spans_the_printed_mri_lvefs(claim_rows):
    row = claim_rows.loc["range_lvef_mri_before"]
    assert (row["check"], row["reported"], row["verdict"]) == ("claim_range", "17-20", "consistent")
    assert (row["expected_low"], row["expected_high"]) == (17, 20)  # the MRI LVEFs 17 and 20
    assert row["detail"].endswith(
        "stated 17-20; values elsewhere (Magnetic resonance imaging (MRI) of the heart with "
        "contrast; Table 2) span 17-20"
    )


def test_change_claim_is_the_interval_of_the_difference(claim_rows):
    row = claim_rows.loc["lv_mass_decreased"]
    # 243 - 277.2 with rounding: [242.5 - 277.25, 243.5 - 277.15]
    assert (row["expected_low"], row["expected_high"]) == (-34.75, -33.65)
    assert row["verdict"] == "consistent"
    assert row["detail"].endswith(
        "from 277.2 at mri_before to 243 at mri_after: change [-34.75, -33.65]"
    )


def test_value_on_a_threshold_is_minor_and_a_missed_threshold_inconsistent(claim_rows):
    probnp = claim_rows.loc["nt_probnp_normalized"]
    assert (probnp["verdict"], probnp["reported"], probnp["expected_high"]) == ("minor", "125", 125)
    tachycardia = claim_rows.loc["ecg_tachycardia"]  # 91 bpm is not above 100
    assert (tachycardia["verdict"], tachycardia["expected_low"]) == ("inconsistent", 100)


def test_each_claim_is_routed_by_kind_and_criterion(tables, config):
    c = routed(tables["claims"], config["thresholds"]).set_index("claim_id")
    assert c.loc["nyha_class_from_walk", ["route", "group", "band"]].tolist() == [
        "band",
        "nyha_walk",
        "class_i",
    ]
    assert c.loc["followup_two_years_abstract", ["route", "band"]].tolist() == ["duration", "years"]
    assert c.loc["lv_mass_decreased", "route"] == "data"
    assert c.loc["nt_probnp_normalized", "route"] == "data"  # a flat threshold, not a band


def test_numbers_print_as_python_g_each_distinct_once():
    assert g_text(np.array([23.076923, 20.0, -0.0, 1e6, np.nan, np.inf])).tolist() == [
        "23.0769",
        "20",
        "-0",
        "1e+06",
        "",
        "inf",
    ]
    lo, hi = np.array([19.5, np.nan, 3.0, 2.0]), np.array([20.5, 4.0, np.nan, 2.00001])
    assert span_text(lo, hi).tolist() == ["[19.5, 20.5]", "< 4", "> 3", "2"]


def test_joined_joins_each_run_of_a_group():
    texts = pd.Series(["a", "b", "c"], dtype="str")
    assert joined(texts, pd.Series([4, 4, 7]), "; ").to_dict() == {4: "a; b", 7: "c"}


def test_text_rank_sorts_like_the_texts_for_categories_in_any_order():
    column = pd.Series(pd.Categorical(["b", "a", None, "c"], categories=["c", "b", "a"]))
    assert text_rank(column).tolist() == [1, 0, -1, 2]


def test_summary_takes_the_lowest_and_highest_value_with_ties_by_source_then_row():
    # claim 0: three values of 3.0 (source rank 0 first, then the first row); claim 2: a
    # missing value counts as highest; claim 1: no values.
    hits = pd.DataFrame(
        {
            "pos": [0, 0, 0, 0, 2, 2, 2],
            "value_num": [3.0, 3.0, 3.0, 5.0, 2.0, 7.0, np.nan],
            "source_rank": [0, 0, 2, 1, 1, 0, 1],
            "source": ["A", "A", "C", "B", "B", "A", "B"],
            "row": [2, 5, 1, 0, 6, 4, 3],
            "printed": ["3", "3.0", "3", "5", "2", "7", "x"],
        }
    ).sort_values(["pos", "value_num", "source_rank", "row"], na_position="last")
    hits = hits.assign(lo=hits["value_num"] - 0.5, hi=hits["value_num"] + 0.5)
    out = summary(hits, pd.Series([0, 1, 2]), "now_")
    assert out["now_min_text"].tolist()[0] == "3" and out["now_vmin"].tolist()[2] == 2.0
    assert out["now_max_text"].tolist()[0] == "5" and out["now_max_text"].tolist()[2] == "x"
    assert out["now_lo"].tolist()[0] == 2.5 and out["now_hi"].tolist()[2] == 7.5
    assert out["now_sources"].tolist()[0] == "A; B; C" and pd.isna(out["now_sources"][1])


def test_claims_show_the_values_as_the_paper_prints_them(config):
    """'< 1.0' keeps its qualifier and its decimal, '48.50' its trailing zero (Wang 2021)."""
    wang = load_raw(REPO / "examples" / "wang2021" / "raw")
    rows = check_claims(wang, config["thresholds"], Grading.from_config(config["audit"]))
    rows = rows.set_index(rows["detail"].str.partition("]")[0].str.slice(1))
    assert rows.loc["pth_below_range", ["reported", "verdict"]].tolist() == ["< 1.0", "consistent"]
    reversed_ = rows.loc["cardiac_function_reversed"]
    assert (reversed_["reported"], reversed_["verdict"]) == ("48.50", "inconsistent")
    assert "from 28.48 at admission to 48.50 at follow_up" in rows.loc["lvef_improved", "detail"]
