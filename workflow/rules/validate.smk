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
        code=code_of("validate_raw.py"),
        raw_dir=RAW,
    script:
        "../scripts/validate_raw.py"
