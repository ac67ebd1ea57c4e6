"""Figures: drawn from the data with the dictionary's labels, captioned, and byte-stable."""

from __future__ import annotations

import json
import re

import pytest
import yaml
from caserepro import figures, paths
from caserepro.figures import (
    course_figure,
    display_unit,
    mri_figure,
    timeline_events,
    timeline_figure,
    write_figure,
)
from conftest import run_snakemake


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


def test_course_panels_carry_the_dictionary_labels_and_units(tables, drawn):
    axes = drawn["course"].figure.axes
    d = tables["dictionary"].set_index("parameter")
    for ax, panel in zip(axes, figures.COURSE_PANELS, strict=True):
        for label in labels_of(tables, *panel):
            assert label in ax.get_title().replace("\n", " ")
        assert ax.get_ylabel() == display_unit(d.at[panel[0], "unit"])
    log_panel = [p[0] for p in figures.COURSE_PANELS].index("nt_probnp")
    assert axes[log_panel].get_yscale() == "log"


def test_course_draws_table1_values_at_the_visit_months(tables, drawn):
    ax = drawn["course"].figure.axes[0]  # LVEF
    m = tables["measurements"]
    t1 = m[(m["source"] == "Table 1") & (m["parameter"] == "lvef")]
    tp = tables["timepoints"].set_index("timepoint")["months_after_first_infusion"]
    expected = sorted(zip(t1["timepoint"].map(tp).astype(float), t1["value_num"], strict=True))
    drawn_points = [
        sorted(zip(line.get_xdata(), line.get_ydata(), strict=True))
        for line in ax.get_lines()
        if len(line.get_xdata()) == len(expected)
    ]
    assert [tuple(map(float, p)) for p in drawn_points[-1]] == expected


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


@pytest.mark.parametrize("name", ["course", "mri", "timeline"])
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


def test_no_number_in_a_caption_is_missing_from_data_or_config(drawn, tables, thresholds):
    """Every number in a caption appears in data/raw or config (counts are derived: allowed)."""
    known = set()
    for frame in tables.values():
        for column in frame.columns:
            known |= set(re.findall(r"\d+(?:\.\d+)?", " ".join(map(str, frame[column]))))
    known |= set(re.findall(r"\d+(?:\.\d+)?", yaml.safe_dump(thresholds)))
    for name in ("course", "mri", "timeline"):
        numbers = set(re.findall(r"\d+(?:\.\d+)?", drawn[name].caption))
        counts = {str(n) for n in range(1, 20)}
        assert numbers <= known | counts, (name, numbers - known - counts)


def draw_bytes(tables, thresholds, name: str, directory) -> dict[str, bytes]:
    build = {
        "course": lambda: course_figure(tables, thresholds),
        "mri": lambda: mri_figure(tables, thresholds),
        "timeline": lambda: timeline_figure(tables),
    }[name]
    files = paths.figure_files(directory, name)
    write_figure(build(), files["svg"], files["png"], files["json"])
    return {suffix: path.read_bytes() for suffix, path in files.items()}


@pytest.mark.parametrize("name", ["course", "mri", "timeline"])
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
    report = tmp_path / "report.html"
    run_snakemake(pipeline_run, "--report", str(report))
    html = report.read_text(encoding="utf-8")
    for name in paths.FIGURES:
        assert f"{name}.svg" in html
    for table in paths.PAPER_TABLES:
        assert f"{table}.csv" in html
    assert '<script src="http' not in html  # self-contained
