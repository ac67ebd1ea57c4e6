"""The formulas' checks' texts: each distinct number written once, texts joined in one pass."""

import numpy as np
import pandas as pd
import pytest
from caserepro.formula_checks import glue, intervals, numbers, shown


def test_intervals_print_each_pair_of_ends_as_the_detail_shows_it():
    lo = pd.Series([1.82, 1.82, np.nan, 12.0, np.nan, 1.815])
    hi = pd.Series([1.93, 1.93, 66.5, 12.0, np.nan, np.nan])
    assert intervals(lo, hi).tolist() == [
        "[1.82, 1.93]",
        "[1.82, 1.93]",
        "< 66.5",
        "12",
        "",
        "> 1.815",
    ]


def test_glue_joins_texts_and_columns_row_by_row_and_keeps_a_missing_part_missing():
    method = pd.Series(["teichholz", "simpson", None], dtype="str")
    text = glue("lv_edv 210 (", method, ")")
    assert text.tolist()[:2] == ["lv_edv 210 (teichholz)", "lv_edv 210 (simpson)"]
    assert pd.isna(text.iloc[2])


def test_glue_is_the_chain_of_plus_on_columns_and_arrays_of_one_index():
    """The one-pass join equals `+` step by step (its reference), arrays read row by row; columns
    on different indexes are refused, as `+` would align them."""
    index = pd.Index([7, 3, 5])
    parameter = pd.Series(["lvef", None, "lv_edv"], index=index, dtype="str")
    verdict = np.where([True, False, True], "they meet", "they miss")
    numbers_ = pd.Series([12.0, 3.5, np.nan], index=index)
    plain = "printed " + parameter + " " + numbers(numbers_) + ": " + verdict
    fast = glue("printed ", parameter, " ", numbers(numbers_), ": ", verdict)
    pd.testing.assert_series_equal(fast, plain)
    assert fast.tolist()[0] == "printed lvef 12: they meet"
    with pytest.raises(ValueError, match="different indexes"):
        glue(parameter, parameter.reset_index(drop=True))


def test_shown_puts_the_qualifier_before_the_value_as_the_paper_prints_it():
    m = pd.DataFrame(
        {
            "value": pd.Categorical(["505", "505", "4.2"]),
            "qualifier": pd.Categorical(["more than", None, None]),
        }
    )
    assert list(np.asarray(shown(m), dtype=object)) == ["more than 505", "505", "4.2"]


def test_numbers_print_with_up_to_four_decimals_and_blank_where_missing():
    values = pd.Series([23.076923, 20.0, np.inf, np.nan, 0.00001, 1234567.0])
    assert numbers(values).tolist() == ["23.0769", "20", "inf", "", "0", "1.23457e+06"]
