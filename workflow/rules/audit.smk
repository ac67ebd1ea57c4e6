# Stage: audit. Whether the paper's numbers follow from one another (caserepro.audit).
AUDIT_OUTPUTS = [paths.audit_file(RESULTS), paths.audit_summary_file(RESULTS)]


rule audit_consistency:
    input:
        **VALIDATED,
    output:
        checks=report(
            paths.audit_file(RESULTS),
            caption="../report/consistency.rst",
            category="Audit",
        ),
        summary=paths.audit_summary_file(RESULTS),
    log:
        RESULTS / "logs" / "audit_consistency.log",
    conda:
        SOFTWARE
    params:
        thresholds=config["thresholds"],
        audit=config["audit"],
    script:
        "../scripts/audit_consistency.py"
