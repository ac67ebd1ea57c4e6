"""Derived metrics: what follows from the paper's printed numbers, per case, timepoint and method.

Every function takes the validated tables (and the config's `thresholds`) and returns one tidy
table, sorted by its key columns. `derive_metrics` returns them all by file name; they are
written to `results/metrics/<name>.csv` (names in `caserepro.paths.METRIC_TABLES`). Derived
numbers are given as a point value and as the interval the printed precision of their inputs
allows (`_low`, `_high`, see `caserepro.intervals`). Text columns are categorical (a code per
row and the distinct texts), which `caserepro.io.write_csv` writes as the text they stand for.

Files and their columns:

`haemodynamics.csv` — one row per examination (case, timepoint, modality, method, source) that
prints both LV volumes:
    case_id, timepoint, date, modality, method, source, lv_edv, lv_esv,
    stroke_volume, stroke_volume_low, stroke_volume_high   (EDV - ESV, mL),
    lvef, lvef_low, lvef_high                               ((EDV - ESV) / EDV x 100, %),
    stroke_volume_reported, lvef_reported                   (the printed values, blank if none).

`implied.csv` — one row per examination that prints SV with SVI, or CO with CI, or CO with SV:
    case_id, timepoint, date, modality, method, source,
    bsa_from_sv, bsa_from_sv_low, bsa_from_sv_high          (SV / SVI, m²),
    bsa_from_co, bsa_from_co_low, bsa_from_co_high          (CO / CI, m²),
    heart_rate, heart_rate_low, heart_rate_high             (CO / SV x 1000, bpm, during the scan).

`change_from_baseline.csv` — every parameter of the paper's tables (the sources named in
table_layout.csv), against the first timepoint of the same case, source, modality and method:
    case_id, source, modality, method, parameter, timepoint, date, value, baseline_timepoint,
    baseline_value, change (value - baseline), change_percent (100 x change / baseline).

`classifications.csv` — one row per printed value that a clinical scheme classifies:
    case_id, timepoint, modality, method, source, scheme, value (as printed; BP as 'sbp/dbp'),
    category, rule (the scheme's cut-offs, from config), citation (bib keys, ';'-joined).
    Schemes: `lvef_category` (HFrEF / HFmrEF / HFpEF / between_categories),
    `nt_probnp` (below_rule_out / at_or_above_rule_out), `blood_pressure` (normal / elevated /
    stage_1 / stage_2), `heart_rate` (below_range / within_range / above_range).

`remodelling.csv` — each later timepoint of a case, source, modality and method against its first:
    case_id, source, modality, method, baseline_timepoint, timepoint, lvef_baseline, lvef,
    lvef_rise (points), lv_esv_baseline, lv_esv, lv_esv_fall_percent, hfimpef (baseline <= cut,
    rise >= cut, follow-up > cut; Universal Definition 2021), lvef_rise_met, lv_esv_fall_met,
    reverse_remodelling (both criteria met; blank where an input is missing).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals

from caserepro import evaluator, formulas
from caserepro.codes import EXAMINATION
from caserepro.intervals import Interval, month_span, printed
from caserepro.verdicts import ROUND

#: The columns that identify one series of a parameter over time (compared with its first value).
SERIES = ["case_id", "source", "modality", "method", "parameter"]
#: The measurements' key columns (one value per row of validated measurements).
KEY_COLUMNS = [*EXAMINATION, "parameter"]
#: A printed value's columns that the derivation and the audit read: where it is printed, the
#: text, its qualifier and what that means, the number in the dictionary's unit, its printed
#: decimals and the unit scale (dictionary units per printed unit).
MEASURED_COLUMNS = [
    *KEY_COLUMNS,
    *("value", "qualifier", "qualifier_means", "value_num", "decimals", "scale"),
]
#: The validated tables and columns that `derive_metrics` reads.
INPUT_COLUMNS = {
    "measurements": MEASURED_COLUMNS,
    "timepoints": ["case_id", "timepoint", "date"],
    "table_layout": ["source"],
    "formulas": ["check", "expression", "scope", "soft", "citation", "label", "explanation"],
    "constants": ["constant", "value", "unit"],
    "dictionary": ["parameter", "unit"],
}
#: The measurements' columns that `derive_metrics.py` reads as categorical: the key columns, the
#: printed values (few distinct texts, which classifications.csv repeats) and what their
#: qualifiers mean.
CODED_COLUMNS = [*KEY_COLUMNS, "value", "qualifier_means"]
#: An examination's columns in the metrics tables, with the timepoint's date.
EXAMINATION_DATED = ["case_id", "timepoint", "date", "modality", "method", "source"]
#: Examinations in a case's time order (timepoints not in timepoints.csv first).
IN_TIME = ["case_id", "rank", "modality", "method", "source", "timepoint"]
#: The key of a remodelling row: a series of scans and the later timepoint compared with its first.
_REMODELLING_KEY = ["case_id", "source", "modality", "method", "baseline_timepoint", "timepoint"]
#: The columns of a measurement in a series over time (`_with_baseline`).
_IN_SERIES = [*SERIES, "timepoint", "date", "rank", "value_num"]
#: The columns of a classified measurement.
_CLASSIFIED = [*EXAMINATION, "rank", "value", "value_num"]
#: What `wide` gives for each parameter p: the measurements' column, and the suffix after `p`.
_FIELDS = {"value_num": "", "decimals": "_decimals", "low": "_low", "high": "_high"}


def _citation(group: dict) -> str:
    cite = group.get("citation")
    if cite is None:
        return ""
    return ";".join(cite) if isinstance(cite, list) else str(cite)


def _sorted(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """The frame sorted by `columns` (a missing value first); ties keep their order."""
    return frame.sort_values(columns, kind="stable", na_position="first", ignore_index=True)


def timepoint_order(timepoints: pd.DataFrame) -> pd.DataFrame:
    """Each case's timepoints with their month span and rank in time (file order breaks ties)."""
    t = timepoints[["case_id", "timepoint", "date"]]
    span = month_span(t["date"])
    t = t.assign(start_month=span.lo, end_month=span.hi)
    # A missing case, and an unknown start month within a case, sort last.
    t = t.sort_values(["case_id", "start_month"], kind="stable", ignore_index=True)
    return t.assign(rank=t.groupby("case_id", dropna=False, observed=True).cumcount())


def _in_text_order(column: pd.Series) -> pd.Series:
    """A text column as a categorical with sorted categories: it then sorts and groups as text."""
    if not isinstance(column.dtype, pd.CategoricalDtype):
        return column.astype("category")
    return column.cat.reorder_categories(column.cat.categories.sort_values())


def measurements_in_time(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The measurements (key columns categorical, in text order) with their timepoint's `rank`
    in time within the case (`timepoint_order`; -1 where timepoints.csv lacks it) and `date`."""
    measured = tables["measurements"]
    scale = ["scale"] if "scale" in measured.columns else []  # (converted from the printed unit)
    m = measured[[*CODED_COLUMNS, "value_num", "decimals", *scale]]
    # Text as categoricals: rows are then filtered and sorted by moving codes, not text.
    m = m.assign(**{column: _in_text_order(m[column]) for column in CODED_COLUMNS})
    visits = timepoint_order(tables["timepoints"])[["case_id", "timepoint", "rank", "date"]]
    visits = visits.assign(date=visits["date"].astype("category"))
    # The same categories as the measurements: the merge then matches codes, not text.
    keys = {"case_id": m["case_id"].dtype, "timepoint": m["timepoint"].dtype}
    visits = visits.astype(keys).dropna(subset=list(keys))
    # (Only the keys go through the merge: the other columns stay where they are.)
    found = m[list(keys)].merge(visits, on=list(keys), how="left").set_axis(m.index)
    return m.assign(rank=found["rank"].fillna(-1).astype("int64"), date=found["date"])


def _cells(
    rows: pd.DataFrame, parameters: list[str], keys: list[str], with_text: bool
) -> pd.DataFrame:
    """One row per examination (index: `keys`) that prints any of `parameters`, with a column
    (field, parameter) per field of `_FIELDS` (and the printed text, `value`); missing where the
    examination does not print the parameter (validation keeps one value per examination)."""
    rows = rows[rows["parameter"].isin(parameters)]
    interval = printed(
        rows["value_num"], rows["decimals"], rows["qualifier_means"], rows.get("scale")
    )
    rows = rows.assign(
        value_num=rows["value_num"].astype("float64"), low=interval.lo, high=interval.hi
    )
    fields = [*_FIELDS, "value"] if with_text else list(_FIELDS)
    cells = rows.set_index([*keys, "parameter"])[fields].unstack("parameter")
    return cells.reindex(columns=pd.MultiIndex.from_product([fields, parameters]))


def _flat(cells: pd.DataFrame, parameters: list[str], with_text: bool) -> pd.DataFrame:
    """The columns p, p_decimals, p_low, p_high (and p_printed) of `_cells`, keys as columns.

    A parameter printed nowhere here is all missing (floats); decimals stay integers only where
    every examination prints every parameter printed at all."""
    printed_at = cells["decimals"].notna()
    involved = printed_at.any()
    complete = bool(printed_at.loc[:, involved].all().all())
    columns = {}
    for field, suffix in _FIELDS.items():
        for p in parameters:
            whole = field == "decimals" and complete and involved[p]
            columns[f"{p}{suffix}"] = cells[(field, p)].astype("int64" if whole else "float64")
    if with_text:
        for p in parameters:
            text = cells[("value", p)]
            columns[f"{p}_printed"] = text if involved[p] else text.astype("float64")
    return pd.DataFrame(columns, index=cells.index).reset_index()


def wide(measurements: pd.DataFrame, parameters: list[str]) -> pd.DataFrame:
    """One row per examination, with each parameter's value, decimals, interval and qualifier.

    Columns per parameter p: `p` (value), `p_decimals`, `p_low`, `p_high`, `p_printed`.
    """
    m = measurements.assign(**{c: _in_text_order(measurements[c]) for c in KEY_COLUMNS})
    frame = _sorted(_flat(_cells(m, parameters, EXAMINATION, True), parameters, True), EXAMINATION)
    return frame.astype(dict.fromkeys(EXAMINATION, "str"))


def interval_of(frame: pd.DataFrame, parameter: str) -> Interval:
    """The printed interval of one parameter's column in a `wide` table."""
    return Interval(
        frame[f"{parameter}_low"].astype("float64"), frame[f"{parameter}_high"].astype("float64")
    )


def _put(frame: pd.DataFrame, name: str, interval: Interval, value: pd.Series) -> pd.DataFrame:
    """The frame with a derived value and its interval, rounded to `ROUND` decimals."""
    return frame.assign(
        **{
            name: value.round(ROUND),
            f"{name}_low": interval.lo.round(ROUND),
            f"{name}_high": interval.hi.round(ROUND),
        }
    )


def _wide_in_time(
    m: pd.DataFrame, parameters: list[str], wanted: Callable[[pd.DataFrame], pd.Series]
) -> pd.DataFrame:
    """`wide` (without printed text) of the examinations whose values pass `wanted`, in time
    order, with the timepoint's date. `wanted` gets the values (a column per parameter)."""
    cells = _cells(m, parameters, [*EXAMINATION, "rank", "date"], with_text=False)
    cells = cells[wanted(cells["value_num"])]
    return _sorted(_flat(cells, parameters, with_text=False), IN_TIME)


def _derived(w: pd.DataFrame, side: formulas.Side | None) -> tuple[Interval, pd.Series]:
    """A formula side over a `wide` table: its exact interval and its value at the printed values
    (in the quantity's unit; NaN where an input is not printed, or everywhere without a side)."""
    if side is None:  # no formulas.csv in this raw folder
        nan = pd.Series(np.nan, index=w.index)
        return Interval(nan, nan), nan
    env = {n: (w[f"{n}_low"].to_numpy(float), w[f"{n}_high"].to_numpy(float)) for n in side.names}
    lo, hi = evaluator.bounds(side.tree, env)
    point = evaluator.values(side.tree, {n: w[n].to_numpy(float) for n in side.names})
    ends = [pd.Series(np.broadcast_to(e * side.factor, len(w)), index=w.index) for e in (lo, hi)]
    return Interval(*ends), pd.Series(np.broadcast_to(point * side.factor, len(w)), index=w.index)


def _identities(tables: dict[str, pd.DataFrame]) -> tuple[formulas.Formula, ...]:
    return formulas.load(tables["formulas"], tables["dictionary"], tables.get("constants"))


def _giving(
    identities: tuple[formulas.Formula, ...], quantity: str, using: str
) -> formulas.Side | None:
    """The formula side that gives `quantity` from an input `using` (formulas.csv; None if none)."""
    sides = [side for _, side in formulas.implied_by(identities, quantity) if using in side.names]
    return sides[0] if sides else None


def haemodynamics(
    tables: dict[str, pd.DataFrame], timed: pd.DataFrame | None = None
) -> pd.DataFrame:
    """SV and EF recomputed from EDV and ESV (formulas.csv) of every examination that prints both."""
    m = measurements_in_time(tables) if timed is None else timed
    identities = _identities(tables)
    params = ["lv_edv", "lv_esv", "stroke_volume", "lvef"]
    w = _wide_in_time(m, params, lambda v: v["lv_edv"].notna() & v["lv_esv"].notna())
    out = w[EXAMINATION_DATED + ["lv_edv", "lv_esv"]]
    for quantity in ("stroke_volume", "lvef"):
        out = _put(out, quantity, *_derived(w, _giving(identities, quantity, "lv_esv")))
    return out.assign(stroke_volume_reported=w["stroke_volume"], lvef_reported=w["lvef"])


def implied(tables: dict[str, pd.DataFrame], timed: pd.DataFrame | None = None) -> pd.DataFrame:
    """Body-surface area implied by SV/SVI and CO/CI, and heart rate implied by CO/SV (per scan),
    from formulas.csv."""
    m = measurements_in_time(tables) if timed is None else timed
    identities = _identities(tables)
    params = ["stroke_volume", "stroke_volume_index", "cardiac_output", "cardiac_index"]

    def wanted(v: pd.DataFrame) -> pd.Series:
        sv, svi, co, ci = (v[p].notna() for p in params)
        return (sv & svi) | (co & ci) | (co & sv)

    w = _wide_in_time(m, params, wanted)
    out = w[EXAMINATION_DATED]
    out = _put(out, "bsa_from_sv", *_derived(w, _giving(identities, "bsa", "stroke_volume_index")))
    out = _put(out, "bsa_from_co", *_derived(w, _giving(identities, "bsa", "cardiac_index")))
    return _put(out, "heart_rate", *_derived(w, _giving(identities, "heart_rate", "stroke_volume")))


def table_sources(tables: dict[str, pd.DataFrame]) -> list[str]:
    """The sources that are the paper's tables (as named in table_layout.csv)."""
    return sorted(tables["table_layout"]["source"].dropna().unique())


def _with_baseline(rows: pd.DataFrame) -> pd.DataFrame:
    """Rows sorted by series (`SERIES`), then time (timepoints not in timepoints.csv last, ties
    in table order), with the timepoint and value of each series' first row: its baseline."""
    time = rows["rank"].mask(rows["rank"] < 0, rows["rank"].max() + 1)  # unknown: after the last
    rows = _sorted(rows.assign(time=time), [*SERIES, "time"])
    series = rows.groupby(SERIES, observed=True, dropna=False, sort=False)
    first = series[["timepoint", "value_num"]].transform("first", skipna=False)
    return rows.assign(baseline_timepoint=first["timepoint"], baseline_value=first["value_num"])


def change_from_baseline(
    tables: dict[str, pd.DataFrame], timed: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Absolute and relative change of every table parameter against the first timepoint."""
    m = measurements_in_time(tables) if timed is None else timed
    # Rows of the paper's tables at a known timepoint (others have no place in time).
    in_tables = m["source"].isin(table_sources(tables)) & (m["rank"] >= 0)
    rows = _with_baseline(m.loc[in_tables, _IN_SERIES])
    change = rows["value_num"] - rows["baseline_value"]
    return rows[[*SERIES, "timepoint", "date"]].assign(
        value=rows["value_num"],
        baseline_timepoint=rows["baseline_timepoint"],
        baseline_value=rows["baseline_value"],
        change=change.round(ROUND),
        change_percent=(100 * change / rows["baseline_value"]).round(ROUND),
    )


def _lvef_categories(values: pd.Series, t: dict) -> pd.Categorical:
    """Each value's LVEF category."""
    conditions = [
        values <= t["reduced_max"],
        values >= t["preserved_min"],
        values <= t["mildly_reduced_max"],
    ]
    names = ["HFrEF", "HFpEF", "HFmrEF", "between_categories"]
    return pd.Categorical.from_codes(np.select(conditions, [0, 1, 2], 3), names)


def _bp_categories(sbp: pd.Series, dbp: pd.Series, t: dict) -> pd.Categorical:
    """Each reading's ACC/AHA blood-pressure category."""
    conditions = [
        (sbp < t["normal_sbp_below"]) & (dbp < t["normal_dbp_below"]),
        (sbp < t["elevated_sbp_below"]) & (dbp < t["normal_dbp_below"]),
        (sbp < t["stage1_sbp_below"]) & (dbp < t["stage1_dbp_below"]),
    ]
    names = ["normal", "elevated", "stage_1", "stage_2"]
    return pd.Categorical.from_codes(np.select(conditions, [0, 1, 2], 3), names)


def _nt_probnp_categories(values: pd.Series, t: dict) -> pd.Categorical:
    """Each NT-proBNP value against the rule-out cut-off."""
    names = ["below_rule_out", "at_or_above_rule_out"]
    return pd.Categorical.from_codes(np.where(values < t["rule_out_below"], 0, 1), names)


def _heart_rate_categories(values: pd.Series, t: dict) -> pd.Categorical:
    """Each heart rate against the resting range."""
    conditions = [values < t["resting_low"], values > t["resting_high"]]
    names = ["below_range", "above_range", "within_range"]
    return pd.Categorical.from_codes(np.select(conditions, [0, 1], 2), names)


def _rules(thresholds: dict) -> dict[str, str]:
    """Each scheme's cut-offs as text, from config."""
    lvef, nt, hr = thresholds["lvef"], thresholds["nt_probnp"], thresholds["heart_rate"]
    bp = thresholds["blood_pressure"]
    return {
        "lvef_category": f"HFrEF <= {lvef['reduced_max']:g}; HFmrEF {lvef['reduced_max'] + 1:g}-{lvef['mildly_reduced_max']:g}; "
        f"HFpEF >= {lvef['preserved_min']:g} (%)",
        "nt_probnp": f"rule-out below {nt['rule_out_below']:g} pg/mL",
        "heart_rate": f"resting {hr['resting_low']:g}-{hr['resting_high']:g} bpm",
        "blood_pressure": f"normal <{bp['normal_sbp_below']:g}/<{bp['normal_dbp_below']:g}; elevated "
        f"{bp['normal_sbp_below']:g}-{bp['elevated_sbp_below'] - 1:g}/<{bp['normal_dbp_below']:g}; stage 1 "
        f"{bp['elevated_sbp_below']:g}-{bp['stage1_sbp_below'] - 1:g} or "
        f"{bp['normal_dbp_below']:g}-{bp['stage1_dbp_below'] - 1:g}; stage 2 >={bp['stage1_sbp_below']:g} or "
        f">={bp['stage1_dbp_below']:g} mmHg",
    }


def _blood_pressures(m: pd.DataFrame) -> pd.DataFrame:
    """Each systolic reading with its examination's diastolic one (`value_num_dbp`), printed as
    'sbp/dbp'; a systolic value without a diastolic one is left out."""
    sbp = m.loc[m["parameter"] == "sbp", _CLASSIFIED]
    dbp = m.loc[m["parameter"] == "dbp", [*EXAMINATION, "value", "value_num"]]
    bp = sbp.merge(dbp, on=EXAMINATION, suffixes=("", "_dbp"))  # in systolic (table) order
    return bp.assign(value=bp["value"].astype("str") + "/" + bp["value_dbp"].astype("str"))


def classifications(
    tables: dict[str, pd.DataFrame], thresholds: dict, timed: pd.DataFrame | None = None
) -> pd.DataFrame:
    """LVEF category, NT-proBNP vs rule-out, ACC/AHA BP category and resting heart rate, per printed value."""
    m = measurements_in_time(tables) if timed is None else timed
    t, rules = thresholds, _rules(thresholds)
    ef, bnp, rate = (
        m.loc[m["parameter"] == p, _CLASSIFIED] for p in ("lvef", "nt_probnp", "heart_rate")
    )
    bp = _blood_pressures(m)
    schemes = {  # scheme: its rows, their categories, its config group
        "lvef_category": (ef, _lvef_categories(ef["value_num"], t["lvef"]), t["lvef"]),
        "nt_probnp": (bnp, _nt_probnp_categories(bnp["value_num"], t["nt_probnp"]), t["nt_probnp"]),
        "heart_rate": (
            rate,
            _heart_rate_categories(rate["value_num"], t["heart_rate"]),
            t["heart_rate"],
        ),
        "blood_pressure": (
            bp,
            _bp_categories(bp["value_num"], bp["value_num_dbp"], t["blood_pressure"]),
            t["blood_pressure"],
        ),
    }
    parts = [rows for rows, _, _ in schemes.values()]
    # Each row's scheme (a position in `schemes`); the text columns as categoricals, so that
    # each distinct text is held (and written) once.
    which = np.repeat(np.arange(len(schemes)), [len(rows) for rows in parts])
    out = pd.concat([rows[[*EXAMINATION, "rank"]] for rows in parts], ignore_index=True)
    out = out.assign(
        scheme=pd.Categorical(list(schemes)).take(which),
        value=union_categoricals([pd.Categorical(rows["value"]) for rows in parts]),
        category=union_categoricals([category for _, category, _ in schemes.values()]),
        rule=pd.Categorical([rules[name] for name in schemes]).take(which),
        citation=pd.Categorical([_citation(group) for _, _, group in schemes.values()]).take(which),
    )
    out = _sorted(out, ["case_id", "rank", "scheme", "modality", "method", "source"])
    return out[[*EXAMINATION, "scheme", "value", "category", "rule", "citation"]]


def _against_baseline(m: pd.DataFrame) -> pd.DataFrame:
    """One row per series and later timepoint (`_REMODELLING_KEY`, in time order) with LVEF and
    LVESV there and at the series' first timepoint."""
    params = ["lvef", "lv_esv"]
    rows = _with_baseline(m.loc[m["parameter"].isin(params), _IN_SERIES])
    later = rows[rows["timepoint"] != rows["baseline_timepoint"]]
    fields = ["value_num", "baseline_value"]
    cells = later.set_index([*_REMODELLING_KEY, "rank", "parameter"])[fields].unstack("parameter")
    cells = cells.reindex(columns=pd.MultiIndex.from_product([fields, params]))
    w = pd.DataFrame(
        {
            "lvef_baseline": cells[("baseline_value", "lvef")],
            "lvef": cells[("value_num", "lvef")],
            "lv_esv_baseline": cells[("baseline_value", "lv_esv")],
            "lv_esv": cells[("value_num", "lv_esv")],
        }
    ).reset_index()
    order = ["case_id", "rank", "source", "modality", "method", "baseline_timepoint", "timepoint"]
    return _sorted(w, order)


def _known(flag: pd.Series, *inputs: pd.Series) -> pd.Series:
    """The flag, missing where any of its inputs is (a criterion that cannot be judged)."""
    missing = pd.concat(inputs, axis=1).isna().any(axis=1)
    return flag.astype("boolean").mask(missing, pd.NA)


def remodelling(
    tables: dict[str, pd.DataFrame], thresholds: dict, timed: pd.DataFrame | None = None
) -> pd.DataFrame:
    """HFimpEF and reverse-remodelling criteria at each later timepoint against the first."""
    lvef, rr = thresholds["lvef"], thresholds["reverse_remodelling"]
    w = _against_baseline(measurements_in_time(tables) if timed is None else timed)
    rise = w["lvef"] - w["lvef_baseline"]
    fall = 100 * (w["lv_esv_baseline"] - w["lv_esv"]) / w["lv_esv_baseline"]
    hfimpef = (
        (w["lvef_baseline"] <= lvef["improved_baseline_max"])
        & (rise >= lvef["improved_rise_min"])
        & (w["lvef"] > lvef["improved_followup_above"])
    )
    rise_met = _known(rise >= rr["lvef_rise_min_points"], rise)
    fall_met = _known(fall >= rr["lvesv_fall_min_percent"], fall)
    return w[_REMODELLING_KEY].assign(
        lvef_baseline=w["lvef_baseline"],
        lvef=w["lvef"],
        lvef_rise=rise.round(ROUND),
        lv_esv_baseline=w["lv_esv_baseline"],
        lv_esv=w["lv_esv"],
        lv_esv_fall_percent=fall.round(ROUND),
        hfimpef=_known(hfimpef, rise),
        lvef_rise_met=rise_met,
        lv_esv_fall_met=fall_met,
        reverse_remodelling=(rise_met & fall_met),
    )


def derive_metrics(tables: dict[str, pd.DataFrame], thresholds: dict) -> dict[str, pd.DataFrame]:
    """Every derived-metrics table, by file name (see the module docstring for the columns)."""
    timed = measurements_in_time(tables)  # keyed in time once, shared by every table
    return {
        "haemodynamics": haemodynamics(tables, timed),
        "implied": implied(tables, timed),
        "change_from_baseline": change_from_baseline(tables, timed),
        "classifications": classifications(tables, thresholds, timed),
        "remodelling": remodelling(tables, thresholds, timed),
    }
