"""Rebuild the paper's tables from the validated data and `table_layout.csv` alone.

Each row of the layout names a table, a case (blank: every case), a printed label, a parameter
(or a composite row: blood pressure, an infusion's complaints or complications), a modality and
the source its values come from; a row with neither parameter nor source is a heading row (its
label over empty cells). Columns are the timepoints the placed values belong to, in the case's
own order (`timepoints.sequence`) and under its own labels; a table whose values carry a method
has one column per timepoint and method (a value without a method sits under the first). A cell
prints the value as the raw table holds it (its qualifier's prefix first). `paper_tables.csv`
gives a table's top-left cell, whether it ends in a Change column, and whether a column of the
paper's reference ranges follows the row labels (each row's range in the unit of its values).

A table is returned as a `Grid`: header rows and body rows of printed cells, ready to be written
as CSV (for checking, cell by cell) or as a Markdown pipe table (for the manuscript).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import numpy as np
import pandas as pd

from caserepro.formatting import format_printed
from caserepro.markup import text_table

#: Change arrows, from the sign of last − first.
ARROWS = {1: "↑", -1: "↓", 0: "="}
MIXED_ARROW = "↕"
#: Heading of a table that paper_tables.csv does not list, and of its Change column.
DEFAULT_CORNER = "Parameter"
CHANGE = "Change"
#: The en dash between the two ends of a printed range ("60–90").
RANGE_DASH = "–"
#: Columns of one placed value: which table cell it fills and what it prints.
CELL_KEY = ["table", "case_id", "layout_row", "timepoint", "method"]
INFUSION_ROWS = ["complaints", "cell_dose", "complications"]


class TableError(ValueError):
    """A layout that cannot be filled unambiguously (validation reports the same as Problems)."""


@dataclass(frozen=True)
class Grid:
    """A printed table: one or more header rows, then body rows, all cells as text."""

    header: list[list[str]]
    body: list[list[str]]

    def to_csv(self) -> str:
        """CSV text, every header row first (a table split by method has two)."""
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows(self.header + self.body)
        return out.getvalue()

    def to_markdown(self) -> str:
        """A pipe table, every cell verbatim; header rows after the first become the first body
        rows, as the paper prints them."""
        return text_table(self.header[0], self.header[1:] + self.body)


def _text(column: pd.Series) -> pd.Series:
    """A text or categorical column as plain text (missing stays missing); a categorical one by
    taking its values by code, without making a string per row."""
    if not isinstance(column.dtype, pd.CategoricalDtype):
        return column
    values = np.append(column.cat.categories.to_numpy(dtype=object), None)
    return pd.Series(values[column.cat.codes.to_numpy()], index=column.index, dtype=object)


def qualifier_prefixes(tables: dict[str, pd.DataFrame], qualifier: pd.Series) -> pd.Series:
    """What a table prints before each qualified value (qualifiers.csv `printed`), or ''."""
    codebook = tables.get("qualifiers")
    if codebook is None or codebook.empty:
        return pd.Series("", index=qualifier.index, dtype="str")
    printed = _text(codebook["printed"]).fillna("")
    printed = printed.where(_text(codebook["space"]) != "yes", printed + " ")
    prefix = dict(zip(_text(codebook["qualifier"]), printed, strict=True))
    return _text(qualifier).map(prefix).fillna("")


def measurement_cells(tables: dict[str, pd.DataFrame], sources: list[str]) -> pd.DataFrame:
    """Measurements from `sources` with their printed cell (qualifier prefix, the value as the
    raw table holds it, and the high end of a range) and the unit it is printed in."""
    m = tables["measurements"]
    m = m[m["source"].isin(sources)]
    cell = _text(m["value"])
    if "decimals" in m.columns:  # validated (validation places raw values: where, not what)
        cell = qualifier_prefixes(tables, m["qualifier"]) + cell
    if "value_high" in m.columns and m["value_high"].notna().any():
        high = _text(m["value_high"])
        ranged = high.notna()
        cell = cell.where(~ranged, cell + RANGE_DASH + high.fillna(""))
    columns = ["case_id", "timepoint", "modality", "method", "parameter", "source"]
    frame = pd.DataFrame({c: _text(m[c]) for c in columns}, index=m.index)
    value_num = m["value_num"] if "value_num" in m.columns else np.nan
    unit = _text(m["unit_given"] if "unit_given" in m.columns else m["unit"])
    return frame.assign(cell=cell, value_num=value_num, unit=unit, measurement=m.index.to_numpy())


def _blood_pressure(cells: pd.DataFrame) -> pd.DataFrame:
    """Systolic and diastolic rows of one reading joined as 'sbp/dbp', as papers print BP."""
    keys = ["case_id", "timepoint", "modality", "method", "source"]
    sbp = cells[cells["parameter"] == "sbp"]
    dbp = cells[cells["parameter"] == "dbp"]
    joined = sbp.merge(dbp, on=keys, suffixes=("", "_dbp"))
    return joined[keys].assign(
        parameter="blood_pressure",
        cell=joined["cell"] + "/" + joined["cell_dbp"],
        value_num=np.nan,
        unit=joined["unit"],
        measurement=-1,
    )


def _infusion_cells(tables: dict[str, pd.DataFrame], sources: list[str]) -> pd.DataFrame:
    """The infusion rows (complaints, cells, complications) in long form."""
    i = tables["infusions"]
    i = i[i["source"].isin(sources)]
    dictionary = tables["dictionary"]
    decimals = dictionary.loc[_text(dictionary["parameter"]) == "cell_dose", "decimals"]
    places = int(decimals.iloc[0]) if len(decimals) else 0
    dose = format_printed(i["cells_million"], pd.Series(places, index=i.index))
    frame = pd.DataFrame(
        {c: _text(i[c]) for c in ["case_id", "timepoint", "complaints", "complications", "source"]}
    ).assign(cell_dose=dose)
    long = frame.melt(
        id_vars=["case_id", "timepoint", "source"],
        value_vars=INFUSION_ROWS,
        var_name="parameter",
        value_name="cell",
    )
    return long.dropna(subset=["cell"]).assign(
        modality=pd.NA, method=pd.NA, value_num=np.nan, unit=pd.NA, measurement=-1
    )


def layout_of(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The layout as text, each row numbered by its position in the file (`layout_row`)."""
    layout = tables["table_layout"]
    columns = ["case_id", "table", "label", "parameter", "modality", "source"]
    text = pd.DataFrame({c: _text(layout[c]) for c in columns}, index=layout.index)
    # (a row number that did not read as one is missing here: validation reports it)
    return text.assign(row=layout["row"].astype("Int64"), layout_row=layout.index.to_numpy())


def placements(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Every value placed in a table cell: one row per (layout row, value), with the cell's key
    (`CELL_KEY`; `method` is the column's method, the first for a value without one)."""
    layout = layout_of(tables)
    sources = sorted(layout["source"].dropna().unique())
    cells = measurement_cells(tables, sources)
    cells = pd.concat(
        [cells, _blood_pressure(cells), _infusion_cells(tables, sources)], ignore_index=True
    )
    placed = cells.merge(layout, on=["parameter", "source"], suffixes=("", "_row"))
    placed = placed[
        (placed["modality_row"].isna() | (placed["modality_row"] == placed["modality"]))
        & (placed["case_id_row"].isna() | (placed["case_id_row"] == placed["case_id"]))
    ]
    return _with_columns(tables, placed.drop(columns=["modality_row", "case_id_row"]))


def _with_columns(tables: dict[str, pd.DataFrame], placed: pd.DataFrame) -> pd.DataFrame:
    """Placed values with the method of their column: a table whose values carry a method has a
    column per method (methods.csv order; a value without one under the first)."""
    methods = _text(tables["methods"]["method"]).tolist() if "methods" in tables else []
    pairs = placed[["table", "method"]].dropna().drop_duplicates()
    used = pairs.groupby("table")["method"].agg(set)
    first = {t: next(m for m in methods if m in found) for t, found in used.items()}
    fill = placed["table"].map(first)
    return placed.assign(
        method=placed["method"].where(placed["method"].notna() | fill.isna(), fill)
    )


def placement_problems(placed: pd.DataFrame, layout: pd.DataFrame) -> dict[str, pd.Series]:
    """Per layout row: shows at least one value; each of its cells holds one value. Per placed
    measurement (by index): it lands in one cell only."""
    shared_cell = placed.duplicated(CELL_KEY, keep=False).to_numpy()
    crowded = placed.loc[shared_cell, "layout_row"].unique()
    is_value = (placed["measurement"] >= 0).to_numpy()
    values = placed[is_value]
    twice = values.loc[values.duplicated("measurement", keep=False), "measurement"].unique()
    crowded_values = values.loc[shared_cell[is_value], "measurement"]
    return {
        "row_has_values": pd.Series(layout["layout_row"].isin(placed["layout_row"]).to_numpy()),
        "row_cells_single": pd.Series(~layout["layout_row"].isin(crowded).to_numpy()),
        "measurements_in_two_cells": pd.Series(np.union1d(twice, crowded_values.unique())),
    }


def table_keys(layout: pd.DataFrame) -> list[tuple[str | None, str]]:
    """The tables the layout defines, as (case_id or None for every case, table), in file order."""
    pairs = layout[["case_id", "table"]].drop_duplicates()
    return [(None if pd.isna(c) else str(c), str(t)) for c, t in pairs.itertuples(index=False)]


def _timepoints(tables: dict[str, pd.DataFrame], placed: pd.DataFrame) -> pd.DataFrame:
    """The timepoints of the placed values in time order (each case's own `sequence`), with labels."""
    t = tables["timepoints"]
    t = pd.DataFrame(
        {
            "case_id": _text(t["case_id"]),
            "timepoint": _text(t["timepoint"]),
            "label": _text(t["label"]),
            "sequence": t["sequence"].to_numpy(),
        }
    )
    used = placed[["case_id", "timepoint"]].drop_duplicates()
    t = t.merge(used, on=["case_id", "timepoint"])
    return t.sort_values(["sequence", "case_id"], kind="stable").drop_duplicates("timepoint")


def change_arrows(before: pd.DataFrame, after: pd.DataFrame) -> pd.Series:
    """Direction of change per (case, row) from before/after values of every method both share."""
    joined = before.merge(after, on=["case_id", "row", "method"], suffixes=("_before", "_after"))
    joined = joined.dropna(subset=["value_num_before", "value_num_after"])
    sign = np.sign(joined["value_num_after"] - joined["value_num_before"]).astype("int64")
    per_row = joined.assign(sign=sign).groupby(["case_id", "row"])["sign"]
    arrows = per_row.agg(lambda s: ARROWS[int(s.iloc[0])] if s.nunique() == 1 else MIXED_ARROW)
    return arrows.rename("change")


@dataclass(frozen=True)
class Heading:
    """How a table is headed (paper_tables.csv): its top-left cell, whether it ends in a Change
    column, and the heading of its reference-range column ('' for none)."""

    corner: str = DEFAULT_CORNER
    change: bool = False
    ranges: str = ""


def _heading(tables: dict[str, pd.DataFrame], case_id: str | None, table: str) -> Heading:
    """The table's heading from paper_tables.csv (the defaults for a table it does not list)."""
    headed = tables.get("paper_tables")
    if headed is None or headed.empty:
        return Heading()
    own = headed[
        (_text(headed["table"]) == table)
        & (
            _text(headed["case_id"]).isna()
            if case_id is None
            else _text(headed["case_id"]) == case_id
        )
    ]
    if own.empty:
        return Heading()
    row = own.iloc[0]
    ranges = row["ranges"] if "ranges" in own.columns else None
    return Heading(
        corner="" if pd.isna(row["corner"]) else str(row["corner"]),
        change=str(row["change"]) == "yes",
        ranges="" if pd.isna(ranges) else str(ranges),
    )


def _check_filled(placed: pd.DataFrame, rows: pd.DataFrame, name: str) -> None:
    """TableError if a layout row (other than a heading) shows no value or a cell would hold
    two values."""
    showing = rows["parameter"].notna()
    empty = rows.loc[showing & ~rows["layout_row"].isin(placed["layout_row"]), "label"].tolist()
    if empty:
        raise TableError(f"{name}: layout row(s) {empty} match no value (check source, modality)")
    crowded = placed[placed.duplicated(CELL_KEY, keep=False)]
    if not crowded.empty:
        where = crowded[["label", "case_id", "timepoint", "method"]].drop_duplicates()
        raise TableError(f"{name}: a cell would hold two values: {where.values.tolist()}")


def _with_heading_rows(grid: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    """The pivoted grid (indexed by case, row, label) with the layout's heading rows of each of
    its cases added, their cells empty."""
    headings = rows[rows["parameter"].isna()]
    cases = grid.index.get_level_values("case_id").unique()
    added = [
        (case, row, label)
        for case in cases
        for row, label, own in zip(
            headings["row"], headings["label"], headings["case_id"], strict=True
        )
        if pd.isna(own) or own == case
    ]
    return grid.reindex(grid.index.append(pd.MultiIndex.from_tuples(added, names=grid.index.names)))


def reference_range_text(low: pd.Series, high: pd.Series) -> pd.Series:
    """A printed reference range: 'low–high' as the raw table holds its ends, or '≥ low' /
    '≤ high' for a range with one end ('' for none)."""
    low, high = low.astype("object"), high.astype("object")
    has_low, has_high = low.notna().to_numpy(), high.notna().to_numpy()
    text = np.select(
        [has_low & has_high, has_low, has_high],
        [low + RANGE_DASH + high, "≥ " + low, "≤ " + high],
        "",
    )
    return pd.Series(text, index=low.index, dtype="str")


def _range_cells(
    tables: dict[str, pd.DataFrame], placed: pd.DataFrame, grid: pd.DataFrame
) -> list[str]:
    """Each grid row's reference range (reference_ranges.csv) in the unit its values print in;
    '' for a heading row, a composite row or a parameter the paper gives no range for."""
    ranges = tables.get("reference_ranges")
    if ranges is None or ranges.empty:
        return [""] * len(grid)
    keys = ["case_id", "row"]
    shown = placed[[*keys, "parameter", "unit"]].dropna().drop_duplicates(keys)
    printed = pd.DataFrame(
        {c: _text(ranges[c]) for c in ["case_id", "parameter", "unit", "low", "high"]}
    )
    printed = printed.assign(text=reference_range_text(printed["low"], printed["high"]))
    found = shown.merge(printed, on=["case_id", "parameter", "unit"])
    return _per_grid_row(grid, found.set_index(keys)["text"])


def _per_grid_row(grid: pd.DataFrame, values: pd.Series) -> list[str]:
    """`values` (indexed by case and layout row) for each row of the grid, '' where it has none."""
    keys = pd.MultiIndex.from_frame(grid[["case_id", "row"]])
    return keys.map(values.to_dict()).fillna("").tolist()


def build_table(tables: dict[str, pd.DataFrame], table: str, case_id: str | None = None) -> Grid:
    """One table of the layout: its rows for `case_id` (None: the rows for every case)."""
    layout = layout_of(tables)
    own = layout["table"] == table
    own &= layout["case_id"].isna() if case_id is None else layout["case_id"] == case_id
    rows = layout[own].sort_values("row", kind="stable")
    if rows.empty:
        raise TableError(f"table {table!r} has no row in table_layout.csv for case {case_id}")
    placed = placements(tables)
    placed = placed[placed["layout_row"].isin(rows["layout_row"])]
    _check_filled(placed, rows, table)
    heading = _heading(tables, case_id, table)
    order = _timepoints(tables, placed)
    split = placed["method"].notna().any()
    methods = [m for m in _text(tables["methods"]["method"]) if m in set(placed["method"])]
    columns = [(tp, m) for tp in order["timepoint"] for m in (methods if split else [None])]
    keyed = placed.assign(method=placed["method"].fillna("") if not split else placed["method"])
    grid = keyed.pivot_table(
        index=["case_id", "row", "label"],
        columns=["timepoint", "method"],
        values="cell",
        aggfunc="first",
    )
    wanted = pd.MultiIndex.from_tuples([(tp, m if split else "") for tp, m in columns])
    grid = _with_heading_rows(grid.reindex(columns=wanted), rows)
    grid = grid.fillna("").reset_index().sort_values(["case_id", "row"])
    labels = dict(zip(order["timepoint"], order["label"], strict=True))
    width = len(methods) if split else 1
    top = [labels[tp] if j % width == 0 else "" for j, (tp, _) in enumerate(columns)]
    header = [[heading.corner, *top]]
    if split:
        named = tables["methods"]
        method_labels = dict(zip(_text(named["method"]), _text(named["label"]), strict=True))
        header.append(["", *[method_labels[m] for _, m in columns]])
    body = grid[wanted].astype("str").values.tolist()
    if heading.change:
        header = [[*header[0], CHANGE], *[[*h, ""] for h in header[1:]]]
        body = [[*r, a] for r, a in zip(body, _arrows(placed, order, grid), strict=True)]
    if heading.ranges:
        header = [[h[0], heading.ranges if i == 0 else "", *h[1:]] for i, h in enumerate(header)]
        ranges = _range_cells(tables, placed, grid)
        body = [[r, *cells] for r, cells in zip(ranges, body, strict=True)]
    body = [[label, *r] for label, r in zip(grid["label"], body, strict=True)]
    if grid["case_id"].nunique() > 1:
        header = [["Case", *header[0]], *[["", *h] for h in header[1:]]]
        body = [[case, *row] for case, row in zip(grid["case_id"], body, strict=True)]
    return Grid(header, body)


def _arrows(placed: pd.DataFrame, order: pd.DataFrame, grid: pd.DataFrame) -> list[str]:
    """The Change column: the direction from the first to the last timepoint of each row."""
    first, last = order["timepoint"].iloc[0], order["timepoint"].iloc[-1]
    values = placed[["case_id", "row", "method", "value_num", "timepoint"]]
    arrows = change_arrows(
        values[values["timepoint"] == first].drop(columns="timepoint"),
        values[values["timepoint"] == last].drop(columns="timepoint"),
    )
    return _per_grid_row(grid, arrows)


def table1(tables: dict[str, pd.DataFrame]) -> Grid:
    """The paper's Table 1 (its layout rows, whichever case they name)."""
    return build_table(tables, "table1", _only_case(tables, "table1"))


def table2(tables: dict[str, pd.DataFrame]) -> Grid:
    """The paper's Table 2 (its layout rows, whichever case they name)."""
    return build_table(tables, "table2", _only_case(tables, "table2"))


def _only_case(tables: dict[str, pd.DataFrame], table: str) -> str | None:
    """The one case a table's layout rows name (None if they name none)."""
    cases = [c for c, t in table_keys(layout_of(tables)) if t == table]
    return cases[0] if cases else None
