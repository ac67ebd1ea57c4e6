"""Draw the case's figures (caserepro.figures): its course over the visits, MRI before and after
per Table 2 parameter, and its CARE timeline; each as SVG, PNG and caption/alt JSON."""

from caserepro.figures import course_figure, mri_figure, timeline_figure, write_figure
from caserepro.io import read_tables, write_text

snakemake = snakemake  # noqa: F821  (injected by Snakemake)

tables = read_tables(dict(snakemake.input.items()))
params, out = snakemake.params, snakemake.output
drawers = {
    "course": lambda: course_figure(tables, params.thresholds, params.case_id),
    "mri": lambda: mri_figure(tables, params.thresholds, params.case_id),
    "timeline": lambda: timeline_figure(tables, params.case_id),
}
log = []
for figure, draw in drawers.items():
    drawn = draw()
    files = (out[f"{figure}_{kind}"] for kind in ("svg", "png", "json"))
    write_figure(drawn, *files, dpi=params.dpi)
    log.append(f"drew {drawn.name} for case {drawn.case_id}\n")
write_text(snakemake.log[0], "".join(log))
