"""Audit the paper's numbers against one another; write the checks (CSV) and a Markdown summary."""

from concurrent.futures import ThreadPoolExecutor

from caserepro.audit import CODED_COLUMNS, INPUT_COLUMNS, run_audit
from caserepro.io import read_tables, write_csv, write_text

snakemake = snakemake  # noqa: F821  (injected by Snakemake)

inputs = {name: path for name, path in snakemake.input.items() if name in INPUT_COLUMNS}
tables = read_tables(  # only what the audit reads, its texts coded by Parquet's dictionaries
    inputs, columns=INPUT_COLUMNS, categorical={"measurements": CODED_COLUMNS}
)
report = run_audit(
    tables, {"thresholds": snakemake.params.thresholds, "audit": snakemake.params.audit}
)
with ThreadPoolExecutor(max_workers=1) as summariser:  # the summary is made as the CSV is written
    summary = summariser.submit(report.to_markdown)
    write_csv(snakemake.output.checks, report.checks)  # in pieces: a cohort's CSV is large
    write_text(snakemake.output.summary, summary.result())
counts = report.checks["verdict"].value_counts().sort_index()
write_text(snakemake.log[0], "".join(f"{verdict}: {n}\n" for verdict, n in counts.items()))
