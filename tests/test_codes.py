"""caserepro.codes.combined_key: one integer per row that groups and sorts like its code columns."""

from __future__ import annotations

import numpy as np
import pandas as pd
from caserepro.codes import combined_key, distinct, row_keys


def test_combined_key_sorts_rows_like_their_code_columns():
    rng = np.random.default_rng(7)
    columns = [(rng.integers(-1, size, 500), size) for size in (3, 40, 2**40, 5)]
    key = combined_key(columns)  # the third column's size forces a dense renumbering
    by_columns = np.lexsort([codes for codes, _ in reversed(columns)])
    assert (np.argsort(key, kind="stable") == by_columns).all()


def test_combined_key_is_equal_exactly_where_every_column_is():
    a = np.array([0, 1, 0, 1])
    b = np.array([2, 2, 2, 0])
    key = combined_key([(a, 2), (b, 3)])
    assert key[0] == key[2] and len(set(key)) == 3
    huge = combined_key([(a, 2**40), (b, 2**40), (a, 2**40)])  # renumbers instead of overflowing
    assert huge[0] == huge[2] and len(set(huge)) == 3
    assert combined_key([(np.array([-1, 0]), 1)]).tolist() == [0, 1]  # missing sorts first


def text(values: list) -> pd.Series:
    return pd.Series(values, dtype="str")


def test_distinct_of_a_categorical_counts_missing_as_a_value():
    codes, values = distinct(text(["b", None, "a", "b"]).astype("category"))
    assert values.iloc[codes].tolist()[:1] == ["b"]
    assert pd.isna(values.iloc[codes[1]]) and values.iloc[codes[3]] == "b"
    assert len(values) == 3


def test_row_keys_treat_missing_as_equal():
    frame = pd.DataFrame({"x": text(["a", "a", None, None]), "y": text(["1", "2", "1", "1"])})
    key = row_keys(frame, ["x", "y"])
    assert key[2] == key[3] and len(set(key)) == 3
