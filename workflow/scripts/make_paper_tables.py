"""Write every table of table_layout.csv as CSV and as a Markdown fragment."""

from caserepro.io import read_tables, write_text
from caserepro.tables import build_table

snakemake = snakemake  # noqa: F821  (injected by Snakemake)

tables = read_tables(dict(snakemake.input.items()))
for case_id, table, csv_file, md_file in snakemake.params.tables:
    grid = build_table(tables, table, case_id or None)
    write_text(csv_file, grid.to_csv())
    write_text(md_file, grid.to_markdown())
names = [
    f"{case_id + '/' if case_id else ''}{table}" for case_id, table, *_ in snakemake.params.tables
]
write_text(snakemake.log[0], f"wrote {', '.join(names) or 'no table'}\n")
