rule make_paper_tables:
    input:
        **VALIDATED,
    output:
        table1_csv=report(
            PAPER_TABLE_FILES["table1_csv"],
            caption="../report/table1.rst",
            category="Tables",
        ),
        table1_md=PAPER_TABLE_FILES["table1_md"],
        table2_csv=report(
            PAPER_TABLE_FILES["table2_csv"],
            caption="../report/table2.rst",
            category="Tables",
        ),
        table2_md=PAPER_TABLE_FILES["table2_md"],
    log:
        RESULTS / "logs" / "make_paper_tables.log",
    conda:
        SOFTWARE
    script:
        "../scripts/make_paper_tables.py"
