"""Prose claims (claims.csv) against the values they summarise: every `claim_*` row, once.

A claim names a case, parameter, modality and timepoint (and, for a change, a from_timepoint);
its values are the measurements printed there. Its `kind` and `criterion` say how it is read:

- range: stated low-high against the lowest and highest value printed in other sources;
- increase / decrease: the change between the two timepoints, interval-wise;
- below / above: the values against a threshold (criterion: a flat name of config
  `thresholds`, or `reference_range`, the paper's own range); within: against `P_low`..`P_high`;
- within a band `group.band` (`caserepro.bands`): each printed value in, below, above or on the
  edge of the band; the claim takes its worst value;
- within `duration.<unit>`: a stated duration against the span of the two timepoints' dates
  (`claim_duration`, soft: `minor` at most).

A printed value stands for its rounding interval, so a value whose interval straddles a
threshold or an edge is `minor`. A claim with no definition or no value is `not_checkable`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from caserepro import bands as bd
from caserepro import formula_checks as fc
from caserepro.codes import combined_key
from caserepro.formatting import detail_numbers
from caserepro.formula_checks import glue
from caserepro.intervals import Interval, month_span, printed, printed_decimals, printed_number
from caserepro.metrics import timepoint_order
from caserepro.tables import qualifier_prefixes
from caserepro.verdicts import (
    COLUMNS,
    CONSISTENT,
    INCONSISTENT,
    MINOR,
    NOT_CHECKABLE,
    ROUND,
    VERDICTS,
    Grading,
    grade,
)

#: The checks this module emits, in the audit's order.
CHECKS = (
    "claim_range",
    "claim_increase",
    "claim_decrease",
    "claim_below",
    "claim_above",
    "claim_within",
    "claim_duration",
)


def measured(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The measurements with the interval each printed value stands for (`lo`, `hi`)."""
    m = tables["measurements"]
    coded = [c for c in m.columns if isinstance(m[c].dtype, pd.CategoricalDtype)]
    m = m.assign(**{c: m[c].astype("object").astype("str") for c in coded})
    iv = printed(m["value_num"], m["decimals"], m["qualifier_means"], m.get("scale"))
    return m.assign(lo=iv.lo.to_numpy(), hi=iv.hi.to_numpy())


def timepoint_months(tables: dict) -> pd.DataFrame:
    """Each case's timepoints with the months their date can mean (m_lo, m_hi: [start, end))."""
    t = tables["timepoints"][["case_id", "timepoint", "date"]]
    span = month_span(t["date"])
    return t.assign(m_lo=span.lo.to_numpy(), m_hi=span.hi.to_numpy())


#: Where a claim's values are printed.
KEYS = ["case_id", "parameter", "timepoint", "modality"]
#: A claim's criterion that names the paper's own reference range of the parameter.
REFERENCE_RANGE = "reference_range"
#: How bad each verdict is, to take the worse of two (not_checkable counts least).
_SEVERITY = np.array([0, 1, 2, -1])


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


# --- texts: each distinct number formatted once ----------------------------------------------


def g_text(values: pd.Series | np.ndarray) -> pd.Series:
    """Numbers rounded to ROUND decimals as Python's `:g` writes them ('23.0769', '-0', 'inf');
    '' where missing. The bit pattern keys the distinct values, so -0.0 stays '-0'."""
    rounded = np.round(np.asarray(values, dtype=np.float64), ROUND)
    codes, distinct = pd.factorize(rounded.view(np.int64))
    words = [f"{v:g}" if v == v else "" for v in distinct.view(np.float64).tolist()]
    return pd.Series(pd.array(words, dtype="str").take(codes))


def words(texts: tuple[str, ...] | np.ndarray, codes: np.ndarray) -> pd.Series:
    """`texts[code]` for each code, as a `str` column (each text converted once)."""
    return (
        pd.Series(pd.array(np.asarray(texts, dtype=object), dtype="str"))
        .take(codes)
        .reset_index(drop=True)
    )


def as_text(column: pd.Series) -> pd.Series:
    """A column as `str` texts; a categorical one converts each category once, not each row."""
    if not isinstance(column.dtype, pd.CategoricalDtype):
        return column
    categories = [*column.cat.categories.astype("str"), np.nan]  # the last: code -1, missing
    texts = words(np.array(categories, dtype=object), column.cat.codes.to_numpy())
    return texts.set_axis(column.index)


def text_rank(column: pd.Series) -> np.ndarray:
    """Integers that sort like the texts (-1: missing); a categorical column ranks its
    categories, not its rows."""
    if not isinstance(column.dtype, pd.CategoricalDtype):
        return pd.factorize(column, sort=True)[0]
    rank = pd.factorize(pd.Series(column.cat.categories.astype("str")), sort=True)[0]
    return np.append(rank, -1)[column.cat.codes.to_numpy()]


def span_text(lo: pd.Series | np.ndarray, hi: pd.Series | np.ndarray) -> pd.Series:
    """'[lo, hi]'; the value alone where both ends print alike; '< hi' or '> lo' where one end
    is missing; '' where both are."""
    low, high = g_text(lo), g_text(hi)
    text = low.where(low == high, glue("[", low, ", ", high, "]"))
    text = text.mask((low == "") & (high != ""), "< " + high)
    return text.mask((high == "") & (low != ""), "> " + low)


def printed_span(c: pd.DataFrame, prefix: str) -> pd.Series:
    """The values a claim reads (`prefix`: now_ or before_), as the paper prints them where
    the lowest and highest print alike ('< 1.0', '48.50'), else their span (`span_text`)."""
    lowest, highest = c[prefix + "min_text"], c[prefix + "max_text"]
    span = span_text(c[prefix + "vmin"], c[prefix + "vmax"])
    return lowest.where(lowest == highest, span).fillna(span)


def joined(texts: pd.Series, group: pd.Series, sep: str) -> pd.Series:
    """The texts of each run of equal `group` values joined by `sep`, indexed by group (rows
    come sorted by group; one Arrow kernel instead of a Python join per group)."""
    group = group.to_numpy()
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]]) if len(group) else []
    offsets = pa.array(np.r_[starts, len(group)].astype(np.int64))
    lists = pa.LargeListArray.from_arrays(offsets, pa.array(texts.to_numpy(), pa.large_string()))
    together = pc.binary_join(lists, pa.scalar(sep, pa.large_string()))
    return pd.Series(together, index=group[starts], dtype="str")


def stated(texts: pd.Series) -> Interval:
    """A claim's stated numbers as printed intervals (with their decimals as written)."""
    return printed(printed_number(texts), printed_decimals(texts.astype("str")))


def _stated_text(claims: pd.DataFrame) -> pd.Series:
    """A stated value or range as printed ('2', '1-2')."""
    low, high = claims["stated_low"].astype("str"), claims["stated_high"].astype("str")
    return low.where(low == high, low + "-" + high)


# --- which claims, and their values ----------------------------------------------------------


def routed(claims: pd.DataFrame, thresholds: dict) -> pd.DataFrame:
    """Claims numbered by `pos` (their row), with group and band of their criterion and their
    route: 'band' (kind within, a band group), 'duration' (within, `duration.<unit>`), else
    'data' (range, change, a threshold)."""
    claims = claims.reset_index(drop=True)
    codes, criteria = pd.factorize(claims["criterion"])  # each distinct criterion split once
    parts = [name.partition(".") for name in criteria.tolist()] + [("", "", "")]
    group = words(np.array([p[0] for p in parts], dtype=object), codes)
    band = words(np.array([p[2] for p in parts], dtype=object), codes)
    within = (claims["kind"] == "within").to_numpy()
    route = np.select(
        [within & group.isin(bd.band_groups(thresholds)), within & (group == "duration")],
        ["band", "duration"],
        "data",
    )
    return claims.assign(pos=np.arange(len(claims)), group=group, band=band, route=route)


#: The values' texts other than their keys and `printed`, `str` once a claim reads them.
TEXTS = ("source", "method", "value", "qualifier")


def claim_values(tables: dict[str, pd.DataFrame], claims: pd.DataFrame) -> pd.DataFrame:
    """The measurements of the claims' parameters (and those that imply a BSA) with their
    rounding interval (lo, hi), table row (`row`) and the value as the paper prints it, its
    qualifier included (`printed`: '< 1.0', '48.50'); key columns categorical (joins compare
    codes), the other texts as the table holds them (made `str` only for the values a claim
    reads: `claim_hits`)."""
    m = tables["measurements"]
    wanted = {*claims["parameter"].dropna().unique(), *bd.BSA_PARAMETERS}  # not row by row
    keep = m["parameter"].isin(wanted).to_numpy()
    needed = [*KEYS, "source", "method", "value", "qualifier", "qualifier_means", "value_num"]
    needed += ["decimals", *(["scale"] if "scale" in m.columns else [])]
    m = m[needed].assign(row=np.arange(len(m)))[keep].reset_index(drop=True)
    keys = {k: m[k].astype("category") for k in KEYS}  # (no copy if categorical already)
    texts = {k: m[k] for k in TEXTS}
    iv = printed(m["value_num"], m["decimals"], as_text(m["qualifier_means"]), m.get("scale"))
    source_rank = text_rank(m["source"])
    shown = pd.Series(
        fc.shown(m, lambda qualifiers: qualifier_prefixes(tables, qualifiers)), index=m.index
    )
    return pd.DataFrame(
        {**keys, **texts, "source_rank": source_rank, "value_num": m["value_num"]}
    ).assign(row=m["row"], lo=iv.lo, hi=iv.hi, printed=shown)


def printed_at(rows: pd.DataFrame, values: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Every pair of a row and a value printed at its KEYS (an inner merge; the rows' keys are
    read as the values' categories, so the join compares codes), with the values' `columns`.
    Values with text keys (the synthetic generator's) are merged on the texts."""
    keys = {k: rows[k].astype(values[k].dtype) for k in KEYS}
    if not all(isinstance(values[k].dtype, pd.CategoricalDtype) for k in KEYS):
        found = rows.assign(**keys).merge(
            values[[*KEYS, *columns]], on=KEYS, suffixes=("_claim", "")
        )
        return found.drop(columns=KEYS)
    n = len(rows)
    key = _place_key([keys, values], values)  # one integer per place: a join on one column
    right = values[columns].assign(place=key[n:])
    found = rows.assign(place=key[:n]).merge(right, on="place", suffixes=("_claim", ""))
    return found.drop(columns=[*KEYS, "place"])


def _place_key(parts: list, like: pd.DataFrame) -> np.ndarray:
    """One int64 per row of the parts end to end (their KEYS categorical, with `like`'s
    categories), equal exactly where every key is (missing equals missing, as merge has it)."""
    codes = [np.concatenate([part[k].cat.codes.to_numpy() for part in parts]) for k in KEYS]
    sizes = [len(like[k].cat.categories) for k in KEYS]
    return combined_key(list(zip(codes, sizes, strict=True)))


def claim_hits(claims: pd.DataFrame, values: pd.DataFrame) -> pd.DataFrame:
    """Each claim's values at its timepoint, and a change claim's at its from_timepoint
    (`before`): one row per claim (`pos`) and value, in one join, in table order."""
    now = claims[["pos", "source", *KEYS]].assign(before=False)
    change = claims[claims["kind"].isin(["increase", "decrease"])]
    before = change[["pos", "source", *KEYS]].assign(
        before=True, timepoint=change["from_timepoint"]
    )
    columns = [
        *("source", "source_rank", "row", "value", "printed", "value_num", "lo", "hi"),
        "method",
        "qualifier",
    ]
    found = printed_at(pd.concat([now, before], ignore_index=True), values, columns)
    found = found.assign(**{k: as_text(found[k]) for k in (*TEXTS, "printed")})
    return found.sort_values(["pos", "row"], kind="stable")


def _summary(hits: pd.DataFrame, pos: pd.Series, prefix: str) -> pd.DataFrame:
    """Per claim (its `pos`) of hits sorted by claim, value, source and row: hull lo, hi;
    lowest value vmin (its printed text min_text and interval min_lo, min_hi); highest vmax (max_text,
    max_lo, max_hi); the distinct sources, sorted, '; '-joined. Ties go to the first source alphabetically, then row, for the lowest; the last for the
    highest (a missing value counts as highest)."""
    by = hits.groupby("pos")
    lowest = hits.drop_duplicates("pos").set_index("pos")
    highest = hits.drop_duplicates("pos", keep="last").set_index("pos")
    pairs = hits[["pos", "source", "source_rank"]].drop_duplicates(["pos", "source_rank"])
    pairs = pairs.sort_values(["pos", "source_rank"])
    out = pd.DataFrame(
        {
            "lo": by["lo"].min(),
            "hi": by["hi"].max(),
            "vmin": lowest["value_num"],
            "min_text": lowest["printed"],
            "min_lo": lowest["lo"],
            "min_hi": lowest["hi"],
            "vmax": highest["value_num"],
            "max_text": highest["printed"],
            "max_lo": highest["lo"],
            "max_hi": highest["hi"],
            "sources": joined(pairs["source"], pairs["pos"], "; "),
        }
    )
    return out.reindex(pos.to_numpy()).add_prefix(prefix).reset_index(drop=True)


# --- range, change and threshold claims ------------------------------------------------------


def _range_rows(c: pd.DataFrame, grading: Grading) -> pd.DataFrame:
    """Stated low end against the lowest value elsewhere, high end against the highest."""
    low, high = stated(c["stated_low"]), stated(c["stated_high"])
    scale_low, scale_high = printed_number(c["stated_low"]), printed_number(c["stated_high"])
    at_low = grade((low.lo, low.hi), (c["else_min_lo"], c["else_min_hi"]), scale_low, grading)[0]
    at_high = grade((high.lo, high.hi), (c["else_max_lo"], c["else_max_hi"]), scale_high, grading)
    at_high = at_high[0]
    text = c["stated_low"] + "-" + c["stated_high"]
    return c.assign(
        verdict=np.where(_SEVERITY[at_low] >= _SEVERITY[at_high], at_low, at_high),
        expected_low=c["else_vmin"],
        expected_high=c["else_vmax"],
        reported=text,
        detail=glue(
            "stated ",
            text,
            "; values elsewhere (",
            c["else_sources"].fillna(""),
            ") span ",
            c["else_min_text"].fillna("?"),
            "-",
            c["else_max_text"].fillna("?"),
        ),
    )


def _change_rows(c: pd.DataFrame) -> pd.DataFrame:
    """The change interval between from_timepoint and timepoint: surely up (down), surely not,
    or only within rounding."""
    change = Interval(c["now_lo"], c["now_hi"]) - Interval(c["before_lo"], c["before_hi"])
    up = c["kind"] == "increase"
    sure = np.where(up, change.lo > 0, change.hi < 0)
    wrong = np.where(up, change.hi <= 0, change.lo >= 0)
    verdict = np.select(
        [change.missing, sure, wrong], [NOT_CHECKABLE, CONSISTENT, INCONSISTENT], MINOR
    )
    before = printed_span(c, "before_").where(c["before_lo"].notna(), "?")
    now = printed_span(c, "now_").where(c["now_lo"].notna(), "?")
    detail = glue(
        "from ",
        before,
        " at ",
        c["from_timepoint"].fillna(""),
        " to ",
        now,
        " at ",
        c["timepoint"],
        ": change ",
        span_text(change.lo, change.hi).mask(change.missing, "unknown"),
        words(("", " (within rounding)"), (verdict == MINOR).astype(int)),
    )
    return c.assign(
        verdict=verdict,
        expected_low=change.lo,
        expected_high=change.hi,
        reported=c["kind"],
        detail=detail,
    )


def _thresholds(c: pd.DataFrame, thresholds: dict, ranges: pd.DataFrame | None) -> pd.DataFrame:
    """Each claim's threshold `thr` (below, above) or ends thr_low, thr_high (within), from
    config `criterion`, `criterion_low`, `criterion_high`, or the paper's reference range."""
    flat = flatten(thresholds)
    criterion = c["criterion"]
    codes, names = pd.factorize(criterion)  # each distinct criterion looked up once

    def looked_up(suffix: str) -> np.ndarray:
        found = pd.Series([*names, None], dtype=object).add(suffix).map(flat).astype("float64")
        return found.to_numpy()[codes]

    thr, thr_low, thr_high = (looked_up(suffix) for suffix in ("", "_low", "_high"))
    if ranges is not None and len(ranges):
        keys = ["case_id", "parameter"]
        own = c[keys].merge(ranges[[*keys, "low_num", "high_num"]], on=keys, how="left")
        ref_low, ref_high = own["low_num"].to_numpy(), own["high_num"].to_numpy()
    else:
        ref_low = ref_high = np.full(len(c), np.nan)
    is_own = (criterion == REFERENCE_RANGE).to_numpy()
    kind = c["kind"]
    thr = np.where(
        is_own & (kind == "below"), ref_low, np.where(is_own & (kind == "above"), ref_high, thr)
    )
    return c.assign(
        thr=thr,
        thr_low=np.where(is_own, ref_low, thr_low),
        thr_high=np.where(is_own, ref_high, thr_high),
    )


#: What a threshold claim's detail answers, by verdict (consistent, minor, inconsistent).
_ANSWERS = np.array(
    [
        "yes",
        "on the boundary: the printed value's rounding interval straddles the threshold",
        "no",
    ],
    dtype=object,
)


def _bound_rows(c: pd.DataFrame) -> pd.DataFrame:
    """The values' hull against a threshold (below, above) or a range (within)."""
    below, above, within = (c["kind"] == k for k in ("below", "above", "within"))
    lo, hi, thr = c["now_lo"], c["now_hi"], c["thr"]
    inside = np.select(
        [below, above], [hi <= thr, lo >= thr], (lo >= c["thr_low"]) & (hi <= c["thr_high"])
    )
    outside = np.select(
        [below, above], [lo >= thr, hi <= thr], (hi < c["thr_low"]) | (lo > c["thr_high"])
    )
    verdict = np.select([inside, outside], [CONSISTENT, INCONSISTENT], MINOR)
    limit = g_text(thr).mask(within, g_text(c["thr_low"]) + "-" + g_text(c["thr_high"]))
    detail = glue(
        "values ",
        span_text(lo, hi),
        " (",
        c["now_sources"].fillna(""),
        "); ",
        c["kind"],
        " ",
        limit,
        " (thresholds.",
        c["criterion"].fillna(""),
        ")? ",
        words(_ANSWERS, verdict),
    )
    has = np.where(within, c["thr_low"].notna() & c["thr_high"].notna(), thr.notna())
    return c.assign(
        verdict=np.where(has, verdict, NOT_CHECKABLE),
        expected_low=np.where(within, c["thr_low"], np.where(above, thr, np.nan)),
        expected_high=np.where(within, c["thr_high"], np.where(below, thr, np.nan)),
        reported=printed_span(c, "now_"),
        detail=detail,
        has_threshold=has,
    )


def _not_checkable(c: pd.DataFrame) -> pd.DataFrame:
    """Claims left open, with the reason: a threshold claim without a criterion, or with one
    config lacks; a claim without a value (a change claim says so in its own detail)."""
    is_bound = c["kind"].isin(["below", "above", "within"])
    no_definition = is_bound & c["criterion"].isna()
    unknown = is_bound & c["criterion"].notna() & ~c["has_threshold"].fillna(True).astype(bool)
    is_change = c["kind"].isin(["increase", "decrease"])
    missing = c["now_lo"].isna() & ~no_definition & ~unknown & ~is_change
    detail = c["detail"].copy()
    k, p, t, crit = (c[column] for column in ("kind", "parameter", "timepoint", "criterion"))
    at = no_definition  # texts built only for the rows that show them
    detail[at] = (
        "no cited definition of '" + k[at] + "' for " + p[at] + " (criterion blank): not checked"
    )
    detail[unknown] = "criterion '" + crit[unknown] + "' is not in config thresholds"
    at = missing
    detail[at] = "no value of " + p[at] + " at " + t[at] + " from a source other than the claim's"
    left = missing | unknown | no_definition
    return c.assign(verdict=np.where(left, NOT_CHECKABLE, c["verdict"]), detail=detail)


def _data_rows(
    c: pd.DataFrame, hits: pd.DataFrame, tables: dict, thresholds: dict, grading: Grading
) -> pd.DataFrame:
    """The rows of range, change and threshold claims (one per claim, in claims' order)."""
    c = c.reset_index(drop=True)
    hits = hits[hits["pos"].isin(c["pos"])]
    hits = hits.sort_values(["pos", "value_num", "source_rank", "row"], na_position="last")
    now = hits[~hits["before"]]
    elsewhere = now[now["source"] != now["source_claim"]]
    before = hits[hits["before"]]
    summaries = [(now, "now_"), (elsewhere, "else_"), (before, "before_")]
    c = pd.concat([c, *(_summary(h, c["pos"], prefix) for h, prefix in summaries)], axis=1)
    del hits, now, elsewhere, before, summaries  # freed before the rows are graded
    ranges = tables.get("reference_ranges")
    if ranges is not None:
        ranges = bd.reference_range_per_parameter(ranges, tables["dictionary"])
    c = _thresholds(c, thresholds, ranges)
    kind = c["kind"]
    parts = [
        _range_rows(c[kind == "range"].reset_index(drop=True), grading),
        _change_rows(c[kind.isin(["increase", "decrease"])].reset_index(drop=True)),
        _bound_rows(c[kind.isin(["below", "above", "within"])].reset_index(drop=True)),
    ]
    return _not_checkable(pd.concat(parts, ignore_index=True))


# --- band claims: each printed value against a band ------------------------------------------


def graded_band_values(c: pd.DataFrame, hits: pd.DataFrame) -> pd.DataFrame:
    """One row per claim (`pos`) and printed value at its timepoint (`hits`, by claim in table
    order): where the value lies against the band (word: in / below / above / on the edge)
    and its verdict (code)."""
    ends = ["inner_low", "inner_below", "outer_low", "outer_below"]
    columns = ["pos", "method", "value", "qualifier", "lo", "hi"]
    v = c[["pos", *ends]].merge(hits[columns], on="pos")
    inside = (v["lo"] >= v["inner_low"]) & (v["hi"] <= v["inner_below"])
    below = v["hi"] <= v["outer_low"]
    above = v["lo"] >= v["outer_below"]
    v["word"] = np.select([inside, below, above], ["in", "below", "above"], "on the edge")
    v["verdict"] = np.select([inside, below | above], [CONSISTENT, INCONSISTENT], MINOR)
    return v.drop_duplicates(["pos", "method", "value", "qualifier", "word"])


def band_ends(
    c: pd.DataFrame, values: pd.DataFrame, tables: dict, thresholds: dict
) -> pd.DataFrame:
    """Band claims with their band's ends resolved (`bands.resolved_bands`, `scaled_ends`)."""
    c = bd.resolved_bands(c, tables["cases"], thresholds)
    bsa = bd.implied_bsa(values[values["parameter"].isin(bd.BSA_PARAMETERS)].apply(as_text))
    c = c.merge(bsa, on=["case_id", "timepoint", "modality"], how="left")
    return bd.scaled_ends(c)


def _band_values(graded: pd.DataFrame) -> pd.DataFrame:
    """Per claim (`pos`): its values in words ('48 (endocardial) above; ...'), its worst
    verdict, and its values as printed ('48-53': the lowest and highest, or the one value)."""
    method = (" (" + graded["method"] + ")").fillna("")
    words = (graded["qualifier"] + " ").fillna("") + graded["value"] + method + " " + graded["word"]
    by = graded.groupby("pos", sort=False)
    ordered = graded.sort_values(["pos", "lo"], kind="stable").groupby("pos", sort=False)["value"]
    first, last = ordered.first(), ordered.last()
    return pd.DataFrame(
        {
            "values_text": joined(words, graded["pos"], "; "),
            "band_verdict": by["verdict"].max(),
            "band_reported": first.where(first == last, first + "-" + last),
        }
    )


#: What a band claim's detail answers, by verdict (consistent, minor, inconsistent).
_BAND_ANSWERS = np.array(
    ["yes", "on the boundary: a rounding interval straddles a band edge", "no"], dtype=object
)


def _band_reason(c: pd.DataFrame) -> np.ndarray:
    """Why a band claim is not checked ('' where it is): the paper or config leaves it open."""
    no_sex = c["by_sex"].fillna(False).astype(bool) & c["sex"].isna()
    no_band = c["low"].isna() & c["per_bsa"].isna()
    no_bsa = c["per_bsa"].notna() & c["bsa_lo"].isna()
    no_value = c["band_verdict"].isna()
    at = " at " + c["timepoint"]
    return np.select(
        [no_band, no_sex, no_bsa, no_value],
        [
            "band '"
            + c["band"]
            + "' of thresholds."
            + c["group"]
            + " defines no range for "
            + c["parameter"],
            "the band is sex-specific and the case table gives no sex",
            "the range is per body-surface area, which the paper neither gives nor implies" + at,
            "no value of " + c["parameter"] + at + " (" + c["modality"] + ")",
        ],
        "",
    )


def _band_rows(
    c: pd.DataFrame, values: pd.DataFrame, hits: pd.DataFrame, tables: dict, thresholds: dict
) -> pd.DataFrame:
    """The rows of band claims: verdict and a detail naming the band, its citation, the values
    and where each lies; not_checkable with the reason the paper leaves it open."""
    c = band_ends(c.reset_index(drop=True), values, tables, thresholds)
    hits = hits[hits["pos"].isin(c["pos"]) & ~hits["before"]]
    c = c.join(_band_values(graded_band_values(c, hits)), on="pos")
    reason = _band_reason(c)
    checkable = reason == ""
    cite = c["group"].map({group: bd.citation(thresholds, group) for group in c["group"].unique()})
    by_sex = c["by_sex"].fillna(False).astype(bool)
    who = (" for a " + c["sex"].fillna("?")).where(by_sex, "")
    bsa = glue(
        " (",
        c["per_bsa"],
        " range x implied BSA [",
        detail_numbers(c["bsa_lo"].fillna(0)),
        ", ",
        detail_numbers(c["bsa_hi"].fillna(0)),
        "] m²)",
    ).where(c["per_bsa"].notna() & c["bsa_lo"].notna(), "")
    verdict = c["band_verdict"].fillna(NOT_CHECKABLE).astype("int64").to_numpy()
    detail = glue(
        "values ",
        c["values_text"].fillna(""),
        "; '",
        c["band"],
        "' of thresholds.",
        c["group"],
        " (",
        cite,
        ")",
        who,
        ": [",
        detail_numbers(c["outer_low"]),
        ", ",
        detail_numbers(c["outer_below"]),
        ")",
        bsa,
        "? ",
        words(_BAND_ANSWERS, np.minimum(verdict, 2)),
    )
    return c.assign(
        reported=c["band_reported"].where(checkable, ""),
        expected_low=c["outer_low"].where(checkable),
        expected_high=c["outer_below"].where(checkable),
        verdict=np.where(checkable, verdict, NOT_CHECKABLE),
        detail=detail.where(checkable, pd.Series(pd.array(reason, dtype="str")) + ": not checked"),
    )


# --- durations -------------------------------------------------------------------------------


def duration_rows(claims: pd.DataFrame, tables: dict, thresholds: dict) -> pd.DataFrame:
    """A stated duration (stated_low..stated_high units of criterion `duration.<unit>`, as
    printed) against the months between from_timepoint and timepoint; soft (the paper's
    timepoints may not be all it followed), so `minor` at most."""
    c = claims.reset_index(drop=True)
    per_unit = c["band"].map(thresholds.get("duration") or {}).astype("float64")
    lo, hi = stated(c["stated_low"]).lo * per_unit, stated(c["stated_high"]).hi * per_unit
    d = timepoint_months(tables).set_index(["case_id", "timepoint"])
    a = d.reindex(pd.MultiIndex.from_arrays([c["case_id"], c["from_timepoint"]]))
    b = d.reindex(pd.MultiIndex.from_arrays([c["case_id"], c["timepoint"]]))
    span_lo = pd.Series(np.maximum(0.0, b["m_lo"].to_numpy() - a["m_hi"].to_numpy()))
    span_hi = pd.Series(b["m_hi"].to_numpy() - a["m_lo"].to_numpy())
    meets = (span_hi >= lo) & (span_lo <= hi)
    known = per_unit.notna() & span_lo.notna() & span_hi.notna() & lo.notna()
    whole = d.groupby(level="case_id").agg(first=("m_lo", "min"), last=("m_hi", "max"))
    total = pd.Series((whole["last"] - whole["first"]).reindex(c["case_id"]).to_numpy())
    said = _stated_text(c)
    detail = glue(
        "from ",
        c["from_timepoint"],
        " (",
        a["date"].fillna("?").to_numpy(),
        ") to ",
        c["timepoint"],
        " (",
        b["date"].fillna("?").to_numpy(),
        "): ",
        detail_numbers(span_lo),
        "-",
        detail_numbers(span_hi),
        " months; stated ",
        said,
        " ",
        c["band"],
        " = ",
        detail_numbers(lo),
        "-",
        detail_numbers(hi),
        " months as printed; the case's timepoints span at most ",
        detail_numbers(total),
        " months",
    )
    return c.assign(
        check="claim_duration",
        reported=said + " " + c["band"],
        expected_low=span_lo,
        expected_high=span_hi,
        verdict=np.where(known, np.where(meets, CONSISTENT, MINOR), NOT_CHECKABLE),
        detail=detail,
        against=c["from_timepoint"],
    )


# --- every claim, in the audit's order -------------------------------------------------------


def _in_audit_order(rows: pd.DataFrame, timepoints: pd.DataFrame) -> pd.DataFrame:
    """Rows by check (CHECKS order), case, parameter, time, source and against; ties in
    claims' order."""
    rank = timepoint_order(timepoints)[["case_id", "timepoint", "rank"]]
    keys = rows[["check", "case_id", "parameter", "timepoint", "source", "against", "pos"]]
    keys = keys.merge(rank, on=["case_id", "timepoint"], how="left")  # keeps the rows' order
    keys = keys.assign(
        check=keys["check"].map({check: i for i, check in enumerate(CHECKS)}),
        rank=keys["rank"].fillna(-1),
    )
    order = ["check", "case_id", "parameter", "rank", "source", "against", "pos"]
    return rows.take(keys.sort_values(order, kind="stable").index)


def _output(rows: pd.DataFrame) -> pd.DataFrame:
    """The audit's columns: detail after '[claim_id] statement: ', verdicts as words."""
    shown = ["check", "case_id", "parameter", "timepoint", "source", "reported", "against"]
    out = rows[shown].astype("str").reset_index(drop=True)
    detail = glue("[", rows["claim_id"], "] ", rows["statement"], ": ", rows["detail"])
    return out.assign(
        expected_low=np.round(rows["expected_low"].to_numpy(dtype=np.float64), ROUND),
        expected_high=np.round(rows["expected_high"].to_numpy(dtype=np.float64), ROUND),
        verdict=words(VERDICTS, rows["verdict"].to_numpy(dtype=np.int64)),
        detail=detail.set_axis(out.index),
        method=pd.Series(np.nan, index=out.index, dtype="str"),
    )[COLUMNS]


def check_claims(
    tables: dict[str, pd.DataFrame], thresholds: dict, grading: Grading
) -> pd.DataFrame:
    """Every prose claim of claims.csv, one audit row each: range, change and threshold claims
    and band claims in audit order, then the duration claims (sorted as the reviewer's
    checks are)."""
    claims = routed(tables["claims"], thresholds)
    values = claim_values(tables, claims)
    route = claims["route"]
    hits = claim_hits(claims[route != "duration"], values)
    data = _data_rows(claims[route == "data"], hits, tables, thresholds, grading)
    band = _band_rows(claims[route == "band"], values, hits, tables, thresholds)
    del values, hits  # a cohort's values and hits: freed before the rows are sorted
    shown = [*claims.columns, "reported", "expected_low", "expected_high", "verdict", "detail"]
    rows = pd.concat([data[shown], band[shown]], ignore_index=True)
    rows = rows.assign(check="claim_" + rows["kind"], against=rows["criterion"].fillna("data"))
    rows = _in_audit_order(rows, tables["timepoints"])
    durations = duration_rows(claims[route == "duration"], tables, thresholds)
    durations = durations.sort_values(
        ["case_id", "parameter", "timepoint", "source", "against"],
        kind="stable",
        na_position="first",
    )
    return pd.concat([_output(rows), _output(durations)], ignore_index=True)


# --- for synthetic cohorts: word claims restated from the values -----------------------------


def _candidates(claims: pd.DataFrame, thresholds: dict) -> pd.DataFrame:
    """Each band claim once per band its group defines for its parameter (config order; a
    group's only band also as below_/above_ it), numbered by `rank`; `original`: its claim_id."""
    bands = bd.band_table(thresholds)
    base = bands[~bands["band"].str.match(r"^(below|above)_")]
    names = base.drop_duplicates(["group", "parameter", "band"])[["group", "parameter", "band"]]
    only = names.groupby(["group", "parameter"])["band"].transform("size") == 1
    sides = [
        names,
        names[only].assign(band="below_" + names["band"]),
        names[only].assign(band="above_" + names["band"]),
    ]
    options = pd.concat(sides, ignore_index=True)
    options["rank"] = np.arange(len(options))
    c = claims.drop(columns=["band", "pos"]).merge(options, on=["group", "parameter"])
    return c.assign(original=c["claim_id"], pos=np.arange(len(c)))


def restate_word_claims(
    claims: pd.DataFrame,
    measurements: pd.DataFrame,
    timepoints: pd.DataFrame,
    cases: pd.DataFrame,
    thresholds: dict,
) -> pd.DataFrame:
    """Raw claims (text) whose band and duration say what the case's values show: a band claim
    names the first band that holds all its printed values (no band where none does); a
    duration claim states the whole units between its timepoints (for synthetic cases).
    `measurements` are raw text plus `qualifier_means` (what each qualifier means)."""
    m = measurements.assign(
        value_num=printed_number(measurements["value"]),
        decimals=printed_decimals(measurements["value"].astype("str")),
    )
    tables = {"measurements": m, "timepoints": timepoints, "cases": cases, "claims": claims}
    mine = routed(claims, thresholds)
    out = claims.copy()
    bands = mine[mine["route"] == "band"]
    if len(bands):
        values = measured(tables)
        c = band_ends(_candidates(bands, thresholds), values, tables, thresholds)
        hits = printed_at(c[["pos", *KEYS]], values, ["method", "value", "qualifier", "lo", "hi"])
        worst = graded_band_values(c, hits).groupby("pos")["verdict"].max()
        fits = c[c["pos"].map(worst) == CONSISTENT].sort_values("rank", kind="stable")
        first = fits.drop_duplicates("original").set_index("original")
        chosen = first["group"] + "." + first["band"]
        at = out["claim_id"].isin(bands["claim_id"])
        out.loc[at, "criterion"] = out.loc[at, "claim_id"].map(chosen).to_numpy()
    durations = mine[mine["route"] == "duration"]
    if len(durations):
        rows = duration_rows(durations, tables, thresholds)
        per_unit = durations["band"].map(thresholds["duration"]).to_numpy()
        middle = (rows["expected_low"] + rows["expected_high"]).to_numpy() / 2 / per_unit
        stated = pd.Series(np.maximum(1, np.rint(middle)).astype("int64").astype("str"))
        at = out["claim_id"].isin(durations["claim_id"])
        order = out.loc[at, "claim_id"].map(dict(zip(durations["claim_id"], stated, strict=True)))
        out.loc[at, "stated_low"] = order.to_numpy()
        out.loc[at, "stated_high"] = order.to_numpy()
    return out


# --- for the manuscript: the claims in words, one row each ----------------------------------


def _bound_text(low: pd.Series, high: pd.Series, unit: pd.Series) -> pd.Series:
    """A band's ends for a reader: '30 to < 41 %', '< 10 mg/L', '>= 176 g'."""
    lo, hi = detail_numbers(low.fillna(np.nan)), detail_numbers(high.fillna(np.nan))
    both = lo + " to < " + hi + " " + unit
    return pd.Series(
        np.select(
            [low.isna() | high.isna(), ~np.isfinite(low), ~np.isfinite(high)],
            ["", "< " + hi + " " + unit, ">= " + lo + " " + unit],
            both,
        ),
        index=low.index,
    )


def claims_in_words(audit: pd.DataFrame, tables: dict, config: dict) -> pd.DataFrame:
    """The paper's band and duration claims in words and their verdicts, for readers: columns
    claim, parameter, timepoint (the codebook's names), definition (band, its ends and citation
    keys as '[@key]'), values (as printed, with the method's name), verdict."""
    thresholds = config["thresholds"]
    claims = routed(tables["claims"], thresholds)
    claims = claims[claims["route"] != "data"]
    ids = audit["detail"].str.partition("]")[0].str.slice(1)  # the detail opens '[claim_id]'
    rows = audit.assign(claim_id=ids)[ids.isin(claims["claim_id"]).to_numpy()]
    c = claims.merge(rows[["claim_id", "expected_low", "expected_high", "verdict"]], on="claim_id")
    dictionary = tables["dictionary"].set_index("parameter")
    unit = c["parameter"].map(dictionary["printed_unit"].fillna(dictionary["unit"])).fillna("")
    cites = c["group"].map(
        lambda g: "; ".join(
            f"@{k}" for k in bd.citation(thresholds, g).split(", ") if k != "no citation"
        )
    )
    band = np.where(
        c["group"] == "duration",
        c["stated_low"].astype("str")
        + " "
        + c["band"]
        + " stated; the timepoints are "
        + detail_numbers(c["expected_low"])
        + " to "
        + detail_numbers(c["expected_high"])
        + " months apart",
        "'"
        + c["band"].str.replace("_", " ")
        + "': "
        + _bound_text(c["expected_low"], c["expected_high"], unit),
    )
    definition = band + np.where(cites != "", " [" + cites + "]", "")
    names = tables["timepoints"].set_index(["case_id", "timepoint"])
    label = "name" if "name" in names.columns else "label"
    where = pd.MultiIndex.from_arrays([c["case_id"], c["timepoint"]])
    return pd.DataFrame(
        {
            "claim": c["statement"],
            "parameter": c["parameter"].map(dictionary["label"]).fillna(c["parameter"]),
            "timepoint": names[label].reindex(where).fillna(c["timepoint"]).to_numpy(),
            "definition": definition,
            "values": _values_text(c, tables),
            "verdict": c["verdict"].str.replace("_", " "),
        }
    ).reset_index(drop=True)


def _values_text(c: pd.DataFrame, tables: dict) -> pd.Series:
    """Each claim's printed values at its timepoint ('48 (endocardial volume); 53 (blood
    volume)'; a duration claim: its two timepoints' dates)."""
    values = measured(tables)
    methods = tables["methods"].set_index("method")
    named = methods["name"] if "name" in methods.columns else methods["label"]
    v = c[["claim_id", *KEYS]].merge(values, on=KEYS)
    shown = (
        (v["qualifier"] + " ").fillna("")
        + v["value"].astype("str")
        + (" (" + v["method"].map(named) + ")").fillna("")
    )
    joined_values = (
        v.assign(shown=shown)
        .drop_duplicates(["claim_id", "shown"])
        .groupby("claim_id")["shown"]
        .agg("; ".join)
    )
    dates = tables["timepoints"].set_index(["case_id", "timepoint"])["date"]
    span = (
        dates.reindex(pd.MultiIndex.from_arrays([c["case_id"], c["from_timepoint"]]))
        .fillna("?")
        .to_numpy()
        + " to "
        + dates.reindex(pd.MultiIndex.from_arrays([c["case_id"], c["timepoint"]]))
        .fillna("?")
        .to_numpy()
    )
    return pd.Series(
        np.where(c["group"] == "duration", span, c["claim_id"].map(joined_values).fillna(""))
    )
