# Stage: audit. Whether the paper's numbers follow from one another (caserepro.audit): its parts
# run in jobs of their own, side by side, and are joined in order into one table.
AUDIT_OUTPUTS = [paths.audit_file(RESULTS), paths.audit_summary_file(RESULTS)]


rule audit_part:
    input:
        **VALIDATED,
    output:
        lines=temp(paths.audit_job_file(RESULTS, "{job}", "csv")),
        kept=temp(paths.audit_job_file(RESULTS, "{job}", "parquet")),
    log:
        RESULTS / "logs" / "audit_part_{job}.log",
    wildcard_constraints:
        job="|".join(paths.AUDIT_JOBS),
    conda:
        SOFTWARE
    params:
        code=code_of("audit_part.py"),
        thresholds=config["thresholds"],
        audit=config["audit"],
    script:
        "../scripts/audit_part.py"


# The first job's lines become the table (renamed, not copied), so that temporary file is gone
# once this rule has run, also when it fails: a half-joined table is never read as a job's
# output, and a failed join runs that job again.
rule audit_consistency:
    input:
        lines=audit_parts("csv"),
        kept=audit_parts("parquet"),
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
        code=code_of("audit_consistency.py"),
        audit=config["audit"],
    script:
        "../scripts/audit_consistency.py"
