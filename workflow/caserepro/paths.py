"""Every file the pipeline reads or writes, named in one place (raw inputs and generated outputs)."""

from __future__ import annotations

from pathlib import Path

#: Raw tables, transcribed by hand from the paper; the pipeline only reads them.
RAW_TABLES: tuple[str, ...] = (
    "cases",
    "timepoints",
    "infusions",
    "measurements",
    "claims",
    "dictionary",
    "methods",
    "table_layout",
    "checks",
    "formulas",
)

#: The paper's tables that the pipeline reproduces.
PAPER_TABLES: tuple[str, ...] = ("table1", "table2")


def raw_file(raw_dir: str | Path, table: str) -> Path:
    """The CSV file of one raw table."""
    return Path(raw_dir) / f"{table}.csv"


def raw_files(raw_dir: str | Path) -> dict[str, Path]:
    """All raw CSV files, by table name."""
    return {table: raw_file(raw_dir, table) for table in RAW_TABLES}


def validated_file(results_dir: str | Path, table: str) -> Path:
    """The validated, typed copy of one raw table."""
    return Path(results_dir) / "validated" / f"{table}.parquet"


def validated_files(results_dir: str | Path) -> dict[str, Path]:
    """All validated tables, by table name."""
    return {table: validated_file(results_dir, table) for table in RAW_TABLES}


def paper_table_file(results_dir: str | Path, table: str, suffix: str) -> Path:
    """A reproduced paper table (`csv`) or its Markdown fragment (`md`)."""
    return Path(results_dir) / "tables" / f"{table}.{suffix}"


def metrics_dir(results_dir: str | Path) -> Path:
    """Derived metrics (issue 3): one CSV per kind of metric."""
    return Path(results_dir) / "metrics"


#: The derived-metrics tables (columns documented in caserepro.metrics).
METRIC_TABLES: tuple[str, ...] = (
    "haemodynamics",
    "implied",
    "change_from_baseline",
    "classifications",
    "remodelling",
)


def metrics_file(results_dir: str | Path, table: str) -> Path:
    """One derived-metrics table as CSV."""
    return metrics_dir(results_dir) / f"{table}.csv"


def metrics_files(results_dir: str | Path) -> dict[str, Path]:
    """All derived-metrics tables, by name."""
    return {table: metrics_file(results_dir, table) for table in METRIC_TABLES}


def audit_file(results_dir: str | Path) -> Path:
    """The consistency audit: one row per check (contract in DESIGN.md)."""
    return Path(results_dir) / "audit" / "consistency.csv"


def audit_summary_file(results_dir: str | Path) -> Path:
    """The audit's human-readable Markdown summary, included by the manuscript."""
    return Path(results_dir) / "audit" / "summary.md"


def figures_dir(results_dir: str | Path) -> Path:
    """Figures (SVG and PNG) with their captions and alt text."""
    return Path(results_dir) / "figures"


#: The figures (see caserepro.figures), and the files of each: the image twice, and a JSON
#: with its "caption" and "alt" text (read by the report and the manuscript).
FIGURES: tuple[str, ...] = ("course", "mri", "audit", "timeline")
FIGURE_SUFFIXES: tuple[str, ...] = ("svg", "png", "json")


def figure_file(results_dir: str | Path, figure: str, suffix: str) -> Path:
    """One file of a figure: `svg`, `png`, or `json` (caption and alt text)."""
    return figures_dir(results_dir) / f"{figure}.{suffix}"


def figure_files(results_dir: str | Path, figure: str) -> dict[str, Path]:
    """A figure's SVG, PNG and caption/alt JSON, by suffix."""
    return {suffix: figure_file(results_dir, figure, suffix) for suffix in FIGURE_SUFFIXES}


def manuscript_inputs_dir(results_dir: str | Path) -> Path:
    """Generated inputs of the Quarto manuscript (_variables.yml, fragments)."""
    return Path(results_dir) / "manuscript-inputs"


def manuscript_output_dir(results_dir: str | Path) -> Path:
    """The rendered manuscript (needs Quarto)."""
    return Path(results_dir) / "manuscript"


def manuscript_rendered_files(results_dir: str | Path) -> dict[str, Path]:
    """What `quarto render` makes of the manuscript: HTML, and PDF through Typst."""
    out = manuscript_output_dir(results_dir)
    return {"html": out / "index.html", "pdf": out / "index.pdf"}


def manuscript_not_rendered_file(results_dir: str | Path) -> Path:
    """The note left instead of the rendered manuscript when Quarto is not installed."""
    return manuscript_output_dir(results_dir) / "NOT-RENDERED.txt"


def provenance_file(results_dir: str | Path) -> Path:
    """Checksums of inputs, package versions, git commit, config."""
    return Path(results_dir) / "provenance.json"
