rule validate_raw:
    input:
        **RAW_FILES,
    output:
        **VALIDATED,
    log:
        RESULTS / "logs" / "validate_raw.log",
    conda:
        SOFTWARE
    script:
        "../scripts/validate_raw.py"
