"""Reviewer checks: patterns a reviewer looks for.

`reviewer_checks` returns rows with the columns of results/audit/consistency.csv
(`caserepro.audit.COLUMNS`), plain pandas, independent of the audit engine: soft patterns,
graded `minor` at most: `repeated_value_set` (the same values printed for timepoints far apart),
`same_value_across_modalities` (an echo value equal to the MRI value of the same period),
`teichholz_edv` / `teichholz_esv` / `teichholz_ef` (echo volumes and EF against the Teichholz
volumes from the printed dimensions, with the fractional shortening), `dcm_criteria` (the
introduction's DCM criteria at each timepoint). The paper's prose claims (bands, durations)
are `caserepro.claims`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from caserepro.intervals import Interval, month_span, printed

#: The columns of results/audit/consistency.csv (as `caserepro.audit.COLUMNS`).
COLUMNS = [
    *("check", "case_id", "parameter", "timepoint", "source", "reported"),
    *("expected_low", "expected_high", "verdict", "detail", "method", "against"),
]
#: Verdicts from best to worst (a claim takes the worst of its values); index = severity.
VERDICTS = ("consistent", "minor", "inconsistent")
#: The sexes a band may be split by (cases.csv `sex`).
SEXES = ("male", "female")
#: Checks this module emits (each has a row in data/raw/checks.csv).
CHECKS = (
    "repeated_value_set",
    "same_value_across_modalities",
    "teichholz_edv",
    "teichholz_esv",
    "teichholz_lvef",
    "dcm_criteria",
)
#: Decimals of expected_low / expected_high in the output (as `caserepro.audit.ROUND`).
ROUND = 4
#: Centimetres per millimetre (Teichholz's formula takes the dimension in cm).
CM_PER_MM = 0.1


def _empty() -> pd.DataFrame:
    """No rows, the audit's columns."""
    return pd.DataFrame(
        {c: pd.Series(dtype="float64" if "expected" in c else "str") for c in COLUMNS}
    )


def _frame(rows: dict[str, object], n: int) -> pd.DataFrame:
    """Rows with exactly the audit's columns (text as str, expected_* as float)."""
    out = {}
    for c in COLUMNS:
        given = rows.get(c)
        cells = (
            np.full(n, np.nan, dtype=object) if given is None else np.asarray(given, dtype=object)
        )
        out[c] = pd.Series(cells).astype("float64" if "expected" in c else "str")
        if "expected" in c:  # as the engine writes them (caserepro.audit.ROUND decimals)
            out[c] = out[c].round(ROUND)
    return pd.DataFrame(out)


def fmt(values: pd.Series) -> pd.Series:
    """Numbers for a detail text: up to four decimals, no trailing zeros ('inf' for infinity);
    each distinct number is formatted once."""
    codes, distinct = pd.factorize(np.round(np.asarray(values, dtype="float64"), ROUND))
    words = [f"{v:.4f}".rstrip("0").rstrip(".") if np.isfinite(v) else str(v) for v in distinct]
    texts = np.append(np.array(words, dtype=object), "nan")[codes]
    return pd.Series(texts, index=values.index, dtype="str")


def measured(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The measurements with the interval each printed value stands for (`lo`, `hi`)."""
    m = tables["measurements"]
    coded = [c for c in m.columns if isinstance(m[c].dtype, pd.CategoricalDtype)]
    m = m.assign(**{c: m[c].astype("object").astype("str") for c in coded})
    iv = printed(m["value_num"], m["decimals"], m["qualifier"])
    return m.assign(lo=iv.lo.to_numpy(), hi=iv.hi.to_numpy())


def _worst(verdicts: pd.Series, by: pd.Series) -> pd.Series:
    """The worst verdict per group (by severity in VERDICTS)."""
    severity = verdicts.map({v: i for i, v in enumerate(VERDICTS)})
    return severity.groupby(by.to_numpy()).max().map(dict(enumerate(VERDICTS)))


def _dates(tables: dict) -> pd.DataFrame:
    """Each case's timepoints with the months their date can mean (m_lo, m_hi: [start, end))."""
    t = tables["timepoints"][["case_id", "timepoint", "date"]]
    span = month_span(t["date"])
    return t.assign(m_lo=span.lo.to_numpy(), m_hi=span.hi.to_numpy())


def _months_apart(a_lo: pd.Series, a_hi: pd.Series, b_lo: pd.Series, b_hi: pd.Series) -> pd.Series:
    """The fewest months between two date spans (0 where they overlap)."""
    return np.maximum(0.0, np.maximum(b_lo - a_hi, a_lo - b_hi))


# --- patterns a reviewer looks for (soft: `minor` at most) ----------------------------------


def _rows_of(values: pd.DataFrame) -> pd.DataFrame:
    """The measurements as the reviewer reads them: method '' where none, value as text,
    values with a qualifier ('more than') left out (they bound a value, they do not print it)."""
    v = values.assign(method=values["method"].fillna(""), value=values["value"].astype("str"))
    return v[v["qualifier"].isna()]


def examinations(values: pd.DataFrame) -> pd.DataFrame:
    """One row per case, timepoint, modality, method and parameter (`exam`, a number): its
    distinct printed values (`shown`, '20/30' in numeric order), their hull (lo, hi) and every
    source that prints one ('; '-joined, sorted)."""
    keys = ["case_id", "timepoint", "modality", "method", "parameter"]
    rows = _rows_of(values)
    exam = rows.groupby(keys, sort=True).ngroup().to_numpy()
    rows = rows.assign(exam=exam)
    e = rows.groupby("exam", sort=True).agg(
        **{k: (k, "first") for k in keys}, lo=("lo", "min"), hi=("hi", "max")
    )
    distinct = rows.sort_values(["exam", "lo"], kind="stable").drop_duplicates(["exam", "value"])
    sources = rows.drop_duplicates(["exam", "source"]).sort_values(["exam", "source"])
    e["shown"] = _joined(distinct["exam"], distinct["value"], "/")
    e["source"] = _joined(sources["exam"], sources["source"], "; ")
    return e.reset_index()


def _joined(key: pd.Series, texts: pd.Series, sep: str) -> pd.Series:
    """The texts of each key joined by `sep`, in row order (column by column: a key has few)."""
    place = key.groupby(key.to_numpy()).cumcount().to_numpy()
    wide = pd.DataFrame(
        {"key": key.to_numpy(), "place": place, "text": texts.astype("str").to_numpy()}
    )
    wide = wide.pivot(index="key", columns="place", values="text")
    out = wide[0].astype("str")
    for column in wide.columns[1:]:
        more = wide[column]
        out = out + pd.Series(np.where(more.notna(), sep + more.fillna(""), ""), index=out.index)
    return out


def shared_values(values: pd.DataFrame) -> pd.DataFrame:
    """The pairs of examinations (numbered as `examinations` numbers them: exam_a, exam_b) of a
    case and parameter that print a value in common."""
    keys = ["case_id", "timepoint", "modality", "method", "parameter"]
    rows = _rows_of(values)
    rows = rows.assign(exam=rows.groupby(keys, sort=True).ngroup().to_numpy())
    d = rows.drop_duplicates(["exam", "value"])[["exam", "case_id", "parameter", "value"]]
    both = d.merge(d, on=["case_id", "parameter", "value"], suffixes=("_a", "_b"))
    return both[["exam_a", "exam_b"]].drop_duplicates()


def _shared_value(pairs: pd.DataFrame, shared: pd.DataFrame) -> pd.Series:
    """Whether the two examinations of each pair (exam_a, exam_b) print a value in common."""
    found = pairs[["exam_a", "exam_b"]].merge(
        shared.assign(_shared=True), on=["exam_a", "exam_b"], how="left"
    )
    return pd.Series(found["_shared"].fillna(False).to_numpy(dtype=bool), index=pairs.index)


def _suffix(texts: pd.Series, before: str, after: str = "") -> pd.Series:
    """before + text + after where the text is not empty, else '' (a method after a modality)."""
    return pd.Series(np.where(texts != "", before + texts + after, ""), index=texts.index)


def repeated_value_set(
    values: pd.DataFrame, tables: dict, settings: dict, found: tuple | None = None
) -> pd.DataFrame:
    """Two timepoints at least `repeated_set_min_months` apart with at least
    `repeated_set_min_parameters` parameters of one imaging modality and method printed at both: each
    such parameter is `minor` where at least that many of them, and `repeated_set_min_share` of
    them, print the same value (possibly reused values or a mislabelled timepoint), else
    `consistent`."""
    e, shared = found or (examinations(values), shared_values(values))
    e = e[e["modality"].isin(settings["imaging_modalities"])]
    e = e.merge(_dates(tables), on=["case_id", "timepoint"])
    keys = ["case_id", "modality", "method", "parameter"]
    pairs = e.merge(e, on=keys, suffixes=("_a", "_b"))
    pairs = pairs[pairs["m_lo_a"] < pairs["m_lo_b"]]
    apart = _months_apart(pairs["m_lo_a"], pairs["m_hi_a"], pairs["m_lo_b"], pairs["m_hi_b"])
    pairs = pairs[apart >= float(settings["repeated_set_min_months"])].assign(apart=apart)
    visit = ["case_id", "modality", "method", "timepoint_a", "timepoint_b"]
    least = int(settings["repeated_set_min_parameters"])
    pairs = pairs[pairs.groupby(visit)["parameter"].transform("size") >= least]
    if pairs.empty:
        return _empty()
    pairs = pairs.assign(equal=_shared_value(pairs, shared), shown=pairs["shown_b"])
    n_equal = pairs.groupby(visit)["equal"].transform("sum")
    share = n_equal / pairs.groupby(visit)["parameter"].transform("size")
    found = (
        pairs["equal"] & (n_equal >= least) & (share >= float(settings["repeated_set_min_share"]))
    )
    listed = pairs[pairs["equal"]].assign(pv=lambda p: p["parameter"] + " " + p["shown"])
    same = listed.groupby(visit)["pv"].agg(", ".join).rename("same")
    pairs = pairs.join(same, on=visit)
    where = (
        pairs["modality"]
        + _suffix(pairs["method"], ", ")
        + ") at "
        + pairs["timepoint_a"]
        + " ("
        + pairs["date_a"]
        + ") and "
        + pairs["timepoint_b"]
        + " ("
        + pairs["date_b"]
        + "), "
        + fmt(pairs["apart"])
        + "+ months apart: "
        + n_equal.astype("int64").astype("str")
        + " of "
        + pairs.groupby(visit)["parameter"].transform("size").astype("str")
        + " parameters printed at both are equal"
    )
    detail = np.where(
        found,
        "the same "
        + pairs["same"].fillna("")
        + " ("
        + where
        + " (possibly reused values or a mislabelled timepoint)",
        pairs["parameter"] + " (" + where + "; this one differs or too few are equal",
    )
    return _pattern_rows("repeated_value_set", pairs, found, detail, pairs["timepoint_a"])


def _pattern_rows(
    check: str, rows: pd.DataFrame, found: pd.Series, detail: object, against: pd.Series
) -> pd.DataFrame:
    """Rows of a soft pattern: `minor` where found, else `consistent`; the later examination
    (side b) is reported against the earlier or other one (side a)."""
    n = len(rows)
    return _frame(
        {
            "check": [check] * n,
            "case_id": rows["case_id"],
            "parameter": rows["parameter"],
            "timepoint": rows["timepoint_b"],
            "source": rows["source_b"],
            "reported": rows["shown_b"],
            "expected_low": rows["lo_a"],
            "expected_high": rows["hi_a"],
            "verdict": np.where(found, "minor", "consistent"),
            "detail": detail,
            "method": (rows["method_b"] if "method_b" in rows else rows["method"]).replace(
                "", np.nan
            ),
            "against": against,
        },
        n,
    )


def same_value_across_modalities(
    values: pd.DataFrame, tables: dict, settings: dict, found: tuple | None = None
) -> pd.DataFrame:
    """A parameter printed by two imaging modalities (`imaging_modalities`) at examinations at
    most `same_period_months` apart: `minor` where they print the same value (two modalities
    rarely give the same number: possibly one copied from the other), else `consistent`."""
    e, shared = found or (examinations(values), shared_values(values))
    e = e[e["modality"].isin(settings["imaging_modalities"])].merge(
        _dates(tables), on=["case_id", "timepoint"]
    )
    pairs = e.merge(e, on=["case_id", "parameter"], suffixes=("_a", "_b"))
    pairs = pairs[pairs["modality_a"] < pairs["modality_b"]]
    apart = _months_apart(pairs["m_lo_a"], pairs["m_hi_a"], pairs["m_lo_b"], pairs["m_hi_b"])
    pairs = pairs[apart <= float(settings["same_period_months"])].assign(apart=apart)
    if pairs.empty:
        return _empty()
    found = _shared_value(pairs, shared)
    detail = (
        pairs["modality_a"]
        + " "
        + pairs["parameter"]
        + " "
        + pairs["shown_a"]
        + " at "
        + pairs["timepoint_a"]
        + " ("
        + pairs["date_a"]
        + "; "
        + pairs["source_a"]
        + ") and "
        + pairs["modality_b"]
        + _suffix(pairs["method_b"], " (", ")")
        + " "
        + pairs["shown_b"]
        + " at "
        + pairs["timepoint_b"]
        + " ("
        + pairs["date_b"]
        + "; "
        + pairs["source_b"]
        + "), within "
        + fmt(pairs["apart"])
        + " months of each other: "
        + np.where(
            found, "the same number (possibly one copied from the other)", "different numbers"
        )
    )
    against = pairs["modality_a"] + " " + pairs["timepoint_a"] + _suffix(pairs["method_a"], " ")
    return _pattern_rows("same_value_across_modalities", pairs, found, detail, against)


def ejection_fraction(edv: Interval, esv: Interval) -> Interval:
    """EF (%) = (EDV - ESV) / EDV x 100, which falls with ESV and rises with EDV (both > 0)."""
    return Interval((edv.lo - esv.hi) / edv.lo * 100, (edv.hi - esv.lo) / edv.hi * 100)


def teichholz_volume(d_mm: pd.Series) -> pd.Series:
    """Teichholz (1976): V (mL) = 7 / (2.4 + D) x D^3, D the LV dimension in cm (rises with D)."""
    d = d_mm * CM_PER_MM
    return 7.0 / (2.4 + d) * d**3


def _dimensions(values: pd.DataFrame) -> pd.DataFrame:
    """Echo examinations with both LV dimensions: their intervals (mm), the Teichholz volumes
    and EF, and the fractional shortening (%), one row per case and timepoint."""
    echo = values[(values["modality"] == "echo") & values["parameter"].isin(["lv_edd", "lv_esd"])]
    wide = echo.pivot_table(
        index=["case_id", "timepoint"],
        columns="parameter",
        values=["lo", "hi"],
        aggfunc={"lo": "min", "hi": "max"},
    )
    if ("lo", "lv_edd") not in wide.columns or ("lo", "lv_esd") not in wide.columns:
        return pd.DataFrame()
    edd = Interval(wide[("lo", "lv_edd")], wide[("hi", "lv_edd")])
    esd = Interval(wide[("lo", "lv_esd")], wide[("hi", "lv_esd")])
    edv = Interval(teichholz_volume(edd.lo), teichholz_volume(edd.hi))
    esv = Interval(teichholz_volume(esd.lo), teichholz_volume(esd.hi))
    ef = ejection_fraction(edv, esv)
    out = pd.DataFrame(
        {
            "lv_edv_lo": edv.lo,
            "lv_edv_hi": edv.hi,
            "lv_esv_lo": esv.lo,
            "lv_esv_hi": esv.hi,
            "lvef_lo": ef.lo,
            "lvef_hi": ef.hi,
            "fs_lo": (1 - esd.hi / edd.lo) * 100,
            "fs_hi": (1 - esd.lo / edd.hi) * 100,
        }
    )
    return out.dropna().reset_index()


def teichholz(values: pd.DataFrame, tables: dict, settings: dict) -> pd.DataFrame:
    """Printed echo EDV, ESV and EF against the Teichholz volumes and EF from the printed EDD
    and ESD of the same examination (soft: a geometric model; `minor` where they miss)."""
    dims = _dimensions(values)
    if dims.empty:
        return _empty()
    v = _rows_of(values)
    v = v[(v["modality"] == "echo") & v["parameter"].isin(["lv_edv", "lv_esv", "lvef"])]
    rows = v.merge(dims, on=["case_id", "timepoint"])
    if rows.empty:
        return _empty()
    pick = {p: rows["parameter"] == p for p in ("lv_edv", "lv_esv", "lvef")}
    exp_lo = np.select(list(pick.values()), [rows[f"{p}_lo"] for p in pick])
    exp_hi = np.select(list(pick.values()), [rows[f"{p}_hi"] for p in pick])
    meets = (rows["lo"] <= exp_hi) & (rows["hi"] >= exp_lo)
    unit = rows["parameter"].map({"lv_edv": " mL", "lv_esv": " mL", "lvef": " %"})
    detail = (
        "printed "
        + rows["value"]
        + unit
        + " ("
        + rows["source"]
        + ") against Teichholz "
        + fmt(pd.Series(exp_lo))
        + "-"
        + fmt(pd.Series(exp_hi))
        + unit
        + " from the printed EDD and ESD (fractional shortening "
        + fmt(rows["fs_lo"])
        + "-"
        + fmt(rows["fs_hi"])
        + " %): "
        + np.where(meets, "they meet", "they miss (a geometric model: soft)")
    )
    n = len(rows)
    return _frame(
        {
            "check": "teichholz_" + rows["parameter"].str.replace("lv_", "", regex=False),
            "case_id": rows["case_id"],
            "parameter": rows["parameter"],
            "timepoint": rows["timepoint"],
            "source": rows["source"],
            "reported": rows["value"],
            "expected_low": exp_lo,
            "expected_high": exp_hi,
            "verdict": np.where(meets, "consistent", "minor"),
            "detail": detail,
            "against": ["lv_edd+lv_esd"] * n,
        },
        n,
    )


def _criteria(tables: dict, settings: dict) -> pd.DataFrame:
    """The introduction's DCM criteria per case: parameter, threshold and direction (above /
    at_most), the threshold by the case's sex where the config splits it."""
    rows = []
    for key, parameter, direction in (
        ("lv_edd_above", "lv_edd", "above"),
        ("lv_esd_above", "lv_esd", "above"),
        ("lvef_at_most", "lvef", "at_most"),
    ):
        spec = settings[key]
        for sex in SEXES:
            threshold = spec[sex] if isinstance(spec, dict) else spec
            rows.append((parameter, direction, sex, float(threshold), isinstance(spec, dict)))
    table = pd.DataFrame(rows, columns=["parameter", "direction", "sex", "threshold", "by_sex"])
    cases = tables["cases"][["case_id", "sex"]].assign(sex=lambda c: c["sex"].astype("object"))
    return cases.merge(table, on="sex")


def dcm_criteria(values: pd.DataFrame, tables: dict, settings: dict) -> pd.DataFrame:
    """The DCM criteria the paper restates (LVEDD, LVESD, LVEF) applied to each echo value at
    each timepoint: before the first infusion (the diagnosis) a criterion not met, or met only
    within rounding, is `minor`; afterwards no longer meeting it is recovery, not a flag."""
    v = _rows_of(values)
    v = v[v["parameter"].isin(["lv_edd", "lv_esd", "lvef"]) & v["modality"].isin(["echo", "mri"])]
    rows = v.merge(_criteria(tables, settings), on=["case_id", "parameter"])
    if rows.empty:
        return _empty()
    dates = _dates(tables)
    first = tables["timepoints"].assign(m=month_span(tables["timepoints"]["date"]).lo)
    first = first[pd.to_numeric(first["months_after_first_infusion"], errors="coerce") == 0]
    start = first.groupby("case_id")["m"].min().rename("first_infusion")
    rows = rows.merge(dates, on=["case_id", "timepoint"]).join(start, on="case_id")
    diagnostic = rows["m_lo"] <= rows["first_infusion"]
    above = rows["direction"] == "above"
    met = np.where(above, rows["lo"] > rows["threshold"], rows["hi"] <= rows["threshold"])
    unmet = np.where(above, rows["hi"] <= rows["threshold"], rows["lo"] > rows["threshold"])
    state = np.select([met, unmet], ["met", "not met"], "met only within rounding")
    verdict = np.where(diagnostic & (state != "met"), "minor", "consistent")
    sign = np.where(above, " > ", " <= ")
    who = np.where(rows["by_sex"], " (" + rows["sex"].fillna("?") + ")", "")
    when = np.where(
        diagnostic, "at diagnosis (before the first infusion)", "after the first infusion"
    )
    detail = (
        "DCM criterion of the introduction "
        + rows["parameter"]
        + sign
        + fmt(rows["threshold"])
        + who
        + ": "
        + rows["modality"]
        + rows["method"].map(lambda m: f" ({m})" if m else "")
        + " "
        + rows["value"]
        + " ("
        + rows["source"]
        + ") "
        + state
        + ", "
        + when
        + np.where(diagnostic | (state == "met"), "", " (recovery, not a contradiction)")
    )
    n = len(rows)
    return _frame(
        {
            "check": ["dcm_criteria"] * n,
            "case_id": rows["case_id"],
            "parameter": rows["parameter"],
            "timepoint": rows["timepoint"],
            "source": rows["source"],
            "reported": rows["value"],
            "expected_low": np.where(above, rows["threshold"], -np.inf),
            "expected_high": np.where(above, np.inf, rows["threshold"]),
            "verdict": verdict,
            "detail": detail,
            "method": rows["method"].replace("", np.nan),
            "against": ["dcm_criteria." + p for p in rows["parameter"]],
        },
        n,
    )


def reviewer_checks(tables: dict[str, pd.DataFrame], config: dict) -> pd.DataFrame:
    """Every soft pattern of this module on every case, sorted by check (in CHECKS order), case,
    parameter, timepoint, source, method and against."""
    thresholds = config["thresholds"]
    values = measured(tables)
    settings = thresholds["reviewer"]
    found = (examinations(values), shared_values(values))  # computed once for both patterns
    parts = [
        repeated_value_set(values, tables, settings, found),
        same_value_across_modalities(values, tables, settings, found),
        teichholz(values, tables, settings),
        dcm_criteria(values, tables, thresholds["dcm_criteria"]),
    ]
    return _sorted(pd.concat(parts, ignore_index=True))


def _sorted(rows: pd.DataFrame) -> pd.DataFrame:
    """Rows in CHECKS order, then case, parameter, timepoint, source, method, against."""
    rank = rows["check"].map({c: i for i, c in enumerate(CHECKS)})
    keys = ["case_id", "parameter", "timepoint", "source", "method", "against"]
    ordered = rows.assign(_rank=rank).sort_values(
        ["_rank", *keys], kind="stable", na_position="first"
    )
    return ordered.drop(columns="_rank").reset_index(drop=True)[COLUMNS]


# --- for synthetic cohorts: a dimension from a volume ------------------------------------


def teichholz_dimension(volume_ml: pd.Series) -> pd.Series:
    """The LV dimension (mm) whose Teichholz volume is `volume_ml` (bisection; the formula rises
    with the dimension)."""
    v = volume_ml.to_numpy(dtype="float64")
    lo, hi = np.zeros_like(v), np.full_like(v, 200.0)
    for _ in range(60):
        mid = (lo + hi) / 2
        low = teichholz_volume(pd.Series(mid)).to_numpy() < v
        lo, hi = np.where(low, mid, lo), np.where(low, hi, mid)
    return pd.Series((lo + hi) / 2, index=volume_ml.index)
