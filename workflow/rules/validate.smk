rule validate_raw:
    input:
        **RAW_FILES,
    output:
        **VALIDATED,
    log:
        RESULTS / "logs" / "validate_raw.log",
    params:
        raw_dir=str(RAW),
    script:
        "../scripts/validate_raw.py"
