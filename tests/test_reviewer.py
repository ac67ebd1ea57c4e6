"""Reviewer checks: claims in words against cited bands, and the soft patterns a reviewer looks for.

Each pattern is checked on the paper's own values and on a synthetic case edited to show it.
"""

from __future__ import annotations

import copy

import pandas as pd
import pytest
from caserepro.audit import run_audit
from caserepro.bands import band_table
from caserepro.claims import check_claims, claims_in_words
from caserepro.patterns import CHECKS, reviewer_checks, teichholz_dimension, teichholz_volume
from caserepro.synthetic import synthetic_cohort, write_cohort
from caserepro.validate import load_raw
from caserepro.verdicts import Grading
from conftest import RAW_DIR

FLAGS = ["minor", "inconsistent"]


@pytest.fixture(scope="module")
def paper(tables, config) -> pd.DataFrame:
    """The paper's whole audit."""
    return run_audit(tables, config).checks


def row_of(checks: pd.DataFrame, claim_id: str) -> pd.Series:
    """The one audit row of a claim (its detail starts '[claim_id]')."""
    rows = checks[checks["detail"].str.startswith(f"[{claim_id}]")]
    assert len(rows) == 1, claim_id
    return rows.iloc[0]


def band_claims(tables: dict[str, pd.DataFrame], config: dict) -> pd.DataFrame:
    """The audit rows of every claim (`caserepro.claims`)."""
    return check_claims(tables, config["thresholds"], Grading.from_config(config["audit"]))


def rows(checks: pd.DataFrame, check: str, **where: str) -> pd.DataFrame:
    """The rows of one check, filtered by column values."""
    found = checks[checks["check"] == check]
    for column, value in where.items():
        found = found[found[column] == value]
    return found


# --- claims in words, on the paper ----------------------------------------------------------


def test_no_claim_of_the_paper_is_left_without_a_definition(paper):
    claims = paper[paper["check"].str.startswith("claim_")]
    assert "not_checkable" not in set(claims["verdict"])
    left = paper[paper["verdict"] == "not_checkable"]
    # What stays open names what the paper leaves out: in 2025.
    assert set(left["check"]) == {"hr_implied_vs_visit"}
    assert left["detail"].str.contains("in 2025").all()


def test_moderate_dysfunction_contradicts_lang_grades(paper):
    row = row_of(paper, "mri_moderate_dysfunction")
    # LVEF 48 (mildly abnormal for a man, 41-51) and 53 (normal, 52-72) are not 30-40.
    assert (row["verdict"], row["reported"]) == ("inconsistent", "48-53")
    assert (row["expected_low"], row["expected_high"]) == (30, 41)
    assert "48 (endocardial) above; 53 (blood_volume) above" in row["detail"]


def test_sv_and_svi_within_normal_fail_the_male_cmr_range(paper):
    sv = row_of(paper, "sv_within_normal")
    assert sv["verdict"] == "inconsistent"
    assert (sv["expected_low"], sv["expected_high"]) == (72, 144)  # 108 +/- 2 x 18, for a male
    svi = row_of(paper, "svi_within_normal")
    assert svi["verdict"] == "inconsistent"
    assert "42.2 (endocardial) in; 38.64 (blood_volume) below" in svi["detail"]


def test_co_is_checked_per_implied_bsa(paper):
    co = row_of(paper, "co_within_normal")
    # CI 2.2-4.2 times the BSA the paper implies after therapy, 1.597-1.6769 m2.
    assert co["verdict"] == "consistent"
    assert co["expected_low"] == pytest.approx(2.2 * 1.597, abs=1e-3)
    assert co["expected_high"] == pytest.approx(4.2 * 1.6769, abs=1e-3)
    before = row_of(paper, "co_decreased_before")
    assert before["verdict"] == "minor"  # 3.4 and 3.5 straddle 2.2 x [1.5581, 1.7317]
    assert "on the edge" in before["detail"]


def test_walk_bands_grade_the_nyha_claims(paper):
    assert row_of(paper, "nyha_class_iv_from_walk")["verdict"] == "consistent"  # 105 < 150
    walk = row_of(paper, "nyha_class_from_walk")
    # 505 is class I (426-550), but 'more than 505' may be beyond 550.
    assert walk["verdict"] == "minor"
    assert "505 in; more than 505 on the edge" in walk["detail"]


def test_crp_and_hypertrophy(paper):
    assert row_of(paper, "crp_normalized")["verdict"] == "consistent"  # 4.8 < 10
    assert row_of(paper, "lv_hypertrophy_before")["verdict"] == "consistent"  # 277.2 >= 176


def test_every_claim_has_one_row_in_audit_order(paper, tables):
    claim_rows = paper[paper["check"].str.startswith("claim_")]
    ids = claim_rows["detail"].str.partition("]")[0].str.slice(1)
    assert sorted(ids) == sorted(tables["claims"]["claim_id"])  # each claim once
    assert (
        claim_rows.index.is_monotonic_increasing and claim_rows.index.to_series().diff().max() == 1
    )
    kinds = list(claim_rows["check"].drop_duplicates())
    assert kinds == [
        *("claim_range", "claim_increase", "claim_decrease", "claim_below", "claim_above"),
        *("claim_within", "claim_duration"),
    ]


def test_a_printed_value_on_a_band_edge_is_minor(tables, config):
    t = copy.deepcopy(tables)
    m = t["measurements"]
    at = (m["timepoint"] == "mri_after") & (m["parameter"] == "lvef")
    m.loc[at, ["value", "value_num"]] = ["41", 41.0]  # 41 stands for [40.5, 41.5]: the 30-41 edge
    assert band_claims(t, config).set_index("against").loc[
        "lv_systolic_function.moderate", "verdict"
    ] == ("minor")


def test_a_sex_specific_band_needs_the_sex(tables, config):
    t = copy.deepcopy(tables)
    t["cases"]["sex"] = pd.Series([pd.NA] * len(t["cases"]), dtype="str")
    out = band_claims(t, config)
    sv = row_of(out, "sv_within_normal")
    assert sv["verdict"] == "not_checkable"
    assert "sex-specific and the case table gives no sex" in sv["detail"]
    assert row_of(out, "crp_normalized")["verdict"] == "consistent"  # not split by sex


def test_band_table_reads_mean_and_sd(config):
    bands = band_table(config["thresholds"]).set_index(["group", "band", "parameter", "sex"])
    ci = bands.loc[("cmr_lv_normal", "normal", "cardiac_index", "female")]
    assert (ci["low"], ci["below"]) == pytest.approx((2.3, 3.9))  # 3.1 +/- 2 x 0.4


def test_claims_in_words_table(paper, tables, config):
    words = claims_in_words(paper, tables, config)
    assert list(words.columns) == [
        "claim",
        "parameter",
        "timepoint",
        "definition",
        "values",
        "verdict",
    ]
    moderate = words[words["claim"].str.contains("moderate")].iloc[0]
    assert moderate["definition"] == "'moderate': 30 to < 41 % [@lang2015]"
    assert moderate["values"] == "48 (endocardial volume); 53 (blood volume)"
    assert moderate["parameter"] == "Left ventricular ejection fraction"
    assert len(words) == 15


# --- soft patterns, on the paper --------------------------------------------------------------


def test_paper_duration_two_years_against_four_visits(paper):
    row = row_of(paper, "followup_two_years_observation")
    assert row["check"] == "claim_duration"
    assert (row["verdict"], row["expected_low"], row["expected_high"]) == ("minor", 11, 13)
    assert "2 years = 18-30 months" in row["detail"]


def test_paper_echo_2025_repeats_visit4_volumes(paper):
    found = rows(paper, "repeated_value_set", verdict="minor")
    assert sorted(found["parameter"]) == ["lv_edv", "lv_esv"]
    assert set(found["timepoint"]) == {"echo_followup"} and set(found["against"]) == {"visit4"}
    assert set(found["reported"]) == {"135", "58"}
    assert found["detail"].str.contains("2 of 3 parameters printed at both are equal").all()


def test_paper_echo_ef_equals_mri_ef_before_therapy(paper):
    found = rows(paper, "same_value_across_modalities", verdict="minor")
    assert set(found["against"]) == {"echo admission", "echo visit1"}
    assert set(found["method"]) == {"blood_volume"} and set(found["reported"]) == {"20"}


def test_paper_teichholz_from_dimensions(paper):
    ef = rows(paper, "teichholz_lvef", timepoint="visit1", source="Table 1").iloc[0]
    # EDD 71 / ESD 51 mm give a Teichholz EF of 51-55 % and FS 27-29 %, not 20 %.
    assert ef["verdict"] == "minor"
    assert (round(ef["expected_low"], 1), round(ef["expected_high"], 1)) == (51.2, 54.8)
    esv = rows(paper, "teichholz_esv", timepoint="echo_followup").iloc[0]
    assert esv["verdict"] == "consistent"  # ESD 37 mm -> 56.3-60.0 mL, printed 58


def test_paper_meets_its_dcm_criteria_at_diagnosis(paper):
    dcm = rows(paper, "dcm_criteria")
    assert set(dcm["verdict"]) == {"consistent"}
    edd = rows(paper, "dcm_criteria", parameter="lv_edd", timepoint="echo_followup").iloc[0]
    assert "50 (Echocardiography (January 2025)) not met, after the first infusion" in edd["detail"]


def test_teichholz_formula_and_its_inverse():
    volume = teichholz_volume(pd.Series([50.0]))  # 5.0 cm: 7 / 7.4 x 125
    assert volume.iloc[0] == pytest.approx(118.243, abs=1e-3)
    assert teichholz_dimension(volume).iloc[0] == pytest.approx(50.0, abs=1e-6)


# --- soft patterns, on a synthetic case built to trip each one --------------------------------


@pytest.fixture
def case(tables, config):
    """One clean synthetic case (raw text tables)."""
    return synthetic_cohort(tables, 1, 5, config["thresholds"])


def audited(raw: dict, config: dict, folder) -> pd.DataFrame:
    write_cohort(raw, folder, RAW_DIR, 5)
    return run_audit(load_raw(folder), config).checks


def set_value(raw: dict, timepoint: str, parameter: str, value: str, modality: str = "echo"):
    m = raw["measurements"]
    at = (m["timepoint"] == timepoint) & (m["parameter"] == parameter) & (m["modality"] == modality)
    assert at.any()
    m.loc[at, "value"] = value


def value_of(raw: dict, timepoint: str, parameter: str, modality: str = "echo", method=None):
    m = raw["measurements"]
    at = (m["timepoint"] == timepoint) & (m["parameter"] == parameter) & (m["modality"] == modality)
    if method:
        at &= m["method"] == method
    return m.loc[at, "value"].iloc[0]


def test_clean_synthetic_case_has_no_reviewer_flag(case, config, tmp_path):
    checks = audited(case, config, tmp_path)
    mine = checks[checks["check"].isin([*CHECKS, "claim_within", "claim_duration"])]
    assert not mine["verdict"].isin(FLAGS).any(), mine.loc[mine["verdict"].isin(FLAGS), "detail"]
    assert set(CHECKS) - {"same_value_across_modalities"} <= set(checks["check"])


def test_synthetic_repeated_set_is_found(case, config, tmp_path):
    for parameter in ("lv_edv", "lv_esv", "lvef"):
        set_value(case, "echo_followup", parameter, value_of(case, "visit4", parameter))
    found = rows(audited(case, config, tmp_path), "repeated_value_set", verdict="minor")
    assert sorted(found["parameter"]) == ["lv_edv", "lv_esv", "lvef"]


def test_synthetic_equal_echo_and_mri_ef_is_found(case, config, tmp_path):
    mri = value_of(case, "mri_before", "lvef", "mri", "blood_volume")
    set_value(case, "visit1", "lvef", mri)
    found = rows(audited(case, config, tmp_path), "same_value_across_modalities", verdict="minor")
    assert set(found["against"]) >= {"echo visit1"}


def test_synthetic_dimension_off_the_volume_is_found(case, config, tmp_path):
    edd = int(value_of(case, "echo_followup", "lv_edd"))
    set_value(case, "echo_followup", "lv_edd", str(edd + 15))
    checks = audited(case, config, tmp_path)
    assert rows(checks, "teichholz_edv", timepoint="echo_followup")["verdict"].eq("minor").all()
    assert rows(checks, "teichholz_lvef", timepoint="echo_followup")["verdict"].eq("minor").all()


def test_synthetic_small_ventricle_at_diagnosis_fails_the_dcm_criteria(case, config, tmp_path):
    set_value(case, "visit1", "lv_edd", "40")
    found = rows(audited(case, config, tmp_path), "dcm_criteria", parameter="lv_edd")
    assert found.set_index("timepoint").loc["visit1", "verdict"] == "minor"


def test_synthetic_overstated_duration_is_found(case, config, tmp_path):
    claims = case["claims"]
    at = claims["criterion"] == "duration.years"
    claims.loc[at, ["stated_low", "stated_high"]] = "5"
    found = rows(audited(case, config, tmp_path), "claim_duration")
    assert len(found) == at.sum() and set(found["verdict"]) == {"minor"}


def test_synthetic_wrong_band_word_is_found(case, config, tmp_path):
    claims = case["claims"]
    at = claims["claim_id"].str.endswith("_mri_moderate_dysfunction")
    chosen = claims.loc[at, "criterion"].iloc[0]
    wrong = (
        "lv_systolic_function.severe"
        if not chosen.endswith("severe")
        else "lv_systolic_function.normal"
    )
    claims.loc[at, "criterion"] = wrong
    checks = audited(case, config, tmp_path)
    row = checks[checks["detail"].str.contains("_mri_moderate_dysfunction]")].iloc[0]
    assert row["verdict"] == "inconsistent"


def test_reviewer_checks_have_the_audit_columns(tables, config, paper):
    out = reviewer_checks(tables, config)
    assert list(out.columns) == list(paper.columns)
    assert set(out["verdict"]) <= {"consistent", "minor"}  # soft: never worse than minor
