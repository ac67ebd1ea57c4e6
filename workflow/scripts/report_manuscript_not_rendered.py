"""Without Quarto: say in one line that the manuscript was not rendered, and how to render it."""

import sys

from caserepro import manuscript
from caserepro.io import write_text

snakemake = snakemake  # noqa: F821  (injected by Snakemake)

line = manuscript.not_rendered_message(snakemake.params.inputs_dir)
print(line, file=sys.stderr)
write_text(snakemake.output[0], line + "\n")
write_text(snakemake.log[0], line + "\n")
