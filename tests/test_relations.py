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
    placement_flags,
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


def plain_placement_flags(tables: dict[str, pd.DataFrame]) -> tuple[np.ndarray, np.ndarray]:
    """What `placement_flags` answers, from `tables.placements` and `placement_problems`."""
    from caserepro import tables as paper_tables

    rows = tables["table_layout"].reset_index(drop=True)
    placed = paper_tables.placements(tables | {"table_layout": rows})
    found = paper_tables.placement_problems(placed, paper_tables.layout_of({"table_layout": rows}))
    shared = placed[placed["measurement"].isin(found["measurements_in_two_cells"])]
    single = found["row_cells_single"].to_numpy() & ~np.isin(
        np.arange(len(rows)), shared["layout_row"].to_numpy()
    )
    return found["row_has_values"].to_numpy(), single


def _placement_variants(tables: dict[str, pd.DataFrame]) -> dict[str, dict[str, pd.DataFrame]]:
    """The paper's tables, and layouts and values that crowd a cell, put a value in two rows,
    leave a row empty, name another case or no case, or show no method."""
    layout, m = tables["table_layout"], tables["measurements"]
    twice = pd.concat([layout, layout.iloc[[1, 6]]], ignore_index=True)  # heart rate, EDV again
    other = layout.assign(case_id=layout["case_id"].where(layout.index % 3 != 0, "NO-SUCH"))
    blank = layout.assign(
        case_id=layout["case_id"].where(layout.index % 2 == 0, None),
        modality=layout["modality"].where(layout.index % 4 != 1, None),
    )
    empty = layout.assign(parameter=layout["parameter"].where(layout.index != 4, "not_measured"))
    in_table1 = m.index[m["source"].astype(str) == "Table 1"]
    crowded = pd.concat([m, m.loc[in_table1[:3]]], ignore_index=True)
    no_methods = {k: v for k, v in tables.items() if k != "methods"}
    heading = layout.iloc[[0]].assign(row=99, label="A heading", parameter=None, source=None)
    headed = pd.concat([layout, heading.assign(modality=None)], ignore_index=True)
    return {
        "heading row": tables | {"table_layout": headed},
        "paper": tables,
        "row twice": tables | {"table_layout": twice},
        "other case": tables | {"table_layout": other},
        "blank case and modality": tables | {"table_layout": blank},
        "empty row": tables | {"table_layout": empty},
        "crowded cell": tables | {"measurements": crowded},
        "no methods": no_methods,
    }


@pytest.mark.parametrize("categorical", [False, True])
def test_placement_flags_on_codes_equal_the_placements_in_text(tables, categorical):
    """validation's placements on codes (`placement_flags`) answer as `tables.placements` does."""
    for name, variant in _placement_variants(tables).items():
        if categorical:
            variant = {
                table: frame.astype({c: "category" for c, t in frame.dtypes.items() if t == "str"})
                for table, frame in variant.items()
            }
        try:
            plain = plain_placement_flags(variant)
        except StopIteration:  # a table's values carry methods that methods.csv lacks
            with pytest.raises(StopIteration):
                placement_flags(variant)
            continue
        fast = placement_flags(variant)
        np.testing.assert_array_equal(fast[0], plain[0], err_msg=name)
        np.testing.assert_array_equal(fast[1], plain[1], err_msg=name)
    variants = _placement_variants(tables)
    flags = {name: placement_flags(v) for name, v in variants.items() if name != "no methods"}
    assert flags["paper"][0].all() and flags["paper"][1].all()
    assert not flags["row twice"][1].all() and not flags["crowded cell"][1].all()
    assert not flags["empty row"][0].all() and not flags["other case"][0].all()
