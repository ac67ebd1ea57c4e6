"""Write results/provenance.json: input checksums, config, library versions, git commit."""

from caserepro.io import write_text
from caserepro.provenance import provenance_json

snakemake = snakemake  # noqa: F821  (injected by Snakemake)

text = provenance_json(snakemake.input, snakemake.params.config, snakemake.params.git)
write_text(snakemake.output[0], text)
write_text(snakemake.log[0], f"recorded {len(snakemake.input)} input checksums\n")
