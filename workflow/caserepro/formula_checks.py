"""The audit's checks that come from formulas.csv: one function per scope, plain pandas steps.

Each printed value stands for its rounding interval (`intervals.printed`); each side of an
identity is evaluated over those intervals by `evaluator.bounds` (exact bounds) and converted to
the quantity's unit by the factor pint gave (`formulas`). The rows are those of
`results/audit/consistency.csv` (`caserepro.audit.COLUMNS`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from caserepro import evaluator
from caserepro.codes import EXAMINATION, combined_key, row_keys
from caserepro.formulas import Formula, Side, implied_by
from caserepro.intervals import Interval, intersect, meets, printed
from caserepro.metrics import timepoint_order
from caserepro.verdicts import COLUMNS, INCONSISTENT, MINOR, ROUND, VERDICTS, Grading, grade

#: An examination's columns: its key, then its timeline row.
PLACE = [*EXAMINATION, "date", "start_month", "end_month", "rank"]
#: The columns of each parameter in `examinations`.
FIELDS = ("", "_lo", "_hi", "_text")
#: Order of a check's rows: case, time, source, method (blank first), then what it is against.
ORDER = ["case_id", "rank", "source", "method"]


# --- texts: each distinct number formatted once ----------------------------------------------


def numbers(values: pd.Series) -> pd.Series:
    """Numbers for a detail text: up to four decimals, as `:g` writes them; '' where missing."""
    rounded = pd.Series(np.round(values.to_numpy(dtype=np.float64), ROUND), index=values.index)
    codes, distinct = pd.factorize(rounded)
    words = pd.array([f"{v:g}" for v in distinct] + [""], dtype="str")  # code -1: the last, ''
    return pd.Series(words.take(codes), index=values.index)


def intervals(lo: pd.Series, hi: pd.Series) -> pd.Series:
    """'[lo, hi]'; the value alone where both ends print alike; '' where both are missing.
    Each distinct pair of ends (as printed) is written once."""
    ends = [np.round(end.to_numpy(dtype=np.float64), ROUND) for end in (lo, hi)]
    key = combined_key([(pd.factorize(end)[0], len(end)) for end in ends])
    _, first, pair = np.unique(key, return_index=True, return_inverse=True)
    lo_text, hi_text = numbers(pd.Series(ends[0][first])), numbers(pd.Series(ends[1][first]))
    text = glue("[", lo_text, ", ", hi_text, "]").where(lo_text != hi_text, lo_text)
    text = text.mask((lo_text == "") & (hi_text != ""), "< " + hi_text)
    text = text.mask((hi_text == "") & (lo_text != ""), "> " + lo_text)
    return pd.Series(text.array.take(pair), index=lo.index)


def glue(*parts: pd.Series | np.ndarray | str) -> pd.Series:
    """Texts and columns (Series, or arrays read row by row) joined row by row, in one pass (a
    chain of `+` copies every row's text once per step); a missing part makes the row missing,
    as `+` does. The Series must share one index (`+` would align them on it)."""
    series = [p for p in parts if isinstance(p, pd.Series)]
    index = series[0].index if series else None
    if any(not p.index.equals(index) for p in series[1:]):
        raise ValueError("glue: the columns have different indexes")
    text = pc.binary_join_element_wise(*map(_arrow_text, parts), pa.scalar("", pa.large_string()))
    return pd.Series(pd.array(text, dtype="str"), index=index)


def _arrow_text(part: pd.Series | np.ndarray | str) -> pa.Array | pa.Scalar:
    """A text, or a column of texts, as Arrow (large) strings; NaN and None missing."""
    if isinstance(part, str):
        return pa.scalar(part, pa.large_string())
    if isinstance(part, pd.Series):
        return pa.array(part.astype("str").array).cast(pa.large_string())
    return pa.array(np.asarray(part), pa.large_string(), from_pandas=True)


# --- examinations: the values printed together at one place ----------------------------------


def texts(column: pd.Series, rows: np.ndarray | None = None, blank: str = "") -> pd.Series:
    """A key column's texts (at `rows`) as a `str` column, `blank` where missing: each distinct
    text converted once, then taken by its code (a categorical's texts are never rebuilt row by
    row)."""
    values = pd.Categorical(column)
    codes = values.codes if rows is None else values.codes[rows]
    words = pa.array(values.categories.astype("str").to_numpy(dtype=object), pa.large_string())
    taken = pc.fill_null(words.take(pa.array(codes, mask=codes < 0)), blank)
    return pd.Series(pd.array(taken, dtype="str"))


def group_codes(frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """One integer per row, equal exactly where every column is (blank equals blank), numbered
    0.. in order of first appearance (`codes.row_keys`, renumbered)."""
    return pd.factorize(row_keys(frame, columns))[0]


def shown(
    m: pd.DataFrame, prefix: Callable[[pd.Series], pd.Series] | None = None
) -> pd.Categorical:
    """Measurements as the paper shows them (the qualifier, if any, then the value): one text
    per distinct pair, built once. `prefix`: what is printed before a value for each qualifier
    (given the qualifiers' texts); by default the qualifier and a space."""
    value, qualifier = pd.Categorical(m["value"]), pd.Categorical(m["qualifier"])
    size = len(value.categories) + 1
    codes, pairs = pd.factorize((qualifier.codes.astype(np.int64) + 1) * size + value.codes)
    q, v = np.divmod(pairs, size)
    qualifiers = pd.Series(qualifier.categories.astype("str"))
    before = qualifiers + " " if prefix is None else prefix(qualifiers)
    said = pd.Series(["", *before], dtype="str").take(q)
    number = pd.Series(value.categories.astype("str"), dtype="str").take(v)
    texts = glue(said.reset_index(drop=True), number.reset_index(drop=True))
    text_codes, distinct_texts = pd.factorize(texts)  # two qualifiers' prefixes may print alike
    return pd.Categorical.from_codes(text_codes[codes], pd.Index(distinct_texts, dtype=object))


def examinations(tables: dict[str, pd.DataFrame], parameters: list[str]) -> pd.DataFrame:
    """One row per examination printing any of the parameters, with its timeline row (rank,
    date, months) and per parameter p: `p` (value), `p_lo`, `p_hi`, `p_text` (as shown)."""
    m = tables["measurements"]
    m = m[m["parameter"].isin(parameters).to_numpy()].reset_index(drop=True)
    stands_for = printed(m["value_num"], m["decimals"], m["qualifier_means"], m.get("scale"))
    exam = group_codes(m, EXAMINATION)
    first = np.unique(exam, return_index=True)[1]
    out = {c: texts(m[c], first) for c in EXAMINATION}
    names = pd.Categorical(m["parameter"])
    parameter = np.append(pd.Index(parameters).get_indexer(names.categories), -1)[names.codes]
    shown_texts = shown(m)
    for i, p in enumerate(parameters):
        rows = np.flatnonzero(parameter == i)[::-1]  # assigned last to first: the first wins
        at = np.full(len(first), -1)
        at[exam[rows]] = rows
        found = at >= 0
        for field, column in (("", m["value_num"]), ("_lo", stands_for.lo), ("_hi", stands_for.hi)):
            values = np.full(len(first), np.nan)
            values[found] = column.to_numpy(dtype=np.float64)[at[found]]
            out[f"{p}{field}"] = values
        out[f"{p}_text"] = pd.Categorical.from_codes(
            np.where(found, shown_texts.codes[at], -1), shown_texts.categories
        )
    timeline = timepoint_order(tables["timepoints"]).astype({"case_id": "str", "timepoint": "str"})
    exams = pd.DataFrame(out).merge(timeline, on=["case_id", "timepoint"], how="left")
    return exams.assign(rank=exams["rank"].fillna(-1))


def bounds(exams: pd.DataFrame, side: Side) -> tuple[pd.Series, pd.Series]:
    """The side's exact interval at each examination, in the quantity's unit (NaN if an input
    is not printed)."""
    env = {
        n: (exams[f"{n}_lo"].to_numpy(float), exams[f"{n}_hi"].to_numpy(float)) for n in side.names
    }
    lo, hi = evaluator.bounds(side.tree, env)
    shape = len(exams)
    lo = np.broadcast_to(np.asarray(lo, dtype=np.float64) * side.factor, shape)
    hi = np.broadcast_to(np.asarray(hi, dtype=np.float64) * side.factor, shape)
    return pd.Series(lo, index=exams.index), pd.Series(hi, index=exams.index)


def printed_all(exams: pd.DataFrame, side: Side) -> pd.Series:
    """True where every input of the side is printed."""
    return exams[[f"{n}_lo" for n in side.names]].notna().all(axis=1)


def printed_any(exams: pd.DataFrame, side: Side) -> pd.Series:
    """True where some input of the side is printed."""
    return exams[[f"{n}_lo" for n in side.names]].notna().any(axis=1)


def inputs_text(exams: pd.DataFrame, side: Side) -> pd.Series:
    """'lv_edv 210, lv_esv 161' (a missing input: '?')."""
    parts = [(", ", n, " ", exams[f"{n}_text"].astype("str").fillna("?")) for n in side.names]
    return glue(*[word for part in parts for word in part][1:])


# --- grading and the output rows --------------------------------------------------------------


def graded(rows: pd.DataFrame, check: str, grading: Grading) -> pd.DataFrame:
    """Output rows from check rows with rep_lo/rep_hi, exp_lo/exp_hi, scale and the place."""
    verdict, distance, relative = grade(
        (rows["rep_lo"], rows["rep_hi"]), (rows["exp_lo"], rows["exp_hi"]), rows["scale"], grading
    )
    detail = rows["detail"].astype("str")
    flagged = pd.Series((verdict == MINOR) | (verdict == INCONSISTENT), index=rows.index)
    touch = pd.Series(distance == 0, index=rows.index)
    gap_text = glue(
        "; gap ",
        numbers(pd.Series(distance, index=rows.index)),
        " (",
        numbers(pd.Series(np.round(100 * relative, 2), index=rows.index)),
        " % of reported)",
    )
    gap_text = gap_text.where(~touch, "; the intervals only touch at an end (neighbouring values)")
    detail = detail.where(~flagged, glue(detail, gap_text))
    if check in grading.soft_checks:
        capped = verdict == INCONSISTENT
        verdict = np.where(capped, MINOR, verdict)
        soft = "; would be inconsistent, but these need not agree (soft check: minor at most)"
        detail = detail.where(~capped, glue(detail, soft))
    out = rows.assign(
        check=check,
        expected_low=np.round(rows["exp_lo"].to_numpy(float), ROUND),
        expected_high=np.round(rows["exp_hi"].to_numpy(float), ROUND),
        verdict=pd.Series(pd.array(list(VERDICTS), dtype="str").take(verdict), index=rows.index),
        detail=detail,
        method=rows["method"].replace("", np.nan),
    )
    return out[COLUMNS].astype({c: "str" for c in COLUMNS if not c.startswith("expected")})


def sorted_by(rows: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Rows sorted by the columns in turn (texts in code point order, missing first; numbers
    ascending); ties keep their order. As `sort_values(kind="stable")`, but each column is
    sorted as the codes of its distinct values (one sort of a few texts, not of every row)."""
    keys = [
        pd.factorize(rows[c], sort=True)[0] if rows[c].dtype.kind not in "iuf" else rows[c]
        for c in columns
    ]
    order = np.lexsort([np.asarray(k) for k in keys[::-1]]) if len(rows) else np.zeros(0, int)
    return rows.take(order).reset_index(drop=True)


def in_order(rows: pd.DataFrame, *more: str) -> pd.DataFrame:
    """Rows by case, time, source, method (blank first), then `more`; ties keep their order."""
    return sorted_by(rows, [*ORDER, *more])


def reported_text(exams: pd.DataFrame, side: Side, lo: pd.Series, hi: pd.Series) -> pd.Series:
    """The reported value as printed (a side that is one parameter) or as its interval."""
    if isinstance(side.tree, evaluator.ast.Name):
        return exams[f"{side.tree.id}_text"].astype("str")
    return intervals(lo, hi)


def joined(frame: pd.DataFrame, by: list[str], column: str, sep: str) -> pd.Series:
    """The texts of `column` joined by `sep` per group of `by` (rows sorted by group), indexed
    by group: one Arrow pass, no Python per group."""
    if frame.empty:
        return pd.Series([], dtype="str", index=pd.MultiIndex.from_frame(frame[by]))
    group = frame.groupby(by, sort=False).ngroup().to_numpy()
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    offsets = pa.array(np.r_[starts, len(group)], pa.int64())
    words = pa.array(frame[column].astype("str").to_numpy(), pa.large_string())
    texts = pc.binary_join(
        pa.LargeListArray.from_arrays(offsets, words), pa.scalar(sep, words.type)
    )
    index = pd.MultiIndex.from_frame(frame[by].iloc[starts])
    return pd.Series(texts.to_numpy(zero_copy_only=False), index=index, dtype="str")


def unit_text(formula: Formula) -> str:
    """The quantity's unit as a detail text shows it: the dictionary's (' m²', ' bpm', ' %')."""
    return f" {formula.unit}"


# --- the checks, one per scope ---------------------------------------------------------------


def with_implied(
    formulas: tuple[Formula, ...], formula: Formula, exams: pd.DataFrame
) -> pd.DataFrame:
    """The examinations with each implied quantity the formula uses (the first side of an
    identity of three sides, as `bsa`) filled in where not printed, from the other identities."""
    others = tuple(f for f in formulas if f.check != formula.check)
    implied_quantities = {f.quantity for f in others if len(f.sides) > 2}
    used = {*formula.reported.names, *formula.expected.names} & implied_quantities
    for q in sorted(used):
        estimate = implied(others, q, exams)
        known = exams[f"{q}_lo"].notna()
        exams = exams.assign(
            **{
                f"{q}_lo": exams[f"{q}_lo"].where(known, estimate["lo"]),
                f"{q}_hi": exams[f"{q}_hi"].where(known, estimate["hi"]),
                f"{q}_text": exams[f"{q}_text"]
                .astype(object)
                .where(
                    known | estimate["lo"].isna(),
                    "implied " + intervals(estimate["lo"], estimate["hi"]),
                ),
            }
        )
    return exams


def check_examination(
    formula: Formula, exams: pd.DataFrame, grading: Grading, formulas: tuple[Formula, ...] = ()
) -> pd.DataFrame:
    """The identity's last two sides at each examination where one side is printed whole and
    the other in part (a missing input makes the row not checkable)."""
    rep, exp = formula.reported, formula.expected
    used = dict.fromkeys([*rep.names, *exp.names])
    exams = with_implied(formulas, formula, exams)
    exams = exams[[*PLACE, *(f"{n}{field}" for n in used for field in FIELDS)]]
    keep = (printed_all(exams, rep) & printed_any(exams, exp)) | (
        printed_all(exams, exp) & printed_any(exams, rep)
    )
    for n in dict.fromkeys([*rep.names, *exp.names]):  # never printed at this modality: no row
        printed_at = exams.loc[exams[f"{n}_lo"].notna().to_numpy(), "modality"].unique()
        keep &= exams["modality"].isin(printed_at)
    e = in_order(exams[keep.to_numpy()])
    rep_lo, rep_hi = bounds(e, rep)
    exp_lo, exp_hi = bounds(e, exp)
    missing = pd.Series("", index=e.index)
    for n in dict.fromkeys([*rep.names, *exp.names]):
        missing = missing.where(e[f"{n}_lo"].notna(), missing + n + " not printed; ")
    unit = unit_text(formula)
    gives = (f"{exp.text} from ", inputs_text(e, exp), " gives ", intervals(exp_lo, exp_hi), unit)
    if isinstance(rep.tree, evaluator.ast.Name):
        said = e[f"{rep.tree.id}_text"].astype("str").fillna("?")
        detail, scale = glue(missing, *gives, "; printed ", said), e[rep.tree.id]
    else:
        said = (f"{rep.text} from ", inputs_text(e, rep), " gives ", intervals(rep_lo, rep_hi))
        detail, scale = glue(missing, *said, unit, " vs ", *gives), (rep_lo + rep_hi) / 2
    rows = e.assign(
        parameter=formula.quantity,
        against=", ".join(exp.names),
        reported=reported_text(e, rep, rep_lo, rep_hi),
        rep_lo=rep_lo,
        rep_hi=rep_hi,
        exp_lo=exp_lo,
        exp_hi=exp_hi,
        scale=scale,
        detail=detail,
    )
    return graded(rows, formula.check, grading)


def implied(formulas: tuple[Formula, ...], quantity: str, exams: pd.DataFrame) -> pd.DataFrame:
    """The quantity implied at each examination by every identity that gives it: the estimates'
    common part where they meet, else their hull. Columns lo, hi, how (the sides used)."""
    lo = hi = None
    how = pd.Series("", index=exams.index)
    for _, side in implied_by(formulas, quantity):
        s_lo, s_hi = bounds(exams, side)
        known = s_lo.notna() & s_hi.notna()
        how = how.where(~known, how.where(how == "", how + " and ") + side.text)
        if lo is None:
            lo, hi = s_lo, s_hi
            continue
        a, b = Interval(lo, hi), Interval(s_lo, s_hi)
        agree, common = meets(a, b), intersect(a, b)
        lo = common.lo.where(agree, np.fmin(lo, s_lo))
        hi = common.hi.where(agree, np.fmax(hi, s_hi))
    return pd.DataFrame({"lo": lo, "hi": hi, "how": how}, index=exams.index)


def check_scan(formula: Formula, exams: pd.DataFrame, grading: Grading) -> pd.DataFrame:
    """The quantity implied by each two methods of one scan (case, timepoint, modality, source)."""
    scan = ["case_id", "timepoint", "modality", "source"]
    pairs = exams.merge(exams[[*scan, "method", "lo", "hi"]], on=scan, suffixes=("", "_b"))
    pairs = in_order(pairs[(pairs["method"] < pairs["method_b"]).to_numpy()], "method_b")
    a_text, b_text = intervals(pairs["lo"], pairs["hi"]), intervals(pairs["lo_b"], pairs["hi_b"])
    unit = unit_text(formula)
    detail = glue(
        f"one scan: {formula.quantity} implied for ",
        *(pairs["method"], " ", a_text, unit),
        *(" vs for ", pairs["method_b"], " ", b_text, unit),
    )
    return _pair_rows(pairs, formula, pairs["method_b"], a_text, detail, grading)


def _pair_rows(
    pairs: pd.DataFrame,
    formula: Formula,
    against: pd.Series,
    reported: pd.Series,
    detail: pd.Series,
    grading: Grading,
) -> pd.DataFrame:
    """Graded rows of the quantity implied at one place (`lo`, `hi`) against another
    (`lo_b`, `hi_b`)."""
    rows = pairs.assign(
        parameter=formula.quantity,
        against=against,
        reported=reported,
        rep_lo=pairs["lo"],
        rep_hi=pairs["hi"],
        exp_lo=pairs["lo_b"],
        exp_hi=pairs["hi_b"],
        scale=(pairs["lo"] + pairs["hi"]) / 2,
        detail=detail,
    )
    return graded(rows, formula.check, grading)


def check_case(formula: Formula, exams: pd.DataFrame, grading: Grading) -> pd.DataFrame:
    """The quantity implied at each scan against the scan before it in its series (case,
    modality, method, source; timepoints without a date last)."""
    series = ["case_id", "modality", "method", "source"]
    in_time = exams.assign(_when=exams["rank"].where(exams["rank"] >= 0, np.inf))
    in_time = sorted_by(in_time, [*series, "_when"])
    before = in_time.groupby(series, sort=False)[["timepoint", "lo", "hi"]].shift(1)
    pairs = in_time.join(before.add_suffix("_b"))
    pairs = in_order(pairs[pairs["timepoint_b"].notna().to_numpy()], "timepoint_b")
    a_text, b_text = intervals(pairs["lo"], pairs["hi"]), intervals(pairs["lo_b"], pairs["hi_b"])
    unit = unit_text(formula)
    method = glue(" (", pairs["method"], ")").where(pairs["method"] != "", "")
    detail = glue(
        f"{formula.quantity} implied at ",
        *(pairs["timepoint"], " ", a_text, unit),
        *(" vs at ", pairs["timepoint_b"], " ", b_text, unit),
        method,
    )
    return _pair_rows(pairs, formula, pairs["timepoint_b"], a_text, detail, grading)


def check_visits(
    formula: Formula, exams: pd.DataFrame, tables: dict[str, pd.DataFrame], grading: Grading
) -> pd.DataFrame:
    """The quantity implied at a dated scan against the values printed at the case's other
    timepoints whose months overlap the scan's."""
    q, moment = formula.quantity, ["case_id", "timepoint"]
    scans = exams[exams["start_month"].notna().to_numpy()].reset_index(drop=True)
    m = tables["measurements"]
    m = m[(m["parameter"] == q).to_numpy()]
    stands_for = printed(m["value_num"], m["decimals"], m["qualifier_means"], m.get("scale"))
    values = pd.DataFrame(
        {
            "case_id": texts(m["case_id"]),
            "timepoint_v": texts(m["timepoint"]),
            "v_lo": stands_for.lo.to_numpy(),
            "v_hi": stands_for.hi.to_numpy(),
        }
    )
    timeline = timepoint_order(tables["timepoints"]).astype({"case_id": "str", "timepoint": "str"})
    values = values.merge(
        timeline.rename(columns={"timepoint": "timepoint_v"}), on=["case_id", "timepoint_v"]
    )
    moments = scans[[*moment, "start_month", "end_month"]].drop_duplicates(moment)
    near = moments.merge(values, on="case_id", suffixes=("", "_v"))
    near = near[
        (near["timepoint"] != near["timepoint_v"])
        & (near["start_month_v"] < near["end_month"])
        & (near["start_month"] < near["end_month_v"])
    ]
    found = near.groupby(moment, sort=False).agg(exp_lo=("v_lo", "min"), exp_hi=("v_hi", "max"))
    where = near[[*moment, "timepoint_v"]].drop_duplicates().sort_values([*moment, "timepoint_v"])
    found = found.join(joined(where, moment, "timepoint_v", ", ").rename("against"))
    scans = scans.merge(found.reset_index(), on=moment, how="left")
    scans = in_order(scans.assign(against=scans["against"].fillna("")), "against")
    implied_text, unit = intervals(scans["lo"], scans["hi"]), unit_text(formula)
    date, found_in = scans["date"].astype("str"), scans["against"]
    found_text = intervals(scans["exp_lo"], scans["exp_hi"])
    printed_text = glue(f"; {q} printed in ", date, " (", found_in, "): ", found_text, unit)
    printed_text = printed_text.where(found_in != "", glue(f"; no {q} printed in ", date))
    detail = glue(f"{q} during the scan, ", scans["how"], " = ", implied_text, unit, printed_text)
    rows = scans.assign(
        parameter=q,
        reported=implied_text,
        rep_lo=scans["lo"],
        rep_hi=scans["hi"],
        scale=(scans["lo"] + scans["hi"]) / 2,
        detail=detail,
    )
    return graded(rows, formula.check, grading)


def check_formulas(
    formulas: tuple[Formula, ...], tables: dict[str, pd.DataFrame], grading: Grading
) -> list[pd.DataFrame]:
    """Every formula's check rows, in the table's order (none without formulas.csv)."""
    if not formulas:
        return []
    wanted = sorted({n for f in formulas for n in f.parameters})
    exams = examinations(tables, wanted)
    out = []
    for formula in formulas:
        if formula.scope == "examination":
            out.append(check_examination(formula, exams, grading, formulas))
            continue
        estimate = implied(formulas, formula.quantity, exams)
        known = (estimate["lo"].notna() | estimate["hi"].notna()).to_numpy()
        found = exams[PLACE].join(estimate)[known]
        if formula.scope == "scan":
            out.append(check_scan(formula, found, grading))
        elif formula.scope == "case":
            out.append(check_case(formula, found, grading))
        else:
            out.append(check_visits(formula, found, tables, grading))
    return out


def restated(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The measurements of month-precise timepoints whose case, parameter, modality, method and
    month recur at another timepoint (`group`), with their rank in time and printed interval."""
    m = tables["measurements"].reset_index(drop=True)
    timeline = timepoint_order(tables["timepoints"]).astype({"case_id": "str", "timepoint": "str"})
    month = timeline[(timeline["end_month"] - timeline["start_month"] == 1).to_numpy()]
    # Each distinct (case, timepoint) looked up once; rows of the same group and month kept only
    # where the group has two timepoints (most rows have no restatement to compare).
    moment = group_codes(m, ["case_id", "timepoint"])
    firsts = np.unique(moment, return_index=True)[1]
    moments = pd.DataFrame({c: texts(m[c], firsts) for c in ["case_id", "timepoint"]}).merge(
        month[["case_id", "timepoint", "date", "rank"]], how="left"
    )
    date = pd.Categorical(moments["date"]).codes[moment]
    same = ["case_id", "parameter", "modality", "method"]
    group = group_codes(m[same].assign(date=date), [*same, "date"])
    size = int(moment.max(initial=0)) + 1
    pairs = pd.unique(group.astype(np.int64) * size + moment)  # each (group, moment) once
    timepoints = np.bincount(pairs // size, minlength=int(group.max(initial=-1)) + 1)[group]
    rows = np.flatnonzero((date >= 0) & (timepoints > 1))
    m = m.take(rows)
    stands_for = printed(m["value_num"], m["decimals"], m["qualifier_means"], m.get("scale"))
    long = pd.DataFrame(
        {
            **{c: texts(m[c]) for c in [*same, "timepoint", "source"]},
            "group": group[rows],
            "row": rows,
            "date": moments["date"].to_numpy()[moment[rows]],
            "rank": moments["rank"].to_numpy()[moment[rows]],
            "value": m["value_num"].to_numpy(dtype=np.float64),
            "lo": stands_for.lo.to_numpy(),
            "hi": stands_for.hi.to_numpy(),
            "shown": np.asarray(shown(m), dtype=object),
        }
    )
    return long


def check_same_month(tables: dict[str, pd.DataFrame], grading: Grading) -> pd.DataFrame:
    """A value printed at two timepoints of the same month (admission and the first infusion,
    August 2022): same case, parameter, modality and method; each value against the value of
    the latest earlier timepoint of that month (its first source, alphabetically)."""
    same = ["case_id", "parameter", "modality", "method"]
    long = restated(tables)
    # Paired on positions and codes first; the texts are taken once, for the pairs kept.
    ends = pd.DataFrame(
        {"at": np.arange(len(long)), "group": long["group"], "rank": long["rank"]}
    ).assign(source=pd.factorize(long["source"], sort=True)[0])
    pairs = ends.merge(ends, on="group", suffixes=("", "_b"))
    pairs = pairs[(pairs["rank"] > pairs["rank_b"]).to_numpy()]
    # Each value once, against the latest earlier timepoint's first source (the sources of one
    # timepoint are compared with one another by repeated_value).
    pairs = pairs.sort_values(["at", "rank_b", "source_b"], ascending=[True, False, True])
    pairs = pairs.drop_duplicates("at")
    later = long.take(pairs["at"].to_numpy()).reset_index(drop=True)
    earlier = long.take(pairs["at_b"].to_numpy()).drop(columns=[*same, "row", "group"])
    pairs = later.join(earlier.reset_index(drop=True).add_suffix("_b"))
    pairs = sorted_by(
        pairs, ["case_id", "parameter", "rank", "source", "method", "timepoint_b", "source_b"]
    )
    detail = glue(
        *(pairs["source"], " prints ", pairs["shown"], " at ", pairs["timepoint"], "; "),
        *(pairs["source_b"], " prints ", pairs["shown_b"], " at ", pairs["timepoint_b"]),
        *(", the same month (", pairs["date"].astype("str"), ")"),
    )
    rows = pairs.assign(
        against=glue(pairs["timepoint_b"], " (", pairs["source_b"], ")"),
        reported=pairs["shown"],
        rep_lo=pairs["lo"],
        rep_hi=pairs["hi"],
        exp_lo=pairs["lo_b"],
        exp_hi=pairs["hi_b"],
        scale=pairs["value"],
        detail=detail,
    )
    return graded(rows, "same_month_value", grading)
