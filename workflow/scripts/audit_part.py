"""Run one job's share of the audit (caserepro.paths.AUDIT_JOBS): its CSV lines and the rows
its summary reads."""

from caserepro.audit import CODED_COLUMNS, INPUT_COLUMNS, write_audit_part
from caserepro.io import read_tables, write_text

snakemake = snakemake  # noqa: F821  (injected by Snakemake)

inputs = {name: path for name, path in snakemake.input.items() if name in INPUT_COLUMNS}
tables = read_tables(  # only what the audit reads, its texts coded by Parquet's dictionaries
    inputs, columns=INPUT_COLUMNS, categorical={"measurements": CODED_COLUMNS}
)
config = {"thresholds": snakemake.params.thresholds, "audit": snakemake.params.audit}
job = snakemake.wildcards.job
write_audit_part(tables, config, job, snakemake.output.lines, snakemake.output.kept)
write_text(snakemake.log[0], f"audit job {job} written\n")
