"""Draw the consistency audit, verdict-coloured (caserepro.figures.audit_figure): SVG, PNG, JSON."""

import pandas as pd
from caserepro.figures import audit_figure, read_audit, write_figure
from caserepro.io import write_text

snakemake = snakemake  # noqa: F821  (injected by Snakemake)

audit = read_audit(snakemake.input.audit)
dictionary = pd.read_parquet(snakemake.input.dictionary)
drawn = audit_figure(audit, dictionary, max_rows=snakemake.params.max_rows)
out = snakemake.output
write_figure(drawn, out.audit_svg, out.audit_png, out.audit_json, dpi=snakemake.params.dpi)
write_text(snakemake.log[0], f"drew {drawn.name} from {len(audit)} checks\n")
