"""Figures: drawn from the data with the dictionary's labels, captioned, and byte-stable."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml
from caserepro import figures, paths
from caserepro.figures import (
    course_data,
    course_figure,
    course_panels,
    display_unit,
    draw_case_figures,
    mri_figure,
    timeline_events,
    timeline_figure,
    write_figure,
)
from caserepro.validate import load_raw
from conftest import RAW_DIR, REPO, run_snakemake

EXAMPLE = REPO / "examples" / "wang2021" / "raw"


def paper_without(tmp_path: Path, keep) -> dict[str, pd.DataFrame]:
    """A validated copy of data/raw without the measurement and layout rows `keep` rejects."""
    folder = tmp_path / "raw"
    shutil.copytree(RAW_DIR, folder)
    for name in ("measurements", "table_layout"):
        frame = pd.read_csv(folder / f"{name}.csv", dtype=str, keep_default_na=False)
        frame[frame.apply(keep, axis=1)].to_csv(folder / f"{name}.csv", index=False)
    kept = set(pd.read_csv(folder / "table_layout.csv", dtype=str)["table"])
    headings = folder / "paper_tables.csv"
    if headings.exists():  # a table left without rows is no table any more
        frame = pd.read_csv(headings, dtype=str, keep_default_na=False)
        frame[frame["table"].isin(kept)].to_csv(headings, index=False)
    return load_raw(folder)


@pytest.fixture(scope="module")
def wang() -> dict[str, pd.DataFrame]:
    return load_raw(EXAMPLE)


@pytest.fixture(scope="module")
def series(tables, wang) -> dict[str, pd.DataFrame]:
    """Both papers as one case series: each raw table the rows of both (the union of columns)."""
    both = {}
    for name in tables.keys() | wang.keys():
        parts = [t[name] for t in (tables, wang) if name in t]
        both[name] = pd.concat(parts, ignore_index=True).drop_duplicates()
    return both


@pytest.fixture(scope="module")
def thresholds(config) -> dict:
    return config["thresholds"]


@pytest.fixture(scope="module")
def drawn(tables, thresholds) -> dict[str, figures.Drawn]:
    return {
        "course": course_figure(tables, thresholds),
        "mri": mri_figure(tables, thresholds),
        "timeline": timeline_figure(tables),
    }


def labels_of(tables, *parameters) -> list[str]:
    d = tables["dictionary"].set_index("parameter")
    return [d.at[p, "label"] for p in parameters]


def test_every_figure_named_in_paths_is_drawn(drawn):
    assert set(drawn) | {"audit"} == set(paths.FIGURES)  # the audit's: test_audit_figure.py
    assert set(drawn) == set(paths.CASE_FIGURES)


def table1_parameters(tables) -> list[str]:
    """Table 1's measured rows in order, blood pressure as its systolic and diastolic parts."""
    layout = tables["table_layout"]
    rows = layout[(layout["table"] == "table1") & layout["modality"].notna()].sort_values("row")
    return [p for row in rows["parameter"] for p in figures.COMPOSITE_PARTS.get(row, (row,))]


def test_course_panels_are_the_rows_the_case_prints(tables, drawn):
    panels = course_panels(course_data(tables))
    assert [p for panel in panels for p in panel] == table1_parameters(tables)
    assert ("lv_edv", "lv_esv") in panels and ("sbp", "dbp") in panels  # one unit, one panel
    assert ("lvef",) in panels  # % is not mL
    visible = [ax for ax in drawn["course"].figure.axes if ax.get_visible()]
    assert len(visible) == len(panels)


def test_course_panels_carry_the_dictionary_labels_and_units(tables, drawn):
    panels = course_panels(course_data(tables))
    axes = [ax for ax in drawn["course"].figure.axes if ax.get_visible()]
    d = tables["dictionary"].set_index("parameter")
    for ax, panel in zip(axes, panels, strict=True):
        for label in labels_of(tables, *panel):
            assert label in ax.get_title().replace("\n", " ")
        assert ax.get_ylabel() == display_unit(d.at[panel[0], "unit"])
    scales = {panel: ax.get_yscale() for ax, panel in zip(axes, panels, strict=True)}
    assert scales[("nt_probnp",)] == "log"  # 12567 to 125: spans two orders of magnitude
    assert scales[("lvef",)] == "linear"


def test_course_draws_table1_values_at_the_visits_in_time_order(tables, drawn):
    panels = course_panels(course_data(tables))
    ax = [a for a in drawn["course"].figure.axes if a.get_visible()][panels.index(("lvef",))]
    m = tables["measurements"]
    t1 = m[(m["source"] == "Table 1") & (m["parameter"] == "lvef")]
    months = tables["timepoints"].set_index("timepoint")["months_after_first_infusion"]
    values = t1.assign(months=t1["timepoint"].map(months)).sort_values("months")["value_num"]
    expected = list(zip(range(len(values)), values, strict=True))
    line = [li for li in ax.get_lines() if len(li.get_xdata()) == len(expected)][-1]
    assert [
        tuple(map(float, p)) for p in zip(line.get_xdata(), line.get_ydata(), strict=True)
    ] == expected


def test_course_labels_the_axis_with_the_case_s_own_timepoints(tables, drawn):
    m = tables["measurements"]
    visits = m.loc[m["source"] == "Table 1", "timepoint"].unique()
    labels = tables["timepoints"].set_index("timepoint").loc[visits, "label"]
    fig = drawn["course"].figure
    key = fig.get_supxlabel()  # long labels: numbered ticks and a key of the labels
    assert all(label in key.replace("\n", "   ") for label in labels)
    assert "Cell infusion" in [t.get_text() for t in fig.legends[0].get_texts()]


def test_course_marks_the_thresholds_from_config(thresholds, drawn):
    texts = " ".join(t.get_text() for ax in drawn["course"].figure.axes for t in ax.texts)
    assert f"≤{thresholds['lvef']['reduced_max']:g} %" in texts
    assert f"≥{thresholds['lvef']['preserved_min']:g} %" in texts
    assert f"<{thresholds['nt_probnp']['rule_out_below']:g} pg/mL" in texts


def test_mri_panels_follow_table2_rows_with_dictionary_labels(tables, drawn):
    layout = tables["table_layout"]
    rows = layout[layout["table"] == "table2"].sort_values("row")["parameter"].tolist()
    visible = [ax for ax in drawn["mri"].figure.axes if ax.get_visible()]
    titles = [ax.get_title().replace("\n", " ") for ax in visible]
    assert titles == labels_of(tables, *rows)
    d = tables["dictionary"].set_index("parameter")
    assert [ax.get_ylabel() for ax in visible] == [display_unit(d.at[p, "unit"]) for p in rows]


def test_mri_tells_both_methods_apart(tables, drawn):
    legend = drawn["mri"].figure.legends[0]
    entries = [t.get_text() for t in legend.get_texts()]
    for label in tables["methods"]["label"]:
        assert any(e.startswith(label) for e in entries)
    markers = {h.get_marker() for h in legend.legend_handles}
    colours = {h.get_color() for h in legend.legend_handles}
    assert len(markers) == len(colours) == len(entries)


def test_timeline_shows_year_only_dates_as_year_spans(tables, drawn):
    events = timeline_events(tables)
    tp = tables["timepoints"]
    year_only = set(tp.loc[tp["date"].str.len() == 4, "date"])
    spans = events[events["month"].isna()]
    assert set(spans["date"]) == year_only and (spans["end"] - spans["start"] == 1).all()
    texts = [t.get_text() for t in drawn["timeline"].figure.axes[0].texts]
    assert all(any(t.startswith(f"{y}, month not stated") for t in texts) for y in year_only)


def test_timeline_labels_every_infusion_with_its_cells(tables, drawn):
    notes = " ".join(t.get_text() for t in drawn["timeline"].figure.axes[0].texts)
    for n, cells in zip(
        tables["infusions"]["infusion"], tables["infusions"]["cells_million"], strict=True
    ):
        assert f"#{n}: {cells:.0f}" in notes


def figure_bytes(drawn: figures.Drawn, directory: Path) -> dict[str, bytes]:
    files = paths.figure_files(directory, drawn.name)
    write_figure(drawn, files["svg"], files["png"], files["json"])
    return {suffix: path.read_bytes() for suffix, path in files.items()}


def test_a_case_without_edv_and_esv_gets_panels_for_what_it_has(tmp_path, thresholds):
    """Issue 15: the six fixed panels crashed (UnboundLocalError) for a case without EDV/ESV."""
    volumes = {"lv_edv", "lv_esv"}
    tables = paper_without(tmp_path, lambda row: row["parameter"] not in volumes)
    drawn = course_figure(tables, thresholds)
    panels = course_panels(course_data(tables))
    assert not volumes & {p for panel in panels for p in panel}
    assert [p for panel in panels for p in panel] == table1_parameters(tables)
    assert "volume" not in drawn.caption + drawn.alt
    titles = " ".join(ax.get_title() for ax in drawn.figure.axes)
    assert "end-diastolic" not in titles and "Heart rate" in titles
    figure_bytes(drawn, tmp_path / "out")  # and it saves


def test_a_case_without_mri_gets_an_honest_empty_mri_figure(tmp_path, thresholds):
    tables = paper_without(tmp_path, lambda row: row["modality"] != "mri")
    drawn = mri_figure(tables, thresholds)
    assert "no cardiac MRI values" in drawn.caption and drawn.case_id == "LAT2026-01"
    assert [ax.axison for ax in drawn.figure.axes] == [False]  # a message, no empty axes
    assert "no cardiac MRI values" in drawn.figure.axes[0].texts[0].get_text()
    written = figure_bytes(drawn, tmp_path / "out")
    assert json.loads(written["json"])["alt"].startswith("Case LAT2026-01 has no cardiac MRI")
    assert course_figure(tables, thresholds).figure.axes  # the rest still draws


def test_second_paper_course_has_its_own_parameters_timepoints_and_intervention(wang, thresholds):
    drawn = course_figure(wang, thresholds)
    assert course_panels(course_data(wang)) == [
        ("calcium_total", "calcium_ionized"),  # one unit (mmol/L), comparable values
        ("pth",),
        ("lvef",),
    ]
    axes = [ax for ax in drawn.figure.axes if ax.get_visible()]
    ticks = [t.get_text() for t in axes[-1].get_xticklabels()]
    assert (
        ticks
        == wang["timepoints"]
        .set_index("timepoint")
        .loc[["admission", "follow_up"], "label"]
        .tolist()
    )
    legend = [t.get_text() for t in drawn.figure.legends[0].get_texts()]
    assert wang["interventions"]["name"].iloc[0] in legend
    texts = [t.get_text() for ax in axes for t in ax.texts]
    assert "< 1.0" in texts  # printed with the paper's qualifier
    assert sum("paper's range" in t for t in texts) == len(wang["reference_ranges"])
    assert "Parathyroid hormone < 1.0 pg/mL" in drawn.alt
    assert "from 28.48 to 48.50 %" in drawn.alt


def test_second_paper_has_no_mri_and_an_ordinal_timeline(wang, thresholds):
    assert "no cardiac MRI values" in mri_figure(wang, thresholds).caption
    drawn = timeline_figure(wang)
    ax = drawn.figure.axes[0]
    labels = [t.get_text().replace("\n", " ") for t in ax.get_xticklabels()]
    order = wang["timepoints"].sort_values("order")["label"].tolist()
    assert labels == order  # the case's timepoints in order, no invented calendar
    lanes = [t.get_text() for t in ax.get_yticklabels()]
    assert lanes[0] == wang["interventions"]["name"].iloc[0]
    assert "no calendar dates" in ax.get_xlabel() and "dates none of them" in drawn.caption


def test_an_ordinal_timeline_s_labels_never_run_together():
    # kho2021: six timepoints with long labels ("8 h, venous blood on room air" beside "24 h, ...").
    drawn = timeline_figure(load_raw(REPO / "examples" / "kho2021" / "raw"))
    fig = drawn.figure
    fig.canvas.draw()  # constrained layout places the labels
    boxes = [label.get_window_extent() for label in fig.axes[0].get_xticklabels()]
    assert len(boxes) == 6
    gaps = [right.x0 - left.x1 for left, right in zip(boxes[:-1], boxes[1:], strict=True)]
    line = boxes[0].height / len(fig.axes[0].get_xticklabels()[0].get_text().splitlines())
    assert min(gaps) >= line, gaps  # read apart: at least a line's height between them


def test_course_caption_names_a_parameter_with_ranges_in_two_units_once(thresholds):
    kho = load_raw(REPO / "examples" / "kho2021" / "raw")
    ranges = kho["reference_ranges"]
    assert ranges["parameter"].eq("po2").sum() == 2  # mmHg and kPa
    bands = course_figure(kho, thresholds).caption.split("Green bands:")[1].split(").")[0]
    assert bands.count("Partial pressure of oxygen") == 1


def test_in_a_series_each_case_s_figures_are_those_it_has_alone(
    series, tables, wang, thresholds, tmp_path
):
    """The series is the sum of its cases: same bytes for a case drawn in the series or alone."""
    for alone in (tables, wang):
        case = alone["cases"]["case_id"].iloc[0]
        in_series = draw_case_figures(series, thresholds, case)
        by_itself = draw_case_figures(alone, thresholds, case)
        assert [d.name for d in in_series] == list(paths.CASE_FIGURES)
        for one, two in zip(in_series, by_itself, strict=True):
            assert one.case_id == case
            assert figure_bytes(one, tmp_path / "series") == figure_bytes(two, tmp_path / "alone")


def test_per_case_figures_are_named_by_case_inside_figures(tmp_path):
    path = paths.case_figure_file(tmp_path, "WANG2021-01", "course", "svg")
    assert path == tmp_path / "figures" / "cases" / "WANG2021-01" / "course.svg"
    assert paths.figure_file(tmp_path, "course", "svg") == tmp_path / "figures" / "course.svg"


@pytest.mark.parametrize("name", paths.CASE_FIGURES)
def test_second_paper_figures_are_byte_stable(name, wang, thresholds, tmp_path):
    draw = {d.name: d for d in draw_case_figures(wang, thresholds)}
    first = figure_bytes(draw[name], tmp_path / "one")
    again = {d.name: d for d in draw_case_figures(wang, thresholds)}[name]
    assert figure_bytes(again, tmp_path / "two") == first


@pytest.mark.parametrize("name", paths.CASE_FIGURES)
def test_every_figure_has_caption_and_alt_text_from_the_data(name, drawn, tmp_path, tables):
    files = paths.figure_files(tmp_path, name)
    write_figure(drawn[name], files["svg"], files["png"], files["json"])
    text = json.loads(files["json"].read_text(encoding="utf-8"))
    assert text["figure"] == name
    assert len(text["caption"]) > 80 and len(text["alt"]) > 80
    assert files["png"].read_bytes().startswith(b"\x89PNG")
    assert files["svg"].read_text(encoding="utf-8").lstrip().startswith("<?xml")


def test_captions_take_their_numbers_from_the_data(tables, thresholds, drawn):
    course = drawn["course"]
    m = tables["measurements"]
    t1 = m[(m["source"] == "Table 1") & (m["parameter"] == "six_minute_walk")]
    assert f"from {t1['value'].iloc[0]} to {t1['value'].iloc[-1]} m" in course.alt
    changed = {**thresholds, "nt_probnp": {**thresholds["nt_probnp"], "rule_out_below": 300}}
    assert "(300 pg/mL" in course_figure(tables, changed).caption


@pytest.mark.parametrize("paper", ["latipbayeva2026", "wang2021"])
def test_no_number_in_a_caption_is_missing_from_data_or_config(paper, tables, wang, thresholds):
    """Every number in a caption appears in the raw data or config (counts are derived: allowed)."""
    data = {"latipbayeva2026": tables, "wang2021": wang}[paper]
    known = set()
    for frame in data.values():
        for column in frame.columns:
            known |= set(re.findall(r"\d+(?:\.\d+)?", " ".join(map(str, frame[column]))))
    known |= set(re.findall(r"\d+(?:\.\d+)?", yaml.safe_dump(thresholds)))
    known |= {f"{float(n):g}" for n in known}  # a float column's 99.0 is printed 99
    for drawn in draw_case_figures(data, thresholds):
        numbers = set(re.findall(r"\d+(?:\.\d+)?", drawn.caption + " " + drawn.alt))
        counts = {str(n) for n in range(1, 20)}
        assert numbers <= known | counts, (drawn.name, numbers - known - counts)


def draw_bytes(tables, thresholds, name: str, directory) -> dict[str, bytes]:
    build = {
        "course": lambda: course_figure(tables, thresholds),
        "mri": lambda: mri_figure(tables, thresholds),
        "timeline": lambda: timeline_figure(tables),
    }[name]
    files = paths.figure_files(directory, name)
    write_figure(build(), files["svg"], files["png"], files["json"])
    return {suffix: path.read_bytes() for suffix, path in files.items()}


@pytest.mark.parametrize("name", paths.CASE_FIGURES)
def test_two_builds_give_identical_bytes(name, tables, thresholds, tmp_path):
    first = draw_bytes(tables, thresholds, name, tmp_path / "one")
    second = draw_bytes(tables, thresholds, name, tmp_path / "two")
    assert first == second
    svg = first["svg"].decode("utf-8")
    assert "<dc:date>" not in svg and "Matplotlib v" not in svg
    assert b"Software" not in first["png"][:4096]


@pytest.mark.e2e
def test_pipeline_draws_every_figure_and_the_report_shows_them(pipeline_run, tmp_path):
    """`snakemake` writes each figure's SVG, PNG and JSON; `--report` embeds figures and tables.

    The report goes outside the shared run's results/, which other tests compare byte for byte."""
    for name in paths.FIGURES:
        for path in paths.figure_files(pipeline_run / "results", name).values():
            assert path.stat().st_size > 0, path
    case = load_raw(RAW_DIR)["cases"]["case_id"].iloc[0]
    for name in paths.CASE_FIGURES:  # the case's own set, byte for byte the featured one
        for suffix in paths.FIGURE_SUFFIXES:
            own = paths.case_figure_file(pipeline_run / "results", case, name, suffix)
            featured = paths.figure_file(pipeline_run / "results", name, suffix)
            assert own.read_bytes() == featured.read_bytes(), own
    report = tmp_path / "report.html"
    run_snakemake(pipeline_run, "--report", str(report))
    html = report.read_text(encoding="utf-8")
    for name in paths.FIGURES:
        assert f"{name}.svg" in html
    for table in paths.PAPER_TABLES:
        assert f"{table}.csv" in html
    assert '<script src="http' not in html  # self-contained
