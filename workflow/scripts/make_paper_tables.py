"""Write the paper's Table 1 and Table 2 as CSV and as Markdown fragments."""

from caserepro.io import read_tables, write_text
from caserepro.tables import PAPER_TABLES

snakemake = snakemake  # noqa: F821  (injected by Snakemake)

tables = read_tables(dict(snakemake.input.items()))
for name, build in PAPER_TABLES.items():
    grid = build(tables)
    write_text(snakemake.output[f"{name}_csv"], grid.to_csv())
    write_text(snakemake.output[f"{name}_md"], grid.to_markdown())
write_text(snakemake.log[0], f"wrote {', '.join(PAPER_TABLES)}\n")
