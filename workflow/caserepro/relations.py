"""Join the raw tables to one another so the cross-table rules can be checked row by row."""

from __future__ import annotations

import pandas as pd

from caserepro.schemas import COMPOSITE_ROWS

EXAMINATION = ["case_id", "timepoint", "modality", "method", "source"]


def _pairs_known(
    frame: pd.DataFrame, keys: pd.DataFrame, left: list[str], right: list[str]
) -> pd.Series:
    """True where the row's (left) key columns appear as (right) key columns in `keys`."""
    known = pd.MultiIndex.from_frame(keys[right].astype("str"))
    probe = pd.MultiIndex.from_frame(frame[left].astype("str"))
    return pd.Series(probe.isin(known), index=frame.index)


def _first_below_second(frame: pd.DataFrame, first: str, second: str) -> pd.Series:
    """False on the `first` row where it is not smaller than the `second` value of the same examination."""
    keyed = frame.assign(method=frame["method"].fillna(""))
    a = keyed[keyed["parameter"] == first]
    b = keyed[keyed["parameter"] == second][[*EXAMINATION, "value_num"]]
    paired = a.reset_index().merge(b, on=EXAMINATION, how="inner", suffixes=("", "_other"))
    broken = paired.loc[paired["value_num"] >= paired["value_num_other"], "index"]
    return pd.Series(~frame.index.isin(broken), index=frame.index)


def printed_decimals(printed: pd.Series) -> pd.Series:
    """Digits after the decimal point of numbers as printed ('38.64' -> 2, '264.0' -> 1, '20' -> 0)."""
    point = printed.str.find(".")
    after = (printed.str.len() - point - 1).where(point >= 0, 0)
    return after.fillna(0).astype("int64")


def _numeric(printed: pd.Series) -> pd.Series:
    """`pd.to_numeric(printed, errors="coerce")`, parsing each distinct text only once."""
    codes, uniques = pd.factorize(printed, use_na_sentinel=False)
    numbers = pd.to_numeric(pd.Series(uniques), errors="coerce")
    return numbers.take(codes).set_axis(printed.index).rename(printed.name)


def _lookup(keys: pd.Series, table: pd.DataFrame, columns: list[str]) -> dict[str, pd.Series]:
    """`keys.map(table[column])` for each column, looking each distinct key up only once."""
    codes, uniques = pd.factorize(keys, use_na_sentinel=False)
    distinct = pd.Series(uniques)
    return {
        column: distinct.map(table[column]).take(codes).set_axis(keys.index).rename(keys.name)
        for column in columns
    }


def enrich_measurements(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Measurements with numeric value, printed decimals, dictionary facts and key checks."""
    m = tables["measurements"]
    dictionary = tables["dictionary"].set_index("parameter")
    facts = _lookup(m["parameter"], dictionary, ["unit", "min", "max"])
    m = m.assign(
        value_num=_numeric(m["value"]),
        decimals=printed_decimals(m["value"]),
        dict_unit=facts["unit"],
        dict_min=facts["min"],
        dict_max=facts["max"],
        case_known=m["case_id"].isin(tables["cases"]["case_id"]),
        timepoint_known=_pairs_known(
            m, tables["timepoints"], ["case_id", "timepoint"], ["case_id", "timepoint"]
        ),
        method_known=m["method"].isna() | m["method"].isin(tables["methods"]["method"]),
    )
    unknown = m["dict_unit"].isna()
    return m.assign(
        parameter_known=~unknown,
        unit_matches=unknown | (m["unit"] == m["dict_unit"]),
        value_plausible=unknown | m["value_num"].between(m["dict_min"], m["dict_max"]),
        esv_below_edv=_first_below_second(m, "lv_esv", "lv_edv"),
        systolic_above_diastolic=_first_below_second(m, "dbp", "sbp"),
    )


def _month_number(date: pd.Series) -> pd.Series:
    """Months since year 0 for 'YYYY-MM' dates; missing for year-only dates."""
    codes, dates = pd.factorize(date, use_na_sentinel=False)  # parse each distinct date once
    parts = pd.Series(dates).str.extract(r"^(\d{4})-(\d{2})$").astype("float")
    return (parts[0] * 12 + parts[1] - 1).take(codes).set_axis(date.index)


def enrich_timepoints(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Timepoints with a check that their month agrees with months after the first infusion."""
    t = tables["timepoints"]
    month = _month_number(t["date"])
    at_zero = t["months_after_first_infusion"] == 0
    first = pd.Series(
        month[at_zero.fillna(False)].values, index=t.loc[at_zero.fillna(False), "case_id"]
    )
    first = first[~first.index.duplicated()]
    expected = t["case_id"].map(first) + t["months_after_first_infusion"].astype("float")
    checkable = expected.notna() & month.notna()
    return t.assign(
        case_known=t["case_id"].isin(tables["cases"]["case_id"]),
        date_matches_months=~checkable | (month == expected),
    )


def enrich_infusions(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Infusions with key checks and whether their numbering follows their months."""
    i = tables["infusions"]
    months = tables["timepoints"].set_index(["case_id", "timepoint"])["months_after_first_infusion"]
    key = pd.MultiIndex.from_frame(i[["case_id", "timepoint"]])
    month = pd.Series(months.reindex(key).to_numpy(), index=i.index, dtype="float")
    order = i.assign(month=month).sort_values(["case_id", "infusion"])
    step = order.groupby("case_id")["month"].diff()
    in_order = (step.isna() | (step > 0)).reindex(i.index)
    return i.assign(
        case_known=i["case_id"].isin(tables["cases"]["case_id"]),
        timepoint_known=_pairs_known(
            i, tables["timepoints"], ["case_id", "timepoint"], ["case_id", "timepoint"]
        ),
        visits_in_order=in_order,
    )


def enrich_claims(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Claims with checks that their parameter and timepoints exist."""
    c = tables["claims"]
    t = tables["timepoints"]
    start = c.assign(timepoint=c["from_timepoint"].fillna(c["timepoint"]))
    return c.assign(
        parameter_known=c["parameter"].isin(tables["dictionary"]["parameter"]),
        timepoint_known=_pairs_known(c, t, ["case_id", "timepoint"], ["case_id", "timepoint"]),
        from_timepoint_known=_pairs_known(
            start, t, ["case_id", "timepoint"], ["case_id", "timepoint"]
        ),
    )


def enrich_table_layout(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Table layout rows with a check that each row shows a known parameter."""
    layout = tables["table_layout"]
    known = layout["parameter"].isin(tables["dictionary"]["parameter"]) | layout["parameter"].isin(
        COMPOSITE_ROWS
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
