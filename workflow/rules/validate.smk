rule validate_raw:
    input:
        **RAW_FILES,
    output:
        **VALIDATED,
    log:
        RESULTS / "logs" / "validate_raw.log",
    conda:
        SOFTWARE
    params:
        raw_dir=RAW,
    script:
        "../scripts/validate_raw.py"
