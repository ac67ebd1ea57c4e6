"""The manuscript as readers get it: rendered by real Quarto (HTML and the Typst PDF), then read
back. Skipped, with that reason, only where no Quarto is found (`.ci/install-quarto` installs it).
"""

from __future__ import annotations

import csv
import html
import re
import shutil
from pathlib import Path

import pandas as pd
import pdfplumber
import pytest
from caserepro import manuscript as ms
from caserepro import paths
from caserepro.validate import load_raw
from conftest import RAW_DIR, copy_repo, run_snakemake

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.quarto,
    pytest.mark.skipif(
        ms.find_quarto() is None, reason="no quarto found: run `bash .ci/install-quarto`"
    ),
]

#: Raw text holding everything Markdown, HTML, Quarto and Typst could take for markup.
MARKUP = (
    "a <b>bold</b> & <i>x</i> | pipe *star* _under_ [link](http://example.org) "
    "{{< var case.age >}} `tick` back\\slash $x$ @latipbayeva2026 #hash ~tilde~ "
    '^hat^ "quoted" it\'s -- dash ... = <!-- c --> {#id} \\* end'
)


def visible_html(path: Path) -> str:
    """The text a reader of the HTML sees (scripts and styles dropped), whitespace collapsed."""
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", text)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", text)).split())


def pdf_words(path: Path) -> list[list[dict]]:
    """The PDF's words with their boxes, page by page."""
    with pdfplumber.open(path) as pdf:
        return [
            page.extract_words(keep_blank_chars=False, use_text_flow=True) for page in pdf.pages
        ]


def pdf_text(path: Path) -> str:
    """The PDF's text in the order it was written (a table cell's lines stay together, where
    reading line by line would interleave the cells of a row), whitespace collapsed."""
    with pdfplumber.open(path) as pdf:
        pages = [page.extract_text(use_text_flow=True) or "" for page in pdf.pages]
    return " ".join(" ".join(page.split()) for page in pages)


def overlapping_words(words: list[dict], tolerance: float = 0.5) -> list[tuple[str, str]]:
    """Pairs of words on one page whose boxes overlap by more than `tolerance` points both ways."""
    boxes = sorted(words, key=lambda w: w["top"])
    pairs = []
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            if b["top"] > a["bottom"] - tolerance:
                break
            across = min(a["x1"], b["x1"]) - max(a["x0"], b["x0"])
            down = min(a["bottom"], b["bottom"]) - max(a["top"], b["top"])
            if across > tolerance and down > tolerance:
                pairs.append((a["text"], b["text"]))
    return pairs


def table_cells(results: Path) -> set[str]:
    """Every non-empty cell of the rebuilt paper tables, whitespace collapsed."""
    cells = set()
    for name in paths.PAPER_TABLES:
        with open(paths.paper_table_file(results, name, "csv"), encoding="utf-8", newline="") as f:
            cells |= {" ".join(c.split()) for row in csv.reader(f) for c in row if c.strip()}
    return cells


def internal_codes(tables: dict[str, pd.DataFrame], audit: pd.DataFrame) -> set[str]:
    """Codes of the check, timepoint, method and parameter vocabularies that are not plain words a
    reader could meet (a code with an underscore or a digit, or one its own label does not hold)."""
    named = [
        (audit["check"], audit["check"]),
        (tables["timepoints"]["timepoint"], tables["timepoints"]["label"]),
        (tables["methods"]["method"], tables["methods"]["description"]),
        (tables["dictionary"]["parameter"], tables["dictionary"]["label"]),
    ]
    codes = set()
    for code_column, label_column in named:
        for code, label in zip(code_column, label_column, strict=True):
            plain = re.fullmatch(r"[a-z]+", code) and code in str(label).lower().split()
            if not plain:
                codes.add(code)
    return codes


@pytest.fixture(scope="module")
def rendered(pipeline_run) -> dict[str, Path]:
    return paths.manuscript_rendered_files(pipeline_run / "results")


def test_the_pipeline_rendered_html_and_pdf_without_a_warning(pipeline_run, rendered):
    assert rendered["html"].stat().st_size > 0 and rendered["pdf"].stat().st_size > 0
    log = (pipeline_run / "results" / "logs" / "render_manuscript.log").read_text(encoding="utf-8")
    assert "WARN" not in log.upper(), log  # an unresolved @tbl-/@fig- or citation is a warning
    assert "?@" not in visible_html(rendered["html"])  # Quarto's mark of an unresolved reference
    assert not paths.manuscript_not_rendered_file(pipeline_run / "results").exists()


def test_html_and_pdf_hold_every_cell_of_both_tables(pipeline_run, rendered):
    cells = table_cells(pipeline_run / "results")
    for name, text in (
        ("html", visible_html(rendered["html"])),
        ("pdf", pdf_text(rendered["pdf"])),
    ):
        missing = {c for c in cells if c not in text}
        assert missing == set(), f"{name}: {sorted(missing)}"


def test_no_word_of_the_pdf_is_drawn_over_another(rendered):
    pages = pdf_words(rendered["pdf"])
    overlaps = {i + 1: overlapping_words(words) for i, words in enumerate(pages)}
    assert {page: pairs for page, pairs in overlaps.items() if pairs} == {}
    assert len(pages) >= 5


def test_the_pdf_has_one_bibliography(rendered):
    text = pdf_text(rendered["pdf"])
    assert text.count("Bibliography") == 0
    assert len(re.findall(r"\bReferences\b", text)) == 2  # the table of contents and the heading
    assert "Latipbayeva" in text.split("References")[-1]


def test_the_html_contents_show_without_quarto_s_script(rendered):
    # Opened from disk (file://) a browser refuses Quarto's page script (a JavaScript module),
    # which is what unfolds the contents; the page's own style must show them without it.
    page = rendered["html"].read_text(encoding="utf-8")
    head, body = page.split("</head>", 1)
    toc = re.search(r'(?s)<nav id="TOC".*?</nav>', body).group(0)
    assert '<ul class="collapse">' in toc
    assert re.search(r"#TOC ul\.collapse\s*\{\s*display:\s*block;?\s*\}", head)
    sections = re.findall(r'<section id="([^"]+)" class="level[12]"', body)
    listed = re.findall(r'<a href="#([^"]+)" id="toc-', toc)
    assert len(sections) >= 10 and [s for s in listed if s in sections] == sections


def test_no_internal_code_reaches_readers(pipeline_run, tables, rendered):
    audit = pd.read_csv(paths.audit_file(pipeline_run / "results"), dtype=str)
    codes = internal_codes(tables, audit)
    assert {"ef_from_volumes", "mri_after", "blood_volume", "lvef", "visit1"} <= codes
    for name, text in (
        ("html", visible_html(rendered["html"])),
        ("pdf", pdf_text(rendered["pdf"])),
    ):
        found = {c for c in codes if re.search(rf"(?<![\w/.-]){re.escape(c)}(?![\w/-])", text)}
        assert found == set(), f"{name} shows codes: {sorted(found)}"


@pytest.fixture(scope="module")
def markup_run(tmp_path_factory) -> Path:
    """A run whose raw text is full of markup: a complaint of Table 1, the diagnosis (which the
    prose names through `_variables.yml`) and a timepoint's name (audit tables and figure)."""
    root = copy_repo(tmp_path_factory.mktemp("markup_run"))
    raw = root / "data" / "raw"
    for table, where, column in (
        ("infusions", ("infusion", "2"), "complaints"),
        ("cases", ("case_id", load_raw(RAW_DIR)["cases"]["case_id"].iloc[0]), "diagnosis"),
        ("timepoints", ("timepoint", "visit1"), "name"),
    ):
        frame = pd.read_csv(raw / f"{table}.csv", dtype=str, keep_default_na=False)
        frame.loc[frame[where[0]] == where[1], column] = MARKUP
        frame.to_csv(raw / f"{table}.csv", index=False, lineterminator="\n")
    run_snakemake(root)
    return root


def test_raw_text_full_of_markup_renders_verbatim_in_html(markup_run):
    text = visible_html(paths.manuscript_rendered_files(markup_run / "results")["html"])
    # the complaint (Table 1), the diagnosis (prose) and the timepoint (audit tables)
    assert text.count(" ".join(MARKUP.split())) >= 3, text[:3000]


def test_raw_text_full_of_markup_renders_verbatim_in_pdf(markup_run):
    text = pdf_text(paths.manuscript_rendered_files(markup_run / "results")["pdf"])
    # A wrapped line is joined with a space where it broke: compare without the spaces.
    assert re.sub(r"\s", "", text).count(re.sub(r"\s", "", MARKUP)) >= 3, text[:3000]


def test_markup_in_raw_text_leaves_the_manuscript_intact(markup_run):
    shutil.rmtree(markup_run / ".snakemake", ignore_errors=True)
    log = (markup_run / "results" / "logs" / "render_manuscript.log").read_text(encoding="utf-8")
    assert "WARN" not in log.upper(), log  # e.g. `{{< var >}}` in raw text was not expanded


def test_overlap_finder_sees_words_drawn_over_each_other():
    word = {"text": "a", "x0": 10.0, "x1": 30.0, "top": 100.0, "bottom": 110.0}
    beside = {**word, "text": "b", "x0": 30.2, "x1": 50.0}
    over = {**word, "text": "c", "x0": 25.0, "x1": 45.0, "top": 104.0, "bottom": 114.0}
    assert overlapping_words([word, beside]) == []
    assert overlapping_words([word, beside, over]) == [("a", "c"), ("b", "c")]
