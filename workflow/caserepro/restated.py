"""Values the paper states twice: a value printed in two places, and ages stated again later.

- `repeated_value`: the same case, parameter, timepoint and modality printed by two sources
  (methods equal, or blank on one side, which matches any method); each value against the
  first source in rank (the paper's tables, then the other sources in alphabetical order);
- `age_vs_dates`: an age stated at a later timepoint against the age at admission and the
  months between the two dates.

Plain pandas over whole tables: pairs are merges on integer codes, texts are built only for
the rows written (`formula_checks.glue`), and each distinct number is formatted once.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from caserepro import formula_checks as fc
from caserepro.claims import text_rank
from caserepro.codes import row_keys
from caserepro.intervals import Interval, gap, meets, month_span, printed
from caserepro.metrics import table_sources, timepoint_order
from caserepro.verdicts import Grading

#: Where a value printed twice is the same value.
PLACE = ["case_id", "parameter", "timepoint", "modality"]


# --- the same value printed in two places ----------------------------------------------------


def printed_twice(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The measurements whose place (`PLACE`) another row prints too, as codes: `at` (row),
    `place`, `source` and `method` (text order; method -1 where blank), `rank` of the source
    (the tables first) and the printed interval (lo, hi)."""
    m = tables["measurements"].reset_index(drop=True)
    place = row_keys(m, PLACE)
    kept = np.flatnonzero(pd.Series(place).duplicated(keep=False).to_numpy())
    source = text_rank(m["source"])[kept]
    read = ["source", "method", "value_num", "decimals", "qualifier_means", "scale"]
    m = m[[c for c in read if c in m.columns]].take(kept)
    stands_for = printed(m["value_num"], m["decimals"], m["qualifier_means"], m.get("scale"))
    return pd.DataFrame(
        {
            "at": kept,
            "place": place[kept],
            "source": source,
            "method": text_rank(m["method"]),
            "rank": np.where(m["source"].isin(table_sources(tables)), 0, len(kept)) + source,
            "lo": stands_for.lo.to_numpy(),
            "hi": stands_for.hi.to_numpy(),
        }
    )


def value_pairs(values: pd.DataFrame) -> pd.DataFrame:
    """Every pair of a value and one at its place from a source of earlier rank (suffix _b),
    with whether they meet, their gap and whether the methods are the same or one is blank."""
    ends = values[["place", "rank"]].assign(a=np.arange(len(values)))
    ends = ends.merge(ends, on="place", suffixes=("", "_b"))  # paired on codes, then the rest
    ends = ends[(ends["rank_b"] < ends["rank"]).to_numpy()]
    a, b = ends["a"].to_numpy(), ends["a_b"].to_numpy()
    columns = ["at", "source", "method", "lo", "hi"]
    pairs = pd.DataFrame(
        {
            **{c: values[c].to_numpy()[a] for c in columns},
            **{f"{c}_b": values[c].to_numpy()[b] for c in [*columns, "rank"]},
        }
    )
    row, ref = Interval(pairs["lo"], pairs["hi"]), Interval(pairs["lo_b"], pairs["hi_b"])
    blank = (pairs["method"] < 0) | (pairs["method_b"] < 0)
    return pairs.assign(
        meet=meets(row, ref).to_numpy(dtype=bool),
        gap=gap(row, ref),
        comparable=(blank | (pairs["method"] == pairs["method_b"])).to_numpy(),
    )


def references(pairs: pd.DataFrame) -> pd.DataFrame:
    """Each value's reference: the first source in rank, then a meeting value, the closest, the
    method (blank last), the row."""
    best = pairs[pairs["comparable"].to_numpy()]
    keys = pd.DataFrame(
        {
            "at": best["at"].to_numpy(),
            "rank_b": best["rank_b"].to_numpy(),
            "missed": ~best["meet"].to_numpy(),
            "gap": best["gap"].to_numpy(),
            "method_b": np.where(best["method_b"] < 0, np.iinfo(np.int64).max, best["method_b"]),
            "at_b": best["at_b"].to_numpy(),
        }
    )
    first = keys.sort_values(list(keys.columns), kind="stable").drop_duplicates("at").index
    return best.iloc[first].reset_index(drop=True)


def swapped_methods(pairs: pd.DataFrame, m: pd.DataFrame) -> pd.DataFrame:
    """Per value and other source (`at`, `source_b`): the other methods whose value there it
    meets, distinct and in text order, joined by ', ' (`hint`)."""
    other = pairs[(pairs["meet"] & ~pairs["comparable"]).to_numpy()]
    other = other.drop_duplicates(["at", "source_b", "method_b"])
    other = other.sort_values(["at", "source_b", "method_b"], kind="stable")
    words = other.assign(word=fc.texts(m["method"], other["at_b"].to_numpy()).to_numpy())
    hint = fc.joined(words, ["at", "source_b"], "word", ", ")
    return hint.rename("hint").reset_index()


def check_repeated_values(tables: dict[str, pd.DataFrame], grading: Grading) -> pd.DataFrame:
    """Every value printed in two places, compared with the other place (a table is the
    reference); where it misses, the other methods it matches there (methods swapped?)."""
    m = tables["measurements"].reset_index(drop=True)
    pairs = value_pairs(printed_twice(tables))
    refs = references(pairs).merge(swapped_methods(pairs, m), how="left", on=["at", "source_b"])
    refs = _in_output_order(refs, m, tables)
    at, at_b = refs["at"].to_numpy(), refs["at_b"].to_numpy()
    shown = fc.shown(m)
    # Intervals in the unit the value is printed in (kPa where the dictionary's is mmHg), so
    # that `reported` and `expected_*` of a row are in one unit; the verdict is relative.
    unit = m["scale"].to_numpy(np.float64)[at] if "scale" in m.columns else np.ones(len(at))
    unit = np.where(np.isnan(unit), 1.0, unit)
    rows = pd.DataFrame(
        {
            **{c: fc.texts(m[c], at) for c in ["case_id", "parameter", "timepoint", "source"]},
            "method": fc.texts(m["method"], at),
            "against": fc.texts(m["source"], at_b),
            "reported": fc.texts(shown, at),
            "rep_lo": refs["lo"].to_numpy() / unit,
            "rep_hi": refs["hi"].to_numpy() / unit,
            "exp_lo": refs["lo_b"].to_numpy() / unit,
            "exp_hi": refs["hi_b"].to_numpy() / unit,
            "scale": m["value_num"].to_numpy(dtype=np.float64)[at] / unit,
        }
    )
    ref = m[["source", "method"]].take(at_b).reset_index(drop=True)
    hint = refs["hint"].where(~refs["meet"]).reset_index(drop=True)
    detail = fc.glue(
        once_each(m[["source"]].take(at), lambda r: fc.glue(fc.texts(r["source"]), " prints ")),
        rows["reported"],
        once_each(ref, lambda r: fc.glue("; ", *_with_method(r), " prints ")),
        fc.texts(shown, at_b),
        ("; it matches the " + hint + " value there (methods swapped?)").fillna(""),
    )
    return fc.graded(rows.assign(detail=detail), "repeated_value", grading)


def once_each(frame: pd.DataFrame, text: Callable[[pd.DataFrame], pd.Series]) -> pd.Series:
    """`text(frame)`, built once per distinct row of the frame (a few sources and methods),
    then spread over its rows."""
    codes = fc.group_codes(frame, list(frame.columns))
    first = np.unique(codes, return_index=True)[1]
    built = text(frame.take(first).reset_index(drop=True))
    return pd.Series(built.array.take(codes))


def _with_method(rows: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """The source, and ' (method)' where there is one ('' where blank)."""
    method = fc.texts(rows["method"])
    return fc.texts(rows["source"]), method.where(method == "", " (" + method + ")")


def _in_output_order(refs: pd.DataFrame, m: pd.DataFrame, tables: dict) -> pd.DataFrame:
    """Values with their references by case, parameter, time, source, method (blank first) and
    reference source; ties keep their order."""
    at = refs["at"].to_numpy()
    keys = pd.DataFrame(
        {
            "case": text_rank(m["case_id"])[at],
            "parameter": text_rank(m["parameter"])[at],
            "rank": when(m, at, tables)["rank"].to_numpy(),
            **{c: refs[c].to_numpy() for c in ["source", "method", "source_b"]},
        }
    )
    order = keys.sort_values(list(keys.columns), kind="stable").index
    return refs.take(order).reset_index(drop=True)


def when(m: pd.DataFrame, rows: np.ndarray, tables: dict) -> pd.DataFrame:
    """The `date` and `rank` in time (-1 where unknown) of measurement rows' timepoints (each
    distinct case and timepoint looked up once)."""
    moment = fc.group_codes(m[["case_id", "timepoint"]].take(rows), ["case_id", "timepoint"])
    first = rows[np.unique(moment, return_index=True)[1]]
    timeline = timepoint_order(tables["timepoints"]).astype({"case_id": "str", "timepoint": "str"})
    moments = pd.DataFrame({c: fc.texts(m[c], first) for c in ["case_id", "timepoint"]})
    moments = moments.merge(timeline[["case_id", "timepoint", "date", "rank"]], how="left")
    moments = moments.assign(rank=moments["rank"].fillna(-1))
    return moments[["date", "rank"]].take(moment).reset_index(drop=True)


# --- ages against dates ----------------------------------------------------------------------


def check_ages(tables: dict[str, pd.DataFrame], grading: Grading) -> pd.DataFrame:
    """Ages stated at later timepoints against the age at admission and the months between.

    With age a (completed years) in admission month D, the exact age at a date E lies in
    (E.start - D.end + 12a, E.end - D.start + 12a + 12) months; the completed years that allows
    are the expected interval.
    """
    m = tables["measurements"]
    m = m[(m["parameter"] == "age").to_numpy()].reset_index(drop=True)
    rows = pd.DataFrame(
        {c: fc.texts(m[c]) for c in ["case_id", "timepoint", "source", "method", "value"]}
    ).assign(scale=m["value_num"].to_numpy(dtype=np.float64))
    rows = rows.join(when(m, np.arange(len(m)), tables))
    cases = tables["cases"][["case_id", "age_years", "admission"]]
    rows = rows.merge(cases, on="case_id", how="left")
    rows = fc.in_order(rows)
    at, admitted = month_span(rows["date"]), month_span(rows["admission"])
    base_months = 12 * rows["age_years"].astype("float64")
    low = np.floor((at.lo - admitted.hi + base_months) / 12)
    high = np.ceil((at.hi - admitted.lo + base_months + 12) / 12) - 1
    detail = fc.glue(
        *("aged ", rows["age_years"].astype("str"), " at admission (", rows["admission"]),
        *("), so aged ", fc.intervals(low, high), " in ", rows["date"]),
        *("; stated ", rows["value"]),
    )
    rows = rows.assign(
        parameter="age",
        against="cases.csv age at admission",
        reported=rows["value"],
        rep_lo=rows["scale"],
        rep_hi=rows["scale"],
        exp_lo=low,
        exp_hi=high,
        detail=detail,
    )
    return fc.graded(rows, "age_vs_dates", grading)
