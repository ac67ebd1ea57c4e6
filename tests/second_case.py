"""A small made-up second case (not patient data) that uses what the paper's case does not: no
admission month or NYHA class, timing relative to a timepoint, a value printed in another unit,
a range, a '<' qualifier, one table of its own (named like the paper's first) and no infusions,
methods or claims. Tests write it beside, or merged with, a copy of data/raw."""

from __future__ import annotations

import shutil
from pathlib import Path

from caserepro.paths import raw_file
from caserepro.series import write_series

CASE = "DEMO-02"
#: The case's own tables, as a transcriber would type them (the codebook is data/raw's).
TABLES: dict[str, str] = {
    "cases": f"""case_id,sex,age_years,diagnosis,symptom_onset,admission,nyha_class_at_admission,source
{CASE},female,58,made-up case for tests,,,,test fixture
""",
    "timepoints": f"""case_id,timepoint,date,offset_months,relative_to,label,source
{CASE},onset,,-36,baseline,3 years before,Case
{CASE},m6,,6,baseline,At 6 months,Table 1
{CASE},baseline,2020-05,,,Baseline (May 2020),Table 1
""",
    "measurements": f"""case_id,timepoint,modality,method,parameter,value,value_high,qualifier,unit,source,note
{CASE},baseline,echo,,lvef,25,,,%,Table 1,
{CASE},m6,echo,,lvef,45,,,%,Table 1,
{CASE},baseline,echo,,lv_edd,6.1,,,cm,Table 1,printed in cm; the dictionary's unit is mm
{CASE},m6,clinical,,heart_rate,60,90,,bpm,Table 1,a range
{CASE},m6,lab,,nt_probnp,125,,<,pg/mL,Table 1,
{CASE},onset,angiography,,lvef,30,,approximately,%,Case,an open modality
""",
    "table_layout": f"""case_id,table,row,label,parameter,modality,source
{CASE},table1,1,"LVEF, %",lvef,echo,Table 1
{CASE},table1,2,"LVEDD, cm",lv_edd,echo,Table 1
{CASE},table1,3,"Heart rate, bpm",heart_rate,clinical,Table 1
{CASE},table1,4,"NT-proBNP, pg/mL",nt_probnp,lab,Table 1
""",
    "paper_tables": f"""case_id,table,corner,change
{CASE},table1,Finding,yes
""",
}
#: Its Table 1 as the made-up paper prints it.
EXPECTED_TABLE1 = [
    ["Finding", "Baseline (May 2020)", "At 6 months", "Change"],
    ["LVEF, %", "25", "45", "↑"],
    ["LVEDD, cm", "6.1", "", ""],
    ["Heart rate, bpm", "", "60–90", ""],
    ["NT-proBNP, pg/mL", "", "< 125", ""],
]
#: The codebook tables it shares with data/raw.
CODEBOOK = ("dictionary", "modalities", "qualifiers", "checks", "formulas")


def write_alone(raw_dir: Path, folder: Path) -> Path:
    """The case alone in `folder`: its own tables and data/raw's codebook; optional tables absent."""
    folder.mkdir(parents=True, exist_ok=True)
    for table in CODEBOOK:
        shutil.copyfile(raw_file(raw_dir, table), raw_file(folder, table))
    for table, text in TABLES.items():
        raw_file(folder, table).write_text(text, encoding="utf-8")
    return folder


def write_merged(raw_dir: Path, folder: Path, other: Path | None = None) -> Path:
    """data/raw's case and another (this one, or the raw folder `other`) in one folder, as
    `python -m caserepro.series` writes it."""
    other = other or write_alone(raw_dir, folder.parent / f"{folder.name}-second")
    return write_series([raw_dir, other], folder)
