"""Audit the paper's numbers against one another; write the checks (CSV) and a Markdown summary."""

from caserepro.audit import run_audit
from caserepro.io import read_tables, write_csv, write_text

snakemake = snakemake  # noqa: F821  (injected by Snakemake)

tables = read_tables(dict(snakemake.input.items()))
report = run_audit(
    tables, {"thresholds": snakemake.params.thresholds, "audit": snakemake.params.audit}
)
write_csv(snakemake.output.checks, report.checks)  # in pieces: a cohort's CSV is large
write_text(snakemake.output.summary, report.to_markdown())
counts = report.checks["verdict"].value_counts().sort_index()
write_text(snakemake.log[0], "".join(f"{verdict}: {n}\n" for verdict, n in counts.items()))
