"""Validate the raw tables (pandera) and write typed copies; on bad input, report every problem and exit 1."""

import sys
from pathlib import Path

from caserepro.errors import RawDataError
from caserepro.io import write_text
from caserepro.validate import write_validated

snakemake = snakemake  # noqa: F821  (injected by Snakemake)

try:
    tables = write_validated(Path(snakemake.params.raw_dir), snakemake.output)
except RawDataError as error:
    write_text(snakemake.log[0], error.report() + "\n")
    print(error.report(), file=sys.stderr)
    sys.exit(1)
write_text(
    snakemake.log[0], f"validated {', '.join(f'{n}: {len(f)} rows' for n, f in tables.items())}\n"
)
