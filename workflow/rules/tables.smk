rule make_paper_tables:
    input:
        **VALIDATED,
    output:
        **PAPER_TABLE_FILES,
    log:
        RESULTS / "logs" / "make_paper_tables.log",
    conda:
        SOFTWARE
    script:
        "../scripts/make_paper_tables.py"
