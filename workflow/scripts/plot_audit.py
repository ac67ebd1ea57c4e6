"""Draw the checks of the audit that are not consistent (caserepro.audit_figure): SVG, PNG, JSON."""

from caserepro.audit_figure import audit_figure, read_audit
from caserepro.figures import write_figure
from caserepro.io import read_tables, write_text
from caserepro.labels import codebook

snakemake = snakemake  # noqa: F821  (injected by Snakemake)

audit = read_audit(snakemake.input.audit)
book = codebook(read_tables({name: snakemake.input[name] for name in snakemake.params.codebook}))
drawn = audit_figure(audit, book, max_rows=snakemake.params.max_rows)
out = snakemake.output
write_figure(drawn, out.audit_svg, out.audit_png, out.audit_json, dpi=snakemake.params.dpi)
write_text(snakemake.log[0], f"drew {drawn.name} from {len(audit)} checks\n")
