# Stage: manuscript. Assemble the Quarto project with its generated inputs under results/, and
# render it when Quarto is installed; otherwise leave a one-line note on how to render it.
from caserepro import manuscript

MANUSCRIPT_DIR = paths.manuscript_inputs_dir(RESULTS)
MANUSCRIPT_INPUTS = [
    MANUSCRIPT_DIR / name
    for name in manuscript.generated_files(list(MANUSCRIPT_TABLES))
]
QUARTO = manuscript.find_quarto()
MANUSCRIPT_OUTPUTS = MANUSCRIPT_INPUTS + (
    list(paths.manuscript_rendered_files(RESULTS).values())
    if QUARTO
    else [paths.manuscript_not_rendered_file(RESULTS)]
)


rule build_manuscript_inputs:
    input:
        **VALIDATED,
        **paths.metrics_files(RESULTS),
        **{f"{table}_md": path for table, path in MANUSCRIPT_TABLES.items()},
        sources=list(
            manuscript.source_files(config["manuscript"]["source_dir"]).values()
        ),
        audit=paths.audit_file(RESULTS),
        figure_images=[paths.figure_file(RESULTS, f, "svg") for f in paths.FIGURES],
        figure_texts=[paths.figure_file(RESULTS, f, "json") for f in paths.FIGURES],
        provenance=paths.provenance_file(RESULTS),
    output:
        MANUSCRIPT_INPUTS,
    log:
        RESULTS / "logs" / "build_manuscript_inputs.log",
    conda:
        SOFTWARE
    params:
        code=code_of("build_manuscript_inputs.py"),
        out_dir=MANUSCRIPT_DIR,
        thresholds=config["thresholds"],
        tables=list(MANUSCRIPT_TABLES),
        case_id=MANUSCRIPT_CASE,
    script:
        "../scripts/build_manuscript_inputs.py"


if QUARTO:

    # Quarto does not track the data behind _variables.yml (nor does its freeze): Snakemake
    # re-renders whenever a declared input changes.
    rule render_manuscript:
        input:
            MANUSCRIPT_INPUTS,
        output:
            **paths.manuscript_rendered_files(RESULTS),
        log:
            RESULTS / "logs" / "render_manuscript.log",
        conda:
            SOFTWARE
        params:
            code=code_of("render_manuscript.py"),
            project=MANUSCRIPT_DIR,
            output_dir=paths.manuscript_output_dir(RESULTS),
            quarto=QUARTO,
        script:
            "../scripts/render_manuscript.py"

else:

    rule report_manuscript_not_rendered:
        input:
            MANUSCRIPT_INPUTS,
        output:
            paths.manuscript_not_rendered_file(RESULTS),
        log:
            RESULTS / "logs" / "render_manuscript.log",
        conda:
            SOFTWARE
        params:
            code=code_of("report_manuscript_not_rendered.py"),
            inputs_dir=MANUSCRIPT_DIR,
            output_dir=paths.manuscript_output_dir(RESULTS),
        script:
            "../scripts/report_manuscript_not_rendered.py"
