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


def audit_file(results_dir: str | Path) -> Path:
    """The consistency audit: one row per check (contract in DESIGN.md)."""
    return Path(results_dir) / "audit" / "consistency.csv"


def audit_summary_file(results_dir: str | Path) -> Path:
    """The audit's human-readable Markdown summary, included by the manuscript."""
    return Path(results_dir) / "audit" / "summary.md"


def figures_dir(results_dir: str | Path) -> Path:
    """Figures (SVG and PNG) with their captions and alt text."""
    return Path(results_dir) / "figures"


def manuscript_inputs_dir(results_dir: str | Path) -> Path:
    """Generated inputs of the Quarto manuscript (_variables.yml, fragments)."""
    return Path(results_dir) / "manuscript-inputs"


def manuscript_output_dir(results_dir: str | Path) -> Path:
    """The rendered manuscript (needs Quarto)."""
    return Path(results_dir) / "manuscript"


def provenance_file(results_dir: str | Path) -> Path:
    """Checksums of inputs, package versions, git commit, config."""
    return Path(results_dir) / "provenance.json"
