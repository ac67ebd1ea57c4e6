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

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from caserepro import evaluator, formulas
from caserepro.codes import EXAMINATION, combined_key, run_firsts, run_starts, values_at
from caserepro.intervals import Interval, month_span, printed
from caserepro.verdicts import ROUND

#: The columns that identify one series of a parameter over time (compared with its first value).
SERIES = ["case_id", "source", "modality", "method", "parameter"]
#: The validated tables and columns that `derive_metrics` reads.
INPUT_COLUMNS = {
    "measurements": [
        *(
            *EXAMINATION,
            "parameter",
            "value",
            "qualifier",
            "qualifier_means",
            "value_num",
            "decimals",
            "scale",
        )
    ],
    "timepoints": ["case_id", "timepoint", "date"],
    "table_layout": ["source"],
    "formulas": ["check", "expression", "scope", "soft", "citation", "label", "explanation"],
    "dictionary": ["parameter", "unit"],
}
#: The measurements' key columns, coded as integers (see `key_rows`); read as categorical, they
#: come coded from Parquet's dictionary of each column.
KEY_COLUMNS = [*EXAMINATION, "parameter"]
#: The measurements' columns that `derive_metrics.py` reads as categorical: the key columns, and
#: the printed values (few distinct texts, which classifications.csv repeats).
CODED_COLUMNS = [*KEY_COLUMNS, "value"]


def _citation(group: dict) -> str:
    cite = group.get("citation")
    if cite is None:
        return ""
    return ";".join(cite) if isinstance(cite, list) else str(cite)


def timepoint_order(timepoints: pd.DataFrame) -> pd.DataFrame:
    """Each case's timepoints with their month span and rank in time (file order breaks ties)."""
    t = timepoints[["case_id", "timepoint", "date"]]
    # Each distinct date is parsed once (a cohort has few), then spread back over the rows.
    date_codes, dates = pd.factorize(t["date"], use_na_sentinel=False)
    span = month_span(pd.Series(dates))
    start = span.lo.to_numpy()[date_codes]
    end = span.hi.to_numpy()[date_codes]
    case_codes, cases = pd.factorize(t["case_id"], sort=True)
    case_codes = np.where(case_codes < 0, len(cases), case_codes)  # a missing case sorts last
    # Sorted by case, then start month (unknown last), then file order (lexsort is stable).
    order = np.lexsort((start, case_codes))
    out = t.take(order).reset_index(drop=True)
    return out.assign(
        start_month=start[order], end_month=end[order], rank=_rank_in_group(case_codes[order])
    )


def _rank_in_group(groups: np.ndarray) -> np.ndarray:
    """0, 1, 2, ... along each run of equal values of a sorted array (a cumulative count)."""
    return np.arange(len(groups)) - run_starts(run_firsts(groups))


@dataclass(frozen=True)
class KeyedRows:
    """Rows of the measurements table (`rows`: their positions in `table`) with their key
    columns as integer codes.

    Grouping and sorting then work on integers instead of text. For each key column,
    `codes[column]` holds the position in `labels[column]` of every row of the table (not only
    of these rows: the codes are looked up when needed, so taking rows moves only their
    positions); the labels are sorted, so codes order like the text, and -1 (missing, e.g. no
    method) sorts first. Given timepoints, the `rank` code is the time order of the row's
    timepoint within its case (`timepoint_order`), -1 where timepoints.csv lacks that
    timepoint, and `date` codes the timepoint's date. Columns coded for these rows only
    (`with_code`) are in `own`, and follow the rows.
    """

    table: pd.DataFrame
    rows: np.ndarray
    codes: dict[str, np.ndarray]
    labels: dict[str, pd.Index]
    own: dict[str, np.ndarray] = field(default_factory=dict)
    #: True where `rows` are all rows of the table, in table order (their codes need no lookup).
    every_row: bool = False

    def take(self, which: np.ndarray) -> KeyedRows:
        """The rows at these positions (or where a boolean mask is true), in that order."""
        if which.dtype == bool:
            which = np.flatnonzero(which)
        own = {column: codes[which] for column, codes in self.own.items()}
        return KeyedRows(self.table, self.rows[which], self.codes, self.labels, own)

    def with_code(self, column: str, codes: np.ndarray, labels: pd.Index) -> KeyedRows:
        """The same rows with one more coded column (`codes`: one per row)."""
        labels = {**self.labels, column: labels}
        own = {**self.own, column: codes}
        return KeyedRows(self.table, self.rows, self.codes, labels, own, self.every_row)

    def __len__(self) -> int:
        return len(self.rows)

    def code(self, column: str, at: np.ndarray | None = None) -> np.ndarray:
        """A coded column's code for each row, or for the rows `at` these positions."""
        if column in self.own:
            codes = self.own[column]
            return codes if at is None else codes[at]
        if self.every_row:
            return self.codes[column] if at is None else self.codes[column][at]
        return self.codes[column][self.rows if at is None else self.rows[at]]

    def text(self, column: str, at: np.ndarray | None = None) -> pd.Series:
        """A coded column's text for each row, or for the rows `at` these positions, as a
        categorical (the codes and their labels: no text is copied). Missing where the code is -1."""
        return coded_text(self.code(column, at), self.labels[column])

    def values(self, column: str) -> pd.Series:
        """Any column of the measurements table for these rows."""
        return pd.Series(self.table[column].array.take(self.rows))

    def key(self, columns: Sequence[str], start: np.ndarray | None = None) -> np.ndarray:
        """One integer per row that orders rows like the tuple of their codes in `columns`.

        Given the `start` of a key (from `key`), the columns refine it.
        """
        parts = [(self.code(column), len(self.labels[column])) for column in columns]
        if start is not None:
            parts.insert(0, (start, int(start.max(initial=0)) + 1))
        return combined_key(parts)

    def order(self, columns: Sequence[str]) -> np.ndarray:
        """Positions that sort the rows by `columns` (ties keep their current order)."""
        return np.argsort(self.key(columns), kind="stable")


def _concat(parts: list[KeyedRows]) -> KeyedRows:
    """The rows of several KeyedRows of one table, one after the other."""
    first = parts[0]
    own = {column: np.concatenate([p.own[column] for p in parts]) for column in first.own}
    rows = np.concatenate([p.rows for p in parts])
    return KeyedRows(first.table, rows, first.codes, first.labels, own)


def key_rows(
    measurements: pd.DataFrame,
    columns: Sequence[str],
    timepoints: pd.DataFrame | None = None,
    rows: np.ndarray | None = None,
) -> KeyedRows:
    """The measurements' key `columns` as codes, for `rows` (default all), with time ranks and
    dates if given timepoints."""
    codes, labels = {}, {}
    for column in columns:
        codes[column], labels[column] = sorted_codes(measurements[column].array)
    every_row = rows is None
    rows = np.arange(len(measurements), dtype=np.int32) if every_row else rows
    if timepoints is not None:
        visits = timepoint_order(timepoints)
        visit = _lookup_pairs(
            (_positions_in(visits["case_id"], labels["case_id"]), codes["case_id"]),
            (_positions_in(visits["timepoint"], labels["timepoint"]), codes["timepoint"]),
        )
        rank = np.where(visit >= 0, visits["rank"].to_numpy()[visit], -1).astype(np.int32)
        codes["rank"], labels["rank"] = rank, pd.RangeIndex(int(rank.max(initial=-1)) + 1)
        date_codes, labels["date"] = sorted_codes(visits["date"].array)
        codes["date"] = np.where(visit >= 0, date_codes[visit], -1).astype(np.int32)
    return KeyedRows(measurements, rows, codes, labels, every_row=every_row)


def sorted_codes(values: pd.api.extensions.ExtensionArray) -> tuple[np.ndarray, pd.Index]:
    """Each value's position among the sorted labels (-1 where missing), and those labels.

    Text read as categorical (Parquet's own dictionary of a column: no hashing of millions of
    strings) is recoded through its few categories, all of which are labels; other text is
    factorized, and its labels are its distinct values.
    """
    if isinstance(values, pd.Categorical):
        # Codes keep the categorical's own (narrow) integer type: less memory to gather.
        if values.categories.is_monotonic_increasing:  # already in text order: codes as they are
            return values.codes, values.categories
        labels = values.categories.sort_values()
        position = np.append(labels.get_indexer(values.categories), -1)
        # Code -1 (missing) takes the last position.
        return position.astype(values.codes.dtype).take(values.codes), labels
    found, labels = pd.factorize(values, sort=True)
    return found.astype(np.int32), pd.Index(labels)


def _positions_in(values: pd.Series, labels: pd.Index) -> np.ndarray:
    """Each value's position among the (distinct) labels, -1 where absent (an Arrow hash lookup)."""
    values, labels = pa.array(values), pa.array(labels)
    found = pc.index_in(values, value_set=labels.cast(values.type))
    return found.fill_null(-1).to_numpy().astype(np.int32)


def _lookup_pairs(
    first: tuple[np.ndarray, np.ndarray], second: tuple[np.ndarray, np.ndarray]
) -> np.ndarray:
    """For each queried pair of codes, the position of the same pair in a table of pairs (-1: none).

    `first` and `second` each hold (the table's codes, the queried codes), codes >= -1.
    """
    (table_a, query_a), (table_b, query_b) = first, second
    known = (table_a >= 0) & (table_b >= 0)
    size_a = max(int(table_a.max(initial=-1)), int(query_a.max(initial=-1))) + 2
    size_b = max(int(table_b.max(initial=-1)), int(query_b.max(initial=-1))) + 2
    if size_a * size_b <= 4 * len(query_a) + 1_000_000:
        # A dense grid; code -1 indexes its last row or column, which stays empty.
        grid = np.full((size_a, size_b), -1, dtype=np.int32)
        grid[table_a[known], table_b[known]] = np.flatnonzero(known)
        return grid[query_a, query_b]
    # Too many combinations for a grid: look the pairs up as single integers.
    pairs = pd.Index(table_a[known].astype(np.int64) * size_b + table_b[known])
    found = pairs.get_indexer(query_a.astype(np.int64) * size_b + query_b)
    return np.where(found >= 0, np.flatnonzero(known)[found], -1).astype(np.int32)


def _measurement_rows(tables: dict[str, pd.DataFrame]) -> KeyedRows:
    """All measurements, keyed by examination and parameter, with time ranks and dates."""
    return key_rows(tables["measurements"], KEY_COLUMNS, timepoints=tables["timepoints"])


def _parameter_position(keyed: KeyedRows, parameters: Sequence[str]) -> np.ndarray:
    """Each row's parameter's position in `parameters` (-1 where it is not one of them)."""
    labels = keyed.labels["parameter"]
    position = np.full(len(labels) + 1, -1, dtype=np.int32)  # the last entry serves code -1
    found = labels.get_indexer(parameters)
    position[found[found >= 0]] = np.flatnonzero(found >= 0)
    # (np.take: a faster gather than indexing; small integers: less memory)
    position = position.astype(np.int8 if len(parameters) < 127 else np.int32)
    return position.take(keyed.code("parameter"))


def _groups(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Groups of equal keys, numbered in key order: each entry's group, and each group's first entry."""
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    starts = run_firsts(sorted_keys)
    group = np.empty(len(keys), dtype=np.int64)
    group[order] = np.cumsum(starts) - 1
    return group, order[starts]


def _examinations(
    keyed: KeyedRows, parameters: Sequence[str]
) -> tuple[KeyedRows, KeyedRows, np.ndarray]:
    """The examinations that print any of `parameters`, sorted by their keys.

    Returns the first row of each examination, the rows that print the parameters, and a matrix
    (examination x parameter) of positions in those rows (-1 where the examination has none).
    """
    parameter = _parameter_position(keyed, parameters)
    printing = parameter >= 0
    rows, parameter = keyed.take(printing), parameter[printing]
    examination, first = _groups(rows.key(EXAMINATION))
    cells = np.full((len(first), len(parameters)), -1)
    # Assigned last to first so that, were a value printed twice, the first one wins.
    cells[examination[::-1], parameter[::-1]] = np.arange(len(rows))[::-1]
    return rows.take(first), rows, cells


def _wide_frame(
    exams: KeyedRows,
    rows: KeyedRows,
    cells: np.ndarray,
    parameters: Sequence[str],
    with_text: bool = True,
) -> pd.DataFrame:
    """The `wide` table of some examinations (see `_examinations` for the arguments)."""
    involved = np.flatnonzero((cells >= 0).any(axis=0))  # parameters printed at least once
    value_num = rows.values("value_num").astype("float64")
    decimals = rows.values("decimals")
    scale = rows.values("scale") if "scale" in rows.table.columns else None
    interval = printed(value_num, decimals, rows.values("qualifier_means"), scale)
    fields: dict[str, np.ndarray] = {
        "": value_num.to_numpy(),
        "_decimals": decimals.to_numpy(),
        "_low": interval.lo.to_numpy(),
        "_high": interval.hi.to_numpy(),
    }
    # Decimals stay integers only where every examination prints every involved parameter.
    complete = bool((cells[:, involved] >= 0).all())
    columns: dict[str, object] = {column: exams.text(column) for column in EXAMINATION}
    for suffix, values in fields.items():
        as_float = np.append(values.astype("float64"), np.nan)
        for i, parameter in enumerate(parameters):
            if suffix == "_decimals" and complete and i in involved:
                columns[f"{parameter}{suffix}"] = values[cells[:, i]]
            else:
                columns[f"{parameter}{suffix}"] = as_float[cells[:, i]]
    if with_text:
        text = rows.values("value").array
        for i, parameter in enumerate(parameters):
            columns[f"{parameter}_printed"] = (
                text.take(cells[:, i], allow_fill=True)
                if i in involved
                else np.full(len(cells), np.nan)
            )
    return pd.DataFrame(columns)


def wide(measurements: pd.DataFrame, parameters: list[str]) -> pd.DataFrame:
    """One row per examination, with each parameter's value, decimals, interval and qualifier.

    Columns per parameter p: `p` (value), `p_decimals`, `p_low`, `p_high`, `p_printed`.
    """
    rows = np.flatnonzero(measurements["parameter"].isin(parameters).to_numpy())
    keyed = key_rows(measurements, KEY_COLUMNS, rows=rows)
    frame = _wide_frame(*_examinations(keyed, parameters), parameters)
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


#: An examination's columns in the metrics tables, with the timepoint's date.
EXAMINATION_DATED = ["case_id", "timepoint", "date", "modality", "method", "source"]
#: Examinations in a case's time order (timepoints not in timepoints.csv first).
IN_TIME = ["case_id", "rank", "modality", "method", "source", "timepoint"]


def _wide_in_time(
    keyed: KeyedRows, parameters: Sequence[str], wanted: Callable[[np.ndarray], np.ndarray]
) -> pd.DataFrame:
    """`wide` (without printed text) of the examinations whose values pass `wanted`, in time order.

    `wanted` gets the examinations' values (examination x parameter, NaN where not printed).
    """
    exams, rows, cells = _examinations(keyed, parameters)
    keep = wanted(values_at(rows.values("value_num").to_numpy(), cells))
    exams, cells = exams.take(keep), cells[keep]
    order = exams.order(IN_TIME)
    exams, cells = exams.take(order), cells[order]
    w = _wide_frame(exams, rows, cells, parameters, with_text=False)
    return w.assign(date=exams.text("date"))


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
    return formulas.load(tables["formulas"], tables["dictionary"])


def _giving(
    identities: tuple[formulas.Formula, ...], quantity: str, using: str
) -> formulas.Side | None:
    """The formula side that gives `quantity` from an input `using` (formulas.csv; None if none)."""
    sides = [side for _, side in formulas.implied_by(identities, quantity) if using in side.names]
    return sides[0] if sides else None


def haemodynamics(tables: dict[str, pd.DataFrame], keyed: KeyedRows | None = None) -> pd.DataFrame:
    """SV and EF recomputed from EDV and ESV (formulas.csv) of every examination that prints both."""
    keyed = _measurement_rows(tables) if keyed is None else keyed
    identities = _identities(tables)
    params = ["lv_edv", "lv_esv", "stroke_volume", "lvef"]
    w = _wide_in_time(keyed, params, lambda v: ~np.isnan(v[:, 0]) & ~np.isnan(v[:, 1]))
    out = w[EXAMINATION_DATED + ["lv_edv", "lv_esv"]]
    for quantity in ("stroke_volume", "lvef"):
        out = _put(out, quantity, *_derived(w, _giving(identities, quantity, "lv_esv")))
    return out.assign(stroke_volume_reported=w["stroke_volume"], lvef_reported=w["lvef"])


def implied(tables: dict[str, pd.DataFrame], keyed: KeyedRows | None = None) -> pd.DataFrame:
    """Body-surface area implied by SV/SVI and CO/CI, and heart rate implied by CO/SV (per scan),
    from formulas.csv."""
    keyed = _measurement_rows(tables) if keyed is None else keyed
    identities = _identities(tables)
    params = ["stroke_volume", "stroke_volume_index", "cardiac_output", "cardiac_index"]

    def wanted(values: np.ndarray) -> np.ndarray:
        sv, svi, co, ci = (~np.isnan(values[:, i]) for i in range(4))
        return (sv & svi) | (co & ci) | (co & sv)

    w = _wide_in_time(keyed, params, wanted)
    out = w[EXAMINATION_DATED]
    out = _put(out, "bsa_from_sv", *_derived(w, _giving(identities, "bsa", "stroke_volume_index")))
    out = _put(out, "bsa_from_co", *_derived(w, _giving(identities, "bsa", "cardiac_index")))
    return _put(out, "heart_rate", *_derived(w, _giving(identities, "heart_rate", "stroke_volume")))


def table_sources(tables: dict[str, pd.DataFrame]) -> list[str]:
    """The sources that are the paper's tables (as named in table_layout.csv)."""
    return sorted(tables["table_layout"]["source"].unique())


def _series_in_time(keyed: KeyedRows) -> tuple[np.ndarray, np.ndarray]:
    """Rows sorted by series (case, source, modality, method, parameter), then time.

    Unknown timepoints come last, ties keep table order. Returns the sorting positions and, for
    each sorted row, the position (in sorted order) of its series' first row: its baseline.
    """
    series = keyed.key(SERIES)
    rank, n_ranks = keyed.code("rank"), len(keyed.labels["rank"])
    time = np.where(rank < 0, n_ranks, rank)  # unknown timepoints after the last rank
    keyed = keyed.with_code("time", time, pd.RangeIndex(n_ranks + 1))
    order = np.argsort(keyed.key(["time"], start=series), kind="stable")
    return order, run_starts(run_firsts(series[order]))


def change_from_baseline(
    tables: dict[str, pd.DataFrame], keyed: KeyedRows | None = None
) -> pd.DataFrame:
    """Absolute and relative change of every table parameter against the first timepoint."""
    keyed = _measurement_rows(tables) if keyed is None else keyed
    sources = keyed.labels["source"].get_indexer(table_sources(tables))
    # Rows of the paper's tables at a known timepoint (others have no place in time).
    keep = np.isin(keyed.code("source"), sources[sources >= 0]) & (keyed.code("rank") >= 0)
    pairs = keyed.take(keep)
    order, baseline = _series_in_time(pairs)
    pairs = pairs.take(order)
    value = pairs.values("value_num")
    baseline_value = pd.Series(value.to_numpy()[baseline])
    change = value - baseline_value
    out = pd.DataFrame(
        {
            column: pairs.text(column)
            for column in ["case_id", "source", "modality", "method", "parameter", "timepoint"]
        }
    )
    return out.assign(
        date=pairs.text("date"),
        value=value,
        baseline_timepoint=pairs.text("timepoint", at=baseline),
        baseline_value=baseline_value,
        change=change.round(ROUND),
        change_percent=(100 * change / baseline_value).round(ROUND),
    )


def _lvef_categories(values: pd.Series, t: dict) -> tuple[np.ndarray, list[str]]:
    """Each value's LVEF category, as a code into the returned category names."""
    conditions = [
        values <= t["reduced_max"],
        values >= t["preserved_min"],
        values <= t["mildly_reduced_max"],
    ]
    return np.select(conditions, [0, 1, 2], 3), ["HFrEF", "HFpEF", "HFmrEF", "between_categories"]


def _bp_categories(sbp: pd.Series, dbp: pd.Series, t: dict) -> tuple[np.ndarray, list[str]]:
    """Each reading's ACC/AHA blood-pressure category, as a code into the returned names."""
    conditions = [
        (sbp < t["normal_sbp_below"]) & (dbp < t["normal_dbp_below"]),
        (sbp < t["elevated_sbp_below"]) & (dbp < t["normal_dbp_below"]),
        (sbp < t["stage1_sbp_below"]) & (dbp < t["stage1_dbp_below"]),
    ]
    return np.select(conditions, [0, 1, 2], 3), ["normal", "elevated", "stage_1", "stage_2"]


@dataclass(frozen=True)
class _Scheme:
    """One classification scheme's printed values: rows, categories, rule and citation."""

    name: str
    rows: KeyedRows
    category: tuple[np.ndarray, list[str]]  # each row's category code, and the category names
    rule: str
    citation: str
    #: Blood pressure: each (systolic) row's diastolic row in the measurements table.
    diastolic: np.ndarray | None = None

    def second_rows(self) -> np.ndarray:
        """The rows whose value is printed after a '/' (-1 where none)."""
        return np.full(len(self.rows), -1) if self.diastolic is None else self.diastolic


def _schemes(keyed: KeyedRows, thresholds: dict) -> list[_Scheme]:
    lvef, nt, hr = thresholds["lvef"], thresholds["nt_probnp"], thresholds["heart_rate"]
    bp = thresholds["blood_pressure"]
    parameter = _parameter_position(keyed, ["lvef", "nt_probnp", "heart_rate", "sbp", "dbp"])
    classified = keyed.take(parameter >= 0)
    parameter = parameter[parameter >= 0]
    ef, bnp, rate, sbp, dbp = (classified.take(parameter == i) for i in range(5))
    # Each systolic value with the diastolic value of the same examination (systolic order).
    dbp_keys = dbp.key(EXAMINATION)
    dbp_order = np.argsort(dbp_keys, kind="stable")
    sbp_keys = sbp.key(EXAMINATION)
    at = np.minimum(np.searchsorted(dbp_keys[dbp_order], sbp_keys), len(dbp_order) - 1)
    paired = dbp_keys[dbp_order][at] == sbp_keys if len(dbp_order) else at < 0
    sbp = sbp.take(paired)
    dbp = dbp.take(dbp_order[at[paired]])
    ef_value, bnp_value, rate_value = (p.values("value_num") for p in (ef, bnp, rate))
    return [
        _Scheme(
            "lvef_category",
            ef,
            _lvef_categories(ef_value, lvef),
            f"HFrEF <= {lvef['reduced_max']:g}; HFmrEF {lvef['reduced_max'] + 1:g}-{lvef['mildly_reduced_max']:g}; "
            f"HFpEF >= {lvef['preserved_min']:g} (%)",
            _citation(lvef),
        ),
        _Scheme(
            "nt_probnp",
            bnp,
            (
                np.where(bnp_value < nt["rule_out_below"], 0, 1),
                ["below_rule_out", "at_or_above_rule_out"],
            ),
            f"rule-out below {nt['rule_out_below']:g} pg/mL",
            _citation(nt),
        ),
        _Scheme(
            "heart_rate",
            rate,
            (
                np.select(
                    [rate_value < hr["resting_low"], rate_value > hr["resting_high"]], [0, 1], 2
                ),
                ["below_range", "above_range", "within_range"],
            ),
            f"resting {hr['resting_low']:g}-{hr['resting_high']:g} bpm",
            _citation(hr),
        ),
        _Scheme(
            "blood_pressure",
            sbp,
            _bp_categories(sbp.values("value_num"), dbp.values("value_num"), bp),
            f"normal <{bp['normal_sbp_below']:g}/<{bp['normal_dbp_below']:g}; elevated "
            f"{bp['normal_sbp_below']:g}-{bp['elevated_sbp_below'] - 1:g}/<{bp['normal_dbp_below']:g}; stage 1 "
            f"{bp['elevated_sbp_below']:g}-{bp['stage1_sbp_below'] - 1:g} or "
            f"{bp['normal_dbp_below']:g}-{bp['stage1_dbp_below'] - 1:g}; stage 2 >={bp['stage1_sbp_below']:g} or "
            f">={bp['stage1_dbp_below']:g} mmHg",
            _citation(bp),
            diastolic=dbp.rows,
        ),
    ]


def classifications(
    tables: dict[str, pd.DataFrame], thresholds: dict, keyed: KeyedRows | None = None
) -> pd.DataFrame:
    """LVEF category, NT-proBNP vs rule-out, ACC/AHA BP category and resting heart rate, per printed value."""
    keyed = _measurement_rows(tables) if keyed is None else keyed
    schemes = _schemes(keyed, thresholds)
    # Every classified value, with its scheme as one more code, in the order of the output.
    which = np.repeat(np.arange(len(schemes)), [len(s.rows) for s in schemes])
    names = pd.Index(sorted(s.name for s in schemes))
    rows = _concat([s.rows for s in schemes])
    rows = rows.with_code("scheme", names.get_indexer([s.name for s in schemes])[which], names)
    order = rows.order(["case_id", "rank", "scheme", "modality", "method", "source"])
    rows, which = rows.take(order), which[order]
    # The schemes' category names one after the other, and each row's code into them.
    offsets = np.cumsum([0] + [len(s.category[1]) for s in schemes])
    category = np.concatenate([s.category[0] + offsets[i] for i, s in enumerate(schemes)])
    category_names = [name for s in schemes for name in s.category[1]]
    # Blood pressure prints as 'sbp/dbp'.
    second = np.concatenate([s.second_rows() for s in schemes])[order]
    value = _joined_text(keyed.table["value"], rows.rows, second)
    out = pd.DataFrame({column: rows.text(column) for column in EXAMINATION})
    return out.assign(
        scheme=rows.text("scheme"),
        value=value,
        category=_texts(category_names, category[order]),
        rule=_texts([s.rule for s in schemes], which),
        citation=_texts([s.citation for s in schemes], which),
    )


def _joined_text(text: pd.Series, first: np.ndarray, second: np.ndarray) -> pd.Series:
    """The text at rows `first`, followed by '/' and the text at rows `second` where not -1,
    as a categorical: each distinct pair of texts is joined once."""
    values, rows = text.array, np.concatenate([first, second])
    if isinstance(values, pd.Categorical):  # as derive_metrics.py reads it: coded already
        codes, categories = np.where(rows >= 0, values.codes[rows], -1), values.categories
    else:
        codes, categories = pd.factorize(values.take(rows, allow_fill=True))
    first_code, second_code = codes[: len(first)].astype(np.int64), codes[len(first) :]
    size = len(categories) + 1
    pair, pairs = pd.factorize((first_code + 1) * size + (second_code + 1))
    labels = pa.array(categories, pa.large_string())
    first_text = pc.take(labels, pa.array(pairs // size - 1, mask=pairs // size == 0))
    second_text = pc.take(labels, pa.array(pairs % size - 1, mask=pairs % size == 0))
    # A missing second part is skipped, with its '/'.
    slash = pa.scalar("/", type=first_text.type)
    joined = pc.binary_join_element_wise(first_text, second_text, slash, null_handling="skip")
    return _texts(joined, pair)


def _texts(labels: Sequence[str] | pa.Array, codes: np.ndarray) -> pd.Series:
    """Text column from labels (some may be equal) and one code per row, as a categorical."""
    position, distinct = pd.factorize(pd.array(labels, dtype="str"))
    return coded_text(np.append(position, -1)[codes], pd.Index(distinct))


def coded_text(codes: np.ndarray, labels: pd.Index) -> pd.Series:
    """A text column as a categorical: each row's code into the distinct `labels` (-1: missing).

    The metrics tables keep their text coded; the CSV writer formats each label once."""
    return pd.Series(pd.Categorical.from_codes(codes, dtype=pd.CategoricalDtype(labels)))


#: The key of a remodelling row: a series of scans and the later timepoint compared with its first.
_REMODELLING_KEY = ["case_id", "source", "modality", "method", "baseline_timepoint", "timepoint"]


def _against_baseline(keyed: KeyedRows) -> tuple[KeyedRows, pd.DataFrame]:
    """One row per series and later timepoint (`_REMODELLING_KEY`, in time order) with LVEF and
    LVESV there and at the series' first timepoint."""
    params = ["lvef", "lv_esv"]
    pairs = keyed.take(_parameter_position(keyed, params) >= 0)
    order, baseline = _series_in_time(pairs)
    pairs = pairs.take(order)
    value = pairs.values("value_num").to_numpy()
    timepoint = pairs.code("timepoint")
    pairs = pairs.with_code("baseline_timepoint", timepoint[baseline], pairs.labels["timepoint"])
    later = timepoint != timepoint[baseline]
    pairs, value, baseline_value = pairs.take(later), value[later], value[baseline][later]
    # One row per series and later timepoint, with both parameters side by side.
    group, first = _groups(pairs.key(_REMODELLING_KEY))
    cells = np.full((len(first), len(params)), -1)
    parameter = _parameter_position(pairs, params)
    cells[group[::-1], parameter[::-1]] = np.arange(len(pairs))[::-1]
    rows = pairs.take(first)
    order = rows.order(
        ["case_id", "rank", "source", "modality", "method", "baseline_timepoint", "timepoint"]
    )
    rows, cells = rows.take(order), cells[order]
    w = pd.DataFrame(
        {
            "lvef_baseline": values_at(baseline_value, cells[:, 0]),
            "lvef": values_at(value, cells[:, 0]),
            "lv_esv_baseline": values_at(baseline_value, cells[:, 1]),
            "lv_esv": values_at(value, cells[:, 1]),
        }
    )
    return rows, w


def _known(flag: pd.Series, *inputs: pd.Series) -> pd.Series:
    """The flag, missing where any of its inputs is (a criterion that cannot be judged)."""
    missing = pd.concat(inputs, axis=1).isna().any(axis=1)
    return flag.astype("boolean").mask(missing, pd.NA)


def remodelling(
    tables: dict[str, pd.DataFrame], thresholds: dict, keyed: KeyedRows | None = None
) -> pd.DataFrame:
    """HFimpEF and reverse-remodelling criteria at each later timepoint against the first."""
    lvef, rr = thresholds["lvef"], thresholds["reverse_remodelling"]
    rows, w = _against_baseline(_measurement_rows(tables) if keyed is None else keyed)
    rise = w["lvef"] - w["lvef_baseline"]
    fall = 100 * (w["lv_esv_baseline"] - w["lv_esv"]) / w["lv_esv_baseline"]
    hfimpef = (
        (w["lvef_baseline"] <= lvef["improved_baseline_max"])
        & (rise >= lvef["improved_rise_min"])
        & (w["lvef"] > lvef["improved_followup_above"])
    )
    rise_met = _known(rise >= rr["lvef_rise_min_points"], rise)
    fall_met = _known(fall >= rr["lvesv_fall_min_percent"], fall)
    out = pd.DataFrame({column: rows.text(column) for column in _REMODELLING_KEY})
    return out.assign(
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
    keyed = _measurement_rows(tables)  # coded once, shared by every table
    return {
        "haemodynamics": haemodynamics(tables, keyed),
        "implied": implied(tables, keyed),
        "change_from_baseline": change_from_baseline(tables, keyed),
        "classifications": classifications(tables, thresholds, keyed),
        "remodelling": remodelling(tables, thresholds, keyed),
    }
