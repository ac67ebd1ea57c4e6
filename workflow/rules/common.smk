from pathlib import Path

from snakemake.utils import validate

from caserepro import paths

validate(config, "../schemas/config.schema.yaml")

RAW = Path(config["raw_dir"])
RESULTS = Path(config["results_dir"])
RAW_FILES = paths.raw_files(RAW)
VALIDATED = paths.validated_files(RESULTS)
TABLE_OUTPUTS = [
    paths.paper_table_file(RESULTS, table, suffix)
    for table in paths.PAPER_TABLES
    for suffix in ("csv", "md")
]
