# Stage: provenance. What this rebuild was made from (input checksums, config, versions, git).

PROVENANCE_OUTPUTS = [paths.provenance_file(RESULTS)]


# The git state and the config are params, so a new commit or a --config override reruns the rule.
rule record_provenance:
    input:
        *RAW_FILES.values(),
        *map(provenance.in_workdir, workflow.configfiles),
    output:
        paths.provenance_file(RESULTS),
    log:
        RESULTS / "logs" / "record_provenance.log",
    conda:
        SOFTWARE
    params:
        code=code_of("record_provenance.py"),
        config=config,
        git=provenance.git_state(workflow.basedir),
    script:
        "../scripts/record_provenance.py"
