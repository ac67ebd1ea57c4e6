"""Derive the metrics tables (SV/EF from volumes, changes, classifications, implied BSA and HR)."""

from caserepro.io import read_tables, write_csv, write_text
from caserepro.metrics import CODED_COLUMNS, INPUT_COLUMNS, derive_metrics

snakemake = snakemake  # noqa: F821  (injected by Snakemake)

inputs = dict(snakemake.input.items())
tables = read_tables(
    {name: inputs[name] for name in INPUT_COLUMNS},
    columns=INPUT_COLUMNS,
    categorical={"measurements": CODED_COLUMNS},
)
derived = derive_metrics(tables, snakemake.params.thresholds)
for name, frame in derived.items():
    write_csv(snakemake.output[name], frame)
write_text(
    snakemake.log[0], "".join(f"{name}: {len(frame)} rows\n" for name, frame in derived.items())
)
