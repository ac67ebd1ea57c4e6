# caserepro: rebuild Latipbayeva et al. (Russ Open Med J 2026;15:e0203) from its raw numbers.
# The story: validate the raw tables, reproduce the paper's tables, derive metrics, audit the
# paper's numbers, draw the figures, record provenance, and build the manuscript.


import sys


configfile: "config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/validate.smk"
include: "workflow/rules/tables.smk"
include: "workflow/rules/metrics.smk"
include: "workflow/rules/audit.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/provenance.smk"
include: "workflow/rules/manuscript.smk"


rule all:
    default_target: True
    input:
        TABLE_OUTPUTS,
        METRICS_OUTPUTS,
        AUDIT_OUTPUTS,
        FIGURES_OUTPUTS,
        PROVENANCE_OUTPUTS,
        MANUSCRIPT_OUTPUTS,


# Said last, on every successful run, so nobody mistakes the manuscript's inputs for a render.
onsuccess:
    if not QUARTO:
        print(manuscript.not_rendered_message(MANUSCRIPT_DIR), file=sys.stderr)
