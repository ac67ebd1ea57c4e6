"""Audit the paper's numbers against one another; write the checks (CSV) and a Markdown summary."""

from caserepro.audit import CODED_COLUMNS, INPUT_COLUMNS, write_audit
from caserepro.io import read_tables, write_text

snakemake = snakemake  # noqa: F821  (injected by Snakemake)

inputs = {name: path for name, path in snakemake.input.items() if name in INPUT_COLUMNS}
tables = read_tables(  # only what the audit reads, its texts coded by Parquet's dictionaries
    inputs, columns=INPUT_COLUMNS, categorical={"measurements": CODED_COLUMNS}
)
config = {"thresholds": snakemake.params.thresholds, "audit": snakemake.params.audit}
summary, counts = write_audit(tables, config, snakemake.output.checks)  # check by check
write_text(snakemake.output.summary, summary)
write_text(snakemake.log[0], "".join(f"{verdict}: {n}\n" for verdict, n in counts.items()))
