"""Audit: whether the paper's numbers follow from one another, number by number, rounding-aware.

A printed value stands for the interval its printed precision allows; a derived value is an
interval computed from its inputs' intervals (`caserepro.intervals`). Each check compares a
reported interval with an expected one:

- `consistent` when they meet;
- otherwise `minor` when the gap between them is at most `audit.minor_relative_gap` (config) of
  the reported value, or when they only touch at an end; `inconsistent` when the gap is larger;
  checks listed in `audit.soft_checks` compare different measurements that need not agree and
  are graded `minor` at most;
- `not_checkable` when an input is missing or no cited definition applies (the reason is given).

Checks (the `check` column), all computed over whole tables, every case at once:
`ef_from_volumes`, `sv_from_volumes` (printed EF and SV against EDV and ESV of the same
examination); `bsa_sv_vs_co` (implied BSA from SV/SVI against CO/CI), `bsa_across_methods`,
`bsa_across_timepoints`; `hr_implied_vs_visit` (CO/SV during the scan against heart rates
recorded in the scan's date span); `repeated_value` (a value printed in two places: same case,
parameter, timepoint and modality, methods equal or one blank); `age_vs_dates` (ages stated later
against the age at admission and the dates); `claim_<kind>` (prose claims in claims.csv).

Output (`results/audit/consistency.csv`, contract in DESIGN.md): check, case_id, parameter,
timepoint, source, reported, expected_low, expected_high, verdict, detail; then `method` and
`against` (what the reported value is compared with), which tell apart checks of one value.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from caserepro.intervals import (
    Interval,
    ejection_fraction,
    gap,
    intersect,
    meets,
    month_span,
    point,
    printed,
)
from caserepro.metrics import EXAMINATION, interval_of, table_sources, timepoint_order, wide

VERDICTS = ("consistent", "minor", "inconsistent", "not_checkable")
CHECKS = (
    "ef_from_volumes",
    "sv_from_volumes",
    "bsa_sv_vs_co",
    "bsa_across_methods",
    "bsa_across_timepoints",
    "hr_implied_vs_visit",
    "repeated_value",
    "age_vs_dates",
    "claim_range",
    "claim_increase",
    "claim_decrease",
    "claim_below",
    "claim_above",
    "claim_within",
)
#: The columns of results/audit/consistency.csv that DESIGN.md fixes (the figures rely on them).
CONTRACT_COLUMNS: tuple[str, ...] = (
    "check",
    "case_id",
    "parameter",
    "timepoint",
    "source",
    "reported",
    "expected_low",
    "expected_high",
    "verdict",
    "detail",
)
#: All columns: the contract, then which method and what the value was compared against.
COLUMNS = [*CONTRACT_COLUMNS, "method", "against"]
#: Decimals of expected_low / expected_high in the output.
ROUND = 4
_SEVERITY = {"consistent": 0, "minor": 1, "inconsistent": 2, "not_checkable": -1}


@dataclass(frozen=True)
class Grading:
    """How a gap between reported and expected intervals becomes a verdict (config `audit`)."""

    minor_relative_gap: float
    soft_checks: tuple[str, ...] = ()

    @classmethod
    def from_config(cls, audit: dict) -> Grading:
        """Read the `audit:` section of config.yaml."""
        return cls(float(audit["minor_relative_gap"]), tuple(audit.get("soft_checks") or ()))


def num(values: pd.Series) -> pd.Series:
    """Numbers for a detail text: up to four decimals, no trailing zeros ('23.0769', '20', 'inf')."""
    rounded = values.astype("float64").round(ROUND)
    return _each_distinct(rounded, lambda v: "" if pd.isna(v) else f"{v:g}")


def _each_distinct(values: pd.Series, text: Callable[[float], str]) -> pd.Series:
    """`values.map(text)` for float64 values, calling `text` once per distinct value.

    Factorising the bit patterns keeps -0.0 apart from 0.0 (they print differently) and needs no
    special case for missing values.
    """
    if values.dtype != "float64":
        return values.map(text)
    codes, bits = pd.factorize(values.to_numpy().view("int64"))
    distinct = pd.Series(bits.view("float64")).map(text)
    return distinct.take(codes).set_axis(values.index).rename(values.name)


def joined(keys: pd.Series, words: pd.Series, sep: str) -> pd.Series:
    """Distinct words of each key, sorted and joined by `sep` (one vectorised pass, no per-group code)."""
    frame = pd.DataFrame({"key": keys, "word": words.astype("str")}).drop_duplicates()
    frame = frame.sort_values(["key", "word"], kind="stable")
    text = (frame["word"] + sep).groupby(frame["key"]).sum()
    return text.str.slice(0, -len(sep))


def interval_text(iv: Interval) -> pd.Series:
    """'[lo, hi]' for a detail text, or the value alone where lo == hi."""
    lo, hi = num(iv.lo), num(iv.hi)
    text = ("[" + lo + ", " + hi + "]").where(lo != hi, lo)
    text = text.mask((lo == "") & (hi != ""), "< " + hi).mask((hi == "") & (lo != ""), "> " + lo)
    return text


def grade(
    reported: Interval, expected: Interval, scale: pd.Series, grading: Grading
) -> pd.DataFrame:
    """Verdict and gap for each row: meet, gap within tolerance, or not."""
    distance = gap(reported, expected)
    relative = distance / scale.abs().where(scale.abs() > 0, 1.0)
    verdict = np.select(
        [
            reported.missing | expected.missing,
            meets(reported, expected),
            relative <= grading.minor_relative_gap,
        ],
        ["not_checkable", "consistent", "minor"],
        "inconsistent",
    )
    return pd.DataFrame(
        {"verdict": verdict, "gap": distance, "relative_gap": relative}, index=scale.index
    )


def _gap_text(graded: pd.DataFrame) -> pd.Series:
    rel = _each_distinct((100 * graded["relative_gap"]).round(2), lambda v: f"{v:g}")
    text = "; gap " + num(graded["gap"]) + " (" + rel + " % of reported)"
    text = text.mask(
        graded["gap"] == 0, "; the intervals only touch at an end (neighbouring values)"
    )
    return text.where(graded["verdict"].isin(["minor", "inconsistent"]), "")


def _rows(
    check: str,
    base: pd.DataFrame,
    reported: Interval,
    expected: Interval,
    scale: pd.Series,
    grading: Grading,
    reported_text: pd.Series,
    detail: pd.Series,
) -> pd.DataFrame:
    """Graded check rows: the contract's columns from a frame with case_id, parameter, timepoint, ..."""
    graded = grade(reported, expected, scale, grading)
    verdict = graded["verdict"]
    if check in grading.soft_checks:
        capped = verdict == "inconsistent"
        verdict = verdict.mask(capped, "minor")
        detail = detail + pd.Series(
            np.where(
                capped,
                "; would be inconsistent, but these need not agree (soft check: minor at most)",
                "",
            ),
            index=detail.index,
        )
    return pd.DataFrame(
        {
            "check": check,
            "case_id": base["case_id"],
            "parameter": base["parameter"],
            "timepoint": base["timepoint"],
            "source": base["source"],
            "reported": reported_text,
            "expected_low": expected.lo.round(ROUND),
            "expected_high": expected.hi.round(ROUND),
            "verdict": verdict,
            "detail": detail + _gap_text(graded.assign(verdict=verdict)),
            "method": base["method"],
            "against": base["against"],
        }
    )


# --- derived haemodynamics -------------------------------------------------------------------


def check_volumes(tables: dict[str, pd.DataFrame], grading: Grading) -> pd.DataFrame:
    """Printed EF and SV against EDV and ESV printed at the same place (one examination)."""
    w = wide(tables["measurements"], ["lv_edv", "lv_esv", "lvef", "stroke_volume"]).reset_index(
        drop=True
    )
    edv, esv = interval_of(w, "lv_edv"), interval_of(w, "lv_esv")
    any_volume = w["lv_edv"].notna() | w["lv_esv"].notna()
    out = []
    derived = {
        "lvef": ("ef_from_volumes", ejection_fraction(edv, esv), "EF = (EDV - ESV) / EDV x 100"),
        "stroke_volume": ("sv_from_volumes", edv - esv, "SV = EDV - ESV"),
    }
    for parameter, (check, expected, formula) in derived.items():
        keep = w[parameter].notna() & any_volume
        base = w[keep].assign(parameter=parameter, against="lv_edv, lv_esv")
        exp = Interval(expected.lo[keep], expected.hi[keep])
        rep = interval_of(base, parameter)
        missing = np.where(base["lv_edv"].isna(), "EDV missing; ", "") + np.where(
            base["lv_esv"].isna(), "ESV missing; ", ""
        )
        detail = (
            pd.Series(missing, index=base.index)
            + formula
            + " from EDV "
            + base["lv_edv_printed"].fillna("?")
            + ", ESV "
            + base["lv_esv_printed"].fillna("?")
            + " gives "
            + interval_text(exp)
            + "; printed "
            + base[f"{parameter}_printed"]
        )
        out.append(
            _rows(
                check,
                base,
                rep,
                exp,
                base[parameter],
                grading,
                base[f"{parameter}_printed"],
                detail,
            )
        )
    return pd.concat(out, ignore_index=True)


def _implied_bsa(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    params = ["stroke_volume", "stroke_volume_index", "cardiac_output", "cardiac_index"]
    w = wide(tables["measurements"], params).reset_index(drop=True)
    sv = interval_of(w, "stroke_volume") / interval_of(w, "stroke_volume_index")
    co = interval_of(w, "cardiac_output") / interval_of(w, "cardiac_index")
    w = w.assign(sv_lo=sv.lo, sv_hi=sv.hi, co_lo=co.lo, co_hi=co.hi)
    return w[~(sv.missing & co.missing)].reset_index(drop=True)


def _combined_bsa(w: pd.DataFrame) -> Interval:
    """One implied BSA per scan: both estimates' common part where they meet, else their hull."""
    sv, co = Interval(w["sv_lo"], w["sv_hi"]), Interval(w["co_lo"], w["co_hi"])
    both = intersect(sv, co)
    agree = meets(sv, co)
    lo = both.lo.where(agree, np.fmin(sv.lo, co.lo))
    hi = both.hi.where(agree, np.fmax(sv.hi, co.hi))
    return Interval(lo, hi)


def check_bsa(tables: dict[str, pd.DataFrame], grading: Grading) -> pd.DataFrame:
    """Implied BSA: SV/SVI against CO/CI, across the methods of one scan, and across scans."""
    w = _implied_bsa(tables)
    sv, co = Interval(w["sv_lo"], w["sv_hi"]), Interval(w["co_lo"], w["co_hi"])
    base = w.assign(parameter="bsa", against="CO / CI")
    detail = (
        "BSA implied by SV/SVI "
        + interval_text(sv).where(~sv.missing, "(not printed)")
        + " m² vs by CO/CI "
        + interval_text(co).where(~co.missing, "(not printed)")
        + " m²"
    )
    parts = [_rows("bsa_sv_vs_co", base, sv, co, sv.mid, grading, interval_text(sv), detail)]

    combined = _combined_bsa(w)
    scans = w[EXAMINATION].assign(lo=combined.lo, hi=combined.hi)
    rank = timepoint_order(tables["timepoints"])[["case_id", "timepoint", "rank"]]
    scans = scans.merge(rank, on=["case_id", "timepoint"], how="left").assign(
        method=lambda f: f["method"].fillna("")
    )

    scan = ["case_id", "timepoint", "modality", "source"]
    pairs = scans.merge(scans, on=scan, suffixes=("", "_b"))
    pairs = pairs[pairs["method"] < pairs["method_b"]].reset_index(drop=True)
    a, b = Interval(pairs["lo"], pairs["hi"]), Interval(pairs["lo_b"], pairs["hi_b"])
    base = pairs.assign(parameter="bsa", against=pairs["method_b"])
    detail = (
        "one scan, one patient: BSA implied for "
        + pairs["method"]
        + " "
        + interval_text(a)
        + " m² vs for "
        + pairs["method_b"]
        + " "
        + interval_text(b)
        + " m²"
    )
    parts.append(_rows("bsa_across_methods", base, a, b, a.mid, grading, interval_text(a), detail))

    series = ["case_id", "modality", "method", "source"]
    ordered = scans.sort_values([*series, "rank"], kind="stable").reset_index(drop=True)
    prev = ordered.groupby(series, dropna=False)[["timepoint", "lo", "hi"]].shift(1)
    keep = prev["timepoint"].notna()
    later, earlier = ordered[keep].reset_index(drop=True), prev[keep].reset_index(drop=True)
    a, b = (
        Interval(later["lo"], later["hi"]),
        Interval(earlier["lo"].astype("float64"), earlier["hi"].astype("float64")),
    )
    base = later.assign(parameter="bsa", against=earlier["timepoint"])
    detail = (
        "BSA implied at "
        + later["timepoint"]
        + " "
        + interval_text(a)
        + " m² vs at "
        + earlier["timepoint"]
        + " "
        + interval_text(b)
        + " m² ("
        + later["method"]
        + ")"
    )
    parts.append(
        _rows("bsa_across_timepoints", base, a, b, a.mid, grading, interval_text(a), detail)
    )
    out = pd.concat(parts, ignore_index=True)
    return out.assign(method=out["method"].replace("", pd.NA))


def check_heart_rate(tables: dict[str, pd.DataFrame], grading: Grading) -> pd.DataFrame:
    """Heart rate implied by CO/SV during a scan against heart rates recorded in the scan's date span."""
    m = tables["measurements"]
    w = wide(m, ["stroke_volume", "cardiac_output"])
    w = w[w["stroke_volume"].notna() & w["cardiac_output"].notna()].reset_index(drop=True)
    implied_hr = (interval_of(w, "cardiac_output") / interval_of(w, "stroke_volume")) * 1000.0
    w = w.assign(hr_lo=implied_hr.lo, hr_hi=implied_hr.hi, _row=np.arange(len(w)))

    order = timepoint_order(tables["timepoints"])[
        ["case_id", "timepoint", "start_month", "end_month"]
    ]
    rates = m[m["parameter"] == "heart_rate"]
    iv = printed(rates["value_num"], rates["decimals"], rates["qualifier"])
    rates = rates.assign(lo=iv.lo, hi=iv.hi).merge(order, on=["case_id", "timepoint"])
    scans = w.merge(order, on=["case_id", "timepoint"])
    near = scans[["_row", "case_id", "timepoint", "start_month", "end_month"]].merge(
        rates[["case_id", "timepoint", "lo", "hi", "start_month", "end_month"]],
        on="case_id",
        suffixes=("", "_hr"),
    )
    near = near[
        (near["timepoint"] != near["timepoint_hr"])
        & (near["start_month_hr"] < near["end_month"])
        & (near["start_month"] < near["end_month_hr"])
    ]
    envelope = near.groupby("_row").agg(lo=("lo", "min"), hi=("hi", "max"))
    envelope = envelope.assign(at=joined(near["_row"], near["timepoint_hr"], ", "))
    scans = (
        scans.merge(envelope, left_on="_row", right_index=True, how="left")
        .sort_values("_row")
        .reset_index(drop=True)
    )
    rep, exp = Interval(scans["hr_lo"], scans["hr_hi"]), Interval(scans["lo"], scans["hi"])
    dates = tables["timepoints"].set_index(["case_id", "timepoint"])["date"]
    scan_date = pd.Series(
        dates.reindex(pd.MultiIndex.from_frame(scans[["case_id", "timepoint"]])).to_numpy(),
        index=scans.index,
    )
    detail = (
        "heart rate during the scan, CO/SV x 1000 = "
        + interval_text(rep)
        + " bpm; "
        + (
            "heart rates recorded in "
            + scan_date
            + " ("
            + scans["at"].fillna("")
            + "): "
            + interval_text(exp)
            + " bpm"
        ).where(scans["at"].notna(), "no heart rate recorded in " + scan_date)
    )
    base = scans.assign(parameter="heart_rate", against=scans["at"].fillna(""))
    return _rows(
        "hr_implied_vs_visit", base, rep, exp, rep.mid, grading, interval_text(rep), detail
    )


# --- the same value printed in two places ----------------------------------------------------


def check_repeated_values(tables: dict[str, pd.DataFrame], grading: Grading) -> pd.DataFrame:
    """Every value printed in two places, compared with the other place (a table is the reference).

    Same case, parameter, timepoint and modality; methods equal, or blank on one side (which
    matches any method: the closest one is taken). Each value is checked once, against the first
    source in rank (the paper's tables, then the other sources in alphabetical order).
    """
    m = tables["measurements"].reset_index(drop=True)
    iv = printed(m["value_num"], m["decimals"], m["qualifier"])
    is_table = m["source"].isin(table_sources(tables))
    m = m.assign(
        lo=iv.lo,
        hi=iv.hi,
        _row=np.arange(len(m)),
        _rank=np.where(is_table, "0|", "1|") + m["source"],
        shown=(m["qualifier"].fillna("") + " " + m["value"]).str.strip(),
    )
    key = ["case_id", "parameter", "timepoint", "modality"]
    pairs = m.merge(m, on=key, suffixes=("", "_ref"))
    same_method = pairs["method"] == pairs["method_ref"]
    either_blank = pairs["method"].isna() | pairs["method_ref"].isna()
    ranked = pairs[pairs["_rank_ref"] < pairs["_rank"]]
    # A value that matches another method's value at the other place hints at swapped methods.
    other = ranked[~(same_method | either_blank).reindex(ranked.index).fillna(False)]
    other = other[
        meets(Interval(other["lo"], other["hi"]), Interval(other["lo_ref"], other["hi_ref"]))
    ]
    swapped = joined(
        other["_row"].astype("str") + "|" + other["source_ref"], other["method_ref"], ", "
    )
    pairs = ranked[(same_method.fillna(False) | either_blank).reindex(ranked.index)]
    rep, ref = Interval(pairs["lo"], pairs["hi"]), Interval(pairs["lo_ref"], pairs["hi_ref"])
    pairs = pairs.assign(_gap=gap(rep, ref), _meets=meets(rep, ref))
    pairs = pairs.sort_values(
        ["_row", "_rank_ref", "_meets", "_gap", "method_ref"],
        ascending=[True, True, False, True, True],
        kind="stable",
        na_position="last",
    )
    pairs = pairs.drop_duplicates("_row").reset_index(drop=True)
    rep, ref = Interval(pairs["lo"], pairs["hi"]), Interval(pairs["lo_ref"], pairs["hi_ref"])
    method_ref = (" (" + pairs["method_ref"] + ")").fillna("")
    detail = (
        pairs["source"]
        + " prints "
        + pairs["shown"]
        + "; "
        + pairs["source_ref"]
        + method_ref
        + " prints "
        + pairs["shown_ref"]
    )
    hint = (pairs["_row"].astype("str") + "|" + pairs["source_ref"]).map(swapped).astype("str")
    hint = hint.where(~pairs["_meets"])
    detail = detail + ("; it matches the " + hint + " value there (methods swapped?)").fillna("")
    base = pairs.assign(against=pairs["source_ref"])
    return _rows(
        "repeated_value", base, rep, ref, pairs["value_num"], grading, pairs["shown"], detail
    )


# --- ages against dates ----------------------------------------------------------------------


def check_ages(tables: dict[str, pd.DataFrame], grading: Grading) -> pd.DataFrame:
    """Ages stated at later timepoints against the age at admission and the months between.

    With age a (completed years) in admission month D, the exact age at a date E lies in
    (E.start - D.end + 12a, E.end - D.start + 12a + 12) months; the completed years that allows
    are the expected interval.
    """
    m = tables["measurements"]
    ages = m[m["parameter"] == "age"].reset_index(drop=True)
    cases = tables["cases"][["case_id", "age_years", "admission"]]
    dates = tables["timepoints"][["case_id", "timepoint", "date"]]
    ages = ages.merge(cases, on="case_id", how="left").merge(
        dates, on=["case_id", "timepoint"], how="left"
    )
    at, admitted = month_span(ages["date"]), month_span(ages["admission"])
    base_months = 12 * ages["age_years"].astype("float64")
    low = np.floor((at.lo - admitted.hi + base_months) / 12)
    high = np.ceil((at.hi - admitted.lo + base_months + 12) / 12) - 1
    expected = Interval(low, high)
    rep = point(ages["value_num"])
    detail = (
        "aged "
        + ages["age_years"].astype("str")
        + " at admission ("
        + ages["admission"]
        + "), so aged "
        + interval_text(expected)
        + " in "
        + ages["date"]
        + "; stated "
        + ages["value"]
    )
    base = ages.assign(against="cases.csv age at admission")
    return _rows(
        "age_vs_dates", base, rep, expected, ages["value_num"], grading, ages["value"], detail
    )


# --- prose claims ----------------------------------------------------------------------------


def flatten(config: dict, prefix: str = "") -> dict[str, object]:
    """Dotted keys of a nested config ('nt_probnp.rule_out_below' -> 125)."""
    flat: dict[str, object] = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def _claim_values(
    claims: pd.DataFrame, m: pd.DataFrame, at: str, other_sources: bool
) -> pd.DataFrame:
    """Hull, lowest and highest value of each claim's parameter at its `at` timepoint (optionally from other sources)."""
    iv = printed(m["value_num"], m["decimals"], m["qualifier"])
    m = m.assign(lo=iv.lo, hi=iv.hi)
    on = claims[["claim_id", "case_id", "parameter", "modality", at, "source"]].rename(
        columns={at: "timepoint", "source": "claim_source"}
    )
    hits = on.merge(m, on=["case_id", "parameter", "modality", "timepoint"])
    if other_sources:
        hits = hits[hits["source"] != hits["claim_source"]]
    first_low = hits.sort_values(["claim_id", "value_num", "source"], kind="stable")
    agg = hits.groupby("claim_id").agg(
        lo=("lo", "min"),
        hi=("hi", "max"),
        vmin=("value_num", "min"),
        vmax=("value_num", "max"),
    )
    low_row = first_low.drop_duplicates("claim_id").set_index("claim_id")
    high_row = first_low.drop_duplicates("claim_id", keep="last").set_index("claim_id")
    agg = agg.assign(
        min_lo=low_row["lo"],
        min_hi=low_row["hi"],
        max_lo=high_row["lo"],
        max_hi=high_row["hi"],
        min_text=low_row["value"],
        max_text=high_row["value"],
        sources=joined(hits["claim_id"], hits["source"], "; "),
    )
    return (
        claims[["claim_id"]]
        .merge(agg, left_on="claim_id", right_index=True, how="left")
        .set_index(claims.index)
    )


def _worst(a: pd.Series, b: pd.Series) -> pd.Series:
    sa, sb = a.map(_SEVERITY), b.map(_SEVERITY)
    return a.where(sa >= sb, b)


def check_claims(
    tables: dict[str, pd.DataFrame], thresholds: dict, grading: Grading
) -> pd.DataFrame:
    """Each prose claim in claims.csv against the data it summarises (see the kinds below).

    range: stated low/high against the min/max across methods at the timepoint;
    increase/decrease: the change between from_timepoint and timepoint, interval-wise;
    below/above: the values against the criterion's threshold (a straddling value is `minor`);
    within: the values against criterion `P` read as thresholds `P_low`..`P_high`.
    A claim that needs a definition and names none is `not_checkable`.
    """
    claims = tables["claims"].reset_index(drop=True)
    m = tables["measurements"]
    now = _claim_values(claims, m, "timepoint", other_sources=False)
    elsewhere = _claim_values(claims, m, "timepoint", other_sources=True)
    flat = flatten(thresholds)
    crit = claims["criterion"]
    thr = crit.map(flat).astype("float64")
    thr_low = (crit + "_low").map(flat).astype("float64")
    thr_high = (crit + "_high").map(flat).astype("float64")
    kind = claims["kind"]
    values = Interval(now["lo"], now["hi"])
    shown = interval_text(Interval(now["vmin"], now["vmax"]))
    nan = pd.Series(np.nan, index=claims.index)

    verdict = pd.Series("not_checkable", index=claims.index, dtype="object")
    exp_lo, exp_hi = nan.copy(), nan.copy()
    reported = shown.copy()
    detail = pd.Series("", index=claims.index, dtype="object")
    no_data = now["lo"].isna()

    # range: low end against the minimum, high end against the maximum
    is_range = kind == "range"
    stated_lo = printed(
        claims["stated_low"].astype("float64"),
        claims["stated_low"].fillna("").str.partition(".")[2].str.len(),
    )
    stated_hi = printed(
        claims["stated_high"].astype("float64"),
        claims["stated_high"].fillna("").str.partition(".")[2].str.len(),
    )
    g_lo = grade(
        stated_lo,
        Interval(elsewhere["min_lo"], elsewhere["min_hi"]),
        claims["stated_low"].astype("float64"),
        grading,
    )
    g_hi = grade(
        stated_hi,
        Interval(elsewhere["max_lo"], elsewhere["max_hi"]),
        claims["stated_high"].astype("float64"),
        grading,
    )
    range_verdict = _worst(g_lo["verdict"], g_hi["verdict"])
    verdict = verdict.mask(is_range, range_verdict)
    exp_lo, exp_hi = (
        exp_lo.mask(is_range, elsewhere["vmin"]),
        exp_hi.mask(is_range, elsewhere["vmax"]),
    )
    reported = reported.mask(is_range, claims["stated_low"] + "-" + claims["stated_high"])
    detail = detail.mask(
        is_range,
        "stated "
        + claims["stated_low"]
        + "-"
        + claims["stated_high"]
        + "; values elsewhere ("
        + elsewhere["sources"].fillna("")
        + ") span "
        + elsewhere["min_text"].fillna("?")
        + "-"
        + elsewhere["max_text"].fillna("?"),
    )

    # increase / decrease: the change interval between the two timepoints
    before = _claim_values(
        claims.assign(timepoint=claims["from_timepoint"]), m, "timepoint", other_sources=False
    )
    change = values - Interval(before["lo"], before["hi"])
    is_change = kind.isin(["increase", "decrease"])
    up = kind == "increase"
    sure = (change.lo > 0).where(up, change.hi < 0)
    wrong = (change.hi <= 0).where(up, change.lo >= 0)
    change_verdict = pd.Series(
        np.select(
            [change.missing, sure, wrong], ["not_checkable", "consistent", "inconsistent"], "minor"
        ),
        index=claims.index,
    )
    verdict = verdict.mask(is_change, change_verdict)
    exp_lo, exp_hi = exp_lo.mask(is_change, change.lo), exp_hi.mask(is_change, change.hi)
    reported = reported.mask(is_change, kind)
    detail = detail.mask(
        is_change,
        "from "
        + interval_text(Interval(before["vmin"], before["vmax"])).where(before["lo"].notna(), "?")
        + " at "
        + claims["from_timepoint"].fillna("")
        + " to "
        + shown.where(~no_data, "?")
        + " at "
        + claims["timepoint"]
        + ": change "
        + interval_text(change).where(~change.missing, "unknown")
        + pd.Series(
            np.where(change_verdict == "minor", " (within rounding)", ""), index=claims.index
        ),
    )

    # below / above a threshold; within a range
    below, above, within = kind == "below", kind == "above", kind == "within"
    inside = pd.Series(
        np.select(
            [below, above],
            [values.hi <= thr, values.lo >= thr],
            (values.lo >= thr_low) & (values.hi <= thr_high),
        ),
        index=claims.index,
    )
    outside = pd.Series(
        np.select(
            [below, above],
            [values.lo >= thr, values.hi <= thr],
            (values.hi < thr_low) | (values.lo > thr_high),
        ),
        index=claims.index,
    )
    bound_verdict = pd.Series(
        np.select([inside, outside], ["consistent", "inconsistent"], "minor"), index=claims.index
    )
    is_bound = below | above | within
    has_threshold = thr.notna().where(~within, thr_low.notna() & thr_high.notna())
    checkable = is_bound & has_threshold & ~no_data
    verdict = verdict.mask(checkable, bound_verdict)
    exp_lo = exp_lo.mask(is_bound & above, thr).mask(is_bound & within, thr_low)
    exp_hi = exp_hi.mask(is_bound & below, thr).mask(is_bound & within, thr_high)
    word = kind.map({"below": "below", "above": "above", "within": "within"})
    limits = num(thr).where(~within, num(thr_low) + "-" + num(thr_high))
    answer = bound_verdict.map(
        {
            "consistent": "yes",
            "inconsistent": "no",
            "minor": "on the boundary: the printed value's rounding interval straddles the threshold",
        }
    )
    detail = detail.mask(
        checkable,
        "values "
        + interval_text(values)
        + " ("
        + now["sources"].fillna("")
        + "); "
        + word
        + " "
        + limits
        + " (thresholds."
        + crit.fillna("")
        + ")? "
        + answer,
    )
    no_definition = is_bound & crit.isna()
    unknown = is_bound & crit.notna() & ~has_threshold
    detail = detail.mask(
        no_definition,
        "no cited definition of '"
        + kind
        + "' for "
        + claims["parameter"]
        + " (criterion blank): not checked",
    )
    detail = detail.mask(unknown, "criterion '" + crit.fillna("") + "' is not in config thresholds")
    missing = no_data & ~no_definition & ~unknown
    detail = detail.mask(
        missing & ~is_change,
        "no value of "
        + claims["parameter"]
        + " at "
        + claims["timepoint"]
        + " from a source other than the claim's",
    )
    verdict = verdict.mask(no_definition | unknown | (missing & ~is_change), "not_checkable")

    base = claims.assign(method=pd.NA, against=claims["criterion"].fillna("data"))
    return pd.DataFrame(
        {
            "check": "claim_" + kind,
            "case_id": base["case_id"],
            "parameter": base["parameter"],
            "timepoint": base["timepoint"],
            "source": base["source"],
            "reported": reported,
            "expected_low": exp_lo.round(ROUND),
            "expected_high": exp_hi.round(ROUND),
            "verdict": verdict,
            "detail": "[" + claims["claim_id"] + "] " + claims["statement"] + ": " + detail,
            "method": base["method"],
            "against": base["against"],
        }
    )


# --- the whole audit -------------------------------------------------------------------------


def audit(tables: dict[str, pd.DataFrame], thresholds: dict, grading: Grading) -> pd.DataFrame:
    """Every check on every case, one row per check, sorted by check, case, parameter, time and source."""
    parts = [
        check_volumes(tables, grading),
        check_bsa(tables, grading),
        check_heart_rate(tables, grading),
        check_repeated_values(tables, grading),
        check_ages(tables, grading),
        check_claims(tables, thresholds, grading),
    ]
    out = pd.concat([p[COLUMNS] for p in parts if len(p)], ignore_index=True)
    rank = timepoint_order(tables["timepoints"])[["case_id", "timepoint", "rank"]]
    out = out.merge(rank, on=["case_id", "timepoint"], how="left")
    out["_check"] = out["check"].map({c: i for i, c in enumerate(CHECKS)})
    out = out.sort_values(
        ["_check", "case_id", "parameter", "rank", "source", "method", "against"],
        kind="stable",
        na_position="first",
    )
    return out[COLUMNS].reset_index(drop=True)


def summary_markdown(checks: pd.DataFrame) -> str:
    """A Markdown fragment: counts per verdict, then one line per check that is not consistent."""
    counts = checks["verdict"].value_counts().reindex(list(VERDICTS), fill_value=0)
    lines = [f"The audit ran {len(checks)} checks.", "", "| Verdict | Checks |", "|---|---|"]
    lines += [f"| {verdict} | {count} |" for verdict, count in counts.items()]
    flagged = checks[checks["verdict"] != "consistent"]
    flagged = flagged.assign(
        _v=flagged["verdict"].map({"inconsistent": 0, "minor": 1, "not_checkable": 2})
    )
    flagged = flagged.sort_values("_v", kind="stable")
    lines += ["", "Checks that are not consistent:", ""]
    expected = interval_text(Interval(flagged["expected_low"], flagged["expected_high"]))
    where = (
        flagged["case_id"]
        + ", "
        + flagged["timepoint"]
        + (", " + flagged["method"]).fillna("")
        + ", "
        + flagged["source"]
    )
    lines += (
        "- **"
        + flagged["verdict"]
        + "** `"
        + flagged["check"]
        + "` "
        + flagged["parameter"]
        + " ("
        + where
        + "): reported "
        + flagged["reported"].fillna("").replace("", "—")
        + " vs expected "
        + expected.where(expected != "", "—")
        + ". "
        + flagged["detail"]
    ).tolist()
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class AuditReport:
    """The audit's checks, written as CSV (the contract) and as a Markdown summary."""

    checks: pd.DataFrame

    def to_csv(self) -> str:
        """The consistency table (columns in `COLUMNS`)."""
        return self.checks.to_csv(index=False, lineterminator="\n")

    def to_markdown(self) -> str:
        """The human-readable summary for the manuscript."""
        return summary_markdown(self.checks)


def run_audit(tables: dict[str, pd.DataFrame], config: dict) -> AuditReport:
    """The audit of validated tables under config (`thresholds` and `audit` sections)."""
    return AuditReport(audit(tables, config["thresholds"], Grading.from_config(config["audit"])))
