"""Every file the pipeline reads or writes, named in one place (raw inputs and generated outputs)."""

from __future__ import annotations

import csv
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
    "constants",
    "paper_tables",
    "modalities",
    "qualifiers",
    "reference_ranges",
    "interventions",
)

#: Tables a case report need not have: an absent file or a header alone means none.
OPTIONAL_TABLES: tuple[str, ...] = (
    "formulas",  # a paper whose parameters no identity ties together has none
    "constants",  # and a paper whose identities name no constant
    "infusions",
    "claims",
    "methods",
    "table_layout",
    "paper_tables",
    "reference_ranges",
    "interventions",
)

#: The tables of the mission's paper that its manuscript includes (any raw folder's tables come
#: from its table_layout.csv: see `paper_table_keys`).
PAPER_TABLES: tuple[str, ...] = ("table1", "table2")


def raw_file(raw_dir: str | Path, table: str) -> Path:
    """The CSV file of one raw table."""
    return Path(raw_dir) / f"{table}.csv"


def raw_files(raw_dir: str | Path) -> dict[str, Path]:
    """All raw CSV files, by table name."""
    return {table: raw_file(raw_dir, table) for table in RAW_TABLES}


def raw_inputs(raw_dir: str | Path) -> dict[str, Path]:
    """The raw CSV files of a run that exist (validation reports a required one that does not,
    with every other problem, rather than Snakemake stopping before it at the first)."""
    return {table: path for table, path in raw_files(raw_dir).items() if path.exists()}


def validated_file(results_dir: str | Path, table: str) -> Path:
    """The validated, typed copy of one raw table."""
    return Path(results_dir) / "validated" / f"{table}.parquet"


def validated_files(results_dir: str | Path) -> dict[str, Path]:
    """All validated tables, by table name."""
    return {table: validated_file(results_dir, table) for table in RAW_TABLES}


def tables_dir(results_dir: str | Path) -> Path:
    """The folder of the reproduced paper tables."""
    return Path(results_dir) / "tables"


def paper_table_file(
    results_dir: str | Path, table: str, suffix: str, case_id: str | None = None
) -> Path:
    """A reproduced paper table (`csv`) or its Markdown fragment (`md`); in a folder of its
    case when tables of several cases share the name (see `paper_table_outputs`)."""
    folder = tables_dir(results_dir)
    return (folder / case_id if case_id else folder) / f"{table}.{suffix}"


def layout_tables(raw_dir: str | Path) -> list[tuple[str | None, str]]:
    """The (case_id or None, table) pairs that table_layout.csv defines, in file order; none if
    the file is absent or unreadable (validation then says why). Read while Snakemake builds its
    job graph, so with the csv module alone."""
    path = raw_file(raw_dir, "table_layout")
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.DictReader(handle, skipinitialspace=True))
    except (OSError, UnicodeDecodeError, csv.Error):
        return []
    pairs = []
    for row in rows:
        table = (row.get("table") or "").strip()
        if not table:
            continue
        pairs.append(((row.get("case_id") or "").strip() or None, table))
    return list(dict.fromkeys(pairs))


def first_case(raw_dir: str | Path) -> str | None:
    """The first case_id of cases.csv, or None if there is none (validation then says why);
    read while Snakemake builds its job graph, like `layout_tables`."""
    try:
        with raw_file(raw_dir, "cases").open(encoding="utf-8-sig", newline="") as handle:
            for row in csv.DictReader(handle, skipinitialspace=True):
                if (row.get("case_id") or "").strip():
                    return row["case_id"].strip()
    except (OSError, UnicodeDecodeError, csv.Error):
        pass
    return None


def case_tables(
    outputs: dict[tuple[str | None, str], dict[str, Path]], case_id: str | None
) -> dict[str, Path]:
    """The Markdown file of each paper table that one case's report includes, by table name:
    the case's own tables and those of every case (case_id blank)."""
    return {
        table: files["md"] for (case, table), files in outputs.items() if case in (None, case_id)
    }


def paper_table_outputs(
    results_dir: str | Path, pairs: list[tuple[str | None, str]]
) -> dict[tuple[str | None, str], dict[str, Path]]:
    """The CSV and Markdown file of each (case_id, table): `tables/<table>.<suffix>` when one
    case (or every case, case_id blank) has a table of that name, else under `tables/<case_id>/`."""
    cases_of = {}
    for case_id, table in pairs:
        cases_of.setdefault(table, []).append(case_id)
    return {
        (case_id, table): {
            suffix: paper_table_file(
                results_dir, table, suffix, case_id if len(cases_of[table]) > 1 else None
            )
            for suffix in ("csv", "md")
        }
        for case_id, table in pairs
    }


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


#: The audit's parts, in the order their rows follow one another in the consistency table
#: (`caserepro.audit.PARTS` says which checks each runs).
AUDIT_PARTS: tuple[str, ...] = ("formulas", "restated", "claims", "patterns")
#: The jobs of rule `audit_part` for a large raw folder, side by side, each a run of consecutive
#: parts: the first job's file is renamed into the table and the others are appended to it, so
#: the larger the first job's share, the fewer bytes are copied. A small raw folder is audited
#: by one job, "all" (config `audit.parts_from_mb`).
AUDIT_JOBS: dict[str, tuple[str, ...]] = {
    "checks": AUDIT_PARTS[:-1],  # the engine's checks
    "patterns": AUDIT_PARTS[-1:],  # the reviewer's patterns
    "all": AUDIT_PARTS,
}


def audit_job_file(results_dir: str | Path, job: str, suffix: str) -> Path:
    """A job's share of the audit (of `AUDIT_JOBS`) as it wrote it: its CSV lines (`csv`, the
    first job's under the header) or the rows the summary reads (`parquet`); gone once the
    shares are joined."""
    return Path(results_dir) / "audit" / "parts" / f"{job}.{suffix}"


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


#: The figures drawn again for every case of a series (the audit figure covers the whole audit).
CASE_FIGURES: tuple[str, ...] = ("course", "mri", "timeline")


def case_figures_dir(results_dir: str | Path) -> Path:
    """One folder per case with that case's figures: `<case_id>/<figure>.<suffix>`."""
    return figures_dir(results_dir) / "cases"


def case_figure_in(cases_dir: str | Path, case_id: str, figure: str, suffix: str) -> Path:
    """One file of one case's figure inside the per-case folder (a case id holds no path
    separator: see schemas.CASE_ID)."""
    return Path(cases_dir) / case_id / f"{figure}.{suffix}"


def case_figure_file(results_dir: str | Path, case_id: str, figure: str, suffix: str) -> Path:
    """One file of one case's figure: `figures/cases/<case_id>/<figure>.<suffix>`."""
    return case_figure_in(case_figures_dir(results_dir), case_id, figure, suffix)


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
