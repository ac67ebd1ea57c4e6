"""Values stated twice: each value against the first source in rank, texts built once each."""

import numpy as np
import pandas as pd
from caserepro.restated import once_each, printed_twice, references, value_pairs


def _tables(sources: list[str], methods: list[object], values: list[float]) -> dict:
    """One place (case, parameter, timepoint, modality) printed by these sources; Table 1 is
    the paper's table."""
    n = len(sources)
    m = pd.DataFrame(
        {
            "case_id": ["C1"] * n,
            "parameter": ["lvef"] * n,
            "timepoint": ["visit1"] * n,
            "modality": ["echo"] * n,
            "source": sources,
            "method": pd.Series(methods, dtype="str"),
            "value_num": values,
            "decimals": [0] * n,
            "qualifier": pd.Series([np.nan] * n, dtype="str"),
            "qualifier_means": pd.Series([np.nan] * n, dtype="str"),
        }
    )
    return {"measurements": m, "table_layout": pd.DataFrame({"source": ["Table 1"]})}


def test_each_value_is_paired_with_the_sources_of_earlier_rank_at_its_place():
    tables = _tables(["Abstract", "Table 1", "Observation", "Abstract"], [np.nan] * 4, [1, 1, 1, 1])
    pairs = value_pairs(printed_twice(tables))
    # The table ranks first, then the other sources alphabetically (Abstract before Observation).
    assert sorted(zip(pairs["at"], pairs["at_b"], strict=True)) == [
        (0, 1),
        (2, 0),
        (2, 1),
        (2, 3),
        (3, 1),
    ]


def test_a_value_printed_once_has_no_pair():
    tables = _tables(["Abstract", "Table 1"], [np.nan, np.nan], [1, 1])
    tables["measurements"].loc[1, "timepoint"] = "visit2"
    assert printed_twice(tables).empty


def test_the_reference_is_a_meeting_value_of_the_same_or_a_blank_method_the_closest_first():
    tables = _tables(
        ["Table 1", "Table 1", "Table 1", "Abstract"],
        ["biplane", "teichholz", np.nan, "biplane"],
        [40, 35, 38, 35],
    )
    pairs = value_pairs(printed_twice(tables))
    ref = references(pairs).set_index("at")
    # Abstract's biplane 35 misses Table 1's biplane 40 and meets neither blank 38 nor, being
    # another method, teichholz 35: the closest comparable value is the blank 38 (gap 2).
    assert ref.loc[3, "at_b"] == 2 and not ref.loc[3, "meet"]
    assert ref.loc[3, "gap"] == 2.0
    other = pairs[(pairs["at"] == 3) & ~pairs["comparable"]]
    assert other["at_b"].tolist() == [1] and other["meet"].tolist() == [True]


def test_a_text_is_built_once_per_distinct_row_and_spread_over_the_rows():
    frame = pd.DataFrame({"source": ["Table 1", "Abstract", "Table 1"]})
    calls = []

    def label(rows: pd.DataFrame) -> pd.Series:
        calls.append(len(rows))
        return rows["source"] + " prints "

    texts = once_each(frame, label)
    assert texts.tolist() == ["Table 1 prints ", "Abstract prints ", "Table 1 prints "]
    assert calls == [2]
