# Stage: figures (never one job per case). Each figure is written as SVG, PNG and a JSON with its
# caption and alt text (see caserepro.figures): the case's own figures from the validated tables,
# then the audit's figure from the audit.
rule plot_case:
    # The three figures of the case read the same tables: one job draws them (one process start).
    input:
        **VALIDATED,
    output:
        **figure_outputs("course"),
        **figure_outputs("mri"),
        **figure_outputs("timeline"),
    log:
        RESULTS / "logs" / "plot_case.log",
    conda:
        SOFTWARE
    params:
        thresholds=config["thresholds"],
        case_id=config["figures"]["case_id"],
        dpi=config["figures"]["dpi"],
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
        codebook=CODEBOOK_TABLES,
        max_rows=config["figures"]["audit_max_rows"],
        dpi=config["figures"]["dpi"],
    script:
        "../scripts/plot_audit.py"
