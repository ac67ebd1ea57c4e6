"""Without Quarto: leave a one-line note that the manuscript was not rendered, and how to render it.

The Snakefile's `onsuccess` handler prints the same line at the end of every run.
"""

import shutil
from pathlib import Path

from caserepro import manuscript
from caserepro.io import write_text

snakemake = snakemake  # noqa: F821  (injected by Snakemake)

# Nothing of an earlier render stays beside the note (it would no longer match the data).
for stale in Path(snakemake.params.output_dir).glob("*"):
    if stale.name != Path(snakemake.output[0]).name:
        shutil.rmtree(stale) if stale.is_dir() else stale.unlink()
line = manuscript.not_rendered_message(snakemake.params.inputs_dir)
write_text(snakemake.output[0], line + "\n")
write_text(snakemake.log[0], line + "\n")
