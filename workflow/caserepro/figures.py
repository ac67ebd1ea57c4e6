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
from caserepro.formatting import format_printed
from caserepro.io import write_text
from caserepro.theme import CONTEXT_GREY, DEFAULT_DPI, PALETTE, save_figure, themed
from caserepro.verdicts import WORST_FIRST

#: The figures, in the order the report lists them.
FIGURES: tuple[str, ...] = paths.FIGURES

#: Panels of the course figure: one or more dictionary parameters per panel (same unit).
COURSE_PANELS: tuple[tuple[str, ...], ...] = (
    ("lvef",),
    ("nt_probnp",),
    ("six_minute_walk",),
    ("qol_score",),
    ("lv_edv", "lv_esv"),
    ("heart_rate",),
)
#: Parameters spanning orders of magnitude, drawn on a log axis.
LOG_PARAMETERS = frozenset({"nt_probnp"})

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
    """One case's rows of every case-keyed table (the first case when `case_id` is None)."""
    cases = tables["cases"]
    chosen = str(cases["case_id"].iloc[0]) if case_id is None else case_id
    if chosen not in set(cases["case_id"]):
        raise KeyError(f"case {chosen!r} is not in the case table")
    return chosen, {
        name: frame[frame["case_id"] == chosen] if "case_id" in frame else frame
        for name, frame in tables.items()
    }


def _number(value: float) -> str:
    """A config threshold as written in config.yaml (40 -> '40', 12.5 -> '12.5')."""
    return f"{value:g}"


def _printed(values: pd.Series, decimals: pd.Series) -> list[str]:
    return list(format_printed(values.astype("float64"), decimals.astype("int64")))


def _wrap(text: str, width: int = 30) -> str:
    return textwrap.fill(text, width=width)


def _layout_rows(tables: dict[str, pd.DataFrame], table: str) -> pd.DataFrame:
    """A paper table's layout rows that are dictionary parameters (parameter, modality, source)."""
    layout = tables["table_layout"]
    layout = layout[(layout["table"] == table) & layout["modality"].notna()]
    return layout.sort_values("row")[["row", "parameter", "modality", "source"]]


def _table_values(tables: dict[str, pd.DataFrame], table: str) -> pd.DataFrame:
    """The measurements a paper table prints, with their timepoint's date and months."""
    rows = _layout_rows(tables, table)
    m = tables["measurements"].merge(rows, on=["parameter", "modality", "source"])
    tp = tables["timepoints"][
        ["case_id", "timepoint", "date", "months_after_first_infusion", "label"]
    ].rename(columns={"label": "timepoint_label"})
    return m.merge(tp, on=["case_id", "timepoint"], how="left")


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
    """Table 1's values of the course panels, one row per case, parameter and visit."""
    wanted = [p for panel in COURSE_PANELS for p in panel]
    values = _table_values(tables, "table1")
    values = values[
        values["parameter"].isin(wanted) & values["months_after_first_infusion"].notna()
    ]
    facts = dictionary_facts(tables)
    values = values.join(facts[["label", "display_unit"]], on="parameter")
    values = values.assign(months=values["months_after_first_infusion"].astype("float64"))
    return values.sort_values(["case_id", "parameter", "months"]).reset_index(drop=True)


def infusion_times(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Each infusion with its cell count, date and months after the first infusion."""
    tp = tables["timepoints"][["case_id", "timepoint", "date", "months_after_first_infusion"]]
    return (
        tables["infusions"]
        .merge(tp, on=["case_id", "timepoint"], how="left")
        .sort_values(["case_id", "infusion"])
        .reset_index(drop=True)
    )


def _first_last(values: pd.DataFrame, order: str) -> pd.DataFrame:
    """First and last printed value per parameter (and method), in `order`."""
    keys = [k for k in ("parameter", "method") if k in values and values[k].notna().any()]
    v = values.sort_values(order)
    v = v.assign(printed=_printed(v["value_num"], v["decimals"]))
    grouped = v.groupby(keys, sort=False, dropna=False)["printed"]
    return pd.DataFrame({"first": grouped.first(), "last": grouped.last()}).reset_index()


def course_figure(
    tables: dict[str, pd.DataFrame], thresholds: dict, case_id: str | None = None
) -> Drawn:
    """Small multiples of the course over the visits with thresholds and infusion times."""
    case, t = select_case(tables, case_id)
    data = course_data(t)
    infusions = infusion_times(t)
    months = infusions["months_after_first_infusion"].astype("float64")
    visits = np.sort(data["months"].unique())
    facts = dictionary_facts(t)
    with themed():
        fig = Figure(figsize=(7.2, 4.6), layout="constrained")
        axes = fig.subplots(2, 3, sharex=True).ravel()
        for ax, panel in zip(axes, COURSE_PANELS, strict=True):
            sub = data[data["parameter"].isin(panel)]
            for month in months:
                ax.axvline(month, color=CONTEXT_GREY, ls=":", lw=0.9, zorder=0)
            ax.plot(
                months,
                np.ones(len(months)),
                transform=ax.get_xaxis_transform(),
                ls="none",
                marker="v",
                ms=5,
                color=CONTEXT_GREY,
                clip_on=False,
                zorder=3,
            )
            multi = len(panel) > 1
            sns.lineplot(
                data=sub,
                x="months",
                y="value_num",
                units="case_id",
                estimator=None,
                hue="label" if multi else None,
                style="label" if multi else None,
                hue_order=list(facts.loc[list(panel), "label"]) if multi else None,
                markers=True,
                dashes=True,
                marker=None if multi else "o",
                color=None if multi else PALETTE[0],
                ax=ax,
                legend=False,
            )
            units = facts.loc[list(panel), "display_unit"].unique()
            ax.set_title(_wrap(" / ".join(facts.loc[list(panel), "label"]), 28))
            ax.set_ylabel(" / ".join(units))
            ax.set_xlabel("Months after the first infusion")
            ax.set_xticks(visits)
            if panel[0] in LOG_PARAMETERS:
                ax.set_yscale("log")
            ax.margins(x=0.08)
        by_param = {panel[0]: ax for ax, panel in zip(axes, COURSE_PANELS, strict=True)}
        _course_thresholds(by_param, thresholds, facts)
        handles = [
            Line2D([], [], color=CONTEXT_GREY, ls=":", marker="v", ms=5, label="Cell infusion")
        ]
        for ax, panel in zip(axes, COURSE_PANELS, strict=True):
            if len(panel) > 1:
                handles += [
                    Line2D(
                        [],
                        [],
                        color=line.get_color(),
                        ls=line.get_linestyle(),
                        marker=line.get_marker(),
                        ms=4,
                        label=label,
                    )
                    for line, label in zip(
                        ax.get_lines()[-len(panel) :], facts.loc[list(panel), "label"], strict=True
                    )
                ]
        fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), fontsize=7)
    caption, alt = _course_text(case, data, infusions, thresholds, facts, t)
    return Drawn("course", fig, caption, alt, case)


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


def _course_text(
    case: str,
    data: pd.DataFrame,
    infusions: pd.DataFrame,
    thresholds: dict,
    facts: pd.DataFrame,
    t: dict[str, pd.DataFrame],
) -> tuple[str, str]:
    visits = [_number(m) for m in np.sort(data["months"].unique())]
    lvef, nt, hr = thresholds["lvef"], thresholds["nt_probnp"], thresholds["heart_rate"]
    source = data["source"].iloc[0]
    caption = (
        f"Course of case {case} over {len(visits)} visits ({', '.join(visits)} months after the "
        f"first infusion), values from {source} of the paper. Triangles and dotted lines mark the "
        f"{len(infusions)} cell infusions. LVEF: shaded bands are the heart-failure categories of "
        f"the Universal Definition (HFrEF ≤{_number(lvef['reduced_max'])} %, HFmrEF, HFpEF "
        f"≥{_number(lvef['preserved_min'])} %). NT-proBNP on a log scale; the dashed line is the "
        f"rule-out threshold ({_number(nt['rule_out_below'])} "
        f"{facts.at['nt_probnp', 'display_unit']}; a value equal to it is not below it). Heart "
        f"rate: the grey band is the resting range {_number(hr['resting_low'])}–"
        f"{_number(hr['resting_high'])} {facts.at['heart_rate', 'display_unit']}."
    )
    ends = _first_last(data, "months").set_index("parameter")
    ends = ends.join(facts[["label", "display_unit"]])
    changes = "; ".join(
        f"{row.label} from {row.first} to {row.last} {row.display_unit}"
        for row in ends.loc[[p for panel in COURSE_PANELS for p in panel]].itertuples()
    )
    alt = (
        f"{len(COURSE_PANELS)} small line charts sharing a time axis in months after the first "
        f"cell infusion, one point per visit, for case {case}. Between the first and the last "
        f"visit: {changes}."
    )
    return caption, alt


# ---------------------------------------------------------------------------------------------
# MRI before and after


def mri_data(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Table 2's values with method labels; a value printed once for all methods gets its own."""
    values = _table_values(tables, "table2")
    methods = tables["methods"].reset_index(drop=True)
    names = methods["method"].str.replace("_", " ")
    legend = dict(zip(methods["method"], methods["label"] + " (" + names + ")", strict=True))
    legend[SHARED_METHOD] = "one value for " + " and ".join(methods["label"])
    values = values.assign(method=values["method"].fillna(SHARED_METHOD))
    values = values.assign(method_label=values["method"].map(legend))
    values = values.join(dictionary_facts(tables)[["label", "display_unit"]], on="parameter")
    order = values.drop_duplicates("timepoint").sort_values("date")["timepoint"].tolist()
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
    parameters = _layout_rows(t, "table2")["parameter"].tolist()
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
    caption = (
        f"Cardiac MRI of case {case} at {len(timepoints)} timepoints ({', '.join(timepoints)}) "
        f"around the cell therapy, for each parameter of "
        f"{data['source'].iloc[0]} of the paper; one line per method, told apart by colour, "
        f"marker and line style ({method_words}).{shared_words} LVEF panel shaded by the "
        "heart-failure categories of the Universal Definition."
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
    year = pd.to_numeric(text.str.slice(0, 4), errors="coerce")
    month = pd.to_numeric(text.str.slice(5, 7), errors="coerce")
    start = year + (month.fillna(1) - 1) / 12
    end = np.where(month.notna(), start + 1 / 12, year + 1)
    return pd.DataFrame(
        {"date": text, "year": year, "month": month, "start": start, "end": end}, index=dates.index
    )


def timeline_events(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Every dated event of the case(s): onset, admission, infusions, echo, lab and MRI months."""
    cases = tables["cases"]
    onset = cases[["case_id", "symptom_onset"]].rename(columns={"symptom_onset": "date"})
    admission = cases[["case_id", "admission"]].rename(columns={"admission": "date"})
    case_events = pd.concat(
        [onset.assign(event="Symptom onset"), admission.assign(event="Admission")],
        ignore_index=True,
    )
    case_events = case_events.dropna(subset=["date"]).assign(lane=CASE_LANE)
    facts = dictionary_facts(tables)
    infusions = infusion_times(tables)
    cells = _printed(
        infusions["cells_million"],
        pd.Series(facts.at["cell_dose", "decimals"], index=infusions.index),
    )
    infusion_events = infusions[["case_id", "date"]].assign(
        lane=INFUSION_LANE,
        event=[f"#{i}: {c}" for i, c in zip(infusions["infusion"], cells, strict=True)],
    )
    m = tables["measurements"]
    m = m[m["modality"].isin(list(TIMELINE_MODALITIES))]
    m = m[["case_id", "timepoint", "modality"]].drop_duplicates()
    tp = tables["timepoints"][["case_id", "timepoint", "date"]]
    m = m.merge(tp, on=["case_id", "timepoint"], how="left")
    measured = m.assign(lane=m["modality"].map(TIMELINE_MODALITIES))
    measured = measured.drop_duplicates(["case_id", "lane", "date"]).assign(event="")
    events = pd.concat(
        [case_events, infusion_events, measured[["case_id", "date", "lane", "event"]]],
        ignore_index=True,
    )
    events = pd.concat([events, _dates(events["date"]).drop(columns="date")], axis=1)
    lanes = [CASE_LANE, INFUSION_LANE, *TIMELINE_MODALITIES.values()]
    events = events.assign(lane_order=events["lane"].map({k: i for i, k in enumerate(lanes)}))
    return events.sort_values(["case_id", "lane_order", "start", "event"]).reset_index(drop=True)


def timeline_figure(tables: dict[str, pd.DataFrame], case_id: str | None = None) -> Drawn:
    """A CARE timeline of one case: month-precise events as markers, year-only ones as spans."""
    case, t = select_case(tables, case_id)
    events = timeline_events(t)
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
        sns.scatterplot(
            data=exact,
            x="mid",
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
        unit = dictionary_facts(t).at["cell_dose", "display_unit"]
        names = [f"{lane}\n({unit})" if lane == INFUSION_LANE else lane for lane in lanes]
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
