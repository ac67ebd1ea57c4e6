"""Draw the course over the visits (caserepro.figures.course_figure): SVG, PNG, caption/alt JSON."""

from caserepro.figures import course_figure, write_figure
from caserepro.io import read_tables, write_text

snakemake = snakemake  # noqa: F821  (injected by Snakemake)

tables = read_tables(dict(snakemake.input.items()))
drawn = course_figure(tables, snakemake.params.thresholds, snakemake.params.case_id)
out = snakemake.output
write_figure(drawn, out.svg, out.png, out.text, dpi=snakemake.params.dpi)
write_text(snakemake.log[0], f"drew {drawn.name} for case {drawn.case_id}\n")
