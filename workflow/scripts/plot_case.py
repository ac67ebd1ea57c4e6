"""Draw the case figures (caserepro.figures): course over the timepoints, MRI before and after,
CARE timeline; each as SVG, PNG and caption/alt JSON. First for the featured case, at the names the
manuscript reads; then for each case of the series (up to figures.per_case_max), one folder each."""

from pathlib import Path

from caserepro import paths
from caserepro.figures import draw_case_figures, write_figure
from caserepro.io import read_tables, write_text

snakemake = snakemake  # noqa: F821  (injected by Snakemake)

tables = read_tables(dict(snakemake.input.items()))
params, out = snakemake.params, snakemake.output
log = []
for drawn in draw_case_figures(tables, params.thresholds, params.case_id):
    files = (out[f"{drawn.name}_{suffix}"] for suffix in paths.FIGURE_SUFFIXES)
    write_figure(drawn, *files, dpi=params.dpi)
    log.append(f"drew {drawn.name} for case {drawn.case_id}\n")
cases = tables["cases"]["case_id"].tolist()
Path(out.cases).mkdir(parents=True, exist_ok=True)
for case in cases[: params.per_case_max]:
    for drawn in draw_case_figures(tables, params.thresholds, case):
        files = (
            paths.case_figure_in(out.cases, case, drawn.name, s) for s in paths.FIGURE_SUFFIXES
        )
        write_figure(drawn, *files, dpi=params.dpi)
    log.append(f"drew {', '.join(paths.CASE_FIGURES)} for case {case} in its own folder\n")
if len(cases) > params.per_case_max:
    log.append(
        f"{len(cases) - params.per_case_max} more cases: no per-case figures (per_case_max)\n"
    )
write_text(snakemake.log[0], "".join(log))
