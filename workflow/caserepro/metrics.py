"""Derived metrics: what follows from the paper's printed numbers, per case, timepoint and method.

Every function takes the validated tables (and the config's `thresholds`) and returns one tidy
table, sorted by its key columns. `derive_metrics` returns them all by file name; they are
written to `results/metrics/<name>.csv` (names in `caserepro.paths.METRIC_TABLES`). Derived
numbers are given as a point value and as the interval the printed precision of their inputs
allows (`_low`, `_high`, see `caserepro.intervals`).

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

import numpy as np
import pandas as pd

from caserepro.intervals import Interval, ejection_fraction, month_span, printed

#: The columns that identify one examination: values printed together at one place.
EXAMINATION = ["case_id", "timepoint", "modality", "method", "source"]
#: Decimals kept in derived numbers (enough for any printed precision in the paper).
ROUND = 4


def _citation(group: dict) -> str:
    cite = group.get("citation")
    if cite is None:
        return ""
    return ";".join(cite) if isinstance(cite, list) else str(cite)


def timepoint_order(timepoints: pd.DataFrame) -> pd.DataFrame:
    """Each case's timepoints with their month span and rank in time (file order breaks ties)."""
    t = timepoints[["case_id", "timepoint", "date"]].copy()
    # Each distinct date is parsed once (a cohort has few), then spread back over the rows.
    codes, dates = pd.factorize(t["date"], use_na_sentinel=False)
    span = month_span(pd.Series(dates))
    t = t.assign(
        start_month=span.lo.to_numpy()[codes],
        end_month=span.hi.to_numpy()[codes],
        _row=np.arange(len(t)),
    )
    t = t.sort_values(["case_id", "start_month", "_row"], kind="stable")
    t["rank"] = t.groupby("case_id").cumcount()
    return t.drop(columns="_row").reset_index(drop=True)


def wide(measurements: pd.DataFrame, parameters: list[str]) -> pd.DataFrame:
    """One row per examination, with each parameter's value, decimals, interval and qualifier.

    Columns per parameter p: `p` (value), `p_decimals`, `p_low`, `p_high`, `p_printed`.
    """
    m = measurements[measurements["parameter"].isin(parameters)]
    m = m.assign(method=m["method"].fillna(""))
    interval = printed(m["value_num"], m["decimals"], m["qualifier"])
    m = m.assign(low=interval.lo, high=interval.hi)
    fields = {
        "value_num": "",
        "decimals": "_decimals",
        "low": "_low",
        "high": "_high",
        "value": "_printed",
    }
    pieces = []
    for field, suffix in fields.items():
        piece = m.pivot_table(index=EXAMINATION, columns="parameter", values=field, aggfunc="first")
        piece = piece.reindex(columns=parameters)
        piece.columns = [f"{p}{suffix}" for p in piece.columns]
        pieces.append(piece)
    out = pd.concat(pieces, axis=1).reset_index()
    return out.assign(method=out["method"].replace("", pd.NA))


def interval_of(frame: pd.DataFrame, parameter: str) -> Interval:
    """The printed interval of one parameter's column in a `wide` table."""
    return Interval(
        frame[f"{parameter}_low"].astype("float64"), frame[f"{parameter}_high"].astype("float64")
    )


def _with_dates(frame: pd.DataFrame, timepoints: pd.DataFrame) -> pd.DataFrame:
    dates = timepoints[["case_id", "timepoint", "date"]]
    out = frame.merge(dates, on=["case_id", "timepoint"], how="left")
    cols = list(frame.columns)
    at = cols.index("timepoint") + 1
    return out[cols[:at] + ["date"] + cols[at:]]


def _sorted(frame: pd.DataFrame, keys: list[str], timepoints: pd.DataFrame) -> pd.DataFrame:
    """Rows sorted by case, time order of the timepoint, then the other keys."""
    rank = timepoint_order(timepoints)[["case_id", "timepoint", "rank"]]
    out = frame.merge(rank, on=["case_id", "timepoint"], how="left")
    order = ["case_id", "rank", *[k for k in keys if k not in ("case_id", "timepoint")]]
    out = out.sort_values(order, kind="stable", na_position="first")
    return out.drop(columns="rank").reset_index(drop=True)


def _put(frame: pd.DataFrame, name: str, interval: Interval, value: pd.Series) -> pd.DataFrame:
    return frame.assign(
        **{
            name: value.round(ROUND),
            f"{name}_low": interval.lo.round(ROUND),
            f"{name}_high": interval.hi.round(ROUND),
        }
    )


def haemodynamics(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """SV and EF recomputed from EDV and ESV of every examination that prints both volumes."""
    w = wide(tables["measurements"], ["lv_edv", "lv_esv", "stroke_volume", "lvef"])
    w = w[w["lv_edv"].notna() & w["lv_esv"].notna()].reset_index(drop=True)
    edv, esv = interval_of(w, "lv_edv"), interval_of(w, "lv_esv")
    sv_point = w["lv_edv"] - w["lv_esv"]
    out = w[EXAMINATION + ["lv_edv", "lv_esv"]]
    out = _put(out, "stroke_volume", edv - esv, sv_point)
    out = _put(out, "lvef", ejection_fraction(edv, esv), sv_point / w["lv_edv"] * 100)
    out = out.assign(stroke_volume_reported=w["stroke_volume"], lvef_reported=w["lvef"])
    out = _with_dates(out, tables["timepoints"])
    return _sorted(out, EXAMINATION, tables["timepoints"])


def implied(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Body-surface area implied by SV/SVI and CO/CI, and heart rate implied by CO/SV (per scan)."""
    params = ["stroke_volume", "stroke_volume_index", "cardiac_output", "cardiac_index"]
    w = wide(tables["measurements"], params)
    has = {p: w[p].notna() for p in params}
    keep = (has["stroke_volume"] & has["stroke_volume_index"]) | (
        has["cardiac_output"] & has["cardiac_index"]
    )
    keep |= has["cardiac_output"] & has["stroke_volume"]
    w = w[keep].reset_index(drop=True)
    sv, svi = interval_of(w, "stroke_volume"), interval_of(w, "stroke_volume_index")
    co, ci = interval_of(w, "cardiac_output"), interval_of(w, "cardiac_index")
    out = w[EXAMINATION]
    out = _put(out, "bsa_from_sv", sv / svi, w["stroke_volume"] / w["stroke_volume_index"])
    out = _put(out, "bsa_from_co", co / ci, w["cardiac_output"] / w["cardiac_index"])
    out = _put(
        out, "heart_rate", (co / sv) * 1000.0, w["cardiac_output"] / w["stroke_volume"] * 1000
    )
    out = _with_dates(out, tables["timepoints"])
    return _sorted(out, EXAMINATION, tables["timepoints"])


def table_sources(tables: dict[str, pd.DataFrame]) -> list[str]:
    """The sources that are the paper's tables (as named in table_layout.csv)."""
    return sorted(tables["table_layout"]["source"].unique())


def baseline_pairs(
    measurements: pd.DataFrame, timepoints: pd.DataFrame, parameters: list[str] | None = None
) -> pd.DataFrame:
    """Each measurement joined with the first timepoint's value of its case, source, modality, method and parameter."""
    m = (
        measurements
        if parameters is None
        else measurements[measurements["parameter"].isin(parameters)]
    )
    rank = timepoint_order(timepoints)[["case_id", "timepoint", "rank"]]
    m = m.assign(method=m["method"].fillna("")).merge(rank, on=["case_id", "timepoint"], how="left")
    series = ["case_id", "source", "modality", "method", "parameter"]
    first = m.sort_values([*series, "rank"], kind="stable").drop_duplicates(series)
    first = first[[*series, "timepoint", "value_num"]].rename(
        columns={"timepoint": "baseline_timepoint", "value_num": "baseline_value"}
    )
    out = m.merge(first, on=series, how="left")
    return out.assign(method=out["method"].replace("", pd.NA))


def change_from_baseline(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Absolute and relative change of every table parameter against the first timepoint."""
    m = tables["measurements"]
    m = m[m["source"].isin(table_sources(tables))]
    pairs = baseline_pairs(m, tables["timepoints"])
    change = pairs["value_num"] - pairs["baseline_value"]
    out = pairs.assign(
        value=pairs["value_num"],
        change=change.round(ROUND),
        change_percent=(100 * change / pairs["baseline_value"]).round(ROUND),
    )
    cols = [
        "case_id",
        "source",
        "modality",
        "method",
        "parameter",
        "timepoint",
        "value",
        "baseline_timepoint",
        "baseline_value",
        "change",
        "change_percent",
    ]
    out = _with_dates(out[cols], tables["timepoints"])
    out = out.merge(
        timepoint_order(tables["timepoints"])[["case_id", "timepoint", "rank"]],
        on=["case_id", "timepoint"],
    )
    out = out.sort_values(
        ["case_id", "source", "modality", "method", "parameter", "rank"],
        kind="stable",
        na_position="first",
    )
    return out.drop(columns="rank").reset_index(drop=True)


def _lvef_categories(values: pd.Series, t: dict) -> pd.Series:
    return pd.Series(
        np.select(
            [
                values <= t["reduced_max"],
                values >= t["preserved_min"],
                values <= t["mildly_reduced_max"],
            ],
            ["HFrEF", "HFpEF", "HFmrEF"],
            "between_categories",
        ),
        index=values.index,
    )


def _bp_categories(sbp: pd.Series, dbp: pd.Series, t: dict) -> pd.Series:
    return pd.Series(
        np.select(
            [
                (sbp < t["normal_sbp_below"]) & (dbp < t["normal_dbp_below"]),
                (sbp < t["elevated_sbp_below"]) & (dbp < t["normal_dbp_below"]),
                (sbp < t["stage1_sbp_below"]) & (dbp < t["stage1_dbp_below"]),
            ],
            ["normal", "elevated", "stage_1"],
            "stage_2",
        ),
        index=sbp.index,
    )


def classifications(tables: dict[str, pd.DataFrame], thresholds: dict) -> pd.DataFrame:
    """LVEF category, NT-proBNP vs rule-out, ACC/AHA BP category and resting heart rate, per printed value."""
    m = tables["measurements"]
    lvef, nt, hr = thresholds["lvef"], thresholds["nt_probnp"], thresholds["heart_rate"]
    bp = thresholds["blood_pressure"]
    parts = []
    ef = m[m["parameter"] == "lvef"]
    parts.append(
        ef.assign(
            scheme="lvef_category",
            category=_lvef_categories(ef["value_num"], lvef),
            rule=f"HFrEF <= {lvef['reduced_max']:g}; HFmrEF {lvef['reduced_max'] + 1:g}-{lvef['mildly_reduced_max']:g}; "
            f"HFpEF >= {lvef['preserved_min']:g} (%)",
            citation=_citation(lvef),
        )
    )
    bnp = m[m["parameter"] == "nt_probnp"]
    parts.append(
        bnp.assign(
            scheme="nt_probnp",
            category=np.where(
                bnp["value_num"] < nt["rule_out_below"], "below_rule_out", "at_or_above_rule_out"
            ),
            rule=f"rule-out below {nt['rule_out_below']:g} pg/mL",
            citation=_citation(nt),
        )
    )
    rate = m[m["parameter"] == "heart_rate"]
    parts.append(
        rate.assign(
            scheme="heart_rate",
            category=np.select(
                [rate["value_num"] < hr["resting_low"], rate["value_num"] > hr["resting_high"]],
                ["below_range", "above_range"],
                "within_range",
            ),
            rule=f"resting {hr['resting_low']:g}-{hr['resting_high']:g} bpm",
            citation=_citation(hr),
        )
    )
    keyed = m.assign(method=m["method"].fillna(""))
    sbp = keyed[keyed["parameter"] == "sbp"]
    dbp = keyed[keyed["parameter"] == "dbp"][[*EXAMINATION, "value", "value_num"]]
    pressure = sbp.merge(dbp, on=EXAMINATION, suffixes=("", "_dbp"))
    parts.append(
        pressure.assign(
            method=pressure["method"].replace("", pd.NA),
            value=pressure["value"] + "/" + pressure["value_dbp"],
            scheme="blood_pressure",
            category=_bp_categories(pressure["value_num"], pressure["value_num_dbp"], bp),
            rule=f"normal <{bp['normal_sbp_below']:g}/<{bp['normal_dbp_below']:g}; elevated "
            f"{bp['normal_sbp_below']:g}-{bp['elevated_sbp_below'] - 1:g}/<{bp['normal_dbp_below']:g}; stage 1 "
            f"{bp['elevated_sbp_below']:g}-{bp['stage1_sbp_below'] - 1:g} or "
            f"{bp['normal_dbp_below']:g}-{bp['stage1_dbp_below'] - 1:g}; stage 2 >={bp['stage1_sbp_below']:g} or "
            f">={bp['stage1_dbp_below']:g} mmHg",
            citation=_citation(bp),
        )
    )
    cols = [*EXAMINATION, "scheme", "value", "category", "rule", "citation"]
    out = pd.concat([p[cols] for p in parts], ignore_index=True)
    return _sorted(
        out,
        ["case_id", "timepoint", "scheme", "modality", "method", "source"],
        tables["timepoints"],
    )


def remodelling(tables: dict[str, pd.DataFrame], thresholds: dict) -> pd.DataFrame:
    """HFimpEF and reverse-remodelling criteria at each later timepoint against the first."""
    lvef, rr = thresholds["lvef"], thresholds["reverse_remodelling"]
    pairs = baseline_pairs(tables["measurements"], tables["timepoints"], ["lvef", "lv_esv"])
    pairs = pairs[pairs["timepoint"] != pairs["baseline_timepoint"]]
    series = ["case_id", "source", "modality", "method", "baseline_timepoint", "timepoint"]
    keyed = pairs.assign(method=pairs["method"].fillna(""))
    w = keyed.pivot_table(
        index=series, columns="parameter", values=["value_num", "baseline_value"], aggfunc="first"
    )
    w.columns = [f"{p}_baseline" if field == "baseline_value" else p for field, p in w.columns]
    w = w.reindex(columns=["lvef_baseline", "lvef", "lv_esv_baseline", "lv_esv"]).reset_index()
    rise = w["lvef"] - w["lvef_baseline"]
    fall = 100 * (w["lv_esv_baseline"] - w["lv_esv"]) / w["lv_esv_baseline"]

    def known(flag: pd.Series, *inputs: pd.Series) -> pd.Series:
        missing = pd.concat(inputs, axis=1).isna().any(axis=1)
        return flag.astype("boolean").mask(missing, pd.NA)

    hfimpef = (
        (w["lvef_baseline"] <= lvef["improved_baseline_max"])
        & (rise >= lvef["improved_rise_min"])
        & (w["lvef"] > lvef["improved_followup_above"])
    )
    rise_met = known(rise >= rr["lvef_rise_min_points"], rise)
    fall_met = known(fall >= rr["lvesv_fall_min_percent"], fall)
    out = w.assign(
        method=w["method"].replace("", pd.NA),
        lvef_rise=rise.round(ROUND),
        lv_esv_fall_percent=fall.round(ROUND),
        hfimpef=known(hfimpef, rise),
        lvef_rise_met=rise_met,
        lv_esv_fall_met=fall_met,
        reverse_remodelling=(rise_met & fall_met),
    )
    cols = [
        *series,
        "lvef_baseline",
        "lvef",
        "lvef_rise",
        "lv_esv_baseline",
        "lv_esv",
        "lv_esv_fall_percent",
        "hfimpef",
        "lvef_rise_met",
        "lv_esv_fall_met",
        "reverse_remodelling",
    ]
    return _sorted(out[cols], series, tables["timepoints"])


def derive_metrics(tables: dict[str, pd.DataFrame], thresholds: dict) -> dict[str, pd.DataFrame]:
    """Every derived-metrics table, by file name (see the module docstring for the columns)."""
    return {
        "haemodynamics": haemodynamics(tables),
        "implied": implied(tables),
        "change_from_baseline": change_from_baseline(tables),
        "classifications": classifications(tables, thresholds),
        "remodelling": remodelling(tables, thresholds),
    }


def to_csv(frame: pd.DataFrame) -> str:
    """CSV text of a metrics or audit table: no index, '\\n' line ends, blanks for missing values."""
    return frame.to_csv(index=False, lineterminator="\n")
