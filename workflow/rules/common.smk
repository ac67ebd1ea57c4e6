from pathlib import Path

from snakemake.utils import validate

from caserepro import paths

validate(config, "../schemas/config.schema.yaml")

# Every rule declares its software (relative to the rule files; see workflow/envs/).
SOFTWARE = "../envs/caserepro.yaml"

RAW = Path(config["raw_dir"])
RESULTS = Path(config["results_dir"])
RAW_FILES = paths.raw_files(RAW)
VALIDATED = paths.validated_files(RESULTS)
PAPER_TABLE_FILES = {
    f"{table}_{suffix}": paths.paper_table_file(RESULTS, table, suffix)
    for table in paths.PAPER_TABLES
    for suffix in ("csv", "md")
}
TABLE_OUTPUTS = list(PAPER_TABLE_FILES.values())
