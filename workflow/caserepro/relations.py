"""Join the raw tables to one another so the cross-table rules can be checked row by row.

Text columns may come as text or as categoricals (validation hands over categoricals, which hold
each distinct value once); the answers are the same either way. Everything that depends only on a
cell's value is worked out once per distinct value and then spread over the rows.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from caserepro import tables as paper_tables
from caserepro.codes import EXAMINATION, combined_key, distinct, row_keys
from caserepro.intervals import month_number, month_span, printed_number
from caserepro.schemas import COMPOSITE_ROWS, OFFSET_UNITS, REFERENCE_CRITERION
from caserepro.units import conversion


def per_value(column: pd.Series, function: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """`function(column)` for a function of each cell alone, computed once per distinct value."""
    codes, values = distinct(column)
    return pd.Series(function(values).array.take(codes), index=column.index, name=column.name)


def _isin(column: pd.Series, reference: pd.Series) -> pd.Series:
    """`column.isin(reference)` (a missing value is in a reference that has one), once per value."""
    known = pd.Index(distinct(reference)[1])
    return per_value(column, lambda values: pd.Series(known.get_indexer(values) >= 0))


def as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with its categorical columns as plain text."""
    categorical = [c for c, t in frame.dtypes.items() if isinstance(t, pd.CategoricalDtype)]
    return frame.astype(dict.fromkeys(categorical, "str"))


def _pairs_known(
    frame: pd.DataFrame, keys: pd.DataFrame, left: list[str], right: list[str]
) -> pd.Series:
    """True where the row's (left) key columns appear as (right) key columns in `keys`."""
    return pd.Series(_positions_in(frame, keys, left, right) >= 0, index=frame.index)


def _positions_in(
    frame: pd.DataFrame, keys: pd.DataFrame, left: list[str], right: list[str]
) -> np.ndarray:
    """For each row of `frame`, the first row of `keys` whose (right) key columns hold the row's
    (left) key columns (missing matches missing), or -1 if there is none."""
    if len(keys) == 0:
        return np.full(len(frame), -1)
    own, known = [], []
    for mine, theirs in zip(left, right, strict=True):
        own_codes, own_values = distinct(frame[mine])
        codes, values = distinct(keys[theirs])
        # The rows of `keys` in the codes of `frame` (the larger table, coded once already);
        # -1 for a value that no row of `frame` holds, so no row of `frame` can match it.
        own.append((own_codes, len(own_values)))
        known.append((pd.Index(own_values).get_indexer(values)[codes], len(own_values)))
    # One call for both sides, so that their keys are comparable (see `combined_key`).
    both = combined_key(
        [(np.concatenate([k, o]), size) for (k, size), (o, _) in zip(known, own, strict=True)]
    )
    wanted, probe = both[: len(keys)], both[len(keys) :]
    if len(probe) and probe.max() < len(probe) + len(wanted):
        # The keys span few values: a lookup table by key (no larger than the key arrays),
        # filled from the last row of `keys` to the first, so that the first row is kept.
        first_row = np.full(int(probe.max()) + 1, -1)
        rows = np.flatnonzero(wanted < len(first_row))[::-1]
        first_row[wanted[rows]] = rows
        return first_row[probe]
    wanted_keys = pd.Index(wanted)
    first = ~wanted_keys.duplicated()
    found = wanted_keys[first].get_indexer(probe)
    return np.where(found >= 0, np.flatnonzero(first)[found], -1)


def _first_below_second(
    frame: pd.DataFrame, examination: np.ndarray, value_num: pd.Series, first: str, second: str
) -> pd.Series:
    """False on the `first` row where it is not smaller than the `second` value of the same
    examination (`examination`: equal for rows of the same examination, see `row_keys`)."""
    is_first = per_value(frame["parameter"], lambda values: values == first).to_numpy()
    is_second = per_value(frame["parameter"], lambda values: values == second).to_numpy()
    values = value_num.to_numpy()
    a = pd.DataFrame(
        {
            "row": np.flatnonzero(is_first),
            "examination": examination[is_first],
            "value_num": values[is_first],
        }
    )
    b = pd.DataFrame({"examination": examination[is_second], "value_num_other": values[is_second]})
    paired = a.merge(b, on="examination", how="inner")
    keeps = np.ones(len(frame), dtype=bool)
    keeps[paired.loc[paired["value_num"] >= paired["value_num_other"], "row"].to_numpy()] = False
    return pd.Series(keeps, index=frame.index)


def unit_conversions(
    frame: pd.DataFrame, dictionary: pd.DataFrame, unit: str = "unit"
) -> pd.DataFrame:
    """Per row: the dictionary's unit for its parameter (`dictionary_unit`, missing if the
    parameter is unknown) and `scale`/`offset` from the row's unit to it (missing if pint
    cannot convert); worked out once per distinct (parameter, unit) pair."""
    d = as_text(dictionary).drop_duplicates("parameter").set_index("parameter")["unit"]
    pair_of_row = pd.factorize(row_keys(frame, ["parameter", unit]))[0]  # a hash, not a sort
    first_row = np.zeros(pair_of_row.max(initial=-1) + 1, dtype=np.int64)
    first_row[pair_of_row[::-1]] = np.arange(len(frame))[::-1]  # assigned last to first
    given = frame[unit].iloc[first_row]
    pairs = pd.DataFrame(
        {
            "parameter": frame["parameter"].iloc[first_row].astype("str").to_numpy(),
            "given": given.astype("str").to_numpy(),
            "given_missing": given.isna().to_numpy(),
        }
    )
    pairs["dictionary_unit"] = pairs["parameter"].map(d)
    found = [
        conversion(g, w) if not missing and isinstance(w, str) else None
        for g, w, missing in zip(
            pairs["given"], pairs["dictionary_unit"], pairs["given_missing"], strict=True
        )
    ]
    pairs["scale"] = [np.nan if f is None else f[0] for f in found]
    pairs["offset"] = [np.nan if f is None else f[1] for f in found]
    pairs["dictionary_unit"] = pairs["dictionary_unit"].astype("category")  # taken per row
    spread = pairs.iloc[pair_of_row.ravel()].set_index(frame.index)
    return spread[["dictionary_unit", "scale", "offset"]]


def converted(number: pd.Series, units: pd.DataFrame) -> pd.Series:
    """Numbers in their row's unit, in the dictionary's unit (see `unit_conversions`)."""
    exact = (units["scale"] == 1) & (units["offset"] == 0)
    return number.where(exact, number * units["scale"] + units["offset"])


def unit_detail(frame: pd.DataFrame, row: int) -> str:
    """What a unit that does not convert should have been (for the report)."""
    return f"expected '{frame['_dict_unit'].iloc[row]}' or a unit that converts to it"


def range_detail(frame: pd.DataFrame, row: int, column: str = "value") -> str:
    """The plausible range a value missed, and the value in the dictionary's unit if converted."""
    unit, given = frame["_dict_unit"].iloc[row], frame["unit"].iloc[row]
    said = f"expected {frame['_low'].iloc[row]:g} to {frame['_high'].iloc[row]:g} {unit}"
    if column == "value_high":
        said += ", and not below value"
    if given != unit:
        said += f"; it is {frame['_' + column].iloc[row]:g} {unit} in {given}"
    return said


#: The report's words for what a rule expected, by the rule's flag (see `Relation.detailed`).
DETAILS = {
    "unit_matches": unit_detail,
    "value_plausible": range_detail,
    "value_high_plausible": lambda frame, row: range_detail(frame, row, "value_high"),
}


def enrich_measurements(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Measurements with the flags of their cross-table rules (dictionary facts and key checks)."""
    m = tables["measurements"]
    dictionary = as_text(tables["dictionary"]).set_index("parameter")
    parameter_codes, parameters = distinct(m["parameter"])
    units = unit_conversions(m, tables["dictionary"])
    unknown = units["dictionary_unit"].isna().to_numpy()
    dict_min = parameters.map(dictionary["min"]).to_numpy(dtype="float64", na_value=np.nan)
    dict_max = parameters.map(dictionary["max"]).to_numpy(dtype="float64", na_value=np.nan)
    low, high = dict_min[parameter_codes], dict_max[parameter_codes]
    value_num = per_value(m["value"], lambda values: printed_number(values, errors="coerce"))
    high_num = per_value(m["value_high"], lambda values: printed_number(values, errors="coerce"))
    # As `Series.between` (inclusive; a missing number or bound is not plausible), on arrays.
    number = converted(value_num, units).to_numpy(dtype="float64", na_value=np.nan)
    top = converted(high_num, units).to_numpy(dtype="float64", na_value=np.nan)
    # A value whose unit does not convert is reported once, for its unit.
    unconverted = unknown | units["scale"].isna().to_numpy()
    plausible = (number >= low) & (number <= high)
    top_plausible = np.isnan(top) | ((top >= low) & (top <= high) & ~(top < number))
    examination = row_keys(m, EXAMINATION)
    in_unit = pd.Series(number, index=m.index)
    return m.assign(
        parameter_known=~unknown,
        unit_matches=unknown | units["scale"].notna().to_numpy(),
        value_plausible=unconverted | plausible,
        value_high_plausible=unconverted | top_plausible,
        _dict_unit=units["dictionary_unit"],
        _low=low,
        _high=high,
        _value=number,
        _value_high=top,
        case_known=_isin(m["case_id"], tables["cases"]["case_id"]),
        timepoint_known=_pairs_known(
            m, tables["timepoints"], ["case_id", "timepoint"], ["case_id", "timepoint"]
        ),
        method_known=per_value(
            m["method"],
            lambda values: values.isna() | _isin(values, tables["methods"]["method"]),
        ),
        modality_known=_isin(m["modality"], tables["modalities"]["modality"]),
        qualifier_known=per_value(
            m["qualifier"],
            lambda values: values.isna() | _isin(values, tables["qualifiers"]["qualifier"]),
        ),
        esv_below_edv=_first_below_second(m, examination, in_unit, "lv_esv", "lv_edv"),
        systolic_above_diastolic=_first_below_second(m, examination, in_unit, "dbp", "sbp"),
    )


#: Longest chain of offsets (a timepoint relative to one relative to another ...) resolved.
_LONGEST_CHAIN = 50


def _month_positions(dates: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Months since year 0 of 'YYYY-MM' or 'YYYY' dates (a year: its January), and whether the
    date is a year only (`month_span`)."""
    span = month_span(dates)
    return span.lo.to_numpy(dtype=np.float64), (span.hi - span.lo == 12).to_numpy()


def _positions(t: pd.DataFrame) -> pd.DataFrame:
    """Each timepoint's place in time, in months on one scale per case (`position`; missing if
    it has none), and whether its date is a year only (`year_only`): from its date, from months
    after the case's first infusion, or from an offset to another timepoint, in that order."""
    case, _ = distinct(t["case_id"])
    position, year_only = _month_positions(t["date"])
    months = t["months_after_first_infusion"].astype("float64").to_numpy()
    first = pd.Series(position[months == 0], index=case[months == 0]).dropna()
    anchor = pd.Series(first[~first.index.duplicated()]).reindex(case).to_numpy(dtype="float64")
    position = np.where(np.isnan(position), anchor + months, position)
    in_months = t["offset_unit"].astype("str").map(OFFSET_UNITS).astype("float64")
    offset = t["offset_months"].astype("float64").fillna(t["offset"].astype("float64") * in_months)
    offset = offset.to_numpy(dtype="float64", na_value=np.nan)
    if np.isnan(offset).all():
        return pd.DataFrame({"position": position, "year_only": year_only}, index=t.index)
    # The timepoint an offset counts from: its row, by (case, timepoint) codes.
    own, reference = pd.factorize(
        pd.concat([t["timepoint"].astype("str"), t["relative_to"].astype("str")]),
        use_na_sentinel=False,
    )[0].reshape(2, -1)
    width = len(own) + len(reference) + 1
    rows = pd.Index(case * width + own)
    at = rows.get_indexer(case * width + reference)
    for _ in range(_LONGEST_CHAIN):
        found = np.where(at >= 0, position[at], np.nan)
        resolved = np.where(np.isnan(position) & ~np.isnan(offset), found + offset, position)
        if np.array_equal(resolved, position, equal_nan=True):
            break
        position = resolved
    return pd.DataFrame({"position": position, "year_only": year_only}, index=t.index)


def timepoint_sequence(t: pd.DataFrame) -> pd.DataFrame:
    """Each timepoint's place in its case's order (`sequence`, from 1) and whether it has one
    (`placed`): by `order` where the case gives one, else by position in time (a year-only
    date before the months of that year, then months after the first infusion, then file order)."""
    where = _positions(t)
    case = pd.Series(distinct(t["case_id"])[0], index=t.index)
    order = t["order"].astype("float64")
    ordered_case = order.notna().groupby(case).transform("any")
    key = pd.DataFrame(
        {
            "case": case,
            "first": np.where(ordered_case, order, where["position"]),
            "year_only": np.where(ordered_case, False, where["year_only"]),
            "months": t["months_after_first_infusion"].astype("float64"),
            "row": np.arange(len(t)),
        },
        index=t.index,
    )
    key = key.sort_values(
        ["case", "first", "year_only", "months", "row"],
        ascending=[True, True, False, True, True],
        na_position="last",
    )
    sequence = key.groupby("case").cumcount() + 1
    return pd.DataFrame(
        {
            "sequence": sequence.reindex(t.index).astype("int64"),
            # A timepoint of an ordered case without its order is reported once, for that.
            "placed": key["first"].notna().reindex(t.index) | (ordered_case & order.isna()),
            "order_complete": ~ordered_case | order.notna(),
        },
        index=t.index,
    )


def enrich_timepoints(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Timepoints with checks of their month against months after the first infusion, of the
    timepoint an offset counts from, and that each has a place in its case's order."""
    t = tables["timepoints"]
    case_id = per_value(t["case_id"], lambda values: values)
    month = month_number(t["date"])
    at_zero = (t["months_after_first_infusion"] == 0).fillna(False)
    first = pd.Series(month[at_zero].values, index=case_id[at_zero])
    first = first[~first.index.duplicated()]
    expected = per_value(t["case_id"], lambda values: values.map(first)) + t[
        "months_after_first_infusion"
    ].astype("float")
    checkable = expected.notna() & month.notna()
    reference = pd.DataFrame({"case_id": t["case_id"], "timepoint": t["relative_to"]})
    keys = ["case_id", "timepoint"]
    placed = timepoint_sequence(t)
    return t.assign(
        case_known=_isin(t["case_id"], tables["cases"]["case_id"]),
        date_matches_months=~checkable | (month == expected),
        relative_to_known=t["relative_to"].isna().to_numpy()
        | _pairs_known(reference, t, keys, keys).to_numpy(),
        placed_in_time=placed["placed"].to_numpy(),
        order_complete=placed["order_complete"].to_numpy(),
    )


def enrich_infusions(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Infusions with key checks and whether their numbering follows their months."""
    i = tables["infusions"]
    timepoints = tables["timepoints"]
    keys = ["case_id", "timepoint"]
    at = _positions_in(i, timepoints, keys, keys)
    months = timepoints["months_after_first_infusion"].astype("float").to_numpy()
    month = pd.Series(np.where(at >= 0, months[at], np.nan), index=i.index)
    case_id = per_value(i["case_id"], lambda values: values)
    order = pd.DataFrame({"case_id": case_id, "infusion": i["infusion"], "month": month})
    order = order.sort_values(["case_id", "infusion"])
    step = order.groupby("case_id")["month"].diff()
    in_order = (step.isna() | (step > 0)).reindex(i.index)
    return i.assign(
        case_known=_isin(i["case_id"], tables["cases"]["case_id"]),
        timepoint_known=at >= 0,
        visits_in_order=in_order,
    )


def enrich_claims(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Claims with checks that their parameter, modality, timepoints and reference range exist."""
    c = tables["claims"]
    t = tables["timepoints"]
    keys = ["case_id", "timepoint"]
    start = pd.DataFrame(
        {
            "case_id": c["case_id"],
            "timepoint": per_value(c["from_timepoint"], lambda values: values).fillna(
                per_value(c["timepoint"], lambda values: values)
            ),
        }
    )
    wants_range = per_value(c["criterion"], lambda values: values == REFERENCE_CRITERION)
    ranges = tables["reference_ranges"]
    has_range = _pairs_known(c, ranges, ["case_id", "parameter"], ["case_id", "parameter"])
    return c.assign(
        parameter_known=_isin(c["parameter"], tables["dictionary"]["parameter"]),
        modality_known=_isin(c["modality"], tables["modalities"]["modality"]),
        timepoint_known=_pairs_known(c, t, keys, keys),
        from_timepoint_known=_pairs_known(start, t, keys, keys),
        reference_range_known=~wants_range.fillna(False).astype(bool) | has_range,
    )


def _blank_or_case(frame: pd.DataFrame, tables: dict[str, pd.DataFrame]) -> pd.Series:
    """True where the row names no case (it applies to every case) or a case of cases.csv."""
    return frame["case_id"].isna() | _isin(frame["case_id"], tables["cases"]["case_id"])


# --- where the layout places values, on integer codes ------------------------------------------
# `tables.placements` builds each placed value's printed cell as text; validation needs only
# which rows and cells get values, so `placement_flags` works on each key column's codes instead
# (the same answers: tests/test_relations.py holds it to `tables.placement_problems`).

#: A placed value's key columns, as codes in one vocabulary per column (`_coded_cells`).
CELL_CODES = ["case_id", "timepoint", "modality", "method", "parameter", "source"]


def _word(value: object) -> object:
    return None if pd.isna(value) else value


def _code(words: list, word: object) -> int:
    """The code of a word in a vocabulary (a list, extended with the word if new)."""
    if word not in words:
        words.append(word)
    return words.index(word)


def _coded(column: pd.Series, words: list) -> np.ndarray:
    """Each cell's code in a vocabulary (missing as the word None), extended with new values."""
    codes, values = distinct(column)
    position = {word: i for i, word in enumerate(words)}
    lookup = np.empty(len(values), dtype=np.int64)
    for i, value in enumerate(values):
        word = _word(value)
        if word not in position:
            position[word] = len(words)
            words.append(word)
        lookup[i] = position[word]
    return lookup[codes]


def _coded_cells(tables: dict[str, pd.DataFrame], wanted: set) -> tuple[pd.DataFrame, dict]:
    """Every value a layout row could place (measurements; blood pressure and infusion rows if
    `wanted` names them) as codes of `CELL_CODES` and the measurement's row (-1: a composite),
    and each column's vocabulary."""
    m = tables["measurements"]
    words: dict[str, list] = {column: [] for column in CELL_CODES}
    cells = pd.DataFrame({c: _coded(m[c], words[c]) for c in CELL_CODES})
    cells = cells.assign(measurement=m.index.to_numpy())
    parts = [cells]
    if "blood_pressure" in wanted:
        parts.append(_coded_blood_pressure(cells, words))
    infusion_rows = [row for row in paper_tables.INFUSION_ROWS if row in wanted]
    if infusion_rows and "infusions" in tables:
        parts.append(_coded_infusions(tables["infusions"], infusion_rows, words))
    return pd.concat(parts, ignore_index=True), words


def _coded_blood_pressure(cells: pd.DataFrame, words: dict) -> pd.DataFrame:
    """Systolic and diastolic values of one reading as one 'blood_pressure' cell (`tables`)."""
    keys = ["case_id", "timepoint", "modality", "method", "source"]
    parameter = cells["parameter"].to_numpy()
    sbp = cells.loc[parameter == _code(words["parameter"], "sbp"), keys]
    dbp = cells.loc[parameter == _code(words["parameter"], "dbp"), keys]
    joined = sbp.merge(dbp, on=keys)
    return joined.assign(parameter=_code(words["parameter"], "blood_pressure"), measurement=-1)


def _coded_infusions(infusions: pd.DataFrame, rows: list[str], words: dict) -> pd.DataFrame:
    """The infusion rows (complaints, cells, complications) a layout shows, one cell per value
    (a dose always has one: `format_printed` prints a missing dose too)."""
    keys = {c: _coded(infusions[c], words[c]) for c in ["case_id", "timepoint", "source"]}
    parts = []
    for row in rows:
        present = infusions[row].notna().to_numpy() if row != "cell_dose" else slice(None)
        frame = pd.DataFrame({c: codes[present] for c, codes in keys.items()})
        parts.append(frame.assign(parameter=_code(words["parameter"], row)))
    blank = {c: _code(words[c], None) for c in ["modality", "method"]}
    return pd.concat(parts, ignore_index=True).assign(**blank, measurement=-1)


def _placed(cells: pd.DataFrame, layout: pd.DataFrame, words: dict) -> pd.DataFrame:
    """The cells each layout row places (its parameter and source; its modality and case unless
    blank), with the row's number (`layout_row`)."""
    rows = {c: _coded(layout[c], words[c]) for c in ["parameter", "source", "modality", "case_id"]}
    size = {c: len(words[c]) for c in rows}
    both = combined_key(
        [(np.concatenate([rows[c], cells[c].to_numpy()]), size[c]) for c in ["parameter", "source"]]
    )  # one call, so that the layout's keys and the cells' compare
    row_key, cell_key = both[: len(layout)], both[len(layout) :]
    candidates = cells[np.isin(cell_key, row_key)].assign(key=cell_key[np.isin(cell_key, row_key)])
    by_row = pd.DataFrame(
        {
            "key": row_key,
            "layout_row": np.arange(len(layout)),
            "modality_row": rows["modality"],
            "case_row": rows["case_id"],
            "any_modality": layout["modality"].isna().to_numpy(),
            "any_case": layout["case_id"].isna().to_numpy(),
        }
    )
    placed = candidates.merge(by_row, on="key")
    keep = (placed["any_modality"] | (placed["modality_row"] == placed["modality"])) & (
        placed["any_case"] | (placed["case_row"] == placed["case_id"])
    )
    return placed[keep.to_numpy()]


def _with_first_method(
    placed: pd.DataFrame, layout: pd.DataFrame, tables: dict, words: dict
) -> np.ndarray:
    """Each placed value's method code, a value without one under its table's first method
    (methods.csv order) among those its table's values carry (`tables._with_columns`)."""
    tables_words: list = []
    table_of_row = _coded(layout["table"], tables_words)
    table = table_of_row[placed["layout_row"].to_numpy()]
    method = placed["method"].to_numpy().copy()
    blank_table, blank_method = _code(tables_words, None), _code(words["method"], None)
    carried = (method != blank_method) & (table != blank_table)
    pairs = pd.DataFrame({"table": table[carried], "method": method[carried]}).drop_duplicates()
    order = [_word(v) for v in tables["methods"]["method"]] if "methods" in tables else []
    for t, codes in pairs.groupby("table")["method"]:
        found = {words["method"][code] for code in codes}
        first = next(m for m in order if m in found)
        method[(table == t) & (method == blank_method)] = words["method"].index(first)
    return method


def placement_flags(tables: dict[str, pd.DataFrame]) -> tuple[np.ndarray, np.ndarray]:
    """Per layout row (file order): whether it places a value, and whether each of its cells
    holds one value and none of its values sits in another cell too (`tables.placements` and
    `tables.placement_problems`, on codes)."""
    layout = tables["table_layout"].reset_index(drop=True)
    wanted = {_word(v) for v in distinct(layout["parameter"])[1]}
    cells, words = _coded_cells(tables, wanted)
    placed = _placed(cells, layout, words)
    row = placed["layout_row"].to_numpy()
    method = _with_first_method(placed, layout, tables, words)
    columns = [(row, len(layout)), (method, len(words["method"]))]
    columns += [(placed[c].to_numpy(), len(words[c])) for c in ["case_id", "timepoint"]]
    shared_cell = pd.Series(combined_key(columns)).duplicated(keep=False).to_numpy()
    measurement = placed["measurement"].to_numpy()
    is_value = measurement >= 0
    values = pd.Series(measurement[is_value])
    twice = values[values.duplicated(keep=False).to_numpy()].unique()
    in_two_cells = np.union1d(twice, measurement[shared_cell & is_value])
    rows = np.arange(len(layout))
    shared_rows = row[np.isin(measurement, in_two_cells) & is_value]
    single = ~np.isin(rows, row[shared_cell]) & ~np.isin(rows, shared_rows)
    return np.isin(rows, row), single


def enrich_table_layout(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Table layout rows with checks that each shows a known parameter of a known case and
    modality, at least one value, and no value that another row or cell shows too."""
    layout = tables["table_layout"]
    heading = layout["parameter"].isna().to_numpy()  # a heading row shows no value
    known = _isin(layout["parameter"], tables["dictionary"]["parameter"]) | _isin(
        layout["parameter"], pd.Series(COMPOSITE_ROWS, dtype="str")
    )
    modality = per_value(
        layout["modality"],
        lambda values: values.isna() | _isin(values, tables["modalities"]["modality"]),
    )
    has_values, cells_single = placement_flags(tables)
    return layout.assign(
        parameter_known=known | heading,
        case_known=_blank_or_case(layout, tables),
        modality_known=modality,
        row_has_values=has_values | heading,
        row_cells_single=cells_single,
    )


def enrich_paper_tables(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Table headings with checks that each names a case (or none) and a table of the layout."""
    headed = tables["paper_tables"]
    layout = tables["table_layout"]
    keys = ["case_id", "table"]
    return headed.assign(
        case_known=_blank_or_case(headed, tables),
        table_known=_pairs_known(headed, layout, keys, keys),
    )


def enrich_interventions(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Interventions with checks that their case and timepoint exist."""
    i = tables["interventions"]
    keys = ["case_id", "timepoint"]
    return i.assign(
        case_known=_isin(i["case_id"], tables["cases"]["case_id"]),
        timepoint_known=_pairs_known(i, tables["timepoints"], keys, keys),
    )


def enrich_reference_ranges(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Reference ranges with checks of their case, parameter and unit."""
    ranges = tables["reference_ranges"]
    units = unit_conversions(ranges, tables["dictionary"])
    unknown = units["dictionary_unit"].isna().to_numpy()
    return ranges.assign(
        case_known=_isin(ranges["case_id"], tables["cases"]["case_id"]),
        parameter_known=~unknown,
        unit_matches=unknown | units["scale"].notna().to_numpy(),
        _dict_unit=units["dictionary_unit"],
    )


ENRICHERS = {
    "measurements": enrich_measurements,
    "timepoints": enrich_timepoints,
    "infusions": enrich_infusions,
    "claims": enrich_claims,
    "table_layout": enrich_table_layout,
    "paper_tables": enrich_paper_tables,
    "reference_ranges": enrich_reference_ranges,
    "interventions": enrich_interventions,
}
#: Tables each enricher reads besides its own.
NEEDS = {
    "measurements": ("dictionary", "cases", "timepoints", "methods", "modalities", "qualifiers"),
    "timepoints": ("cases",),
    "infusions": ("cases", "timepoints"),
    "claims": ("dictionary", "timepoints", "modalities", "reference_ranges"),
    "table_layout": (
        "dictionary",
        "cases",
        "modalities",
        "measurements",
        "infusions",
        "methods",
        "qualifiers",
    ),
    "paper_tables": ("cases", "table_layout"),
    "reference_ranges": ("cases", "dictionary"),
    "interventions": ("cases", "timepoints"),
}
