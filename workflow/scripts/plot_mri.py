"""Draw MRI before/after per Table 2 parameter (caserepro.figures.mri_figure): SVG, PNG, JSON."""

from caserepro.figures import mri_figure, write_figure
from caserepro.io import read_tables, write_text

snakemake = snakemake  # noqa: F821  (injected by Snakemake)

tables = read_tables(dict(snakemake.input.items()))
drawn = mri_figure(tables, snakemake.params.thresholds, snakemake.params.case_id)
out = snakemake.output
write_figure(drawn, out.svg, out.png, out.text, dpi=snakemake.params.dpi)
write_text(snakemake.log[0], f"drew {drawn.name} for case {drawn.case_id}\n")
