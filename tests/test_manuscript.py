"""The Quarto manuscript: every number it states comes from the generated variables, every include,
figure, cross-reference and citation resolves, and its tables hold the rebuilt tables' cells.

Quarto itself is not needed, except for the one test that renders (skipped without it).
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml
from caserepro import manuscript as ms
from caserepro import paths
from caserepro.audit import run_audit
from caserepro.io import csv_bytes
from caserepro.labels import VERDICT_LABELS
from caserepro.metrics import derive_metrics
from caserepro.tables import table1, table2
from conftest import REPO

SOURCE = REPO / "manuscript"
QMD = (SOURCE / "index.qmd").read_text(encoding="utf-8")
BIB = (SOURCE / "references.bib").read_text(encoding="utf-8")
CONFIG = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))


def as_written(frame: pd.DataFrame) -> pd.DataFrame:
    """A metrics table as the manuscript stage reads it back from CSV."""
    return pd.read_csv(io.BytesIO(csv_bytes(frame)))


@pytest.fixture(scope="module")
def metrics(tables) -> dict[str, pd.DataFrame]:
    return {
        name: as_written(frame)
        for name, frame in derive_metrics(tables, CONFIG["thresholds"]).items()
    }


@pytest.fixture(scope="module")
def audit(tables) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(run_audit(tables, CONFIG).to_csv()), dtype={"reported": "string"})


PROVENANCE = {
    "git": {"commit": "0123456789abcdef", "dirty": False, "note": "clean checkout"},
    "inputs": {"data/raw/cases.csv": {"sha256": "ab" * 32, "bytes": 1}},
    "packages": {"pandas": "x"},
    "python": {"implementation": "CPython", "version": "x"},
}


def build(tables, metrics, audit) -> dict[str, str]:
    """The render directory's text files, built in-process (no Snakemake, no figures drawn)."""
    return ms.render_dir_texts(
        tables=tables,
        thresholds=CONFIG["thresholds"],
        metrics=metrics,
        sources={name: (SOURCE / name).read_text(encoding="utf-8") for name in ms.SOURCES},
        table_markdown={
            "table1": table1(tables).to_markdown(),
            "table2": table2(tables).to_markdown(),
        },
        audit=audit,
        figures={f: (f"Caption of {f}.", f'Alt text of "{f}".') for f in paths.FIGURES},
        provenance=PROVENANCE,
    )


@pytest.fixture(scope="module")
def texts(tables, metrics, audit) -> dict[str, str]:
    return build(tables, metrics, audit)


def unescaped(node):
    """What readers see of Markdown-escaped variables: every backslash escape undone."""
    if isinstance(node, dict):
        return {key: unescaped(value) for key, value in node.items()}
    return re.sub(r"\\(.)", r"\1", node)


@pytest.fixture(scope="module")
def variables(texts) -> dict:
    """`_variables.yml` as readers see its values."""
    return unescaped(yaml.safe_load(texts["_variables.yml"]))


def lookup(variables: dict, key: str):
    node = variables
    for part in key.split("."):
        node = node[part]
    return node


def pipe_rows(markdown: str) -> list[list[str]]:
    """Cells of a Markdown pipe table (rule line dropped, backslash escapes undone)."""
    rows = []
    for line in markdown.splitlines():
        if not line.startswith("|") or re.fullmatch(r"\|(:?-+:?\|)+", line):
            continue
        cells = re.split(r"(?<!\\)\|", line.strip()[1:-1])
        rows.append([re.sub(r"\\(.)", r"\1", c.strip()) for c in cells])
    return rows


# --- the hand-written source ------------------------------------------------------------------


@pytest.mark.parametrize(
    "qmd", [SOURCE / "index.qmd", *sorted(REPO.glob("examples/*/manuscript/index.qmd"))]
)
def test_prose_types_no_number_outside_shortcodes(qmd):
    assert ms.typed_numbers(qmd.read_text(encoding="utf-8")) == []


def test_typed_number_check_catches_numbers_but_not_names_citations_or_labels():
    prose = "LVEF rose to 53% in 2025; the 6MWT [@bozkurt2021] {#tbl-x1} {{< var a.b2 >}} m²"
    assert ms.typed_numbers(prose) == ["53", "2025"]


def test_every_var_in_the_manuscript_is_generated(variables):
    keys = ms.var_keys(QMD)
    assert keys, "the manuscript names no variables"
    assert keys - ms.flatten_keys(variables) == set()


def test_every_citation_is_in_the_bibliography():
    cited = ms.citation_keys(QMD)
    assert "latipbayeva2026" in cited
    assert cited - ms.bib_keys(BIB) == set()


def test_every_threshold_citation_of_the_config_is_in_the_bibliography():
    keys = set()
    for group in CONFIG["thresholds"].values():
        cite = group.get("citation")
        keys |= set(cite if isinstance(cite, list) else [cite] if cite else [])
    assert keys and keys - ms.bib_keys(BIB) == set()


PAPER_REFERENCES = [
    "dellefave2010",
    "qin2022",
    "gbd2016",
    "vrtovec2013",
    "nikiforova2021",
    "adamo2020",
    "baker2007",
    "ding2006",
    "ding2011",
    "dominici2006",
    "gong2022",
    "dzholdasbekova2015",
]


def test_bibliography_holds_the_paper_and_its_references_with_doi_or_url():
    entries = dict(re.findall(r"^@\w+\{([^,\s]+),(.*?)^\}", BIB, flags=re.M | re.S))
    assert "latipbayeva2026" in entries
    for key in PAPER_REFERENCES:
        assert re.search(r"^\s*(doi|url)\s*=", entries[key], flags=re.M), key


def test_every_cross_reference_has_a_label(texts):
    everything = "\n".join(texts.values())
    refs = ms.cross_references(QMD)
    assert {"tbl-visits", "tbl-mri", "tbl-audit"} | {f"fig-{f}" for f in paths.FIGURES} <= refs
    assert refs - ms.labels(everything) == set()


def test_every_include_and_figure_is_a_generated_file(texts):
    generated = set(ms.generated_files(paths.PAPER_TABLES))
    assert ms.include_paths(QMD) - generated == set()
    images = set().union(*(ms.image_paths(t) for t in texts.values()))
    assert images == {f"{ms.FIGURE_DIR}/{f}.svg" for f in paths.FIGURES}
    assert images <= generated


def test_includes_stand_alone_between_blank_lines():
    """Quarto needs an include shortcode on a line of its own, with an empty line either side."""
    lines = QMD.splitlines()
    at = [i for i, line in enumerate(lines) if "{{< include" in line]
    assert len(at) == len(ms.include_paths(QMD))
    for i in at:
        assert re.fullmatch(r"\{\{< include \S+ >\}\}", lines[i]), lines[i]
        assert lines[i - 1] == "" and lines[i + 1] == "", lines[i]


# --- the generated variables and fragments ----------------------------------------------------


def test_variables_hold_the_printed_values_of_the_tables(tables, variables):
    m = tables["measurements"]
    for row in m[m["source"].isin(["Table 1", "Table 2"])].itertuples():
        key = ".".join(
            [ms.slug(row.source), row.timepoint, row.parameter]
            + ([row.method] if isinstance(row.method, str) else [])
        )
        assert lookup(variables["values"], key) == ms.format_number(row.value_num, row.decimals), (
            key
        )


def test_change_from_baseline_follows_the_first_and_last_visit(tables, variables):
    grid = table1(tables)
    walk = next(r for r in grid.body if r[0] == "6MWT")
    change = variables["change"]["table_1"]["six_minute_walk"]
    assert (change["from"], change["to"]) == (walk[1], walk[-1])
    assert change["delta"] == ms.format_number(float(walk[-1]) - float(walk[1]), 0, signed=True)


def test_variables_follow_a_changed_raw_value(tables, metrics, audit):
    changed = {k: v.copy() for k, v in tables.items()}
    m = changed["measurements"]
    hit = (
        (m["source"] == "Table 1")
        & (m["timepoint"] == "visit4")
        & (m["parameter"] == "six_minute_walk")
    )
    m.loc[hit, "value_num"] = m.loc[hit, "value_num"] + 1
    variables = yaml.safe_load(build(changed, metrics, audit)["_variables.yml"])
    before = yaml.safe_load(build(tables, metrics, audit)["_variables.yml"])
    assert (
        variables["values"]["table_1"]["visit4"]["six_minute_walk"]
        != before["values"]["table_1"]["visit4"]["six_minute_walk"]
    )


def test_infusions_without_complications_are_said_in_words(variables):
    # The paper's four infusions are each followed by "None" in infusions.csv.
    assert variables["infusions"]["complications"] == (
        "no complications were recorded after any of the 4 infusions"
    )


@pytest.mark.parametrize(
    "with_complications, count, said",
    [
        (0, 4, "no complications were recorded after any of the 4 infusions"),
        (1, 4, "complications were recorded after 1 of the 4 infusions"),
        (4, 4, "complications were recorded after all 4 infusions"),
        (0, 1, "no complications were recorded after the infusion"),
        (1, 1, "complications were recorded after the infusion"),
    ],
)
def test_complications_are_counted_in_prose(with_complications, count, said):
    assert ms.complications_said(with_complications, count) == said


def test_audit_counts_add_up(audit, variables):
    counts = variables["audit"]
    assert int(counts["checks"]) == len(audit)
    assert sum(int(counts[v]) for v in ms.VERDICTS) == len(audit)


@pytest.mark.parametrize("name, build_table", [("table1", table1), ("table2", table2)])
def test_table_fragments_hold_every_cell_of_the_rebuilt_tables(tables, texts, name, build_table):
    grid = build_table(tables)
    assert pipe_rows(texts[ms.fragment_name(name)]) == grid.header + grid.body


def test_audit_table_lists_every_check_worst_first(audit, texts):
    rows = pipe_rows(texts[ms.fragment_name("audit-table")])
    verdicts = [row[-1] for row in rows[1:]]
    assert len(verdicts) == len(audit)
    codes = {label: code for code, label in VERDICT_LABELS.items()}
    rank = [ms.WORST_FIRST.index(codes[v]) for v in verdicts]
    assert rank == sorted(rank)


def test_figure_fragment_escapes_quotes_in_alt_text(texts):
    fragment = texts[ms.fragment_name(ms.figure_fragment_stem("course"))]
    assert fragment.startswith("![Caption of course\\.](figures/course.svg){#fig-course ")
    alt = re.search(r'fig-alt="((?:[^"\\]|\\.)*)"', fragment).group(1)
    as_read = re.sub(r"\\(.)", r"\1", alt)  # the attribute's own escapes undone
    assert re.sub(r"\\(.)", r"\1", as_read) == 'Alt text of "course".'  # then Markdown's


def test_variables_are_byte_stable(tables, metrics, audit, texts):
    assert build(tables, metrics, audit)["_variables.yml"] == texts["_variables.yml"]


@pytest.mark.parametrize(
    "value, decimals, signed, text",
    [
        (25000, 0, False, "25,000"),
        (-12442, 0, True, "−12,442"),
        (405, 0, True, "+405"),
        (38.64, 2, False, "38.64"),
        (0.0, 0, True, "0"),
    ],
)
def test_numbers_are_formatted_for_prose(value, decimals, signed, text):
    assert ms.format_number(value, decimals, signed) == text


def test_not_rendered_message_is_one_line_that_says_how_to_install():
    line = ms.not_rendered_message("results/manuscript-inputs")
    assert "\n" not in line
    assert "NOT rendered" in line
    assert "https://quarto.org/docs/get-started/" in line and "pip install quarto-cli" in line


# --- the real pipeline ------------------------------------------------------------------------


@pytest.mark.e2e
def test_pipeline_assembles_the_render_directory(pipeline_run):
    results = pipeline_run / "results"
    render_dir = paths.manuscript_inputs_dir(results)
    for name in ms.generated_files(paths.PAPER_TABLES):
        assert (render_dir / name).is_file(), name
    qmd = (render_dir / "index.qmd").read_text(encoding="utf-8")
    variables = yaml.safe_load((render_dir / "_variables.yml").read_text(encoding="utf-8"))
    assert ms.var_keys(qmd) - ms.flatten_keys(variables) == set()
    assert not (SOURCE / "_variables.yml").exists(), "generated files must not land in manuscript/"


@pytest.mark.e2e
@pytest.mark.parametrize("name", paths.PAPER_TABLES)
def test_pipeline_table_fragments_match_the_table_csvs(pipeline_run, name):
    results = pipeline_run / "results"
    with open(paths.paper_table_file(results, name, "csv"), encoding="utf-8", newline="") as handle:
        expected = list(csv.reader(handle))
    fragment = (paths.manuscript_inputs_dir(results) / ms.fragment_name(name)).read_text(
        encoding="utf-8"
    )
    assert pipe_rows(fragment) == expected


def test_manuscript_sources_exist():
    for name in ms.SOURCES:
        assert Path(SOURCE / name).is_file(), name


# --- a manuscript per paper -------------------------------------------------------------------


def test_a_var_the_data_cannot_fill_is_an_error_naming_it(tables, metrics, audit):
    sources = {name: (SOURCE / name).read_text(encoding="utf-8") for name in ms.SOURCES}
    sources["index.qmd"] += "\n{{< var values.table_1.visit9.lvef >}} {{< var case.age >}}\n"
    with pytest.raises(ms.UnfilledVariableError, match=r"values\.table_1\.visit9\.lvef$"):
        ms.render_dir_texts(
            tables=tables,
            thresholds=CONFIG["thresholds"],
            metrics=metrics,
            sources=sources,
            table_markdown={},
            audit=audit,
            figures={f: ("c", "a") for f in paths.FIGURES},
            provenance=PROVENANCE,
        )


def test_blank_or_nan_values_count_as_unfilled():
    variables = {"a": {"b": "nan", "c": "", "d": "12"}}
    qmd = "{{< var a.b >}} {{< var a.c >}} {{< var a.d >}} {{< var a.e >}}"
    assert ms.unfilled_keys(qmd, variables) == ["a.b", "a.c", "a.e"]


def test_the_manuscript_tells_one_case_of_a_series(tables):
    other = {
        name: pd.concat([frame, frame.assign(case_id="SECOND-01")], ignore_index=True)
        if "case_id" in frame
        else frame
        for name, frame in tables.items()
    }
    m = other["measurements"]
    second = (m["case_id"] == "SECOND-01") & (m["parameter"] == "lvef") & (m["source"] == "Table 1")
    other["measurements"] = m.assign(value_num=m["value_num"].where(~second, 11.0))
    first = ms.value_variables(ms.of_case(other, ms.manuscript_case(other, None)))
    chosen = ms.value_variables(ms.of_case(other, ms.manuscript_case(other, "SECOND-01")))
    assert first["table_1"]["visit1"]["lvef"] != "11"
    assert {v["lvef"] for v in chosen["table_1"].values()} == {"11"}
    with pytest.raises(ValueError, match="NOBODY"):
        ms.manuscript_case(other, "NOBODY")


def test_a_paper_folder_without_project_settings_takes_the_default_ones(tmp_path):
    (tmp_path / "index.qmd").write_text("x", encoding="utf-8")
    (tmp_path / "references.bib").write_text("", encoding="utf-8")
    files = ms.source_files(tmp_path)
    assert files["index.qmd"] == tmp_path / "index.qmd"
    assert files["_quarto.yml"] == Path(ms.DEFAULT_SOURCE_DIR) / "_quarto.yml"
