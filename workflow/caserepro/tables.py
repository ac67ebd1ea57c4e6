"""Rebuild the paper's Table 1 (visits) and Table 2 (MRI before/after) from the validated data.

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

#: Change arrows of Table 2, from the sign of after − before.
ARROWS = {1: "↑", -1: "↓", 0: "="}
MIXED_ARROW = "↕"


@dataclass(frozen=True)
class Grid:
    """A printed table: one or more header rows, then body rows, all cells as text."""

    header: list[list[str]]
    body: list[list[str]]

    def to_csv(self) -> str:
        """CSV text, every header row first (Table 2 has two)."""
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows(self.header + self.body)
        return out.getvalue()

    def to_markdown(self) -> str:
        """A pipe table, every cell verbatim; header rows after the first become the first body
        rows, as the paper prints them."""
        return text_table(self.header[0], self.header[1:] + self.body)


def _layout(tables: dict[str, pd.DataFrame], table: str) -> pd.DataFrame:
    layout = tables["table_layout"]
    return layout[layout["table"] == table].sort_values("row")


def _timepoint_order(tables: dict[str, pd.DataFrame], timepoints: pd.Index) -> list[str]:
    """Timepoints in time order: by months after the first infusion, then by date."""
    t = (
        tables["timepoints"]
        .drop_duplicates("timepoint")
        .set_index("timepoint")
        .loc[list(timepoints)]
    )
    return list(t.sort_values(["date", "months_after_first_infusion"], na_position="last").index)


def _labels(tables: dict[str, pd.DataFrame]) -> pd.Series:
    return tables["timepoints"].drop_duplicates("timepoint").set_index("timepoint")["label"]


def _printed_measurements(tables: dict[str, pd.DataFrame], source: str) -> pd.DataFrame:
    """The table's own measurements (by source), with their printed cell text."""
    m = tables["measurements"]
    m = m[m["source"] == source]
    return m.assign(cell=format_printed(m["value_num"], m["decimals"]))


def _infusion_cells(tables: dict[str, pd.DataFrame], source: str) -> pd.DataFrame:
    """Table 1's infusion rows (complaints, cells, complications) in long form."""
    i = tables["infusions"]
    i = i[i["source"] == source]
    decimals = tables["dictionary"].set_index("parameter").at["cell_dose", "decimals"]
    i = i.assign(cell_dose=format_printed(i["cells_million"], pd.Series(decimals, index=i.index)))
    long = i.melt(
        id_vars=["case_id", "timepoint"],
        value_vars=["complaints", "cell_dose", "complications"],
        var_name="parameter",
        value_name="cell",
    )
    return long.assign(modality=pd.NA)


def _blood_pressure(cells: pd.DataFrame) -> pd.DataFrame:
    """Systolic and diastolic rows of one reading joined as 'sbp/dbp', as the paper prints BP."""
    keys = ["case_id", "timepoint", "modality"]
    sbp = cells[cells["parameter"] == "sbp"].set_index(keys)["cell"]
    dbp = cells[cells["parameter"] == "dbp"].set_index(keys)["cell"]
    joined = (sbp + "/" + dbp).dropna().rename("cell").reset_index()
    return joined.assign(parameter="blood_pressure")


def table1(tables: dict[str, pd.DataFrame]) -> Grid:
    """Table 1: one column per visit, rows and labels as the paper prints them."""
    layout = _layout(tables, "table1")
    source = layout["source"].iloc[0]
    cells = _printed_measurements(tables, source)[
        ["case_id", "timepoint", "modality", "parameter", "cell"]
    ]
    cells = pd.concat(
        [cells, _blood_pressure(cells), _infusion_cells(tables, source)], ignore_index=True
    )
    rows = layout[["row", "label", "parameter", "modality"]]
    by_modality = cells.merge(rows.dropna(subset=["modality"]), on=["parameter", "modality"])
    any_modality = cells.drop(columns="modality").merge(
        rows[rows["modality"].isna()], on="parameter"
    )
    placed = pd.concat([by_modality, any_modality], ignore_index=True)
    grid = placed.pivot_table(
        index=["case_id", "row", "label"], columns="timepoint", values="cell", aggfunc="first"
    )
    order = _timepoint_order(tables, grid.columns)
    grid = grid[order].fillna("").reset_index().sort_values(["case_id", "row"])
    cases = grid["case_id"].nunique()
    header = ["Visit", *_labels(tables).loc[order]]
    body = grid[["label", *order]].astype("str").values.tolist()
    if cases > 1:
        header = ["Case", *header]
        body = [[case, *row] for case, row in zip(grid["case_id"], body, strict=True)]
    return Grid([header], body)


def change_arrows(before: pd.DataFrame, after: pd.DataFrame) -> pd.Series:
    """Direction of change per (case, row) from before/after values of every method both share."""
    joined = before.merge(after, on=["case_id", "row", "method"], suffixes=("_before", "_after"))
    sign = np.sign(joined["value_num_after"] - joined["value_num_before"]).astype("int64")
    per_row = joined.assign(sign=sign).groupby(["case_id", "row"])["sign"]
    arrows = per_row.agg(lambda s: ARROWS[int(s.iloc[0])] if s.nunique() == 1 else MIXED_ARROW)
    return arrows.rename("change")


def table2(tables: dict[str, pd.DataFrame]) -> Grid:
    """Table 2: before/after × method columns and a Change arrow derived from the values."""
    layout = _layout(tables, "table2")
    source = layout["source"].iloc[0]
    methods = tables["methods"]["method"].tolist()
    cells = _printed_measurements(tables, source)
    cells = cells.merge(
        layout[["row", "label", "parameter", "modality"]], on=["parameter", "modality"]
    )
    # A value the paper prints once for both methods (LV mass) sits under the first method.
    cells = cells.assign(method=cells["method"].fillna(methods[0]))
    order = _timepoint_order(tables, pd.Index(cells["timepoint"].unique()))
    columns = [(tp, method) for tp in order for method in methods]
    grid = cells.pivot_table(
        index=["case_id", "row", "label"],
        columns=["timepoint", "method"],
        values="cell",
        aggfunc="first",
    )
    grid = grid.reindex(columns=pd.MultiIndex.from_tuples(columns)).fillna("")
    first, last = order[0], order[-1]
    arrows = change_arrows(
        cells[cells["timepoint"] == first][["case_id", "row", "method", "value_num"]],
        cells[cells["timepoint"] == last][["case_id", "row", "method", "value_num"]],
    )
    grid = grid.reset_index().sort_values(["case_id", "row"])
    change = pd.MultiIndex.from_frame(grid[["case_id", "row"]]).map(arrows.to_dict()).fillna("")
    labels = _labels(tables)
    method_labels = tables["methods"].set_index("method")["label"]
    header = [
        [
            "Parameter",
            *[labels[tp] if i == 0 else "" for tp in order for i, _ in enumerate(methods)],
            "Change",
        ],
        ["", *[method_labels[m] for _ in order for m in methods], ""],
    ]
    body = [
        [label, *values, arrow]
        for label, values, arrow in zip(
            grid["label"], grid[columns].astype("str").values.tolist(), change, strict=True
        )
    ]
    if grid["case_id"].nunique() > 1:
        header = [["Case", *header[0]], ["", *header[1]]]
        body = [[case, *row] for case, row in zip(grid["case_id"], body, strict=True)]
    return Grid(header, body)


PAPER_TABLES = {"table1": table1, "table2": table2}
