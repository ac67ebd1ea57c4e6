"""Join the raw tables to one another so the cross-table rules can be checked row by row.

Text columns may come as text or as categoricals (validation hands over categoricals, which hold
each distinct value once); the answers are the same either way. Everything that depends only on a
cell's value is worked out once per distinct value and then spread over the rows.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from caserepro.codes import combined_key
from caserepro.schemas import COMPOSITE_ROWS

EXAMINATION = ["case_id", "timepoint", "modality", "method", "source"]


def distinct(column: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """The column's distinct values (missing is one of them, if present) and, for each row, the
    position of its value among them: `pd.factorize(column, use_na_sentinel=False)`, but free for
    a categorical column, which already holds its values once and a code per row."""
    if not isinstance(column.dtype, pd.CategoricalDtype):
        codes, values = pd.factorize(column, use_na_sentinel=False)
        return codes, pd.Series(values)
    codes = column.cat.codes.to_numpy()
    values = pd.Series(column.cat.categories)
    missing = codes < 0
    if missing.any():
        codes = np.where(missing, len(values), codes)
        values = pd.concat([values, pd.Series([None], dtype=values.dtype)], ignore_index=True)
    return codes, values


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


def row_keys(frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """One int64 per row, equal for rows whose `columns` hold equal values (missing equals missing)."""
    parts = []
    for column in columns:
        codes, values = distinct(frame[column])
        parts.append((codes, len(values)))
    return combined_key(parts)


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


def enrich_measurements(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Measurements with the flags of their cross-table rules (dictionary facts and key checks)."""
    m = tables["measurements"]
    dictionary = as_text(tables["dictionary"]).set_index("parameter")
    parameter_codes, parameters = distinct(m["parameter"])
    unit_codes, units = distinct(m["unit"])
    # The dictionary's unit and plausible range, per distinct parameter (no unit: unknown).
    dict_unit = parameters.map(dictionary["unit"])
    unknown = dict_unit.isna().to_numpy()[parameter_codes]
    dict_unit_code = pd.Index(units).get_indexer(dict_unit)
    dict_min = parameters.map(dictionary["min"]).to_numpy(dtype="float64", na_value=np.nan)
    dict_max = parameters.map(dictionary["max"]).to_numpy(dtype="float64", na_value=np.nan)
    value_num = per_value(m["value"], lambda values: pd.to_numeric(values, errors="coerce"))
    # As `Series.between` (inclusive; a missing number or bound is not plausible), on arrays.
    number = value_num.to_numpy(dtype="float64", na_value=np.nan)
    plausible = (number >= dict_min[parameter_codes]) & (number <= dict_max[parameter_codes])
    unit_missing = units.isna().to_numpy()[unit_codes]
    examination = row_keys(m, EXAMINATION)
    return m.assign(
        parameter_known=~unknown,
        unit_matches=unknown | ((dict_unit_code[parameter_codes] == unit_codes) & ~unit_missing),
        value_plausible=unknown | plausible,
        case_known=_isin(m["case_id"], tables["cases"]["case_id"]),
        timepoint_known=_pairs_known(
            m, tables["timepoints"], ["case_id", "timepoint"], ["case_id", "timepoint"]
        ),
        method_known=per_value(
            m["method"],
            lambda values: values.isna() | _isin(values, tables["methods"]["method"]),
        ),
        esv_below_edv=_first_below_second(m, examination, value_num, "lv_esv", "lv_edv"),
        systolic_above_diastolic=_first_below_second(m, examination, value_num, "dbp", "sbp"),
    )


def _month_number(dates: pd.Series) -> pd.Series:
    """Months since year 0 for 'YYYY-MM' dates; missing for year-only dates."""
    return per_value(
        dates,
        lambda values: (
            values.str.extract(r"^(\d{4})-(\d{2})$")
            .astype("float")
            .pipe(lambda parts: parts[0] * 12 + parts[1] - 1)
        ),
    )


def enrich_timepoints(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Timepoints with a check that their month agrees with months after the first infusion."""
    t = tables["timepoints"]
    case_id = per_value(t["case_id"], lambda values: values)
    month = _month_number(t["date"])
    at_zero = (t["months_after_first_infusion"] == 0).fillna(False)
    first = pd.Series(month[at_zero].values, index=case_id[at_zero])
    first = first[~first.index.duplicated()]
    expected = per_value(t["case_id"], lambda values: values.map(first)) + t[
        "months_after_first_infusion"
    ].astype("float")
    checkable = expected.notna() & month.notna()
    return t.assign(
        case_known=_isin(t["case_id"], tables["cases"]["case_id"]),
        date_matches_months=~checkable | (month == expected),
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
    """Claims with checks that their parameter and timepoints exist."""
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
    return c.assign(
        parameter_known=_isin(c["parameter"], tables["dictionary"]["parameter"]),
        timepoint_known=_pairs_known(c, t, keys, keys),
        from_timepoint_known=_pairs_known(start, t, keys, keys),
    )


def enrich_table_layout(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Table layout rows with a check that each row shows a known parameter."""
    layout = tables["table_layout"]
    known = _isin(layout["parameter"], tables["dictionary"]["parameter"]) | _isin(
        layout["parameter"], pd.Series(COMPOSITE_ROWS, dtype="str")
    )
    return layout.assign(parameter_known=known)


ENRICHERS = {
    "measurements": enrich_measurements,
    "timepoints": enrich_timepoints,
    "infusions": enrich_infusions,
    "claims": enrich_claims,
    "table_layout": enrich_table_layout,
}
#: Tables each enricher reads besides its own.
NEEDS = {
    "measurements": ("dictionary", "cases", "timepoints", "methods"),
    "timepoints": ("cases",),
    "infusions": ("cases", "timepoints"),
    "claims": ("dictionary", "timepoints"),
    "table_layout": ("dictionary",),
}
