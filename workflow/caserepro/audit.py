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
- the identities of data/raw/formulas.csv, one check per row, in its order
  (`caserepro.formula_checks`): `ef_from_volumes`, `sv_from_volumes`, `co_from_sv_hr`,
  `bsa_sv_vs_co` at one examination; `bsa_across_methods` (one scan), `bsa_across_timepoints`
  (successive scans), `hr_implied_vs_visit` (the visits of the scan's months). A new identity is
  a new row there, not code here;
- `repeated_value` (a value printed in two places: same case, parameter, timepoint and modality,
  methods equal or one blank); `same_month_value` (a value printed for two timepoints of the same
  month, `formula_checks.check_same_month`); `age_vs_dates` (ages stated later against the age at
  admission and the dates); `claim_<kind>` (prose claims in claims.csv, `caserepro.claims`).
  These are `CHECKS`;
- the reviewer's soft patterns (`caserepro.patterns`, via `caserepro.reviewer`): the same values
  at timepoints far apart, an echo value equal to the MRI value, Teichholz volumes, the DCM
  criteria.

Output (`results/audit/consistency.csv`, contract in DESIGN.md): check, case_id, parameter,
timepoint, source, reported, expected_low, expected_high, verdict, detail; then `method` and
`against` (what the reported value is compared with), which tell apart checks of one value.
Rows are sorted by check, case, parameter, time, source, method and against.

How the two checks still written here (repeated values, ages) stay fast on large cohorts: the
key columns (case, timepoint, modality, method, parameter, source) are read once into integer codes of one sorted vocabulary per column shared
by all tables (`Cohort`), so joins, groupings and sorting work on integers, and comparing two
codes compares their texts. A measurement is referred to by its row number. Texts are built
only for the rows that are written, as whole Arrow columns, and a number is formatted once per
distinct value.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property, partial

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from caserepro import claims, formula_checks, formulas
from caserepro.claims import CHECKS as CLAIM_CHECKS
from caserepro.codes import combined_key, run_firsts, run_starts
from caserepro.intervals import (
    Interval,
    gap,
    meets,
    month_span,
    printed,
)
from caserepro.io import csv_bytes, in_order, write_csv_parts
from caserepro.metrics import KEY_COLUMNS, table_sources, timepoint_order
from caserepro.patterns import reviewer_parts
from caserepro.reviewer import CHECKS as REVIEWER_CHECKS
from caserepro.verdicts import (
    COLUMNS,
    INCONSISTENT,
    MINOR,
    ROUND,
    VERDICTS,
    WORST_FIRST,
    Grading,
    grade,
)

#: The checks that are code, not formulas (formulas.csv names the others).
CHECKS = (
    "repeated_value",
    "same_month_value",
    "age_vs_dates",
    *CLAIM_CHECKS,  # caserepro.claims
    *REVIEWER_CHECKS,  # caserepro.reviewer
)
#: The output's text columns.
TEXT_COLUMNS = [c for c in COLUMNS if c not in ("expected_low", "expected_high")]
#: The columns of the validated tables that the audit reads (the other tables it does not need).
INPUT_COLUMNS: dict[str, list[str]] = {
    "measurements": [*KEY_COLUMNS, "value", "qualifier", "value_num", "decimals"],
    "claims": [
        *("claim_id", "case_id", "source", "kind", "parameter", "modality"),
        *("from_timepoint", "timepoint", "stated_low", "stated_high", "criterion", "statement"),
    ],
    "cases": ["case_id", "age_years", "admission", "sex"],
    "timepoints": ["case_id", "timepoint", "date", "months_after_first_infusion"],
    "table_layout": ["source"],
    "formulas": ["check", "expression", "scope", "soft", "citation", "label", "explanation"],
    "checks": ["check", "label", "explanation"],
    "dictionary": ["parameter", "unit"],
    "reference_ranges": ["case_id", "parameter", "low_num", "high_num"],
}
#: The measurements' text columns best read as categorical (`caserepro.io.read_tables`): their
#: codes come from Parquet's dictionaries, and a text is built only for the rows that show it.
CODED_COLUMNS: list[str] = [*KEY_COLUMNS, "value", "qualifier"]

#: Arrow's type of the texts in pandas `str` columns.
TEXT = pa.large_string()
_STR = pd.StringDtype("pyarrow", na_value=np.nan)


# --- texts: whole Arrow columns, built row by row in one pass --------------------------------

#: A piece of text per row: a literal (the same on every row), or a column of texts.
Piece = str | pa.Array | pa.ChunkedArray | pd.Series


def _arrow(piece: Piece) -> pa.Array | pa.Scalar:
    if isinstance(piece, str):
        return pa.scalar(piece, TEXT)
    if isinstance(piece, pd.Series):
        piece = pa.array(piece, TEXT) if piece.dtype == object else pa.array(piece)
    if isinstance(piece, pa.ChunkedArray):
        piece = piece.combine_chunks()
    return piece if piece.type == TEXT else piece.cast(TEXT)


def concat(*pieces: Piece) -> pa.Array:
    """Texts joined end to end, row by row; missing where a piece is missing (like `+`)."""
    return pc.binary_join_element_wise(*map(_arrow, pieces), pa.scalar("", TEXT))


def choose(condition: np.ndarray, yes: Piece, no: Piece) -> pa.Array:
    """`yes` where the condition holds, else `no` (row by row)."""
    return pc.if_else(pa.array(np.asarray(condition, dtype=bool)), _arrow(yes), _arrow(no))


def fill(texts: Piece, word: str) -> pa.Array:
    """Missing texts replaced by a word."""
    return pc.fill_null(_arrow(texts), pa.scalar(word, TEXT))


def take(texts: pa.Array | pa.ChunkedArray, rows: np.ndarray) -> pa.Array:
    """Texts at positions (missing where the position is -1)."""
    rows = np.asarray(rows, dtype=np.int64)
    return _arrow(texts.take(pa.array(rows, mask=rows < 0)))


def repeat(word: str, n: int) -> pa.Array:
    """One word on n rows."""
    return pa.array([word], TEXT).take(np.zeros(n, dtype=np.int64))


def on_rows(texts: pa.Array, where: np.ndarray, new: Callable[[np.ndarray], Piece]) -> pa.Array:
    """`texts` with the rows where `where` holds replaced by `new(rows)`, built for those rows only."""
    rows = np.flatnonzero(where)
    if not len(rows):
        return texts
    return pc.replace_with_mask(texts, pa.array(np.asarray(where, dtype=bool)), _arrow(new(rows)))


def text_series(texts: Piece) -> pd.Series:
    """A pandas `str` column from Arrow texts."""
    return pd.Series(pd.array(_arrow(texts), dtype=_STR))


def _each_distinct(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes of the values and the distinct values (each once, in order of first appearance).

    Factorising the bit patterns keeps -0.0 apart from 0.0 (they print differently) and needs no
    special case for missing values.
    """
    codes, bits = pd.factorize(np.ascontiguousarray(values, dtype=np.float64).view(np.int64))
    return codes, bits.view(np.float64)


#: Where Python's `:g` writes a number without an exponent (and 0): 1e-4 <= |x| < 1e6.
_G_PLAIN_MIN, _G_PLAIN_BELOW = 1e-4, 1e6


def g_texts(values: np.ndarray) -> pa.Array:
    """Numbers as Python's `f"{value:g}"` writes them ('23.0769', '20', '-0', '1e+06', 'nan').

    Where `:g` writes no exponent and the number has at most six significant digits (its
    precision), Arrow's shortest digits are the same text; the others (rare) are formatted by
    Python.
    """
    values = np.asarray(values, dtype=np.float64)
    text = pc.cast(pa.array(values), TEXT)
    size = np.abs(values)
    with np.errstate(invalid="ignore"):
        plain = (size == 0) | ((size >= _G_PLAIN_MIN) & (size < _G_PLAIN_BELOW))  # NaN: no
    digits = pc.utf8_length(pc.utf8_trim(pc.replace_substring(text, ".", ""), "-0"))
    unusual = ~(plain & (digits.to_numpy(zero_copy_only=False) <= 6))
    if not unusual.any():
        return text
    python = pa.array([f"{value:g}" for value in values[unusual].tolist()], TEXT)
    return pc.replace_with_mask(text, pa.array(unusual), python)


def _number_words(distinct: np.ndarray) -> pa.Array:
    """`g_texts` of numbers, '' where missing."""
    return pc.if_else(pa.array(np.isnan(distinct)), pa.scalar("", TEXT), g_texts(distinct))


def number_texts(values: np.ndarray) -> pa.Array:
    """Numbers for a detail text: up to four decimals, no trailing zeros ('23.0769', '20', 'inf')."""
    codes, distinct = _each_distinct(np.round(np.asarray(values, dtype=np.float64), ROUND))
    return _number_words(distinct).take(codes)


def interval_texts(lo: np.ndarray, hi: np.ndarray) -> pa.Array:
    """'[lo, hi]' for a detail text; the value alone where both ends print alike; '< hi' or
    '> lo' where one end is missing; '' where both are."""
    n = len(lo)
    codes, distinct = _each_distinct(np.round(np.concatenate([lo, hi]), ROUND))
    dictionary = _number_words(distinct)
    same_word = pc.dictionary_encode(dictionary).indices.to_numpy(zero_copy_only=False)
    blank = np.isnan(distinct)
    # One text per distinct pair of ends, spread over the rows.
    size = len(distinct)
    pair, pairs = pd.factorize(codes[:n].astype(np.int64) * size + codes[n:])
    lo_code, hi_code = np.divmod(pairs, size)
    lo_text, hi_text = dictionary.take(lo_code), dictionary.take(hi_code)
    text = choose(
        same_word[lo_code] == same_word[hi_code], lo_text, concat("[", lo_text, ", ", hi_text, "]")
    )
    text = choose(blank[lo_code] & ~blank[hi_code], concat("< ", hi_text), text)
    text = choose(blank[hi_code] & ~blank[lo_code], concat("> ", lo_text), text)
    return text.take(pair)


def joined_words(
    group: np.ndarray, n_groups: int, word: np.ndarray, words: pa.Array, sep: str
) -> pa.Array:
    """For groups 0..n_groups-1: the distinct words of each, in vocabulary order, joined by `sep`.

    `word` holds codes into `words` (sorted), one per entry of `group`; a group without words is
    missing.
    """
    size = max(len(words), 1)
    pairs = np.sort(group.astype(np.int64) * size + word, kind="stable")  # often nearly sorted
    pairs = pairs[run_firsts(pairs)]
    owner, code = np.divmod(pairs, size)
    counts = np.bincount(owner, minlength=n_groups)
    offsets = pa.array(np.concatenate([[0], np.cumsum(counts)]), pa.int64())
    lists = pa.LargeListArray.from_arrays(offsets, words.take(code), mask=pa.array(counts == 0))
    return pc.binary_join(lists, pa.scalar(sep, TEXT))


# --- the cohort as integer codes --------------------------------------------------------------


def _encode(*columns: pd.Series) -> tuple[pa.Array, list[np.ndarray]]:
    """The sorted vocabulary of text columns, and each column as codes into it (-1: missing)."""
    coded = [_dictionary(column) for column in columns]
    words = pc.unique(pa.concat_arrays([dictionary for dictionary, _ in coded]))
    words = words.take(pc.sort_indices(words))  # by code point, as Python sorts text
    codes = []
    for dictionary, indices in coded:
        position = pc.index_in(dictionary, value_set=words).to_numpy(zero_copy_only=False)
        code_of = np.append(position, -1).astype(np.int32)  # the last, at index -1: missing
        codes.append(code_of[indices])
    return words, codes


def _dictionary(column: pd.Series) -> tuple[pa.Array, np.ndarray]:
    """A text column's distinct texts (Arrow's dictionary) and each row's position among them
    (-1: missing).

    A categorical column (the measurements' `CODED_COLUMNS`, read from Parquet's dictionaries) is
    coded already: its categories are the dictionary."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        words = pa.array(column.cat.categories.to_numpy(dtype=object), TEXT)
        return words, column.cat.codes.to_numpy()
    texts = pa.array(column, TEXT) if column.dtype == object else pa.array(column.array)
    if isinstance(texts, pa.Array):
        texts = pa.chunked_array([texts])
    if texts.type != TEXT:
        texts = texts.cast(TEXT)
    if not texts.num_chunks:
        texts = pa.chunked_array([pa.array([], TEXT)])
    encoded = pc.dictionary_encode(texts)
    first = encoded.chunks[0].dictionary
    if not all(chunk.dictionary.equals(first) for chunk in encoded.chunks):
        encoded = encoded.unify_dictionaries()
    indices = pc.fill_null(pa.chunked_array([chunk.indices for chunk in encoded.chunks]), -1)
    return encoded.chunks[0].dictionary, indices.to_numpy()


def matches(left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every pair (i, j) with left[i] == right[j], in the order of i, then j (an inner merge)."""
    order = np.argsort(right, kind="stable")
    return _runs_of(left, right[order], order)


def _runs_of(
    left: np.ndarray, ordered: np.ndarray, order: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """`matches` against keys already sorted (`ordered` = right[order])."""
    # Looked up in sorted order: each search then starts near the last (far fewer cache misses).
    by_key = np.argsort(left, kind="stable")
    start, end = np.empty(len(left), dtype=np.intp), np.empty(len(left), dtype=np.intp)
    start[by_key] = np.searchsorted(ordered, left[by_key], "left")
    end[by_key] = np.searchsorted(ordered, left[by_key], "right")
    count = end - start
    return _expand(start, count, order)


def _expand(
    start: np.ndarray, count: np.ndarray, order: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(i, order[start[i] + k]) for every i and k < count[i], in the order of i, then k."""
    i = np.repeat(np.arange(len(start)), count)
    offset = np.repeat(start - (np.cumsum(count) - count), count)
    return i, order[offset + np.arange(len(i))]


class Cohort:
    """The validated tables with their key columns as codes into shared sorted vocabularies.

    Measurements (`m_*`, one entry per row of the measurements table), the timeline and the
    case table share the vocabularies of case and timepoint; method codes are -1 where the
    method is blank. `timeline` is `metrics.timepoint_order`, found by `when`.
    """

    def __init__(self, tables: dict[str, pd.DataFrame]):
        m = tables["measurements"].reset_index(drop=True)
        self.measurements = m
        self.timeline = timepoint_order(tables["timepoints"]).reset_index(drop=True)
        t = self.timeline
        self.case_ids, codes = _encode(m["case_id"], t["case_id"], tables["cases"]["case_id"])
        self.m_case, self.timeline_case, self.cases_case = codes
        self.timepoints, (self.m_timepoint, self.timeline_timepoint) = _encode(
            m["timepoint"], t["timepoint"]
        )
        self.modalities, (self.m_modality,) = _encode(m["modality"])
        self.parameters, (self.m_parameter,) = _encode(m["parameter"])
        self.sources, (self.m_source,) = _encode(m["source"])
        self.methods, (self.m_method,) = _encode(m["method"])
        self.m_value = m["value_num"].to_numpy(dtype=np.float64)
        self.m_qualified = m["qualifier"].notna().to_numpy()
        stands_for = printed(m["value_num"], m["decimals"], m["qualifier"])
        self.m_lo, self.m_hi = stands_for.lo.to_numpy(), stands_for.hi.to_numpy()
        self._timeline_key = pd.Index(self._moment(self.timeline_case, self.timeline_timepoint))
        # Which source is the reference for a value printed twice: the paper's tables first,
        # then the other sources in alphabetical order (one rank per source code).
        n_sources = len(self.sources)
        is_table = np.isin(self.sources.to_pylist(), table_sources(tables))
        self.source_rank = np.where(is_table, 0, n_sources) + np.arange(n_sources)
        self._rank = t["rank"].to_numpy(dtype=np.int64)

    def _moment(self, case: np.ndarray, timepoint: np.ndarray) -> np.ndarray:
        return combined_key([(case, len(self.case_ids)), (timepoint, len(self.timepoints))])

    def when(self, case: np.ndarray, timepoint: np.ndarray) -> np.ndarray:
        """Row of the timeline of each (case, timepoint) pair of codes (-1 if not there)."""
        return self._timeline_key.get_indexer(self._moment(case, timepoint))

    def rank(self, when: np.ndarray) -> np.ndarray:
        """Rank in time of timeline rows (-1, sorting first, where unknown)."""
        return np.where(when >= 0, self._rank[when], -1)

    def m_rows(self, *parameters: str) -> np.ndarray:
        """Measurement rows of these parameters, in table order."""
        codes = pd.Index(self.parameters.to_pylist()).get_indexer(list(parameters))
        wanted = np.zeros(len(self.parameters), dtype=bool)
        wanted[codes[codes >= 0]] = True
        return np.flatnonzero(wanted[self.m_parameter])

    def m_text(self, column: str, rows: np.ndarray) -> pa.Array:
        """Texts of a measurement column at rows (missing where the row is -1)."""
        texts, codes = self._m_texts[column]
        if codes is None:
            return take(texts, rows)
        rows = np.asarray(rows)
        return take(texts, np.where(rows >= 0, codes[rows], -1))  # the distinct texts' codes

    @cached_property
    def _m_texts(self) -> dict[str, tuple[pa.Array, np.ndarray | None]]:
        """The value and qualifier columns: (distinct texts, codes) where read as categorical
        (`CODED_COLUMNS`), else (texts, None)."""
        out = {}
        for name in ("value", "qualifier"):
            column = self.measurements[name]
            coded = isinstance(column.dtype, pd.CategoricalDtype)
            out[name] = _dictionary(column) if coded else (_arrow(column), None)
        return out

    def shown(self, rows: np.ndarray) -> pa.Array:
        """Measurement values as the paper shows them: the qualifier, if any, then the value."""
        text = self.m_text("value", rows)
        qualified = self.m_qualified[rows]
        return on_rows(
            text,
            qualified,
            lambda at: concat(self.m_text("qualifier", rows[at]), " ", text.take(at)),
        )

    @cached_property
    def value_groups(self) -> tuple[np.ndarray, np.ndarray]:
        """Measurement rows by case, parameter, timepoint and modality: (sorted keys, rows).

        The rows are listed by key, then by the rank of their source (`source_rank`), then in
        table order.
        """
        key = self.value_key(self.m_case, self.m_parameter, self.m_timepoint, self.m_modality)
        order = ordered_by(key, self.source_rank[self.m_source])
        return key[order], order

    def value_key(
        self, case: np.ndarray, parameter: np.ndarray, timepoint: np.ndarray, modality: np.ndarray
    ) -> np.ndarray:
        """The key of `value_groups` for codes of any table."""
        return combined_key(
            [
                (case, len(self.case_ids)),
                (parameter, len(self.parameters)),
                (timepoint, len(self.timepoints)),
                (modality, len(self.modalities)),
            ]
        )

    def place(self, rows: np.ndarray) -> dict[str, object]:
        """Case, timepoint and source (texts), method (codes) of measurement rows."""
        return {
            "case_id": self.case_ids.take(self.m_case[rows]),
            "timepoint": self.timepoints.take(self.m_timepoint[rows]),
            "source": self.sources.take(self.m_source[rows]),
            "method": self.m_method[rows],
        }

    def in_audit_order(self, rows: np.ndarray, *more: np.ndarray) -> np.ndarray:
        """Order of check rows about measurement rows: by case, time, source, method, then the
        `more` keys; ties keep their order."""
        when = self.when(self.m_case[rows], self.m_timepoint[rows])
        return ordered_by(
            self.m_case[rows],
            self.rank(when),
            self.m_source[rows],
            self.m_method[rows],
            *more,
        )


def ordered_by(*keys: np.ndarray) -> np.ndarray:
    """Positions sorted by the keys in turn (first key first); ties keep their order.

    As `np.lexsort(keys[::-1])` (NaN sorts last, -0.0 ties with 0.0), but the keys are first
    combined into one integer per position (`combined_key`), so there is one sort, not one per key.
    """
    if not len(keys[0]):
        return np.zeros(0, dtype=np.intp)
    return np.argsort(combined_key([_sort_codes(key) for key in keys]), kind="stable")


def _sort_codes(key: np.ndarray) -> tuple[np.ndarray, int]:
    """Integer codes that sort like the key, from -1 or 0, and how many there can be (as
    `combined_key` takes them)."""
    key = np.asarray(key)
    if key.dtype.kind == "b":
        return key.astype(np.int8), 2
    if key.dtype.kind in "iu":
        lowest, highest = int(key.min()), int(key.max())
        if lowest >= -1 and highest < 2**32:  # codes already (-1: missing)
            return key, highest + 1
        if highest - lowest < 2**32:  # a compact range: the values from the lowest
            return key - lowest, highest - lowest + 1
    # Floats, or sparse integers: the rank of each distinct value (hashed, then the few sorted).
    codes, distinct = pd.factorize(key, sort=True, use_na_sentinel=False)  # NaN last
    return codes, len(distinct)


def _cohort(tables: dict[str, pd.DataFrame], cohort: Cohort | None) -> Cohort:
    return cohort if cohort is not None else Cohort(tables)


# --- grading and the rows of a check ----------------------------------------------------------


def _interval(lo: np.ndarray, hi: np.ndarray) -> Interval:
    return Interval(pd.Series(lo, dtype=np.float64), pd.Series(hi, dtype=np.float64))


def _with_gap_texts(
    detail: pa.Array, verdict: np.ndarray, distance: np.ndarray, relative: np.ndarray
) -> pa.Array:
    """The details, with '; gap ...' after those of minor or inconsistent checks."""

    def text(rows: np.ndarray) -> pa.Array:
        codes, distinct = _each_distinct(np.round(100 * relative[rows], 2))
        percent = g_texts(distinct).take(codes)
        return choose(
            distance[rows] == 0,
            "; the intervals only touch at an end (neighbouring values)",
            concat("; gap ", number_texts(distance[rows]), " (", percent, " % of reported)"),
        )

    flagged = (verdict == MINOR) | (verdict == INCONSISTENT)
    return on_rows(detail, flagged, lambda rows: concat(detail.take(rows), text(rows)))


#: The verdicts' words, taken by verdict code.
_VERDICT_WORDS = pa.array(VERDICTS, TEXT)


def _frame(columns: dict[str, object], n: int) -> pd.DataFrame:
    """Check rows with the output's column types: numbers float, every other column `str`
    (verdict: codes into `VERDICTS`; method: missing where blank)."""
    out = {}
    for name in COLUMNS:
        value = columns[name]
        if name in ("expected_low", "expected_high"):
            out[name] = np.round(np.asarray(value, dtype=np.float64), ROUND)
        elif name == "verdict":
            out[name] = text_series(_VERDICT_WORDS.take(np.asarray(value)))
        else:
            out[name] = text_series(repeat(value, n) if isinstance(value, str) else value)
    return pd.DataFrame(out)


def _rows(
    check: str,
    cohort: Cohort,
    at: dict[str, object],
    reported: tuple[np.ndarray, np.ndarray],
    expected: tuple[np.ndarray, np.ndarray],
    scale: np.ndarray,
    grading: Grading,
    reported_text: pa.Array,
    detail: pa.Array,
) -> pd.DataFrame:
    """Graded check rows. `at` holds case_id, parameter, timepoint, source and against (texts or
    one word) and method (codes); all rows are in output order."""
    verdict, distance, relative = grade(reported, expected, scale, grading)
    if check in grading.soft_checks:
        capped = verdict == INCONSISTENT
        verdict = np.where(capped, MINOR, verdict)
        soft = "; would be inconsistent, but these need not agree (soft check: minor at most)"
        detail = on_rows(detail, capped, lambda rows: concat(detail.take(rows), soft))
    columns = {
        "check": check,
        **at,
        "method": take(cohort.methods, at["method"]),  # missing where blank (-1)
        "reported": reported_text,
        "expected_low": expected[0],
        "expected_high": expected[1],
        "verdict": verdict,
        "detail": _with_gap_texts(detail, verdict, distance, relative),
    }
    return _frame(columns, len(scale))


# --- the same value printed in two places ----------------------------------------------------


def ranked_pairs(
    keys: np.ndarray, rows: np.ndarray, rank: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Every pair (row, ref) of rows with the same key where ref ranks strictly before row.

    `keys` are sorted and `rows` the rows they belong to, listed by rank within a key; `rank`
    is indexed by row.
    """
    starts = np.flatnonzero(run_firsts(keys))
    sizes = np.diff(np.append(starts, len(keys)))
    shared = np.repeat(sizes > 1, sizes)  # a key of one row has no pairs
    keys, rows = keys[shared], rows[shared]
    new_key = run_firsts(keys)
    key_start = run_starts(new_key)
    rank_start = run_starts(new_key | run_firsts(rank[rows]))
    # a row's references: from its key's first row up to the first row of its own rank
    row, ref = _expand(key_start, rank_start - key_start, rows)
    return rows[row], ref


def check_repeated_values(
    tables: dict[str, pd.DataFrame], grading: Grading, cohort: Cohort | None = None
) -> pd.DataFrame:
    """Every value printed in two places, compared with the other place (a table is the reference).

    Same case, parameter, timepoint and modality; methods equal, or blank on one side (which
    matches any method: the closest one is taken). Each value is checked once, against the first
    source in rank (the paper's tables, then the other sources in alphabetical order).
    """
    cohort = _cohort(tables, cohort)
    row, ref, meet, hint_at, hints = _references(cohort)
    shown = cohort.shown(row)
    at = {
        **cohort.place(row),
        "parameter": cohort.parameters.take(cohort.m_parameter[row]),
        "against": cohort.sources.take(cohort.m_source[ref]),
    }
    return _rows(
        "repeated_value",
        cohort,
        at,
        (cohort.m_lo[row], cohort.m_hi[row]),
        (cohort.m_lo[ref], cohort.m_hi[ref]),
        cohort.m_value[row],
        grading,
        shown,
        _repeated_detail(cohort, row, ref, shown, hint_at, hints),
    )


def _references(cohort: Cohort) -> tuple[np.ndarray, ...]:
    """Each value printed twice (row), its reference (ref: first source in rank, a meeting
    value, the closest, by method), whether they meet, in output order; and for rows that miss
    their reference, the methods whose value at that place they match (hint_at into hints)."""
    n_sources = len(cohort.sources)
    rank = cohort.source_rank[cohort.m_source]
    row, ref = ranked_pairs(*cohort.value_groups, rank)
    method, method_ref = cohort.m_method[row], cohort.m_method[ref]
    blank = (method < 0) | (method_ref < 0)
    same = (method == method_ref) & ~blank
    row_iv = _interval(cohort.m_lo[row], cohort.m_hi[row])
    ref_iv = _interval(cohort.m_lo[ref], cohort.m_hi[ref])
    meet = np.asarray(meets(row_iv, ref_iv), dtype=bool)
    # A value that matches another method's value at the other place hints at swapped methods.
    other = ~(same | blank) & meet
    hint_key = row[other].astype(np.int64) * n_sources + cohort.m_source[ref[other]]
    hinted, hint_group = np.unique(hint_key, return_inverse=True)
    hints = joined_words(hint_group, len(hinted), method_ref[other], cohort.methods, ", ")
    candidate = np.flatnonzero(same | blank)
    distance = np.asarray(gap(row_iv, ref_iv), dtype=np.float64)[candidate]
    ref_method = method_ref[candidate]
    best = candidate[
        ordered_by(
            row[candidate],
            rank[ref[candidate]],
            ~meet[candidate],
            distance,
            np.where(ref_method < 0, len(cohort.methods), ref_method),  # blank last
            ref[candidate],
        )
    ]
    best = best[run_firsts(row[best])]
    row, ref, meet = row[best], ref[best], meet[best]
    order = ordered_by(
        cohort.m_case[row],
        cohort.m_parameter[row],
        cohort.rank(cohort.when(cohort.m_case[row], cohort.m_timepoint[row])),
        cohort.m_source[row],
        cohort.m_method[row],
        cohort.m_source[ref],
    )
    row, ref, meet = row[order], ref[order], meet[order]
    place = row.astype(np.int64) * n_sources + cohort.m_source[ref]
    hint_at = np.where(meet, -1, pd.Index(hinted).get_indexer(place))
    return row, ref, meet, hint_at, hints


def _repeated_detail(
    cohort: Cohort,
    row: np.ndarray,
    ref: np.ndarray,
    shown: pa.Array,
    hint_at: np.ndarray,
    hints: pa.Array,
) -> pa.Array:
    """'<source> prints <value>; <reference source> (<its method>) prints <value>', then the
    methods it matches there where it misses its reference ('methods swapped?')."""
    n_sources = len(cohort.sources)
    prints = concat(cohort.sources, " prints ")
    methods = pa.concat_arrays([pa.array([""], TEXT), concat(" (", cohort.methods, ")")])
    ref_label = concat(
        "; ",
        cohort.sources.take(np.repeat(np.arange(n_sources), len(methods))),
        methods.take(np.tile(np.arange(len(methods)), n_sources)),
        " prints ",
    )
    return concat(
        prints.take(cohort.m_source[row]),
        shown,
        ref_label.take(cohort.m_source[ref] * len(methods) + cohort.m_method[ref] + 1),
        cohort.shown(ref),
        on_rows(
            repeat("", len(row)),
            hint_at >= 0,
            lambda at: concat(
                "; it matches the ", hints.take(hint_at[at]), " value there (methods swapped?)"
            ),
        ),
    )


# --- ages against dates ----------------------------------------------------------------------


def check_ages(
    tables: dict[str, pd.DataFrame], grading: Grading, cohort: Cohort | None = None
) -> pd.DataFrame:
    """Ages stated at later timepoints against the age at admission and the months between.

    With age a (completed years) in admission month D, the exact age at a date E lies in
    (E.start - D.end + 12a, E.end - D.start + 12a + 12) months; the completed years that allows
    are the expected interval.
    """
    cohort = _cohort(tables, cohort)
    rows = cohort.m_rows("age")
    rows = rows[cohort.in_audit_order(rows)]
    cases = tables["cases"].reset_index(drop=True)
    case_row = pd.Index(cohort.cases_case).get_indexer(cohort.m_case[rows])
    age_years = cases["age_years"].reindex(case_row).reset_index(drop=True)
    admission = cases["admission"].reindex(case_row).reset_index(drop=True)
    when = cohort.when(cohort.m_case[rows], cohort.m_timepoint[rows])
    date = cohort.timeline["date"].reindex(when).reset_index(drop=True)
    at, admitted = _month_spans(date), _month_spans(admission)
    base_months = 12 * age_years.astype("float64")
    low = np.floor((at.lo - admitted.hi + base_months) / 12)
    high = np.ceil((at.hi - admitted.lo + base_months + 12) / 12) - 1
    expected = (low.to_numpy(dtype=np.float64), high.to_numpy(dtype=np.float64))
    stated = cohort.m_text("value", rows)
    detail = concat(
        "aged ",
        age_years.astype("str"),
        " at admission (",
        admission,
        "), so aged ",
        interval_texts(*expected),
        " in ",
        date,
        "; stated ",
        stated,
    )
    at_ = {**cohort.place(rows), "parameter": "age", "against": "cases.csv age at admission"}
    value = cohort.m_value[rows]
    return _rows(
        "age_vs_dates", cohort, at_, (value, value), expected, value, grading, stated, detail
    )


def _month_spans(dates: pd.Series) -> Interval:
    """`month_span`, computed once per distinct date."""
    codes, distinct = pd.factorize(dates)
    span = month_span(pd.Series(distinct, dtype=_STR))
    lo = np.append(span.lo.to_numpy(dtype=np.float64), np.nan)[codes]
    hi = np.append(span.hi.to_numpy(dtype=np.float64), np.nan)[codes]
    return _interval(lo, hi)


# --- the whole audit -------------------------------------------------------------------------


def audit(tables: dict[str, pd.DataFrame], thresholds: dict, grading: Grading) -> pd.DataFrame:
    """Every check on every case, one row per check: the formulas' checks (formulas.csv order),
    then the others (`CHECKS` order); each check returns its rows in output order."""
    return pd.concat(list(audit_parts(tables, thresholds, grading)), ignore_index=True)


def audit_parts(
    tables: dict[str, pd.DataFrame], thresholds: dict, grading: Grading
) -> Iterator[pd.DataFrame]:
    """`audit`'s rows check by check, in output order, each part made only when the one before
    it is taken (at most three held): a cohort's checks are never all in memory at once."""
    identities = formulas.load(tables["formulas"], tables["dictionary"])
    grading = grading.with_soft(tuple(f.check for f in identities if f.soft))
    cohort = Cohort(tables)
    checks: list[Callable[[], object]] = [
        partial(formula_checks.check_formulas, identities, tables, grading),
        partial(check_repeated_values, tables, grading, cohort),
        partial(formula_checks.check_same_month, tables, grading),
        partial(check_ages, tables, grading, cohort),
        partial(claims.check_claims, tables, thresholds, grading),
    ]
    # Two checks at a time: numpy's and Arrow's kernels release the GIL. Each only reads.
    for result in in_order(lambda check: check(), checks):
        for part in [result] if isinstance(result, pd.DataFrame) else result:
            if len(part):
                yield _typed(part)


def _typed(part: pd.DataFrame) -> pd.DataFrame:
    """A check's rows with the output's columns and types (texts `str`, bounds float)."""
    bounds = dict.fromkeys(("expected_low", "expected_high"), "float64")
    return part[COLUMNS].astype({**dict.fromkeys(TEXT_COLUMNS, "str"), **bounds})


def known_checks(tables: dict[str, pd.DataFrame]) -> tuple[str, ...]:
    """Every check the audit can emit: formulas.csv's, then `CHECKS`."""
    return (*tables["formulas"]["check"].astype(str), *CHECKS)


def summary_markdown(checks: pd.DataFrame, max_listed: int | None = None) -> str:
    """A Markdown fragment: counts per verdict, then one line per check that is not consistent,
    worst first.

    With `max_listed` (config `audit.summary_max_listed`) and more checks flagged than that, only
    the first `max_listed` are listed, then how many more there are; for more than one case a
    table of counts per kind of check and verdict follows the counts per verdict.
    """
    codes, names = pd.factorize(checks["verdict"])
    names = list(names)
    counts = np.bincount(codes[codes >= 0], minlength=len(names))
    count = {name: int(counts[i]) for i, name in enumerate(names)}
    lines = [f"The audit ran {len(checks)} checks.", "", "| Verdict | Checks |", "|---|---|"]
    lines += [f"| {verdict} | {count.get(verdict, 0)} |" for verdict in VERDICTS]
    listed = {verdict: i for i, verdict in enumerate(WORST_FIRST[:-1])}  # consistent last
    order_of = np.array([listed.get(name, 3) for name in names] + [3])
    consistent = names.index("consistent") if "consistent" in names else -2
    flagged = np.flatnonzero(codes != consistent)  # in table order: texts taken in one pass
    worst_first = np.argsort(order_of[codes[flagged]], kind="stable")
    unlisted = 0
    if max_listed is not None and len(flagged) > max_listed:
        unlisted = len(flagged) - max_listed
        flagged = np.sort(flagged[worst_first[:max_listed]])
        worst_first = np.argsort(order_of[codes[flagged]], kind="stable")
        first_case, last_case = pc.min_max(pa.array(checks["case_id"])).values()
        if first_case != last_case:  # more than one case
            verdict = pd.Index(VERDICTS).get_indexer(names)[codes]  # (names: a few)
            lines += ["", "Checks per kind and verdict:", ""]
            lines += _counts_per_check(checks["check"], np.where(codes >= 0, verdict, -1))
    lines += ["", "Checks that are not consistent:", ""]
    lines += _flagged_lines(checks, flagged).take(worst_first).to_pylist()
    if unlisted:
        lines += [
            "",
            f"{unlisted} more checks that are not consistent are not listed here "
            f"(`audit.summary_max_listed` is {max_listed}); `consistency.csv` lists every check.",
        ]
    return "\n".join(lines) + "\n"


def _counts_per_check(check: pd.Series, verdict: np.ndarray) -> list[str]:
    """A Markdown table of how many checks of each kind got each verdict (formulas' checks as
    they appear, then `CHECKS` order; `verdict`: positions in `VERDICTS`, -1 for none of them)."""
    kind, kinds = pd.factorize(check)
    known = (kind >= 0) & (verdict >= 0)
    counts = np.bincount(
        kind[known] * len(VERDICTS) + verdict[known], minlength=len(kinds) * len(VERDICTS)
    ).reshape(len(kinds), len(VERDICTS))
    position = pd.Index(CHECKS).get_indexer(kinds)
    lines = [f"| Check | {' | '.join(VERDICTS)} |", "|---" * (len(VERDICTS) + 1) + "|"]
    for i in np.argsort(position, kind="stable"):  # formulas' checks (-1) first, as they ran
        lines.append(f"| `{kinds[i]}` | {' | '.join(str(n) for n in counts[i])} |")
    return lines


def _take_sorted(texts: pa.ChunkedArray, rows: np.ndarray) -> pa.Array:
    """Texts at increasing positions of a column, taken chunk by chunk (a take from the whole
    column would first join its chunks: gigabytes for a cohort's details)."""
    if isinstance(texts, pa.Array):
        texts = pa.chunked_array([texts])
    ends = np.cumsum([len(chunk) for chunk in texts.chunks])
    chunk_of = np.searchsorted(ends, rows, side="right")
    starts = np.r_[0, ends[:-1]]
    pieces = [
        texts.chunk(c).take(pa.array(rows[chunk_of == c] - starts[c])) for c in np.unique(chunk_of)
    ]
    return _arrow(pa.chunked_array(pieces, texts.type)) if pieces else pa.array([], TEXT)


def _flagged_lines(checks: pd.DataFrame, flagged: np.ndarray) -> pa.Array:
    """The summary's line for each of the flagged rows of the checks, in table order."""

    def column(name: str) -> pa.Array:
        values = checks[name]
        if values.dtype == object:  # Python objects (a frame not built by `audit`), NaN or NA
            return _arrow(pd.Series(values.to_numpy()[flagged], dtype=object).astype("str"))
        return _take_sorted(pa.array(values), flagged)

    expected = interval_texts(
        checks["expected_low"].to_numpy(dtype=np.float64)[flagged],
        checks["expected_high"].to_numpy(dtype=np.float64)[flagged],
    )
    reported = fill(column("reported"), "")
    where = concat(
        column("case_id"),
        ", ",
        column("timepoint"),
        fill(concat(", ", column("method")), ""),
        ", ",
        column("source"),
    )
    return concat(
        "- **",
        column("verdict"),
        "** `",
        column("check"),
        "` ",
        column("parameter"),
        " (",
        where,
        "): reported ",
        choose(np.asarray(pc.equal(reported, ""), dtype=bool), "—", reported),
        " vs expected ",
        choose(np.asarray(pc.equal(expected, ""), dtype=bool), "—", expected),
        ". ",
        column("detail"),
    )


@dataclass(frozen=True)
class AuditReport:
    """The audit's checks, written as CSV (the contract) and as a Markdown summary.

    `max_listed`: how many flagged checks the summary lists at most (None: all).
    """

    checks: pd.DataFrame
    max_listed: int | None = None

    def to_csv(self) -> bytes:
        """The consistency table (columns in `COLUMNS`) as CSV bytes."""
        return csv_bytes(self.checks)

    def to_markdown(self) -> str:
        """The human-readable summary for the manuscript."""
        return summary_markdown(self.checks, self.max_listed)


def run_audit(tables: dict[str, pd.DataFrame], config: dict) -> AuditReport:
    """The audit of validated tables under config (`thresholds` and `audit` sections)."""
    checks = pd.concat(list(audit_rows(tables, config)), ignore_index=True)
    return AuditReport(checks, int(config["audit"]["summary_max_listed"]))


def audit_rows(tables: dict[str, pd.DataFrame], config: dict) -> Iterator[pd.DataFrame]:
    """`run_audit`'s rows part by part in output order: the engine's checks, then the reviewer's
    soft patterns; after the last part, an error if a check emitted has no label."""
    grading = Grading.from_config(config["audit"], known=known_checks(tables))
    emitted: set[str] = set()
    for part in audit_parts(tables, config["thresholds"], grading):
        emitted.update(part["check"].unique())
        yield part
    for part in reviewer_parts(tables, config):  # caserepro.patterns: soft patterns
        if len(part):
            emitted.update(part["check"].unique())
            yield _typed(part)
    if "checks" in tables:  # every check that is emitted has a name for readers
        unnamed = sorted(emitted - set(formulas.check_names(tables)["check"]))
        if unnamed:
            raise formulas.FormulaError(
                f"check {', '.join(unnamed)} has no label: add it to checks.csv (a formula's "
                "check: its label and explanation in formulas.csv)"
            )


def write_audit(tables: dict[str, pd.DataFrame], config: dict, path: str) -> tuple[str, pd.Series]:
    """Write `run_audit`'s checks as CSV to `path` part by part as they are made, keeping of each
    part only what the summary reads; the Markdown summary and the checks per verdict."""
    kept = []

    def parts() -> Iterator[pd.DataFrame]:
        for part in audit_rows(tables, config):
            kept.append(_for_summary(part))
            yield part

    write_csv_parts(path, COLUMNS, parts())
    checks = pd.concat(kept, ignore_index=True)
    summary = summary_markdown(checks, int(config["audit"]["summary_max_listed"]))
    return summary, checks["verdict"].value_counts().sort_index()


def _for_summary(part: pd.DataFrame) -> pd.DataFrame:
    """A part's rows as `summary_markdown` reads them: check, verdict and case on every row, the
    other columns only on the rows not consistent (it reads no more; missing elsewhere)."""
    flagged = part["verdict"].to_numpy() != "consistent"
    kept = ("check", "verdict", "case_id")
    return part.assign(**{c: part[c].where(flagged) for c in COLUMNS if c not in kept})
