"""Join the audit's parts into the checks (CSV) and write its Markdown summary."""

from caserepro.audit import merge_audit_parts
from caserepro.io import write_text

snakemake = snakemake  # noqa: F821  (injected by Snakemake)

config = {"audit": snakemake.params.audit}
lines, kept = list(snakemake.input.lines), list(snakemake.input.kept)
summary, counts = merge_audit_parts(lines, kept, config, snakemake.output.checks)
write_text(snakemake.output.summary, summary)
write_text(snakemake.log[0], "".join(f"{verdict}: {n}\n" for verdict, n in counts.items()))
