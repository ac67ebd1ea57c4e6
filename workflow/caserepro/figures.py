"""The case's figures: course over the visits, MRI before/after, timeline (the audit's figure is
`caserepro.audit_figure`).

Each `*_figure` function takes whole validated tables and returns a `Drawn`: the matplotlib
figure plus a caption and an alt text written from the same data (no number is typed here:
values come from data/raw, thresholds from config.yaml, labels and units from the dictionary).
`write_figure` saves it as `<name>.svg`, `<name>.png` and `<name>.json` (``{"caption", "alt",
"case_id", "figure"}``) side by side in results/figures/; the report and the manuscript read the
JSON.

The course, MRI and timeline figures describe one patient, as a case report does: the case given
by config `figures.case_id`, or the first case of the case table when that is null.
"""

from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from caserepro import paths
from caserepro.bands import reference_range_per_parameter
from caserepro.formatting import format_printed
from caserepro.intervals import year_and_month
from caserepro.io import write_text
from caserepro.theme import CONTEXT_GREY, DEFAULT_DPI, PALETTE, save_figure, themed
from caserepro.verdicts import WORST_FIRST

#: The figures, in the order the report lists them.
FIGURES: tuple[str, ...] = paths.FIGURES

#: The modality whose values the MRI figure shows (before/after, one line per method).
MRI_MODALITY = "mri"
#: Table rows that stand for several parameters, drawn together in one course panel.
COMPOSITE_PARTS = {"blood_pressure": ("sbp", "dbp")}
#: Consecutive table rows share a course panel when they have one unit and one modality, at most
#: this many, and when their typical values differ by no more than this factor.
PANEL_MAX_PARAMETERS = 3
PANEL_SCALE_RATIO = 3.0
#: A panel whose positive values span at least this factor gets a log axis.
LOG_SPAN = 10.0
#: Course panels per row of the figure (5 or 6 panels: 3 per row; more: 4).
COURSE_COLUMNS = 4
#: Timepoint labels up to this long label the x ticks; longer ones are numbered, with a key.
SHORT_LABEL = 14
#: Characters per line of that key.
KEY_WIDTH = 130
#: Characters of 6.5-point tick labels that fit across an ordinal timeline's axis: each
#: timepoint's label is wrapped to its share (at least 8).
ORDINAL_LABEL_CHARS = 90

#: Audit verdicts from worst to best, each with a colour-blind-safe colour and its own marker.
VERDICTS: tuple[str, ...] = WORST_FIRST
VERDICT_COLOURS = {
    "inconsistent": PALETTE[3],
    "minor": PALETTE[1],
    "consistent": PALETTE[2],
    "not_checkable": PALETTE[7],
}
VERDICT_MARKERS = {"inconsistent": "X", "minor": "D", "consistent": "o", "not_checkable": "s"}

#: Timeline lanes for measurement modalities (the dictionary describes parameters, not modalities).
TIMELINE_MODALITIES = {"echo": "Echocardiography", "lab": "Laboratory tests", "mri": "Cardiac MRI"}
CASE_LANE = "Onset and admission"
INFUSION_LANE = "Cell infusions"
#: Lane of an undated case's timepoints that have no intervention and no examination.
OTHER_LANE = "Other reported events"
#: What a row of the cell-infusion table is called in legends.
INFUSION_NAME = "Cell infusion"

#: Method styles of the MRI figure, in the order of the methods table; a value printed once for
#: every method gets the last style.
METHOD_COLOURS = (PALETTE[0], PALETTE[1], PALETTE[4])
METHOD_MARKERS = ("o", "s", "D")
METHOD_DASHES = ((1, 0), (4, 2), (1, 1.5))
SHARED_METHOD = "all_methods"

_SUPERSCRIPTS = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


@dataclass
class Drawn:
    """A drawn figure with the caption and alt text that go beside it."""

    name: str
    figure: Figure
    caption: str
    alt: str
    case_id: str | None = None
    meta: dict[str, object] = field(default_factory=dict)

    def text(self) -> str:
        """The JSON kept beside the figure (sorted keys, so the bytes are stable)."""
        record = {"figure": self.name, "caption": self.caption, "alt": self.alt}
        record["case_id"] = self.case_id
        return json.dumps(record, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def draw_case_figures(
    tables: dict[str, pd.DataFrame], thresholds: dict, case_id: str | None = None
) -> list[Drawn]:
    """The course, MRI and timeline figures of one case (the first when `case_id` is None)."""
    return [
        course_figure(tables, thresholds, case_id),
        mri_figure(tables, thresholds, case_id),
        timeline_figure(tables, case_id),
    ]


def write_figure(
    drawn: Drawn, svg: str | Path, png: str | Path, text: str | Path, dpi: int = DEFAULT_DPI
) -> None:
    """Save a figure as SVG and PNG and its caption/alt text as JSON, all byte-stable."""
    save_figure(drawn.figure, svg, png, dpi)
    write_text(text, drawn.text())


# ---------------------------------------------------------------------------------------------
# Shared helpers


def display_unit(unit: str) -> str:
    """A dictionary unit for display: powers as superscripts ('10^9/L' -> '10⁹/L')."""
    head, _, rest = unit.partition("^")
    if not rest:
        return unit
    digits = len(rest) - len(rest.lstrip("0123456789-"))
    return head + rest[:digits].translate(_SUPERSCRIPTS) + rest[digits:]


def dictionary_facts(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Label, display unit and decimals per parameter, from the data dictionary."""
    d = tables["dictionary"].set_index("parameter")
    return d.assign(display_unit=d["unit"].map(display_unit))[["label", "display_unit", "decimals"]]


def select_case(
    tables: dict[str, pd.DataFrame], case_id: str | None = None
) -> tuple[str, dict[str, pd.DataFrame]]:
    """One case's rows of every case-keyed table (the first case when `case_id` is None); a row
    with a blank case_id (a table layout for every case) is kept."""
    cases = tables["cases"]
    chosen = str(cases["case_id"].iloc[0]) if case_id is None else case_id
    if chosen not in set(cases["case_id"]):
        raise KeyError(f"case {chosen!r} is not in the case table")
    return chosen, {
        name: frame[(frame["case_id"] == chosen) | frame["case_id"].isna()]
        if "case_id" in frame
        else frame
        for name, frame in tables.items()
    }


def _number(value: float) -> str:
    """A config threshold as written in config.yaml (40 -> '40', 12.5 -> '12.5')."""
    return f"{value:g}"


def _printed(values: pd.Series, decimals: pd.Series) -> list[str]:
    return list(format_printed(values.astype("float64"), decimals.astype("int64")))


def _wrap(text: str, width: int = 30, hyphens: bool = True) -> str:
    return textwrap.fill(text, width=width, break_on_hyphens=hyphens)


def case_layout(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The layout rows of the case's tables that show a measured parameter, in table and row order.

    A composite row (blood pressure) stands for its parts; a layout without `case_id` (or a blank
    one) applies to every case. `rank` is the row's place over all of the case's tables.
    """
    layout = tables["table_layout"]
    if "case_id" in layout and "case_id" in tables["cases"]:
        cases = set(tables["cases"]["case_id"])
        layout = layout[layout["case_id"].isna() | layout["case_id"].isin(cases)]
    layout = layout[layout["modality"].notna()]
    tables_in_order = list(dict.fromkeys(layout["table"]))
    layout = layout.assign(table_rank=layout["table"].map(tables_in_order.index))
    layout = layout.sort_values(["table_rank", "row"], kind="stable")
    parts = layout["parameter"].map(lambda p: list(COMPOSITE_PARTS.get(p, (p,))))
    layout = layout.assign(parameter=parts).explode("parameter")
    layout = layout.assign(rank=np.arange(len(layout)))
    return layout[["table", "row", "rank", "parameter", "modality", "source"]].reset_index(
        drop=True
    )


def laid_out_values(tables: dict[str, pd.DataFrame], mri: bool) -> pd.DataFrame:
    """The case's numeric values that its tables print (all its values when it has no layout),
    MRI values or all the others, with their layout rank and timepoint label."""
    m = tables["measurements"]
    m = m[m["value_num"].notna() & ((m["modality"] == MRI_MODALITY) == mri)]
    layout = case_layout(tables)
    layout = layout[(layout["modality"] == MRI_MODALITY) == mri]
    if len(layout):
        m = m.merge(
            layout[["rank", "parameter", "modality", "source"]],
            on=["parameter", "modality", "source"],
        )
    else:
        order = list(dict.fromkeys(m["parameter"]))
        m = m.assign(rank=m["parameter"].map(order.index))
    m = m[m["parameter"].isin(tables["dictionary"]["parameter"])]
    tp = tables["timepoints"][["case_id", "timepoint", "label"]].rename(
        columns={"label": "timepoint_label"}
    )
    return m.merge(tp, on=["case_id", "timepoint"], how="left").reset_index(drop=True)


def timepoint_order(timepoints: pd.DataFrame) -> pd.DataFrame:
    """A case's timepoints in time order, each with its `position` (0, 1, ...).

    The order is the validated `sequence` where validation gives one, else the raw table's
    `order`, then the date (a year-only date counts from January), the months after the first
    infusion and the offset in months from another timepoint; ties keep the table's order.
    """
    tp = timepoints.drop_duplicates(["case_id", "timepoint"]).reset_index(drop=True)
    blank = pd.Series(np.nan, index=tp.index)
    keys = pd.DataFrame(
        {
            "sequence": pd.to_numeric(tp.get("sequence", blank), errors="coerce"),
            "order": pd.to_numeric(tp.get("order", blank), errors="coerce"),
            "start": _dates(tp["date"]).get("start", blank) if "date" in tp else blank,
            "months": pd.to_numeric(tp.get("months_after_first_infusion", blank), errors="coerce"),
            "offset": pd.to_numeric(tp.get("offset_months", blank), errors="coerce"),
        }
    ).astype("float64")
    keys = keys.assign(row=np.arange(len(tp)))
    ordered = keys.sort_values(list(keys.columns), na_position="last", kind="stable")
    tp = tp.loc[ordered.index].reset_index(drop=True)
    return tp.assign(position=np.arange(len(tp)))


def _lvef_bands(ax, thresholds: dict, label: bool = True) -> None:
    """HF categories by LVEF (config thresholds.lvef) as shaded bands with their names."""
    lvef = thresholds["lvef"]
    low, high = ax.get_ylim()
    top = max(high, lvef["preserved_min"]) * 1.15
    bottom = min(low, 0)
    bands = [
        (bottom, lvef["reduced_max"], PALETTE[3], f"HFrEF ≤{_number(lvef['reduced_max'])} %"),
        (lvef["reduced_max"], lvef["preserved_min"], PALETTE[1], "HFmrEF"),
        (lvef["preserved_min"], top, PALETTE[2], f"HFpEF ≥{_number(lvef['preserved_min'])} %"),
    ]
    for y0, y1, colour, name in bands:
        ax.axhspan(y0, y1, color=colour, alpha=0.10, lw=0, zorder=0)
        if label:
            ax.text(
                0.03,
                y0,
                name,
                transform=ax.get_yaxis_transform(),
                ha="left",
                va="bottom",
                fontsize=6.5,
                color=colour,
                zorder=1,
            )
    ax.set_ylim(bottom, top)


# ---------------------------------------------------------------------------------------------
# Course over the visits


def course_data(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The case's values outside MRI as its tables print them, with label, unit and x position."""
    values = laid_out_values(tables, mri=False)
    facts = dictionary_facts(tables)
    values = values.join(facts[["label", "display_unit"]], on="parameter")
    order = timepoint_order(tables["timepoints"]).set_index(["case_id", "timepoint"])["position"]
    x = pd.MultiIndex.from_frame(values[["case_id", "timepoint"]]).map(order.to_dict())
    return (
        values.assign(x=np.asarray(x, dtype="float64"))
        .sort_values(["case_id", "rank", "x"])
        .reset_index(drop=True)
    )


def course_panels(data: pd.DataFrame) -> list[tuple[str, ...]]:
    """The course's panels: each parameter once, in table order; consecutive parameters of one
    unit and modality whose typical values are within PANEL_SCALE_RATIO share a panel."""
    first = data.sort_values("rank").drop_duplicates("parameter")
    typical = data.groupby("parameter")["value_num"].median().abs()
    panels: list[list[str]] = []
    previous = None
    for row in first.itertuples():
        key = (row.display_unit, row.modality)
        if panels and key == previous and len(panels[-1]) < PANEL_MAX_PARAMETERS:
            scale = typical[[*panels[-1], row.parameter]]
            if scale.min() > 0 and scale.max() / scale.min() <= PANEL_SCALE_RATIO:
                panels[-1].append(row.parameter)
                continue
        panels.append([row.parameter])
        previous = key
    return [tuple(panel) for panel in panels]


def interventions(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The case's interventions, one row each: timepoint, name and what the paper says of it.

    Rows of the cell-infusion table are named 'Cell infusion' (that table holds nothing else) and
    say their cell count; rows of an `interventions` table carry their own name.
    """
    frames = []
    infusions = tables.get("infusions")
    if infusions is not None and len(infusions):
        decimals = dictionary_facts(tables)["decimals"].get("cell_dose", 0)
        cells = _printed(infusions["cells_million"], pd.Series(decimals, index=infusions.index))
        frames.append(
            infusions[["case_id", "timepoint"]].assign(
                name=INFUSION_NAME,
                detail=[f"#{i}: {c}" for i, c in zip(infusions["infusion"], cells, strict=True)],
            )
        )
    other = tables.get("interventions")
    if other is not None and len(other):
        frames.append(other[["case_id", "timepoint", "name"]].assign(detail=other["name"]))
    columns = ["case_id", "timepoint", "name", "detail"]
    return (
        pd.concat(frames, ignore_index=True)[columns] if frames else pd.DataFrame(columns=columns)
    )


def infusion_times(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Each infusion with its cell count, date and months after the first infusion."""
    tp = tables["timepoints"][["case_id", "timepoint", "date", "months_after_first_infusion"]]
    return (
        tables["infusions"]
        .merge(tp, on=["case_id", "timepoint"], how="left")
        .sort_values(["case_id", "infusion"])
        .reset_index(drop=True)
    )


def _first_last(values: pd.DataFrame, order: str, tables: dict | None = None) -> pd.DataFrame:
    """First and last printed value per parameter (and method), in `order`; a qualified value
    keeps its qualifier as printed ('< 1.0') when `tables` give the qualifiers."""
    keys = [k for k in ("parameter", "method") if k in values and values[k].notna().any()]
    v = values.sort_values(order)
    printed = pd.Series(_printed(v["value_num"], v["decimals"]), index=v.index)
    if tables is not None and "qualifier" in v:
        printed = (qualifier_prefix(tables, v["qualifier"]) + " " + printed).str.strip()
    v = v.assign(printed=printed)
    grouped = v.groupby(keys, sort=False, dropna=False)["printed"]
    counts = grouped.size()
    return pd.DataFrame(
        {"first": grouped.first(), "last": grouped.last(), "count": counts}
    ).reset_index()


def qualifier_prefix(tables: dict[str, pd.DataFrame], qualifier: pd.Series) -> pd.Series:
    """How a qualifier is printed before its value: the codebook's `printed` form where the
    raw data have a qualifier codebook, else the qualifier itself ('' for none)."""
    book = tables.get("qualifiers")
    printed = qualifier.astype("object")
    if book is not None and "printed" in book:
        forms = book.drop_duplicates("qualifier").set_index("qualifier")["printed"]
        printed = qualifier.map(forms).where(qualifier.map(forms).notna(), qualifier)
    return printed.fillna("").astype("str")


def empty_figure(name: str, case: str, message: str, caption: str) -> Drawn:
    """An honest placeholder: the case has nothing this figure draws, and it says so."""
    with themed():
        fig = Figure(figsize=(7.2, 1.3), layout="constrained")
        ax = fig.subplots()
        ax.set_axis_off()
        ax.text(0.5, 0.5, _wrap(message, 90), ha="center", va="center", fontsize=9, color="0.3")
    return Drawn(name, fig, caption, message, case)


def course_figure(
    tables: dict[str, pd.DataFrame], thresholds: dict, case_id: str | None = None
) -> Drawn:
    """Small multiples of the case's values over its timepoints, with thresholds and interventions."""
    case, t = select_case(tables, case_id)
    data = course_data(t)
    if data.empty:
        message = f"Case {case} has no values outside cardiac MRI to draw over time."
        return empty_figure("course", case, message, message + " No course figure is drawn.")
    panels = course_panels(data)
    events = interventions(t)
    order = timepoint_order(t["timepoints"])
    shown = order[order["timepoint"].isin(set(data["timepoint"]) | set(events["timepoint"]))]
    shown = shown.assign(position=np.arange(len(shown)))
    position = shown.set_index("timepoint")["position"]
    data = data.assign(x=data["timepoint"].map(position).astype("float64"))
    events = events.assign(position=events["timepoint"].map(position))
    facts = dictionary_facts(t)
    columns = len(panels) if len(panels) <= COURSE_COLUMNS else 3 if len(panels) in (5, 6) else 4
    rows = int(np.ceil(len(panels) / columns))
    ticks, key = _timepoint_ticks(shown["label"].tolist())
    with themed():
        fig = Figure(figsize=(7.2, 1.1 + 1.75 * rows), layout="constrained")
        axes = np.atleast_1d(fig.subplots(rows, columns, sharex=True, squeeze=False).ravel())
        handles = _intervention_handles(events)
        for ax, panel in zip(axes, panels, strict=False):
            handles += _course_panel(ax, data, panel, events, facts, t)
        for i, ax in enumerate(axes):
            ax.set_visible(i < len(panels))
            ax.set_xticks(shown["position"], ticks)
            ax.tick_params(labelbottom=i < len(panels) and i + columns >= len(panels))
            ax.set_xlim(-0.4, len(shown) - 0.6)
        if key:
            fig.supxlabel(key, fontsize=6.5, color="0.25")
        _course_thresholds(
            {p[0]: ax for ax, p in zip(axes, panels, strict=False)}, thresholds, facts
        )
        _reference_bands(
            {p: ax for ax, panel in zip(axes, panels, strict=False) for p in panel}, t, facts
        )
        if handles:
            fig.legend(
                handles=handles, loc="outside upper center", ncols=min(len(handles), 3), fontsize=7
            )
        log_labels = [
            " / ".join(facts.loc[list(panel), "label"])
            for ax, panel in zip(axes, panels, strict=False)
            if ax.get_yscale() == "log"
        ]
    caption, alt = _course_text(case, data, panels, events, thresholds, facts, t, log_labels)
    return Drawn("course", fig, caption, alt, case)


def _timepoint_ticks(labels: list[str]) -> tuple[list[str], str]:
    """Tick labels for the case's timepoints: the labels themselves when they are short, else
    their numbers, with a key of number and label under the figure."""
    if max(len(label) for label in labels) <= SHORT_LABEL:
        return [_wrap(label, SHORT_LABEL) for label in labels], ""
    numbers = [str(i) for i in range(1, len(labels) + 1)]
    entries = [f"{n}: {label}" for n, label in zip(numbers, labels, strict=True)]
    lines = [f"Timepoints — {entries[0]}"]
    for entry in entries[1:]:
        if len(lines[-1]) + len(entry) + 3 <= KEY_WIDTH:
            lines[-1] += f"   {entry}"
        else:
            lines.append(entry)
    return numbers, "\n".join(lines)


def _intervention_handles(events: pd.DataFrame) -> list[Line2D]:
    names = list(dict.fromkeys(events["name"]))
    return [
        Line2D([], [], color=CONTEXT_GREY, ls=":", marker="v", ms=5, label=name) for name in names
    ]


def _course_panel(ax, data, panel, events, facts, t) -> list[Line2D]:
    """One panel: intervention marks, one line per parameter, its values labelled where the
    paper qualifies them ('< 1.0'); returns legend handles for a panel of several parameters."""
    sub = data[data["parameter"].isin(panel)]
    for x in events["position"].unique():
        ax.axvline(x, color=CONTEXT_GREY, ls=":", lw=0.9, zorder=0)
    ax.plot(
        events["position"].unique(),
        np.ones(events["position"].nunique()),
        transform=ax.get_xaxis_transform(),
        ls="none",
        marker="v",
        ms=5,
        color=CONTEXT_GREY,
        clip_on=False,
        zorder=3,
    )
    multi = len(panel) > 1
    labels = list(facts.loc[list(panel), "label"])
    sns.lineplot(
        data=sub,
        x="x",
        y="value_num",
        units="case_id",
        estimator=None,
        hue="label" if multi else None,
        style="label" if multi else None,
        hue_order=labels if multi else None,
        markers=True,
        dashes=True,
        marker=None if multi else "o",
        color=None if multi else PALETTE[0],
        ax=ax,
        legend=False,
    )
    _label_qualified(ax, sub, t)
    units = facts.loc[list(panel), "display_unit"].unique()
    ax.set_title(_wrap(" / ".join(labels), 24 - 2 * ax.get_gridspec().ncols, hyphens=False))
    ax.set_ylabel(" / ".join(units))
    ax.set_xlabel("")
    positive = sub["value_num"][sub["value_num"] > 0]
    if len(positive) == len(sub) and len(sub) and positive.max() / positive.min() >= LOG_SPAN:
        ax.set_yscale("log")
    ax.margins(y=0.15)
    if not multi:
        return []
    lines = ax.get_lines()[-len(panel) :]
    return [
        Line2D(
            [],
            [],
            color=line.get_color(),
            ls=line.get_linestyle(),
            marker=line.get_marker(),
            ms=4,
            label=label,
        )
        for line, label in zip(lines, labels, strict=True)
    ]


def _label_qualified(ax, values: pd.DataFrame, t: dict[str, pd.DataFrame]) -> None:
    """Label each value the paper prints with a qualifier as printed ('< 1.0')."""
    qualified = values[values["qualifier"].notna()] if "qualifier" in values else values.iloc[:0]
    prefix = qualifier_prefix(t, qualified["qualifier"])
    text = _printed(qualified["value_num"], qualified["decimals"])
    for x, y, p, v in zip(qualified["x"], qualified["value_num"], prefix, text, strict=True):
        ax.annotate(
            f"{p} {v}".strip(),
            (x, y),
            xytext=(4, 4),
            textcoords="offset points",
            fontsize=6.5,
            color="0.2",
        )


def _reference_bands(axes: dict, t: dict[str, pd.DataFrame], facts: pd.DataFrame) -> None:
    """The reference ranges the paper prints (raw table `reference_ranges`), as bands."""
    ranges = t.get("reference_ranges")
    if ranges is None or not len(ranges):
        return
    ranges = reference_range_per_parameter(ranges, t["dictionary"])
    for row in ranges[ranges["parameter"].isin(list(axes))].itertuples():
        ax = axes[row.parameter]
        low, high = float(row.low_num), float(row.high_num)  # in the axis's (dictionary) unit
        # the values drawn in data coordinates (not an event's vertical line, whose ends are
        # fractions of the axis)
        drawn = [
            line.get_ydata() for line in ax.get_lines() if line.get_transform() == ax.transData
        ]
        values = np.concatenate([np.asarray(y, dtype="float64") for y in drawn if len(y)] or [[]])
        values = values[np.isfinite(values.astype("float64"))] if len(values) else values
        bottom = min([*values, low if np.isfinite(low) else high])
        top = max([*values, high if np.isfinite(high) else low])
        y0 = low if np.isfinite(low) else bottom
        y1 = high if np.isfinite(high) else top
        ax.axhspan(y0, y1, color=PALETTE[2], alpha=0.12, lw=0, zorder=0)
        shared = sum(other is ax for other in axes.values()) > 1  # name the band's parameter
        ax.text(
            0.03,
            y1,
            f"{facts.at[row.parameter, 'label']}: paper's range" if shared else "paper's range",
            transform=ax.get_yaxis_transform(),
            ha="left",
            va="top",
            fontsize=6,
            color=PALETTE[2],
            clip_on=True,  # inside its panel: a long name is cut, never drawn over the next
        )
        pad = 0.08 * (top - bottom)
        old_bottom, old_top = ax.get_ylim()
        ax.set_ylim(min(old_bottom, bottom - pad), max(old_top, top + pad))


def _course_thresholds(axes: dict, thresholds: dict, facts: pd.DataFrame) -> None:
    """Reference lines and bands from config.yaml on the panels they belong to."""
    if "lvef" in axes:
        _lvef_bands(axes["lvef"], thresholds)
    if "nt_probnp" in axes:
        ax, cut = axes["nt_probnp"], thresholds["nt_probnp"]["rule_out_below"]
        ax.axhline(cut, color=PALETTE[3], ls="--", lw=1, zorder=1)
        ax.text(
            0.03,
            cut,
            f"rule-out <{_number(cut)} {facts.at['nt_probnp', 'display_unit']}",
            transform=ax.get_yaxis_transform(),
            ha="left",
            va="bottom",
            fontsize=6.5,
            color=PALETTE[3],
        )
        low, high = ax.get_ylim()
        ax.set_ylim(min(low, cut / 1.6), high)
    if "heart_rate" in axes:
        ax, hr = axes["heart_rate"], thresholds["heart_rate"]
        ax.axhspan(
            hr["resting_low"], hr["resting_high"], color=CONTEXT_GREY, alpha=0.15, lw=0, zorder=0
        )
        ax.text(
            0.99,
            hr["resting_high"],
            "resting range",
            transform=ax.get_yaxis_transform(),
            ha="right",
            va="top",
            fontsize=6.5,
            color="0.35",
        )
        low, high = ax.get_ylim()
        ax.set_ylim(min(low, hr["resting_low"] - 5), max(high, hr["resting_high"] + 5))


def _threshold_words(parameters: set[str], thresholds: dict, facts: pd.DataFrame) -> str:
    """The caption's sentences on the config thresholds drawn, for the panels the case has."""
    words = []
    if "lvef" in parameters:
        lvef = thresholds["lvef"]
        words.append(
            "LVEF: shaded bands are the heart-failure categories of the Universal Definition "
            f"(HFrEF ≤{_number(lvef['reduced_max'])} %, HFmrEF, HFpEF "
            f"≥{_number(lvef['preserved_min'])} %)."
        )
    if "nt_probnp" in parameters:
        nt = thresholds["nt_probnp"]
        words.append(
            f"NT-proBNP: the dashed line is the rule-out threshold ({_number(nt['rule_out_below'])}"
            f" {facts.at['nt_probnp', 'display_unit']}; a value equal to it is not below it)."
        )
    if "heart_rate" in parameters:
        hr = thresholds["heart_rate"]
        words.append(
            f"Heart rate: the grey band is the resting range {_number(hr['resting_low'])}–"
            f"{_number(hr['resting_high'])} {facts.at['heart_rate', 'display_unit']}."
        )
    return " ".join(words)


def _course_text(
    case: str,
    data: pd.DataFrame,
    panels: list[tuple[str, ...]],
    events: pd.DataFrame,
    thresholds: dict,
    facts: pd.DataFrame,
    t: dict[str, pd.DataFrame],
    log_labels: list[str],
) -> tuple[str, str]:
    when = data.drop_duplicates("timepoint").sort_values("x")["timepoint_label"].tolist()
    sources = " and ".join(dict.fromkeys(data["source"]))
    caption = (
        f"Course of case {case} over {len(when)} timepoints ({'; '.join(when)}), values from "
        f"{sources} of the paper, one panel per parameter (parameters of one unit share a panel)."
    )
    for name, group in events.groupby("name", sort=False):
        at = group["timepoint"].tolist()
        labels = t["timepoints"].drop_duplicates("timepoint").set_index("timepoint")["label"]
        caption += (
            f" Triangles and dotted lines: {name.lower()}, {len(group)}× "
            f"({'; '.join(dict.fromkeys(labels.loc[at]))})."
        )
    if log_labels:
        caption += f" {', '.join(log_labels)} on a log scale."
    present = {p for panel in panels for p in panel}
    caption += " " + _threshold_words(present, thresholds, facts)
    ranges = t.get("reference_ranges")
    if ranges is not None and ranges["parameter"].isin(list(present)).any():
        named = facts.loc[ranges.loc[ranges["parameter"].isin(list(present)), "parameter"], "label"]
        named = dict.fromkeys(named)  # a parameter with ranges in two units is named once
        caption += f" Green bands: the reference ranges the paper prints ({', '.join(named)})."
    if "qualifier" in data and data["qualifier"].notna().any():
        caption += " A value the paper qualifies is labelled as printed."
    ends = _first_last(data, "x", t).set_index("parameter").join(facts[["label", "display_unit"]])
    changes = "; ".join(
        f"{row.label} from {row.first} to {row.last} {row.display_unit}"
        if row.count > 1
        else f"{row.label} {row.first} {row.display_unit} (once)"
        for row in ends.loc[[p for panel in panels for p in panel]].itertuples()
    )
    alt = (
        f"{len(panels)} small line charts sharing a time axis of the case's timepoints, one point "
        f"per value, for case {case}. From the first to the last value: {changes}."
    )
    return caption.strip(), alt


# ---------------------------------------------------------------------------------------------
# MRI before and after


def mri_data(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Table 2's values with method labels; a value printed once for all methods gets its own."""
    values = laid_out_values(tables, mri=True)
    if values.empty:
        return values
    tp = tables["timepoints"][["case_id", "timepoint", "date"]]
    values = values.merge(tp, on=["case_id", "timepoint"], how="left")
    methods = tables["methods"].reset_index(drop=True)
    names = methods["method"].str.replace("_", " ")
    legend = dict(zip(methods["method"], methods["label"] + " (" + names + ")", strict=True))
    legend[SHARED_METHOD] = "one value for " + " and ".join(methods["label"])
    values = values.assign(method=values["method"].fillna(SHARED_METHOD))
    values = values.assign(method_label=values["method"].map(legend))
    values = values.join(dictionary_facts(tables)[["label", "display_unit"]], on="parameter")
    ordered = timepoint_order(tables["timepoints"])
    order = [tp for tp in ordered["timepoint"] if tp in set(values["timepoint"])]
    position = values["timepoint"].map({tp: i for i, tp in enumerate(order)})
    # Methods side by side, a little apart, so equal values do not hide one another.
    styles = [*methods["method"], SHARED_METHOD]
    rank = values["method"].map({m: i for i, m in enumerate(styles)})
    dodge = (rank - (len(styles) - 2) / 2) * 0.05
    return values.assign(
        position=position,
        method_rank=rank,
        x=position + dodge.where(values["method"] != SHARED_METHOD, 0),
    )


def mri_figure(
    tables: dict[str, pd.DataFrame], thresholds: dict, case_id: str | None = None
) -> Drawn:
    """Paired before/after MRI values per Table 2 parameter, one style per method."""
    case, t = select_case(tables, case_id)
    data = mri_data(t)
    if data.empty:
        message = f"Case {case} has no cardiac MRI values: there is no before/after MRI to draw."
        return empty_figure("mri", case, message, message + " No MRI figure is drawn.")
    parameters = list(dict.fromkeys(data.sort_values("rank")["parameter"]))
    styles = [*t["methods"]["method"], SHARED_METHOD]
    labels = data.drop_duplicates("method").set_index("method")["method_label"]
    present = [m for m in styles if m in labels.index]
    palette = {labels[m]: METHOD_COLOURS[styles.index(m)] for m in present}
    markers = {labels[m]: METHOD_MARKERS[styles.index(m)] for m in present}
    dashes = {labels[m]: METHOD_DASHES[styles.index(m)] for m in present}
    ticks = data.drop_duplicates("position").sort_values("position")
    facts = dictionary_facts(t)
    columns = int(np.ceil(len(parameters) / 2))
    with themed():
        fig = Figure(figsize=(7.2, 4.4), layout="constrained")
        axes = fig.subplots(2, columns, sharex=True).ravel()
        for ax, parameter in zip(axes, parameters, strict=False):
            sub = data[data["parameter"] == parameter]
            sns.lineplot(
                data=sub,
                x="x",
                y="value_num",
                hue="method_label",
                style="method_label",
                units="case_id",
                estimator=None,
                palette=palette,
                markers=markers,
                dashes=dashes,
                ax=ax,
                legend=False,
                ms=6,
            )
            if parameter == "lvef":
                _lvef_bands(ax, thresholds, label=False)
            ax.set_title(_wrap(facts.at[parameter, "label"], 20))
            ax.set_ylabel(facts.at[parameter, "display_unit"])
            ax.set_xlabel("")
            ax.set_xticks(ticks["position"], [_wrap(x, 8) for x in ticks["timepoint_label"]])
            ax.set_xlim(-0.35, len(ticks) - 0.65)
            ax.margins(y=0.15)
        for ax in axes[len(parameters) :]:
            ax.set_visible(False)
        handles = [
            Line2D(
                [],
                [],
                color=palette[label],
                marker=markers[label],
                dashes=dashes[label],
                label=label,
            )
            for label in palette
        ]
        fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), fontsize=7)
    caption, alt = _mri_text(case, data, parameters, facts, labels, t)
    return Drawn("mri", fig, caption, alt, case)


def _mri_text(
    case: str,
    data: pd.DataFrame,
    parameters: list[str],
    facts: pd.DataFrame,
    labels: pd.Series,
    t: dict[str, pd.DataFrame],
) -> tuple[str, str]:
    timepoints = data.sort_values("position")["timepoint_label"].unique()
    before, after = timepoints[0], timepoints[-1]
    methods = t["methods"]
    method_words = ", ".join(methods["label"] + " = " + methods["description"])
    shared = data[data["method"] == SHARED_METHOD]["parameter"].unique()
    shared_words = (
        f" {', '.join(facts.loc[shared, 'label'])} is printed once for all methods and drawn "
        "in its own style."
        if len(shared)
        else ""
    )
    names = list(dict.fromkeys(interventions(t)["name"].str.lower()))
    around = f" around the {' and '.join(names)}s" if names else ""
    styles = (
        f"one line per method, told apart by colour, marker and line style ({method_words})"
        if len(methods)
        else "one line per parameter"
    )
    bands = (
        " LVEF panel shaded by the heart-failure categories of the Universal Definition."
        if "lvef" in parameters
        else ""
    )
    caption = (
        f"Cardiac MRI of case {case} at {len(timepoints)} timepoints ({', '.join(timepoints)})"
        f"{around}, for each parameter of {' and '.join(dict.fromkeys(data['source']))} of the "
        f"paper; {styles}.{shared_words}{bands}"
    )
    ends = _first_last(data, "position")
    ends = ends.assign(method_label=ends["method"].map(labels))
    ends = ends.join(facts[["label", "display_unit"]], on="parameter")
    ends = ends.assign(row=ends["parameter"].map({p: i for i, p in enumerate(parameters)}))
    rank = data.drop_duplicates("method").set_index("method")["method_rank"]
    ends = ends.assign(method_rank=ends["method"].map(rank)).sort_values(["row", "method_rank"])
    parts = [
        f"{p.label} {p.method_label} {p.first} to {p.last} {p.display_unit}"
        for p in ends.itertuples()
    ]
    alt = (
        f"{len(parameters)} small charts, each joining the MRI value '{before}' to the value "
        f"'{after}' for case {case}: {'; '.join(parts)}."
    )
    return caption, alt


# ---------------------------------------------------------------------------------------------
# Timeline


def _dates(dates: pd.Series) -> pd.DataFrame:
    """'YYYY-MM' or 'YYYY' as year, month (NaN when only the year is known) and axis span."""
    text = dates.astype("str")
    parts = year_and_month(dates)
    year, month = parts["year"], parts["month"]
    start = year + (month.fillna(1) - 1) / 12
    end = np.where(month.notna(), start + 1 / 12, year + 1)
    return pd.DataFrame(
        {"date": text, "year": year, "month": month, "start": start, "end": end}, index=dates.index
    )


def timeline_events(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Every event of the case(s): onset and admission, interventions, and the timepoints at which
    echo, laboratory and MRI values were reported; each with its timepoint (when it has one),
    its date (when the paper gives one) and its lane."""
    cases = tables["cases"]
    onset = cases[["case_id", "symptom_onset"]].rename(columns={"symptom_onset": "date"})
    admission = cases[["case_id", "admission"]].rename(columns={"admission": "date"})
    case_events = pd.concat(
        [onset.assign(event="Symptom onset"), admission.assign(event="Admission")],
        ignore_index=True,
    )
    case_events = case_events.dropna(subset=["date"]).assign(lane=CASE_LANE, timepoint=pd.NA)
    tp = tables["timepoints"][["case_id", "timepoint", "date"]]
    given = interventions(tables).merge(tp, on=["case_id", "timepoint"], how="left")
    given = given.assign(
        lane=given["name"].map(lambda n: INFUSION_LANE if n == INFUSION_NAME else n),
        event=given["detail"].where(given["name"] == INFUSION_NAME, ""),
    )
    m = tables["measurements"]
    m = m[m["modality"].isin(list(TIMELINE_MODALITIES))]
    m = m[["case_id", "timepoint", "modality"]].drop_duplicates()
    m = m.merge(tp, on=["case_id", "timepoint"], how="left")
    measured = m.assign(lane=m["modality"].map(modality_labels(tables)))
    # One marker per month on the calendar; per timepoint where the paper gives no date.
    when = measured["date"].astype("object").where(measured["date"].notna(), measured["timepoint"])
    measured = measured.assign(when=when).drop_duplicates(["case_id", "lane", "when"])
    measured = measured.drop(columns="when").assign(event="")
    columns = ["case_id", "timepoint", "date", "lane", "event"]
    events = pd.concat([case_events[columns], given[columns], measured[columns]], ignore_index=True)
    events = pd.concat([events, _dates(events["date"]).drop(columns="date")], axis=1)
    lanes = [CASE_LANE, *dict.fromkeys(given["lane"]), *modality_labels(tables).values()]
    if INFUSION_LANE not in lanes:
        lanes.insert(1, INFUSION_LANE)
    events = events.assign(lane_order=events["lane"].map({k: i for i, k in enumerate(lanes)}))
    return events.sort_values(["case_id", "lane_order", "start", "event"]).reset_index(drop=True)


def modality_labels(tables: dict[str, pd.DataFrame]) -> dict[str, str]:
    """Timeline lane names of the examinations it shows: the modality codebook's labels where the
    raw data have one, else the names kept here."""
    book = tables.get("modalities")
    labels = dict(TIMELINE_MODALITIES)
    if book is not None and len(book):
        named = book.drop_duplicates("modality").set_index("modality")["label"]
        labels = {k: str(named.get(k, v)) for k, v in labels.items()}
    return labels


def timeline_figure(tables: dict[str, pd.DataFrame], case_id: str | None = None) -> Drawn:
    """A CARE timeline of one case: on the calendar when the paper dates every event (month-precise
    events as markers, year-only ones as spans), else over the case's timepoints in order."""
    case, t = select_case(tables, case_id)
    events = timeline_events(t)
    if events.empty:
        message = f"Case {case} has no timepoint with an intervention or an examination."
        return empty_figure("timeline", case, message, message + " No timeline is drawn.")
    if events["year"].isna().any():
        return _ordinal_timeline(case, events, t)
    return _calendar_timeline(case, events, t)


def _calendar_timeline(case: str, events: pd.DataFrame, t: dict[str, pd.DataFrame]) -> Drawn:
    """The timeline of a case the paper dates: calendar years, markers mid-month, year spans."""
    lanes = events.drop_duplicates("lane").sort_values("lane_order")["lane"].tolist()
    y = events["lane"].map({lane: i for i, lane in enumerate(lanes)})
    events = events.assign(y=y, mid=(events["start"] + events["end"]) / 2)
    exact = events[events["month"].notna()]
    year_only = events[events["month"].isna()]
    colours = {lane: PALETTE[i] for i, lane in enumerate(lanes)}
    first, last = int(events["year"].min()), int(events["year"].max()) + 1
    with themed():
        fig = Figure(figsize=(7.2, 0.7 + 0.62 * len(lanes)), layout="constrained")
        ax = fig.subplots()
        for year in range(first, last + 1):
            ax.axvline(year, color="0.9", lw=0.6, zorder=0)
        _year_spans(ax, year_only, colours)
        _month_markers(ax, exact, colours)
        facts = dictionary_facts(t)
        unit = facts.at["cell_dose", "display_unit"] if "cell_dose" in facts.index else ""
        names = [f"{lane}\n({unit})" if lane == INFUSION_LANE and unit else lane for lane in lanes]
        ax.set_yticks(range(len(lanes)), names)
        ax.set_ylabel("")
        ax.set_ylim(len(lanes) - 0.4, -0.75)
        ax.set_xlim(first, last)
        ax.set_xticks(range(first, last + 1))
        ax.set_xticks(np.arange(first, last, 1 / 12), minor=True)
        ax.set_xlabel("Calendar time (year; minor ticks are months)")
        ax.tick_params(axis="y", length=0)
        sns.despine(ax=ax, left=True)
        handles = [
            Line2D(
                [],
                [],
                ls="none",
                marker="o",
                color="0.3",
                ms=5,
                label="month stated (marker at mid-month)",
            ),
            Patch(
                facecolor="0.85",
                edgecolor="0.4",
                hatch="///",
                label="only the year stated (bar spans the year)",
            ),
        ]
        fig.legend(handles=handles, loc="outside lower center", ncols=2, fontsize=7)
    caption, alt = _timeline_text(case, events, t)
    return Drawn("timeline", fig, caption, alt, case)


def _year_spans(ax, year_only: pd.DataFrame, colours: dict) -> None:
    """Events the paper dates only by year: a hatched bar over the year, saying so."""
    ax.barh(
        year_only["y"],
        year_only["end"] - year_only["start"],
        left=year_only["start"],
        height=0.38,
        color=[colours[lane] for lane in year_only["lane"]],
        alpha=0.25,
        hatch="///",
        edgecolor=[colours[lane] for lane in year_only["lane"]],
        lw=0.8,
    )
    for row in year_only.itertuples():
        ax.text(
            row.mid,
            row.y,
            f"{row.date}, month not stated",
            ha="center",
            va="center",
            fontsize=6.5,
            color="0.15",
        )


def _lane_markers(ax, events: pd.DataFrame, x: str, colours: dict) -> None:
    """One marker per event at (`x`, its lane's `y`), coloured by lane (both timelines)."""
    sns.scatterplot(
        data=events,
        x=x,
        y="y",
        hue="lane",
        palette=colours,
        s=40,
        marker="o",
        edgecolor="white",
        linewidth=0.5,
        legend=False,
        ax=ax,
        zorder=3,
    )


def _month_markers(ax, exact: pd.DataFrame, colours: dict) -> None:
    """Events dated to the month: a marker mid-month, the date (and what happened) above it."""
    _lane_markers(ax, exact, "mid", colours)
    for row in exact.itertuples():
        above = f"{row.event}\n" if row.event else ""
        ax.annotate(
            f"{above}{row.date}",
            (row.mid, row.y),
            xytext=(0, 5),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=6,
            linespacing=1.1,
        )


def _ordinal_timeline(case: str, events: pd.DataFrame, t: dict[str, pd.DataFrame]) -> Drawn:
    """The timeline of a case the paper does not date: its timepoints in order on the x axis
    (their own labels, offsets included), one lane per intervention and examination."""
    order = timepoint_order(t["timepoints"])
    events = events[events["timepoint"].notna()]
    bare = order[~order["timepoint"].isin(set(events["timepoint"]))]
    others = pd.DataFrame(
        {
            "timepoint": bare["timepoint"],
            "lane": OTHER_LANE,
            "event": "",
            "lane_order": events["lane_order"].max() + 1,
        }
    )
    events = pd.concat([events, others], ignore_index=True)
    events = events.merge(order[["timepoint", "position", "label"]], on="timepoint", how="left")
    lanes = events.drop_duplicates("lane").sort_values("lane_order")["lane"].tolist()
    events = events.assign(y=events["lane"].map({lane: i for i, lane in enumerate(lanes)}))
    colours = {lane: PALETTE[i % len(PALETTE)] for i, lane in enumerate(lanes)}
    colours[OTHER_LANE] = CONTEXT_GREY
    with themed():
        fig = Figure(figsize=(7.2, 1.2 + 0.62 * len(lanes)), layout="constrained")
        ax = fig.subplots()
        for x in order["position"]:
            ax.axvline(x, color="0.9", lw=0.6, zorder=0)
        _lane_markers(ax, events, "position", colours)
        for row in events[events["event"] != ""].itertuples():
            ax.annotate(
                row.event,
                (row.position, row.y),
                xytext=(0, 5),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=6,
            )
        ax.set_yticks(range(len(lanes)), lanes)
        ax.set_ylabel("")
        ax.set_ylim(len(lanes) - 0.4, -0.75)
        # Each label wrapped to the width its timepoint has, so neighbours never run together.
        width = max(8, ORDINAL_LABEL_CHARS // len(order))
        ax.set_xticks(
            order["position"], [_wrap(label, width) for label in order["label"]], fontsize=6.5
        )
        ax.set_xlim(-0.5, len(order) - 0.5)
        ax.set_xlabel("The case's timepoints in the order the paper gives (no calendar dates)")
        ax.tick_params(axis="y", length=0)
        sns.despine(ax=ax, left=True)
    caption, alt = _ordinal_timeline_text(case, events, order, lanes)
    return Drawn("timeline", fig, caption, alt, case)


def _ordinal_timeline_text(
    case: str, events: pd.DataFrame, order: pd.DataFrame, lanes: list[str]
) -> tuple[str, str]:
    caption = (
        f"Timeline of case {case} in the form the CARE guideline asks for: its "
        f"{len(order)} timepoints in the order the paper gives them ({'; '.join(order['label'])}),"
        " and at which of them each intervention and examination is reported. The paper dates "
        "none of them (times are only relative, as the labels say), so the axis is their order, "
        "not calendar time."
    )
    parts = []
    for lane in lanes:
        group = events[events["lane"] == lane].sort_values("position")
        items = [
            f"{e} ({w})" if e else w for e, w in zip(group["event"], group["label"], strict=True)
        ]
        parts.append(f"{lane}: {', '.join(items)}")
    alt = (
        f"Timeline for case {case} with one row per intervention or kind of examination and the "
        f"case's {len(order)} timepoints in order on the x axis. {'. '.join(parts)}."
    )
    return caption, alt


def _timeline_text(case: str, events: pd.DataFrame, t: dict[str, pd.DataFrame]) -> tuple[str, str]:
    infusions = events[events["lane"] == INFUSION_LANE]
    vague = events[events["month"].isna()]
    vague_words = "; ".join(vague["lane"] + " " + vague["date"])
    caption = (
        f"Timeline of case {case} in the form the CARE guideline asks for: symptom onset and "
        f"admission, the {len(infusions)} cell infusions with the cells given in each, and the "
        "months in which echocardiography, laboratory tests and cardiac MRI were reported. "
        "Dates are known to the month at best (the data hold no days); a marker sits in the "
        "middle of its month."
        + (
            f" Where the paper gives only a year ({vague_words}), a hatched bar spans the whole "
            "year instead of guessing a month."
            if len(vague)
            else ""
        )
    )
    parts = []
    for _, group in events.groupby("lane_order", sort=True):
        name = group["lane"].iloc[0]
        items = [
            f"{e} ({d})" if e else d for e, d in zip(group["event"], group["date"], strict=True)
        ]
        if name == INFUSION_LANE:
            name = f"{name} ({dictionary_facts(t).at['cell_dose', 'display_unit']})"
        parts.append(f"{name}: {', '.join(items)}")
    alt = (
        f"Horizontal timeline for case {case} with one row per kind of event, calendar years "
        f"on the x axis. {'. '.join(parts)}. Year-only dates are drawn as hatched bars."
    )
    return caption, alt
