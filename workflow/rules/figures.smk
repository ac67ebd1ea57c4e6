# Stage: figures (never one job per case). Each figure is written as SVG, PNG and a JSON with its
# caption and alt text (see caserepro.figures): the case's own figures from the validated tables,
# then the audit's figure from the audit.
rule plot_case:
    # The three figures of the featured case (config figures.case_id, else the first) at fixed
    # names for the manuscript, and the same three for each case of a series, one folder per
    # case; one job draws them all (they read the same tables; one process start).
    input:
        **VALIDATED,
    output:
        **figure_outputs("course"),
        **figure_outputs("mri"),
        **figure_outputs("timeline"),
        cases=directory(paths.case_figures_dir(RESULTS)),
    log:
        RESULTS / "logs" / "plot_case.log",
    conda:
        SOFTWARE
    params:
        code=code_of("plot_case.py"),
        thresholds=config["thresholds"],
        case_id=config["figures"]["case_id"],
        dpi=config["figures"]["dpi"],
        per_case_max=config["figures"]["per_case_max"],
    script:
        "../scripts/plot_case.py"


rule plot_audit:
    input:
        **{table: VALIDATED[table] for table in CODEBOOK_TABLES},
        audit=paths.audit_file(RESULTS),
    output:
        **figure_outputs("audit"),
    log:
        RESULTS / "logs" / "plot_audit.log",
    conda:
        SOFTWARE
    params:
        code=code_of("plot_audit.py"),
        codebook=CODEBOOK_TABLES,
        max_rows=config["figures"]["audit_max_rows"],
        dpi=config["figures"]["dpi"],
    script:
        "../scripts/plot_audit.py"
