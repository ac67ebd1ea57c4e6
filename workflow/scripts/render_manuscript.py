"""Render the manuscript with Quarto (caserepro.manuscript.render), from a scratch copy of its
inputs: Quarto writes caches into the project folder, and the inputs stay exactly as built."""

from caserepro.manuscript import render

snakemake = snakemake  # noqa: F821  (injected by Snakemake)

render(
    quarto=snakemake.params.quarto,
    project=snakemake.params.project,
    output_dir=snakemake.params.output_dir,
    log=snakemake.log[0],
)
