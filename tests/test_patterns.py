"""The reviewer's patterns (caserepro.patterns) on the paper's own values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from caserepro import patterns
from caserepro.verdicts import COLUMNS


@pytest.fixture(scope="module")
def readings(tables) -> pd.DataFrame:
    """The paper's measurements as the patterns read them."""
    return patterns.readings(tables)


def _sorted(rows: pd.DataFrame) -> pd.DataFrame:
    """Rows in patterns.CHECKS order, then case, parameter, timepoint, source, method, against:
    the plain sort the order `patterns` builds its rows in must equal."""
    rank = rows["check"].map({c: i for i, c in enumerate(patterns.CHECKS)})
    keys = ["case_id", "parameter", "timepoint", "source", "method", "against"]
    ordered = rows.assign(_rank=rank).sort_values(
        ["_rank", *keys], kind="stable", na_position="first"
    )
    return ordered.drop(columns="_rank").reset_index(drop=True)[COLUMNS]


@pytest.fixture(scope="module")
def exams(readings, config) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The paper's echo and MRI examinations, and their distinct values."""
    return patterns.examinations(readings, config["thresholds"]["reviewer"]["imaging_modalities"])


def exam(e: pd.DataFrame, timepoint: str, modality: str, parameter: str, method: str = ""):
    """The one examination of the paper at a timepoint, modality, parameter and method."""
    hit = e[
        (e["timepoint"] == timepoint)
        & (e["modality"] == modality)
        & (e["parameter"] == parameter)
        & (e["method"] == method)
    ]
    assert len(hit) == 1
    return hit.iloc[0]


def test_codes_of_the_key_columns_sort_as_their_texts(readings):
    for column in ["case_id", "timepoint", "modality", "method", "parameter", "source"]:
        categories = list(readings[column].cat.categories)
        assert categories == sorted(categories), column
    assert "" in set(readings["method"])  # a modality without methods: '' (sorts first)


def test_an_examination_shows_its_distinct_values_in_numeric_order(exams):
    e, _ = exams
    visit1 = exam(e, "visit1", "echo", "lvef")  # Table 1 prints 20, the conclusion 30
    assert (str(visit1["shown"]), visit1["lo"], visit1["hi"]) == ("20/30", 19.5, 30.5)
    assert visit1["source"] == "Conclusion; Echocardiography (January 2025); Table 1"
    mri = exam(e, "mri_before", "mri", "cardiac_output", "blood_volume")
    assert str(mri["shown"]) == "3.4/3.5"


def test_only_the_imaging_examinations_are_numbered_in_key_order(exams):
    e, values = exams
    assert set(e["modality"]) == {"echo", "mri"}
    assert e["exam"].tolist() == list(range(len(e)))
    assert set(values["exam"]) == set(e["exam"])


def test_joined_keeps_one_word_and_joins_several_in_row_order():
    words = pd.Series(pd.Categorical(["b", "a", "c", "a"]))
    out = patterns.joined(pd.Series([7, 3, 7, 5]), words, "; ")
    assert out.index.tolist() == [3, 5, 7]
    assert out.astype("str").tolist() == ["a", "a", "b; c"]
    categories = list(out.cat.categories)
    assert categories == sorted(categories) == ["a", "b", "b; c", "c"]  # codes sort as texts


def test_echo_and_mri_lvef_before_therapy_share_the_value_20(exams):
    e, values = exams
    echo = exam(e, "admission", "echo", "lvef")["exam"]
    blood = exam(e, "mri_before", "mri", "lvef", "blood_volume")["exam"]  # 20
    endocardial = exam(e, "mri_before", "mri", "lvef", "endocardial")["exam"]  # 17
    pairs = pd.DataFrame({"exam_a": [echo, echo], "exam_b": [blood, endocardial]})
    assert patterns.shares_a_value(pairs, values).tolist() == [True, False]


def test_key_of_sorts_as_the_texts_in_turn(readings):
    keys = ["case_id", "parameter", "timepoint", "source"]
    by_codes = np.argsort(patterns.key_of(readings, keys), kind="stable")
    by_texts = readings[keys].astype("str").sort_values(keys, kind="stable").index
    assert by_codes.tolist() == by_texts.tolist()


def test_patterns_come_in_the_order_the_plain_sort_gives(tables, config):
    out = patterns.reviewer_checks(tables, config)
    assert list(out.columns) == COLUMNS
    pd.testing.assert_frame_equal(out, _sorted(out))
    assert out["check"].value_counts().to_dict() == {  # as in the paper's consistency.csv
        "repeated_value_set": 38,
        "same_value_across_modalities": 26,
        "dcm_criteria": 22,
        "teichholz_lvef": 4,
        "teichholz_edv": 3,
        "teichholz_esv": 3,
    }


def test_the_paper_echo_lvef_20_is_also_the_mri_blood_volume_lvef(tables, config):
    out = patterns.reviewer_checks(tables, config)
    same = out[(out["check"] == "same_value_across_modalities") & (out["verdict"] == "minor")]
    assert same["against"].tolist() == ["echo admission", "echo visit1"]
    assert same["reported"].tolist() == ["20", "20"]
    assert same["detail"].iloc[0].startswith("echo lvef 20 at admission (")
    assert same["detail"].iloc[0].endswith("the same number (possibly one copied from the other)")


def test_teichholz_volume_of_71_mm_and_the_dimension_back():
    volume = patterns.teichholz_volume(pd.Series([71.0]))  # 7.1 cm: 7 / 9.5 x 357.911
    assert volume.iloc[0] == pytest.approx(263.724, abs=1e-3)
    assert patterns.teichholz_dimension(volume).iloc[0] == pytest.approx(71.0, abs=1e-6)
