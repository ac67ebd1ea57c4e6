"""Patterns a reviewer looks for in a case report (soft: `minor` at most), on every case at once.

- `repeated_value_set`: the same values printed for two timepoints far apart (reused values or a
  mislabelled timepoint);
- `same_value_across_modalities`: an echo value equal to the MRI value of the same period (two
  modalities rarely give the same number: one possibly copied from the other);
- `teichholz_edv` / `teichholz_esv` / `teichholz_lvef`: echo volumes and EF against the
  Teichholz volumes from the printed LV dimensions (with the fractional shortening);
- `dcm_criteria`: the cited DCM criteria (config.yaml) at each timepoint.

Each returns rows with the columns of results/audit/consistency.csv in output order. The key
columns are categorical with sorted categories (`readings`), so grouping, joining and sorting
work on their integer codes, which sort as the texts do; a text is built once per examination
(or per pair of timepoints) and only the last pieces once per row.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals

from caserepro.formatting import detail_numbers
from caserepro.formula_checks import glue
from caserepro.intervals import LOWER_BOUNDS, UPPER_BOUNDS, Interval, month_span, printed
from caserepro.verdicts import COLUMNS

#: The checks this module emits, in output order (each has a row in data/raw/checks.csv).
CHECKS = (
    "repeated_value_set",
    "same_value_across_modalities",
    "teichholz_edv",
    "teichholz_esv",
    "teichholz_lvef",
    "dcm_criteria",
)
#: The columns that tell one examination from another (a modality's method '' where none).
EXAM_KEYS = ["case_id", "timepoint", "modality", "method", "parameter"]
#: The columns the rows of one check are sorted by (then method and against).
OUTPUT_KEYS = ["case_id", "parameter", "timepoint", "source"]
#: The sexes a DCM criterion may be split by (cases.csv `sex`).
SEXES = ("male", "female")
#: Centimetres per millimetre (Teichholz's formula takes the dimension in cm).
CM_PER_MM = 0.1
#: The printed echo parameters compared with Teichholz's, and their units in a detail text.
TEICHHOLZ_UNITS = {"lv_edv": " mL", "lv_esv": " mL", "lvef": " %"}


# --- what the reviewer reads -----------------------------------------------------------------


def _sorted_categories(column: pd.Series) -> pd.Series:
    """A text column as categorical with its categories in text order (codes sort as texts)."""
    column = column if isinstance(column.dtype, pd.CategoricalDtype) else column.astype("category")
    categories = column.cat.categories
    ordered = categories.astype("str").sort_values()
    return column.cat.set_categories(pd.Index(ordered, dtype=object)).rename(column.name)


def readings(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The measurements as the reviewer reads them: key columns categorical (method '' where
    none), the value as printed, the interval it stands for (lo, hi), `bounded` where a
    qualifier ('more than') makes it a bound rather than a printed value."""
    m = tables["measurements"].reset_index(drop=True)
    method = _sorted_categories(m["method"])
    method = _sorted_categories(method.cat.add_categories([""]).fillna(""))
    iv = printed(m["value_num"], m["decimals"], m["qualifier_means"], m.get("scale"))
    columns = {c: _sorted_categories(m[c]) for c in ["case_id", "timepoint", "modality"]}
    return pd.DataFrame(
        {
            **columns,
            "method": method,
            "parameter": _sorted_categories(m["parameter"]),
            "source": _sorted_categories(m["source"]),
            "value": _sorted_categories(m["value"]),
            "lo": iv.lo.to_numpy(),
            "hi": iv.hi.to_numpy(),
            "bounded": m["qualifier_means"].isin([*LOWER_BOUNDS, *UPPER_BOUNDS]).to_numpy(),
        }
    )


def dates(tables: dict, like: pd.DataFrame) -> pd.DataFrame:
    """Each case's timepoints (coded as in `like`) with their date and the months it can mean
    (m_lo, m_hi: [start, end))."""
    t = tables["timepoints"]
    span = month_span(t["date"])
    return pd.DataFrame(
        {
            "case_id": pd.Categorical(t["case_id"], dtype=like["case_id"].dtype),
            "timepoint": pd.Categorical(t["timepoint"], dtype=like["timepoint"].dtype),
            "date": pd.Categorical(t["date"]),
            "m_lo": span.lo.to_numpy(),
            "m_hi": span.hi.to_numpy(),
        }
    ).dropna(subset=["case_id", "timepoint"])


def months_apart(a_lo: pd.Series, a_hi: pd.Series, b_lo: pd.Series, b_hi: pd.Series) -> pd.Series:
    """The fewest months between two date spans (0 where they overlap)."""
    return np.maximum(0.0, np.maximum(b_lo - a_hi, a_lo - b_hi))


def _categorical(words: pd.Series) -> pd.Series:
    """Words as a categorical whose categories are Python texts (as `readings` codes them)."""
    if not isinstance(words.dtype, pd.CategoricalDtype):
        words = words.astype("category")
    if words.cat.categories.dtype == object:
        return words
    categories = pd.Index(words.cat.categories, dtype=object)
    coded = pd.Categorical.from_codes(words.cat.codes, categories=categories)
    return pd.Series(coded, index=words.index)


def joined(key: pd.Series, words: pd.Series, sep: str) -> pd.Series:
    """The words (categorical) of each key joined by `sep` in row order, as a categorical
    indexed by key (sorted; categories in text order). A key of one word keeps its code; the
    others' texts are built: the first word, then `sep` and the second, and so on."""
    key, words = key.to_numpy(), _categorical(words)
    alone = ~pd.Series(key).duplicated(keep=False).to_numpy()
    several, words_of = key[~alone], texts(words[~alone])
    place = pd.Series(several).groupby(several).cumcount().to_numpy()
    out = pd.Series(words_of[place == 0].to_numpy(), index=several[place == 0])
    for k in range(1, place.max(initial=0) + 1):
        more = pd.Series(words_of[place == k].to_numpy(), index=several[place == k])
        out.loc[more.index] = out.loc[more.index] + sep + more
    both = union_categoricals([words[alone].array, _categorical(out).array], sort_categories=True)
    return pd.Series(both, index=np.concatenate([key[alone], out.index])).sort_index()


def key_of(frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """One integer per row for categorical columns, sorting as their texts do in turn."""
    key = np.zeros(len(frame), dtype=np.int64)
    for c in columns:
        key = key * (len(frame[c].cat.categories) + 1) + frame[c].cat.codes.to_numpy() + 1
    return key


def _at(column: pd.Series, rows: np.ndarray) -> pd.Series:
    """The column's entries at row positions, indexed 0..n-1."""
    return pd.Series(column.array.take(rows), name=column.name)


def examinations(r: pd.DataFrame, modalities: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One row per examination of these modalities (case, timepoint, modality, method,
    parameter; numbered `exam` in key order): its distinct printed values (`shown`, '20/30' in
    numeric order), their hull (lo, hi) and every source that prints one (`source`, '; '-joined
    in text order), both categorical; and each examination's distinct values (exam, value).
    Bounds ('more than') are left out."""
    r = r[~r["bounded"] & r["modality"].isin(modalities)]
    key = key_of(r, EXAM_KEYS)
    order = np.argsort(key, kind="stable")
    first = np.diff(key[order], prepend=-1) != 0  # an examination's first row, in key order
    starts = np.flatnonzero(first)
    exam = np.empty(len(key), dtype=np.int64)
    exam[order] = np.cumsum(first) - 1
    e = pd.DataFrame({k: _at(r[k], order[starts]) for k in EXAM_KEYS})
    e["lo"] = np.minimum.reduceat(r["lo"].to_numpy()[order], starts) if len(e) else []
    e["hi"] = np.maximum.reduceat(r["hi"].to_numpy()[order], starts) if len(e) else []
    by_value = np.lexsort((r["lo"].to_numpy(), exam))
    value = r["value"].cat.codes.to_numpy()
    n_values, n_sources = len(r["value"].cat.categories), len(r["source"].cat.categories)
    by_value = by_value[~pd.Series(exam[by_value] * n_values + value[by_value]).duplicated()]
    distinct = pd.DataFrame({"exam": exam[by_value], "value": _at(r["value"], by_value)})
    prints = np.zeros((len(e), n_sources), dtype=bool)  # which sources print each examination
    prints[exam, r["source"].cat.codes.to_numpy()] = True
    exam_of, source_of = np.nonzero(prints)  # by examination, then source (in text order)
    source = pd.Categorical.from_codes(source_of, dtype=r["source"].dtype)
    e["shown"] = joined(distinct["exam"], distinct["value"], "/")
    e["source"] = joined(pd.Series(exam_of), pd.Series(source), "; ")
    return e.reset_index(names="exam"), distinct


def shares_a_value(pairs: pd.DataFrame, values: pd.DataFrame) -> np.ndarray:
    """Whether the two examinations of each pair (exam_a, exam_b) print a value in common
    (`values`: each examination's distinct values, as `examinations` gives them)."""
    n = len(values["value"].cat.categories) + 1
    printed_at = pd.Index(values["exam"].to_numpy() * n + values["value"].cat.codes.to_numpy())
    of_a = pd.DataFrame({"pair": np.arange(len(pairs)), "exam": pairs["exam_a"].to_numpy()})
    of_a = of_a.merge(values, on="exam")
    exam_b = pairs["exam_b"].to_numpy()[of_a["pair"].to_numpy()]
    found = pd.Index(exam_b * n + of_a["value"].cat.codes.to_numpy()).isin(printed_at)
    hits = np.bincount(of_a["pair"].to_numpy()[found], minlength=len(pairs))
    return hits > 0


def texts(column: pd.Series) -> pd.Series:
    """A column as text (a categorical's codes taken from its categories' texts), indexed
    0..n-1 so that texts of one table add up row by row."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        words = pd.array(column.cat.categories.astype("str"), dtype="str")
        return pd.Series(words.take(column.cat.codes.to_numpy(), allow_fill=True))
    if column.dtype != "str":
        column = column.astype("str")
    return column.reset_index(drop=True)


def _suffix(words: pd.Series, before: str, after: str = "") -> pd.Series:
    """before + word + after where the word is not empty, else '' (a method after a modality)."""
    return words.where(words == "", glue(before, words, after))


def _rows(columns: dict[str, object], n: int) -> pd.DataFrame:
    """Rows with exactly the audit's columns: expected_* float (4 decimals, as the engine
    writes them), the others text; the method missing where blank."""
    out = {}
    for name in COLUMNS:
        value = columns.get(name, np.nan)
        if name.startswith("expected"):
            out[name] = np.round(np.asarray(value, dtype="float64"), 4)
        elif isinstance(value, str) or (np.ndim(value) == 0):
            out[name] = pd.Series([value], dtype="str").repeat(n).reset_index(drop=True)
        else:
            out[name] = texts(pd.Series(value) if not isinstance(value, pd.Series) else value)
    frame = pd.DataFrame(out)
    return frame.assign(method=frame["method"].where(frame["method"] != ""))


# --- the same values at two timepoints far apart, or by two modalities at one time ---------


def _dated(e: pd.DataFrame, d: pd.DataFrame) -> pd.DataFrame:
    """The examinations with their timepoint's date (`at`: row number)."""
    e = e.merge(d, on=["case_id", "timepoint"])
    return e.assign(at=np.arange(len(e)))


def _pairs(e: pd.DataFrame, on: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Every pair of examinations (row positions a, b) that agree on `on`."""
    k = pd.DataFrame({"key": key_of(e, on), "at": np.arange(len(e))})
    both = k.merge(k, on="key", suffixes=("_a", "_b"))
    return both["at_a"].to_numpy(), both["at_b"].to_numpy()


def _sides(e: pd.DataFrame, a: np.ndarray, b: np.ndarray) -> pd.DataFrame:
    """Pairs of examinations (rows a and b of e): the case and parameter, then each side's
    keys, numbers and intervals (suffixes _a, _b); their texts are taken for the pairs kept
    (`_with_texts`)."""
    sides = ["exam", "timepoint", "modality", "method", "lo", "hi", "shown", "source"]
    sides += ["date", "m_lo", "m_hi", "at"]
    out = {"case_id": _at(e["case_id"], a), "parameter": _at(e["parameter"], a)}
    for c in sides:
        out[f"{c}_a"], out[f"{c}_b"] = _at(e[c], a), _at(e[c], b)
    return pd.DataFrame(out)


def _pairs_apart(
    e: pd.DataFrame, on: list[str], order: np.ndarray, low: float, high: float
) -> pd.DataFrame:
    """The pairs of examinations that agree on `on`, side a before side b by `order` (one
    number per examination), their dates between `low` and `high` months apart (`apart`)."""
    a, b = _pairs(e, on)
    before = order[a] < order[b]
    a, b = a[before], b[before]
    lo, hi = e["m_lo"].to_numpy(), e["m_hi"].to_numpy()
    apart = months_apart(lo[a], hi[a], lo[b], hi[b])
    near = (apart >= low) & (apart <= high)
    return _sides(e, a[near], b[near]).assign(apart=apart[near])


def _in_output_order(pairs: pd.DataFrame, against: np.ndarray) -> pd.DataFrame:
    """Pairs sorted as their rows are written: case, parameter, later timepoint, its source,
    method and `against`, ties by examination."""
    keys = [
        pairs["case_id"].cat.codes,
        pairs["parameter"].cat.codes,
        pairs["timepoint_b"].cat.codes,
        pairs["source_b"].cat.codes,
        pairs["method_b"].cat.codes,
        against,
        pairs["exam_a"],
        pairs["exam_b"],
    ]
    return pairs.iloc[np.lexsort([np.asarray(k) for k in keys[::-1]])].reset_index(drop=True)


def _pattern_rows(check: str, pairs: pd.DataFrame, found: np.ndarray, **columns) -> pd.DataFrame:
    """Rows of a soft pattern: `minor` where found, else `consistent`; the later examination
    (side b) is reported against the earlier or other one (side a)."""
    return _rows(
        {
            "check": check,
            "case_id": pairs["case_id"],
            "parameter": pairs["parameter"],
            "timepoint": pairs["timepoint_b"],
            "source": pairs["source_b"],
            "reported": pairs["shown_b"],
            "expected_low": pairs["lo_a"],
            "expected_high": pairs["hi_a"],
            "verdict": np.where(found, "minor", "consistent"),
            **columns,
        },
        len(pairs),
    )


def _far_apart(e: pd.DataFrame, settings: dict) -> pd.DataFrame:
    """Pairs of examinations of one case, modality, method and parameter at two timepoints at
    least `repeated_set_min_months` apart (`apart`), numbered by `visit` (the two timepoints),
    of visits with at least `repeated_set_min_parameters` parameters, in output order."""
    on = ["case_id", "modality", "method", "parameter"]
    least = float(settings["repeated_set_min_months"])
    pairs = _pairs_apart(e, on, e["m_lo"].to_numpy(), least, np.inf)
    visit_keys = ["case_id", "modality_a", "method_a", "timepoint_a", "timepoint_b"]
    visit = pd.factorize(key_of(pairs, visit_keys))[0]
    pairs = pairs.assign(visit=visit, parameters=np.bincount(visit)[visit])
    pairs = pairs[pairs["parameters"] >= int(settings["repeated_set_min_parameters"])]
    pairs = _in_output_order(pairs, pairs["timepoint_a"].cat.codes)
    return pairs.assign(visit=pd.factorize(pairs["visit"])[0])  # 0, 1, ... for those kept


def repeated_value_set(
    e: pd.DataFrame, values: pd.DataFrame, d: pd.DataFrame, settings: dict
) -> pd.DataFrame:
    """Two timepoints at least `repeated_set_min_months` apart with at least
    `repeated_set_min_parameters` parameters of one imaging modality and method printed at
    both: each such parameter is `minor` where at least that many of them, and
    `repeated_set_min_share` of them, print the same value (possibly reused values or a
    mislabelled timepoint), else `consistent`."""
    e = _dated(e, d)
    pairs = _far_apart(e, settings)
    equal = shares_a_value(pairs, values)
    visit = pairs["visit"].to_numpy()
    n_equal = np.bincount(visit, weights=equal, minlength=visit.max(initial=-1) + 1)[visit]
    share = n_equal / pairs["parameters"]
    least = int(settings["repeated_set_min_parameters"])
    found = equal & (n_equal >= least) & (share >= float(settings["repeated_set_min_share"]))
    v = pairs.assign(n_equal=n_equal).drop_duplicates("visit").set_index("visit").sort_index()
    listed = pairs[equal].sort_values("exam_a", kind="stable")
    same = joined(
        listed["visit"], glue(texts(listed["parameter"]), " ", texts(listed["shown_b"])), ", "
    )
    where = glue(
        texts(v["modality_a"]),
        _suffix(texts(v["method_a"]), ", "),
        ") at ",
        texts(v["timepoint_a"]),
        " (",
        texts(v["date_a"]),
        ") and ",
        texts(v["timepoint_b"]),
        " (",
        texts(v["date_b"]),
        "), ",
        detail_numbers(v["apart"]).to_numpy(),
        "+ months apart: ",
        v["n_equal"].astype("int64").astype("str").to_numpy(),
        " of ",
        v["parameters"].astype("str").to_numpy(),
        " parameters printed at both are equal",
    )  # one per visit, at its number
    the_same = glue(
        "the same ",
        texts(same.reindex(v.index)).fillna(""),
        " (",
        where,
        " (possibly reused values or a mislabelled timepoint)",
    )
    differs = glue(
        texts(pairs["parameter"]),
        " (",
        texts(where.take(visit)),
        "; this one differs or too few are equal",
    )
    detail = differs.where(~found, texts(the_same.take(visit)))
    against = pairs["timepoint_a"]
    return _pattern_rows(
        "repeated_value_set", pairs, found, detail=detail, method=pairs["method_b"], against=against
    )


def same_value_across_modalities(
    e: pd.DataFrame, values: pd.DataFrame, d: pd.DataFrame, settings: dict
) -> pd.DataFrame:
    """A parameter printed by two imaging modalities (`imaging_modalities`) at examinations at
    most `same_period_months` apart: `minor` where they print the same value (two modalities
    rarely give the same number: possibly one copied from the other), else `consistent`."""
    e = _dated(e, d)
    modality_code = e["modality"].cat.codes.to_numpy()
    most = float(settings["same_period_months"])
    pairs = _pairs_apart(e, ["case_id", "parameter"], modality_code, 0.0, most)
    against = glue(
        texts(pairs["modality_a"]),
        " ",
        texts(pairs["timepoint_a"]),
        _suffix(texts(pairs["method_a"]), " "),
    )
    pairs = pairs.assign(against=against)
    pairs = _in_output_order(pairs, pd.factorize(against, sort=True)[0])
    found = shares_a_value(pairs, values)
    detail = glue(
        _seen(pairs, "a", glue(" ", texts(pairs["parameter"]))),
        " and ",
        _seen(pairs, "b", _suffix(texts(pairs["method_b"]), " (", ")")),
        ", within ",
        detail_numbers(pairs["apart"]),
        " months of each other: ",
        np.where(
            found, "the same number (possibly one copied from the other)", "different numbers"
        ),
    )
    return _pattern_rows(
        "same_value_across_modalities",
        pairs,
        found,
        detail=detail,
        method=pairs["method_b"],
        against=pairs["against"],
    )


def _seen(pairs: pd.DataFrame, side: str, after_modality: pd.Series) -> pd.Series:
    """One side of pairs as a reader sees it: 'echo lvef 35 at visit1 (2020-09; Table 1)'."""
    return glue(
        texts(pairs[f"modality_{side}"]),
        after_modality,
        " ",
        texts(pairs[f"shown_{side}"]),
        " at ",
        texts(pairs[f"timepoint_{side}"]),
        " (",
        texts(pairs[f"date_{side}"]),
        "; ",
        texts(pairs[f"source_{side}"]),
        ")",
    )


# --- echo volumes and EF against Teichholz's from the printed dimensions ---------------------


def ejection_fraction(edv: Interval, esv: Interval) -> Interval:
    """EF (%) = (EDV - ESV) / EDV x 100, which falls with ESV and rises with EDV (both > 0)."""
    return Interval((edv.lo - esv.hi) / edv.lo * 100, (edv.hi - esv.lo) / edv.hi * 100)


def teichholz_volume(d_mm: pd.Series) -> pd.Series:
    """Teichholz (1976): V (mL) = 7 / (2.4 + D) x D^3, D the LV dimension in cm (rises with D)."""
    d = d_mm * CM_PER_MM
    return 7.0 / (2.4 + d) * d**3


def teichholz_dimension(volume_ml: pd.Series) -> pd.Series:
    """The LV dimension (mm) whose Teichholz volume is `volume_ml` (bisection; the formula rises
    with the dimension): for synthetic cohorts."""
    v = volume_ml.to_numpy(dtype="float64")
    lo, hi = np.zeros_like(v), np.full_like(v, 200.0)
    for _ in range(60):
        mid = (lo + hi) / 2
        low = teichholz_volume(pd.Series(mid)).to_numpy() < v
        lo, hi = np.where(low, mid, lo), np.where(low, hi, mid)
    return pd.Series((lo + hi) / 2, index=volume_ml.index)


def teichholz_expected(r: pd.DataFrame) -> pd.DataFrame:
    """Per case and timepoint with both echo LV dimensions: the Teichholz EDV, ESV and EF they
    imply (`<parameter>_lo`, `_hi`) and the fractional shortening (fs_lo, fs_hi, %)."""
    echo = r[(r["modality"] == "echo") & r["parameter"].isin(["lv_edd", "lv_esd"])]
    hull = echo.groupby(["case_id", "timepoint", "parameter"], observed=True, sort=True).agg(
        lo=("lo", "min"), hi=("hi", "max")
    )
    parameter = hull.index.get_level_values("parameter")
    edd = hull[parameter == "lv_edd"].droplevel("parameter")
    esd = hull[parameter == "lv_esd"].droplevel("parameter")
    both = edd.merge(esd, left_index=True, right_index=True, suffixes=("_edd", "_esd"))
    edv = Interval(teichholz_volume(both["lo_edd"]), teichholz_volume(both["hi_edd"]))
    esv = Interval(teichholz_volume(both["lo_esd"]), teichholz_volume(both["hi_esd"]))
    ef = ejection_fraction(edv, esv)
    out = pd.DataFrame(
        {
            "lv_edv_lo": edv.lo,
            "lv_edv_hi": edv.hi,
            "lv_esv_lo": esv.lo,
            "lv_esv_hi": esv.hi,
            "lvef_lo": ef.lo,
            "lvef_hi": ef.hi,
            "fs_lo": (1 - both["hi_esd"] / both["lo_edd"]) * 100,
            "fs_hi": (1 - both["lo_esd"] / both["hi_edd"]) * 100,
        }
    )
    return out.dropna().reset_index()


def teichholz(r: pd.DataFrame) -> pd.DataFrame:
    """Printed echo EDV, ESV and EF against the Teichholz volumes and EF from the printed EDD
    and ESD of the same examination (soft: a geometric model; `minor` where they miss)."""
    printed_here = r[~r["bounded"] & (r["modality"] == "echo")]
    v = printed_here[printed_here["parameter"].isin(list(TEICHHOLZ_UNITS))]
    rows = v.merge(teichholz_expected(r), on=["case_id", "timepoint"])
    parameter = texts(rows["parameter"])
    order = [pd.Index(list(TEICHHOLZ_UNITS)).get_indexer(parameter)]  # one check each, in turn
    keys = [*order, *(rows[k].cat.codes for k in [*OUTPUT_KEYS, "method"])]
    rows = rows.iloc[np.lexsort([np.asarray(k) for k in keys[::-1]])].reset_index(drop=True)
    parameter = texts(rows["parameter"])
    exp_lo = np.select(
        [parameter == p for p in TEICHHOLZ_UNITS], [rows[f"{p}_lo"] for p in TEICHHOLZ_UNITS]
    )
    exp_hi = np.select(
        [parameter == p for p in TEICHHOLZ_UNITS], [rows[f"{p}_hi"] for p in TEICHHOLZ_UNITS]
    )
    meets = (rows["lo"] <= exp_hi) & (rows["hi"] >= exp_lo)
    unit = parameter.map(TEICHHOLZ_UNITS)
    value = texts(rows["value"])
    detail = glue(
        "printed ",
        value,
        unit,
        " (",
        texts(rows["source"]),
        ") against Teichholz ",
        detail_numbers(pd.Series(exp_lo)),
        "-",
        detail_numbers(pd.Series(exp_hi)),
        unit,
        " from the printed EDD and ESD (fractional shortening ",
        detail_numbers(rows["fs_lo"]),
        "-",
        detail_numbers(rows["fs_hi"]),
        " %): ",
        np.where(meets, "they meet", "they miss (a geometric model: soft)"),
    )
    return _rows(
        {
            "check": "teichholz_" + parameter.str.replace("lv_", "", regex=False),
            "case_id": rows["case_id"],
            "parameter": parameter,
            "timepoint": rows["timepoint"],
            "source": rows["source"],
            "reported": value,
            "expected_low": exp_lo,
            "expected_high": exp_hi,
            "verdict": np.where(meets, "consistent", "minor"),
            "detail": detail,
            "method": rows["method"],
            "against": "lv_edd+lv_esd",
        },
        len(rows),
    )


# --- the cited DCM criteria --------------------------------------------------------------------


def dcm_thresholds(cases: pd.DataFrame, settings: dict, like: pd.DataFrame) -> pd.DataFrame:
    """The DCM criteria per case (coded as in `like`): parameter, threshold, whether a value
    must lie `above` it (else at most at it), and the criterion's words ('lv_edd > 55 (male)':
    the sex where the config splits the threshold by it)."""
    rows = []
    for key, parameter, above in (
        ("lv_edd_above", "lv_edd", True),
        ("lv_esd_above", "lv_esd", True),
        ("lvef_at_most", "lvef", False),
    ):
        spec = settings[key]
        for sex in SEXES:
            threshold = spec[sex] if isinstance(spec, dict) else spec
            who = f" ({sex})" if isinstance(spec, dict) else ""
            rows.append((parameter, above, sex, float(threshold), who))
    table = pd.DataFrame(rows, columns=["parameter", "above", "sex", "threshold", "who"])
    rule = table["parameter"] + np.where(table["above"], " > ", " <= ")
    table["rule"] = rule + detail_numbers(table["threshold"]) + table["who"]
    table["parameter"] = pd.Categorical(table["parameter"], dtype=like["parameter"].dtype)
    people = pd.DataFrame(
        {
            "case_id": pd.Categorical(cases["case_id"], dtype=like["case_id"].dtype),
            "sex": cases["sex"].astype("object").to_numpy(),
        }
    )
    return people.merge(table, on="sex")


def first_infusion(tables: dict, like: pd.DataFrame) -> pd.Series:
    """The month (since year 0) each case's first infusion began, by case code."""
    t = tables["timepoints"]
    since = pd.to_numeric(t["months_after_first_infusion"], errors="coerce")
    first = since.eq(0).fillna(False).to_numpy(dtype=bool)
    months = pd.Series(month_span(t["date"]).lo.to_numpy()[first])
    case = pd.Categorical(t["case_id"][first], dtype=like["case_id"].dtype)
    return months.groupby(case, observed=True).min().rename("first_infusion")


def dcm_criteria(r: pd.DataFrame, d: pd.DataFrame, tables: dict, settings: dict) -> pd.DataFrame:
    """The DCM criteria the paper restates (LVEDD, LVESD, LVEF) applied to each echo and MRI
    value at each timepoint: before the first infusion (the diagnosis) a criterion not met, or
    met only within rounding, is `minor`; afterwards no longer meeting it is recovery."""
    criteria = dcm_thresholds(tables["cases"], settings, r)
    v = r[~r["bounded"] & r["parameter"].isin(["lv_edd", "lv_esd", "lvef"])]
    v = v[v["modality"].isin(["echo", "mri"])].reset_index(names="row")
    rows = v.merge(criteria, on=["case_id", "parameter"]).merge(d, on=["case_id", "timepoint"])
    rows = rows.join(first_infusion(tables, r), on="case_id")
    keys = [rows[k].cat.codes for k in [*OUTPUT_KEYS, "method"]]
    rows = rows.iloc[np.lexsort([np.asarray(k) for k in [rows["row"], *keys[::-1]]])]
    rows = rows.reset_index(drop=True)
    diagnostic = (rows["m_lo"] <= rows["first_infusion"]).to_numpy()
    above, threshold = rows["above"].to_numpy(), rows["threshold"]
    met = np.where(above, rows["lo"] > threshold, rows["hi"] <= threshold)
    unmet = np.where(above, rows["hi"] <= threshold, rows["lo"] > threshold)
    state = np.select([met, unmet], ["met", "not met"], "met only within rounding")
    when = np.where(
        diagnostic, "at diagnosis (before the first infusion)", "after the first infusion"
    )
    recovery = np.where(diagnostic | met, "", " (recovery, not a contradiction)")
    value, parameter = texts(rows["value"]), texts(rows["parameter"])
    detail = glue(
        "DCM criterion of the introduction ",
        texts(rows["rule"]),
        ": ",
        texts(rows["modality"]),
        _suffix(texts(rows["method"]), " (", ")"),
        " ",
        value,
        " (",
        texts(rows["source"]),
        ") ",
        state,
        ", ",
        when,
        recovery,
    )
    return _rows(
        {
            "check": "dcm_criteria",
            "case_id": rows["case_id"],
            "parameter": parameter,
            "timepoint": rows["timepoint"],
            "source": rows["source"],
            "reported": value,
            "expected_low": np.where(above, threshold, -np.inf),
            "expected_high": np.where(above, np.inf, threshold),
            "verdict": np.where(diagnostic & (state != "met"), "minor", "consistent"),
            "detail": detail,
            "method": rows["method"],
            "against": "dcm_criteria." + parameter,
        },
        len(rows),
    )


# --- all of them ------------------------------------------------------------------------------


def reviewer_checks(tables: dict[str, pd.DataFrame], config: dict) -> pd.DataFrame:
    """Every pattern of this module on every case: each check's rows in output order (case,
    parameter, timepoint, source, method, against), the checks in the order above."""
    return pd.concat(list(reviewer_parts(tables, config)), ignore_index=True)


def reviewer_parts(tables: dict[str, pd.DataFrame], config: dict) -> Iterator[pd.DataFrame]:
    """`reviewer_checks`' rows pattern by pattern, each made only when the one before is taken
    (a cohort's patterns are not all held at once)."""
    thresholds = config["thresholds"]
    settings = thresholds["reviewer"]
    r = readings(tables)
    d = dates(tables, r)
    exams, values = examinations(r, settings["imaging_modalities"])  # once for both
    yield repeated_value_set(exams, values, d, settings)
    yield same_value_across_modalities(exams, values, d, settings)
    del exams, values
    yield teichholz(r)
    yield dcm_criteria(r, d, tables, thresholds["dcm_criteria"])
