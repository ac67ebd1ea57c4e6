"""Cross-table flags: worked out once per distinct value, the same for text and categorical columns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from caserepro.relations import (
    ENRICHERS,
    NEEDS,
    _pairs_known,
    _positions_in,
    per_value,
)
from caserepro.schemas import RELATIONS


def text(values: list) -> pd.Series:
    return pd.Series(values, dtype="str")


def test_per_value_equals_the_function_on_every_cell():
    column = text(["12.5", "3", None, "12.5", "x"])
    for given in (column, column.astype("category")):
        result = per_value(given, lambda values: pd.to_numeric(values, errors="coerce"))
        assert result.tolist()[:2] == [12.5, 3.0]
        assert result.isna().tolist() == [False, False, True, False, True]


@pytest.mark.parametrize("categorical", [False, True])
def test_pairs_known_like_multiindex_isin(categorical):
    frame = pd.DataFrame({"c": text(["a", "a", None, "b"]), "t": text(["1", "2", "1", "9"])})
    keys = pd.DataFrame({"c": text(["a", None, "b"]), "t": text(["1", "1", "1"])})
    if categorical:
        frame = frame.astype("category")
    known = _pairs_known(frame, keys, ["c", "t"], ["c", "t"])
    assert known.tolist() == [True, False, True, False]


@pytest.mark.parametrize("rows", [5, 5000])  # few rows: keys looked up by hash; many: by table
def test_positions_in_finds_the_first_matching_row(rows):
    rng = np.random.default_rng(rows)
    frame = pd.DataFrame(
        {
            "c": text(["b", None, *rng.choice(["a", "b", "c", None], size=rows)]),
            "t": text(["2", "3", *rng.choice(["1", "2", "3"], size=rows)]),
        }
    )
    keys = pd.DataFrame(
        {"case": text(["b", "a", "b", None, "z"]), "t": text(["2", "1", "2", "3", "1"])}
    )
    first = {}  # missing matches missing: None stands for it in the pairs
    for row, pair in enumerate(zip(keys["case"].replace(np.nan, None), keys["t"], strict=True)):
        first.setdefault(pair, row)
    expected = [
        first.get(pair, -1)
        for pair in zip(frame["c"].replace(np.nan, None), frame["t"], strict=True)
    ]
    assert 0 in expected and 3 in expected and 2 not in expected  # row 2 repeats row 0's key
    for given in (frame, frame.astype("category")):
        assert _positions_in(given, keys, ["c", "t"], ["case", "t"]).tolist() == expected


def test_flags_are_the_same_for_text_and_categorical_tables(tables):
    text_tables = dict(tables)
    # A few broken rows, so that every rule has something to flag.
    m = text_tables["measurements"].copy()
    m.loc[0, "unit"] = "furlongs"
    m.loc[1, "case_id"] = None
    m.loc[2, "parameter"] = "unknown_thing"
    text_tables["measurements"] = m
    categorical = {
        name: frame.astype({c: "category" for c, t in frame.dtypes.items() if t == "str"})
        for name, frame in text_tables.items()
    }
    for table, enrich in ENRICHERS.items():
        assert all(need in text_tables for need in NEEDS[table])
        flags = [rule.flag for rule in RELATIONS[table]]
        plain, coded = enrich(text_tables)[flags], enrich(categorical)[flags]
        pd.testing.assert_frame_equal(plain, coded)
    flagged = ENRICHERS["measurements"](text_tables)
    assert not flagged.loc[0, "unit_matches"]
    assert not flagged.loc[1, "case_known"]
    assert not flagged.loc[2, "parameter_known"]
