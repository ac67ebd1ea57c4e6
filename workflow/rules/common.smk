import os
from pathlib import Path

from snakemake.utils import validate

from caserepro import codebook, paths, provenance
from caserepro.labels import CODEBOOK_TABLES

validate(config, "../schemas/config.schema.yaml")

# Jobs keep the memory they free for their next arrays (glibc's allocator: large arrays from
# the heap, not mapped one by one, and the heap never trimmed) instead of faulting in fresh
# pages, which cost a lot on a virtual machine: about 5 % less wall time for 100,000 cases
# (benchmarks/README.md, sixth round). A value already in the environment wins.
ALLOCATOR = {"MALLOC_MMAP_MAX_": "0", "MALLOC_TRIM_THRESHOLD_": str(10**11)}
for name, value in ALLOCATOR.items():
    os.environ.setdefault(name, value)

# Every rule declares its software (relative to the rule files; see workflow/envs/).
SOFTWARE = "../envs/caserepro.yaml"

# Each rule's `code` param: the digest of its script and of the caserepro modules the script
# imports (caserepro.provenance.code_digest). Snakemake reruns a job whose params changed, so a
# change to the code a rule runs rebuilds what it made; a change elsewhere does not.
SCRIPTS = Path(workflow.basedir) / "workflow" / "scripts"


def code_of(script):
    """The `code` param of the rule that runs `script` (a file in workflow/scripts)."""
    return provenance.code_digest(SCRIPTS / script)


RAW = Path(config["raw_dir"])
RESULTS = Path(config["results_dir"])
# The raw tables, and the codebook files of the folders the raw folder builds on (if any).
RAW_FILES = paths.raw_inputs(RAW) | codebook.inherited_inputs(RAW)
VALIDATED = paths.validated_files(RESULTS)
# The paper tables are named by the raw folder's table_layout.csv, read as the DAG is built.
PAPER_TABLE_PATHS = paths.paper_table_outputs(RESULTS, paths.layout_tables(RAW))
# Named `<table>_<suffix>`, or `<case_id>/<table>_<suffix>` when cases share a table name.
PAPER_TABLE_FILES = {
    f"{path.parent.relative_to(RESULTS / 'tables').as_posix()}/{table}_{suffix}".removeprefix(
        "./"
    ): path
    for (_, table), files in PAPER_TABLE_PATHS.items()
    for suffix, path in files.items()
}
TABLE_OUTPUTS = list(PAPER_TABLE_FILES.values())
# The case the manuscript tells, and the paper tables it includes: that case's.
MANUSCRIPT_CASE = config["manuscript"]["case_id"] or paths.first_case(RAW)
MANUSCRIPT_TABLES = paths.case_tables(PAPER_TABLE_PATHS, MANUSCRIPT_CASE)


def table_caption(table):
    """The report caption of a table: its own, if there is one, else the general one."""
    own = Path(workflow.basedir) / "workflow" / "report" / f"{table}.rst"
    return f"../report/{table}.rst" if own.exists() else "../report/paper_table.rst"


FIGURE_FILES = {figure: paths.figure_files(RESULTS, figure) for figure in paths.FIGURES}
FIGURES_OUTPUTS = [path for files in FIGURE_FILES.values() for path in files.values()]


def figure_outputs(figure):
    """A figure's output files, named `<figure>_svg` (shown in the report), `_png` and `_json`."""
    files = FIGURE_FILES[figure]
    return {
        f"{figure}_svg": report(
            files["svg"], caption=f"../report/{figure}.rst", category="Figures"
        ),
        f"{figure}_png": files["png"],
        f"{figure}_json": files["json"],
    }


def audit_jobs():
    """The audit's jobs (paths.AUDIT_JOBS): side by side for a large raw folder (config
    `audit.parts_from_mb`); one job of every part ("all") for a small one."""
    measurements = paths.raw_file(RAW, "measurements")
    size_mb = measurements.stat().st_size / 1e6 if measurements.exists() else 0
    if size_mb < config["audit"]["parts_from_mb"]:
        return ["all"]
    return [job for job in paths.AUDIT_JOBS if job != "all"]


def audit_parts(suffix):
    """Every audit job's file with this suffix, in the order the table joins them."""
    return [paths.audit_job_file(RESULTS, job, suffix) for job in audit_jobs()]
