# Stage: metrics. What follows from the printed numbers (caserepro.metrics): one CSV per kind.
METRICS_FILES = paths.metrics_files(RESULTS)
METRICS_OUTPUTS = list(METRICS_FILES.values())


rule derive_metrics:
    input:
        **VALIDATED,
    output:
        **METRICS_FILES,
    log:
        RESULTS / "logs" / "derive_metrics.log",
    conda:
        SOFTWARE
    params:
        code=code_of("derive_metrics.py"),
        thresholds=config["thresholds"],
    script:
        "../scripts/derive_metrics.py"
