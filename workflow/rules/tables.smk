# Stage: tables. Every table of table_layout.csv, per case where cases have their own layout
# (caserepro.tables): as CSV (shown in the report) and as a Markdown fragment.
rule make_paper_tables:
    input:
        **VALIDATED,
    output:
        [
            report(files["csv"], caption=table_caption(table), category="Tables")
            for (_, table), files in PAPER_TABLE_PATHS.items()
        ],
        [files["md"] for files in PAPER_TABLE_PATHS.values()],
    log:
        RESULTS / "logs" / "make_paper_tables.log",
    conda:
        SOFTWARE
    params:
        code=code_of("make_paper_tables.py"),
        tables=[
            [case_id or "", table, str(files["csv"]), str(files["md"])]
            for (case_id, table), files in PAPER_TABLE_PATHS.items()
        ],
    script:
        "../scripts/make_paper_tables.py"


# `snakemake tables` builds the paper tables alone (with the validation they need).
rule tables:
    input:
        TABLE_OUTPUTS,
