rule make_paper_tables:
    input:
        **VALIDATED,
    output:
        TABLE_OUTPUTS,
    log:
        RESULTS / "logs" / "make_paper_tables.log",
    script:
        "../scripts/make_paper_tables.py"
