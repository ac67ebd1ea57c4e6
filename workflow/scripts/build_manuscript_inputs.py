"""Assemble the manuscript's render directory: sources, generated _variables.yml, fragments, figures."""

import shutil
from pathlib import Path

import pandas as pd
from caserepro import manuscript, paths
from caserepro.io import read_tables, write_text

snakemake = snakemake  # noqa: F821  (injected by Snakemake)

inputs = snakemake.input
out_dir = Path(snakemake.params.out_dir)
texts = manuscript.render_dir_texts(
    tables=read_tables({name: inputs[name] for name in paths.RAW_TABLES}),
    thresholds=snakemake.params.thresholds,
    metrics={name: pd.read_csv(inputs[name]) for name in paths.METRIC_TABLES},
    sources={Path(f).name: Path(f).read_text(encoding="utf-8") for f in inputs.sources},
    table_markdown={
        t: Path(inputs[f"{t}_md"]).read_text(encoding="utf-8") for t in snakemake.params.tables
    },
    audit=pd.read_csv(inputs.audit, dtype={"reported": "string"}),
    figures={
        f: manuscript.read_figure_text(j)
        for f, j in zip(paths.FIGURES, inputs.figure_texts, strict=True)
    },
    provenance=manuscript.read_provenance(inputs.provenance),
    case_id=snakemake.params.case_id,
)
# The folder is this job's alone: nothing of an earlier build (or an older layout) stays in it.
for stale in out_dir.glob("*"):
    if stale.name not in texts and stale.name != manuscript.FIGURE_DIR:
        shutil.rmtree(stale) if stale.is_dir() else stale.unlink()
for name, text in texts.items():
    write_text(out_dir / name, text)
for figure, svg in zip(paths.FIGURES, inputs.figure_images, strict=True):
    target = out_dir / manuscript.FIGURE_DIR / f"{figure}.svg"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(svg, target)
write_text(
    snakemake.log[0],
    f"wrote {len(texts)} text files and {len(paths.FIGURES)} figures to {out_dir}\n",
)
